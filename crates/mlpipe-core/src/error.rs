//! The one error type of `mlpipe-core`, shared by every trait the core defines.
//!
//! Variants describe *meaning* (not found, already exists, invalid input, a backend that
//! failed…) so callers can react without matching strings. [`Error::is_transient`] tells a
//! retry layer whether trying again can help.

use std::fmt;

/// Result alias used throughout `mlpipe-core` and its trait implementations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside the core contracts and their backends.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A record that was asked for does not exist.
    #[error("{what} was not found; check the id, or that the stage that creates it has run")]
    NotFound {
        /// What was looked up, e.g. `raw batch 0193…`.
        what: String,
    },
    /// A write was refused because the record exists and records of this kind are immutable.
    #[error("{what} already exists and is immutable; write under a new id instead")]
    AlreadyExists {
        /// What was written, e.g. `raw batch 0193…`.
        what: String,
    },
    /// The caller passed something that cannot be used.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Data did not match the schema it was declared with.
    #[error("schema mismatch: {0}")]
    Schema(String),
    /// A backend (file system, database, broker, cache) failed.
    #[error("{backend} backend failed: {message}")]
    Backend {
        /// Which backend, e.g. `sqlite`, `parquet`, `nats`.
        backend: &'static str,
        /// What it said.
        message: String,
        /// Whether retrying the same call later may succeed (connection loss, busy, timeout).
        transient: bool,
    },
    /// Serialising or deserialising a record failed.
    #[error("could not (de)serialise {what}: {message}")]
    Serialization {
        /// What was being (de)serialised.
        what: String,
        /// The underlying message.
        message: String,
    },
    /// Configuration could not be read or is invalid.
    #[error("configuration error: {0}")]
    Config(String),
    /// An operation did not finish within its time budget.
    #[error("timed out after {millis} ms: {what}")]
    Timeout {
        /// What timed out.
        what: String,
        /// The budget in milliseconds.
        millis: u64,
    },
    /// The broker, a subscription or a service was closed.
    #[error("closed: {0}")]
    Closed(String),
    /// An Arrow operation failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// An I/O operation failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// Whether trying the same operation again later can succeed.
    ///
    /// Retry layers use this instead of inspecting messages.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Backend { transient, .. } => *transient,
            Error::Timeout { .. } => true,
            Error::Io(e) => matches!(
                e.kind(),
                std::io::ErrorKind::Interrupted
                    | std::io::ErrorKind::TimedOut
                    | std::io::ErrorKind::WouldBlock
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionAborted
            ),
            _ => false,
        }
    }

    /// Whether handling the same event again later can succeed: a transient failure,
    /// or something not found that may not be visible yet (a batch or record written
    /// just before its event). Event handlers use this to choose between a retry and
    /// the dead-letter topic at once.
    pub fn may_pass_later(&self) -> bool {
        self.is_transient() || matches!(self, Error::NotFound { .. })
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(what: impl fmt::Display) -> Self {
        Error::NotFound {
            what: what.to_string(),
        }
    }

    /// Shorthand for [`Error::AlreadyExists`].
    pub fn already_exists(what: impl fmt::Display) -> Self {
        Error::AlreadyExists {
            what: what.to_string(),
        }
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(msg: impl fmt::Display) -> Self {
        Error::InvalidInput(msg.to_string())
    }

    /// A permanent backend failure.
    pub fn backend(backend: &'static str, message: impl fmt::Display) -> Self {
        Error::Backend {
            backend,
            message: message.to_string(),
            transient: false,
        }
    }

    /// A backend failure that may go away (connection lost, busy, timed out).
    pub fn transient(backend: &'static str, message: impl fmt::Display) -> Self {
        Error::Backend {
            backend,
            message: message.to_string(),
            transient: true,
        }
    }

    /// Shorthand for [`Error::Serialization`].
    pub fn serde(what: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::Serialization {
            what: what.to_string(),
            message: message.to_string(),
        }
    }
}
