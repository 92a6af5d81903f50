//! The score store: every score served online or computed in batch, and the observed
//! outcomes that arrive later.

use crate::ids::*;
use crate::score::Score;
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One stored score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreRecord {
    /// Request id (online) or a per-row id (batch).
    pub request_id: RequestId,
    /// Batch-scoring run, for batch scores.
    pub run_id: Option<RunId>,
    /// The version that scored.
    pub model: ModelRef,
    /// The entity scored, when known (used by polling and the precomputed cache).
    pub entity_key: Option<String>,
    /// The score.
    pub score: Score,
    /// Serving time in microseconds (online).
    pub latency_us: Option<u64>,
    /// When it was scored.
    pub created_at: DateTime<Utc>,
}

/// A stored score with its observed outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredOutcome {
    /// The score.
    pub record: ScoreRecord,
    /// What actually happened (label or value).
    pub observed: f64,
}

/// The score store.
///
/// # Contract
/// - Writing a record whose request id exists is a no-op (idempotent redelivery).
/// - An outcome can be recorded once per request id and only for a stored score.
#[async_trait]
pub trait ScoreStore: Send + Sync {
    /// Stores scores.
    async fn put(&self, records: Vec<ScoreRecord>) -> Result<()>;
    /// A score by request id.
    async fn get(&self, request: &RequestId) -> Result<Option<ScoreRecord>>;
    /// Scores of a batch run, in insertion order, `limit` from `offset`.
    async fn by_run(&self, run: &RunId, offset: u64, limit: u64) -> Result<Vec<ScoreRecord>>;
    /// Number of scores of a batch run.
    async fn count_run(&self, run: &RunId) -> Result<u64>;
    /// The newest score of an entity by a model (for polling and precomputed answers).
    async fn latest_for_key(&self, model: &ModelId, key: &str) -> Result<Option<ScoreRecord>>;
    /// Records the observed outcome of a scored request.
    async fn put_outcome(&self, request: &RequestId, observed: f64) -> Result<()>;
    /// Scores of a version that have an outcome, oldest first.
    async fn outcomes(&self, model: &ModelRef) -> Result<Vec<ScoredOutcome>>;
}
