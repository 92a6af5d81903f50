//! The ingestion error type.

use std::path::PathBuf;

/// Everything that can stop an ingestion.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The source file does not exist.
    #[error("source {path} does not exist; check the path in the source-data-available event")]
    Missing {
        /// The path asked for.
        path: PathBuf,
    },
    /// The source exists but cannot be read.
    #[error("cannot read source {path}: {source}")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The source has no bytes at all.
    #[error("source {0} is empty: there is no header and no data")]
    Empty(String),
    /// The source has a header but no data rows, and no schema was given to type them.
    #[error("source {0} has a header but no data rows; give an explicit schema to ingest it as an empty batch")]
    HeaderOnly(String),
    /// The header itself is malformed.
    #[error("bad header in {source_name}: {reason}")]
    BadHeader {
        /// The source.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// Too many rows failed validation.
    #[error("{bad} of {total} rows of {source_name} failed validation ({ratio:.1}% > the allowed {max:.1}%); first problem: {first}")]
    TooManyBadRows {
        /// The source.
        source_name: String,
        /// Rows refused.
        bad: u64,
        /// Rows read.
        total: u64,
        /// Refused share, in percent.
        ratio: f64,
        /// Allowed share, in percent.
        max: f64,
        /// The first refusal reason.
        first: String,
    },
    /// The source format is not known.
    #[error("unknown source format `{0}`; known formats: csv")]
    UnknownFormat(String),
    /// An option of the source is invalid.
    #[error("invalid source option: {0}")]
    InvalidOption(String),
    /// A store or the broker failed.
    #[error(transparent)]
    Core(#[from] mlpipe_core::Error),
}

/// Result alias of this crate.
pub type Result<T, E = IngestError> = std::result::Result<T, E>;
