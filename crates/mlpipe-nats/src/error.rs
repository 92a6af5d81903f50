//! Mapping NATS client errors onto the core error.

use mlpipe_core::Error;

/// The backend name in errors.
pub const BACKEND: &str = "nats";

/// A NATS failure while `doing` something. Connection, timeout and "no responders" errors
/// (the server or JetStream is away) are transient; configuration conflicts are not.
pub fn nats_err(doing: &str, e: impl std::fmt::Display) -> Error {
    let message = format!("{doing}: {e}");
    let lower = message.to_ascii_lowercase();
    let permanent = lower.contains("already in use")
        || lower.contains("invalid")
        || lower.contains("subjects overlap")
        || lower.contains("maximum");
    if permanent {
        Error::backend(BACKEND, message)
    } else {
        Error::transient(BACKEND, message)
    }
}
