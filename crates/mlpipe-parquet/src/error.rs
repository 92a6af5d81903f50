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
        other => Error::Backend {
            backend: "object_store",
            message: format!("{what}: {other}"),
            transient: is_transient(&other),
        },
    }
}

/// Whether trying the same object-store call again later can succeed.
fn is_transient(e: &object_store::Error) -> bool {
    match e {
        // A fallback the store fills with its own error (an I/O error for the local file
        // system): decided by the I/O error it carries, if any.
        object_store::Error::Generic { source, .. } => chain_is_transient(source.as_ref()),
        // The spawned blocking task was cancelled or panicked (the runtime shutting down,
        // say); the call itself may well succeed on a new try.
        object_store::Error::JoinError { .. } => true,
        // Access, paths, configuration and capabilities do not change by themselves.
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. }
        | object_store::Error::InvalidPath { .. }
        | object_store::Error::NotSupported { .. }
        | object_store::Error::NotImplemented { .. }
        | object_store::Error::UnknownConfigurationKey { .. }
        | object_store::Error::NotModified { .. }
        | object_store::Error::NotFound { .. }
        | object_store::Error::AlreadyExists { .. }
        | object_store::Error::Precondition { .. } => false,
        // Variants added by later object_store versions: not known to pass on a retry.
        _ => false,
    }
}

/// Walks `e` and its sources to the first error whose type says whether a retry can help:
/// an I/O error (classified by its kind, as [`Error::Io`] does) or a nested object-store
/// error. Anything else is permanent.
fn chain_is_transient(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io_is_transient(io.kind());
        }
        if let Some(store) = e.downcast_ref::<object_store::Error>() {
            return is_transient(store);
        }
        next = e.source();
    }
    false
}

/// Whether an I/O error of this kind is transient, by the same rule as [`Error::Io`].
fn io_is_transient(kind: std::io::ErrorKind) -> bool {
    Error::Io(kind.into()).is_transient()
}

/// Maps a parquet error.
pub(crate) fn parquet(what: &str, e: parquet::errors::ParquetError) -> Error {
    Error::backend("parquet", format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::map;
    use std::io::{Error as IoError, ErrorKind};

    fn generic(source: Box<dyn std::error::Error + Send + Sync>) -> object_store::Error {
        object_store::Error::Generic {
            store: "LocalFileSystem",
            source,
        }
    }

    /// An error that only wraps another, like a store's own error type around an I/O one.
    #[derive(Debug)]
    struct Wrapper(IoError);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "unable to read data from file: {}", self.0)
        }
    }

    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn io_errors_in_a_generic_error_are_classified_by_kind() {
        let timed_out = map(
            "read part",
            generic(Box::new(IoError::new(ErrorKind::TimedOut, "slow disk"))),
        );
        assert!(timed_out.is_transient(), "{timed_out}");
        assert!(timed_out.to_string().contains("read part"), "{timed_out}");
        assert!(timed_out.to_string().contains("slow disk"), "{timed_out}");

        let reset = map(
            "write part",
            generic(Box::new(Wrapper(IoError::from(ErrorKind::ConnectionReset)))),
        );
        assert!(reset.is_transient(), "a wrapped io error is found: {reset}");

        let invalid = map(
            "read part",
            generic(Box::new(IoError::new(ErrorKind::InvalidData, "bad bytes"))),
        );
        assert!(!invalid.is_transient(), "{invalid}");

        let denied = map(
            "write part",
            generic(Box::new(IoError::from(ErrorKind::PermissionDenied))),
        );
        assert!(!denied.is_transient(), "{denied}");
    }

    #[test]
    fn a_generic_error_without_an_io_error_is_permanent() {
        let e = map("open", generic("no such bucket configuration".into()));
        assert!(!e.is_transient(), "{e}");
    }

    #[test]
    fn access_and_configuration_errors_are_permanent() {
        let errors = [
            object_store::Error::PermissionDenied {
                path: "raw/x".into(),
                source: "denied".into(),
            },
            object_store::Error::Unauthenticated {
                path: "raw/x".into(),
                source: "no credentials".into(),
            },
            object_store::Error::NotSupported {
                source: "copy_if_not_exists".into(),
            },
            object_store::Error::NotImplemented {
                operation: "put_multipart".into(),
                implementer: "test".into(),
            },
            object_store::Error::UnknownConfigurationKey {
                store: "test",
                key: "colour".into(),
            },
            object_store::Error::NotModified {
                path: "raw/x".into(),
                source: "etag".into(),
            },
        ];
        for e in errors {
            let mapped = map("write part", e);
            assert!(!mapped.is_transient(), "{mapped}");
        }
    }

    #[test]
    fn not_found_and_conflicts_keep_their_meaning() {
        let e = map(
            "read part",
            object_store::Error::NotFound {
                path: "raw/x".into(),
                source: Box::new(IoError::from(ErrorKind::NotFound)),
            },
        );
        assert!(matches!(e, mlpipe_core::Error::NotFound { .. }), "{e}");
        let e = map(
            "commit",
            object_store::Error::AlreadyExists {
                path: "raw/x/_manifest.json".into(),
                source: "exists".into(),
            },
        );
        assert!(matches!(e, mlpipe_core::Error::AlreadyExists { .. }), "{e}");
    }
}
