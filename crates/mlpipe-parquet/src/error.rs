//! object_store and parquet errors as core errors.

use mlpipe_core::Error;

/// Maps an object-store error, saying what we were doing.
pub(crate) fn map(what: &str, e: object_store::Error) -> Error {
    match e {
        object_store::Error::NotFound { path, .. } => Error::not_found(format!("{what}: {path}")),
        object_store::Error::AlreadyExists { path, .. } => {
            Error::already_exists(format!("{what}: {path}"))
        }
        object_store::Error::Precondition { path, .. } => {
            Error::already_exists(format!("{what}: {path}"))
        }
        other => {
            let msg = other.to_string();
            let transient = msg.contains("timed out") || msg.contains("connection");
            Error::Backend {
                backend: "object_store",
                message: format!("{what}: {msg}"),
                transient,
            }
        }
    }
}

/// Maps a parquet error.
pub(crate) fn parquet(what: &str, e: parquet::errors::ParquetError) -> Error {
    Error::backend("parquet", format!("{what}: {e}"))
}
