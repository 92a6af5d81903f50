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
    /// The source is not in an encoding we read (UTF-8).
    #[error("cannot read {source_name}: {reason}")]
    Encoding {
        /// The source.
        source_name: String,
        /// What was found.
        reason: String,
    },
    /// No record ends within the allowed length: the reader would have to hold the rest
    /// of the file in memory.
    #[error("{source_name}: no record ends within {limit} bytes from line {line}; a quoted field is probably never closed, or the line ends are a lone CR (convert them to LF or CRLF); raise `max_record_bytes` if records really are this long")]
    RecordTooLong {
        /// The source.
        source_name: String,
        /// The line the unfinished record starts on.
        line: u64,
        /// The limit (`CsvOptions::max_record_bytes`).
        limit: usize,
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
    #[error("unknown source format `{0}`; known formats: csv, jsonl, parquet")]
    UnknownFormat(String),
    /// The file is not a Parquet file the reader can decode (or it is corrupt).
    #[error("{path} cannot be read as Parquet: {reason}; check that it is a Parquet file (Snappy or uncompressed) and not truncated")]
    NotParquet {
        /// The path.
        path: PathBuf,
        /// What the Parquet reader said.
        reason: String,
    },
    /// No schema can be inferred from the sampled records.
    #[error("cannot infer a schema for {source_name}: {reason}")]
    Uninferable {
        /// The source.
        source_name: String,
        /// Why not, and what to do.
        reason: String,
    },
    /// An online record does not fit the schema; it is kept in the quarantine of the next
    /// batch and not handed on.
    #[error("record refused and quarantined: {0}")]
    Rejected(String),
    /// The online ingestion task is no longer running.
    #[error("online ingestion has stopped: {0}; start a new one to push more records")]
    OnlineStopped(String),
    /// An option of the source is invalid.
    #[error("invalid source option: {0}")]
    InvalidOption(String),
    /// A store or the broker failed.
    #[error(transparent)]
    Core(#[from] mlpipe_core::Error),
}

impl IngestError {
    /// Whether ingesting the same source again can succeed: a store or broker failure
    /// that may pass, a read interrupted by the system, or a file not there yet (a
    /// producer may announce it before a shared file system shows it); not an empty or
    /// malformed source, a bad option or too many bad rows, which fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            IngestError::Missing { .. } => true,
            // A batch of this id exists already: a concurrent delivery of the same event
            // stored it, and the next delivery announces it.
            IngestError::Core(mlpipe_core::Error::AlreadyExists { .. }) => true,
            IngestError::Core(e) => e.may_pass_later(),
            IngestError::Unreadable { source, .. } => {
                mlpipe_core::Error::Io(std::io::Error::new(source.kind(), source.to_string()))
                    .is_transient()
            }
            _ => false,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = IngestError> = std::result::Result<T, E>;
