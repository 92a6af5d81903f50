//! Checkpoints and cooperative cancellation for iterative training.
//!
//! A trainer whose fit is iterative (Newton steps, Lloyd iterations, boosting rounds)
//! overrides [`Trainer::train_resumable`](crate::Trainer::train_resumable): it asks the
//! [`Checkpoint`] for saved state before it starts, saves its state every iteration, and
//! stops when told it was cancelled. The training service gives every attempt of a
//! candidate the same checkpoint, so an attempt that timed out is resumed by the retry
//! instead of starting again, and the timed-out attempt stops at its next iteration
//! instead of running on in the background.

use crate::error::{ModelError, Result};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Where an iterative trainer keeps its state between attempts.
pub trait Checkpoint: Send + Sync {
    /// The last saved state, if any.
    fn load(&self) -> Option<Vec<u8>>;
    /// Saves the state reached (ignored once the attempt is cancelled).
    fn save(&self, state: Vec<u8>);
    /// True when this attempt should stop (it timed out or was superseded).
    fn cancelled(&self) -> bool;
}

/// No checkpointing: nothing to load, saves dropped, never cancelled.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCheckpoint;

impl Checkpoint for NoCheckpoint {
    fn load(&self) -> Option<Vec<u8>> {
        None
    }
    fn save(&self, _state: Vec<u8>) {}
    fn cancelled(&self) -> bool {
        false
    }
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<Option<Vec<u8>>>,
    current_attempt: AtomicU32,
    saves: AtomicU64,
}

/// In-memory checkpoints of one candidate, shared by its attempts. Each attempt gets its
/// own view with [`attempt`](Self::attempt); starting an attempt cancels the earlier
/// ones.
#[derive(Clone, Debug, Default)]
pub struct MemoryCheckpoint {
    shared: Arc<Shared>,
}

impl MemoryCheckpoint {
    /// The view of attempt `n` (1-based); earlier attempts now see themselves cancelled.
    pub fn attempt(&self, n: u32) -> AttemptCheckpoint {
        self.shared.current_attempt.store(n, Ordering::SeqCst);
        AttemptCheckpoint {
            shared: self.shared.clone(),
            attempt: n,
        }
    }

    /// Cancels every attempt (used when an attempt runs out of time).
    pub fn cancel_all(&self) {
        self.shared.current_attempt.store(0, Ordering::SeqCst);
    }

    /// How many states were saved so far.
    pub fn saves(&self) -> u64 {
        self.shared.saves.load(Ordering::SeqCst)
    }

    /// Whether a state was saved.
    pub fn has_state(&self) -> bool {
        self.shared
            .state
            .lock()
            .map(|s| s.is_some())
            .unwrap_or(false)
    }
}

/// One attempt's view of a [`MemoryCheckpoint`].
#[derive(Clone, Debug)]
pub struct AttemptCheckpoint {
    shared: Arc<Shared>,
    attempt: u32,
}

impl Checkpoint for AttemptCheckpoint {
    fn load(&self) -> Option<Vec<u8>> {
        self.shared.state.lock().ok().and_then(|s| s.clone())
    }
    fn save(&self, state: Vec<u8>) {
        if self.cancelled() {
            return;
        }
        if let Ok(mut s) = self.shared.state.lock() {
            *s = Some(state);
            self.shared.saves.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn cancelled(&self) -> bool {
        self.shared.current_attempt.load(Ordering::SeqCst) != self.attempt
    }
}

/// The error an iterative trainer returns when it notices it was cancelled.
pub fn cancelled(kind: &str) -> ModelError {
    ModelError::Cancelled { kind: kind.into() }
}

/// Saves `state` as JSON.
pub fn save_json<T: serde::Serialize>(checkpoint: &dyn Checkpoint, state: &T) {
    if let Ok(bytes) = serde_json::to_vec(state) {
        checkpoint.save(bytes);
    }
}

/// Loads a JSON state; a state that does not parse (another trainer's, or corrupt) is
/// treated as no state, so training starts from the beginning.
pub fn load_json<T: for<'de> serde::Deserialize<'de>>(checkpoint: &dyn Checkpoint) -> Option<T> {
    checkpoint
        .load()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

/// Checks for cancellation between iterations.
pub fn check(checkpoint: &dyn Checkpoint, kind: &str) -> Result<()> {
    if checkpoint.cancelled() {
        Err(cancelled(kind))
    } else {
        Ok(())
    }
}
