//! Mapping sqlx errors onto the core error, with the transient flag set where retrying
//! can help (lost connections, pool exhaustion, a busy SQLite file).

use mlpipe_core::Error;

/// Converts a sqlx error into the core error for `backend`.
pub fn map_err(backend: &'static str, e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::RowNotFound => Error::not_found(format!("{backend} row")),
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            Error::already_exists(format!("{backend} row ({})", db.message()))
        }
        sqlx::Error::Database(db) => {
            let msg = db.message().to_string();
            let transient = msg.contains("database is locked")
                || msg.contains("busy")
                || db.code().is_some_and(|c| {
                    // PostgreSQL: serialization failure, deadlock, admin shutdown, too many connections.
                    matches!(
                        c.as_ref(),
                        "40001" | "40P01" | "57P01" | "53300" | "5" | "6"
                    )
                });
            Error::Backend {
                backend,
                message: msg,
                transient,
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_) => Error::transient(backend, e),
        _ => Error::backend(backend, e),
    }
}
