//! Mapping NATS client errors onto the core error.
//!
//! Every async-nats error type the broker meets implements [`Classify`]: a `match` on the
//! error's kind (and, for JetStream API errors, on the server's [`ErrorCode`]) says whether
//! the call can succeed when tried again. Timeouts, a lost connection, "no responders"
//! (JetStream or the stream away) and failed requests are transient; invalid names and
//! arguments, configuration conflicts (a stream name or subjects already in use) and
//! limits are not.

use async_nats::jetstream::consumer::pull::{
    BatchError, BatchErrorKind, BatchRequestError, BatchRequestErrorKind,
};
use async_nats::jetstream::context::{
    CreateStreamError, CreateStreamErrorKind, DeleteStreamError, DeleteStreamErrorKind,
    PublishError as JsPublishError, PublishErrorKind as JsPublishErrorKind,
    RequestError as JsRequestError, RequestErrorKind as JsRequestErrorKind,
};
use async_nats::jetstream::stream::{ConsumerError, ConsumerErrorKind};
use async_nats::jetstream::{self, ErrorCode};
use mlpipe_core::Error;
use std::error::Error as StdError;
use std::fmt;

/// The backend name in errors.
pub const BACKEND: &str = "nats";

/// A NATS client error that knows whether the call that failed can succeed later.
pub trait Classify: fmt::Display {
    /// Whether trying the same call again later can succeed: the server, JetStream or a
    /// stream leader is back, a timeout does not recur. `false` when something must be
    /// changed first (a name, a configuration, a limit, credentials).
    fn is_transient(&self) -> bool;
}

/// A NATS failure while `doing` something, as a backend error that is transient when
/// [`Classify::is_transient`] says so. The message is `"{doing}: {e}"`.
pub fn nats_err(doing: &str, e: impl Classify) -> Error {
    let message = format!("{doing}: {e}");
    backend_error(message, e.is_transient())
}

/// A backend error of this crate with the given message and transience.
pub(crate) fn backend_error(message: String, transient: bool) -> Error {
    if transient {
        Error::transient(BACKEND, message)
    } else {
        Error::backend(BACKEND, message)
    }
}

/// Connecting: the server away, slow or unresolvable may come back; a bad URL, refused
/// credentials or a broken TLS setup will not.
impl Classify for async_nats::ConnectError {
    fn is_transient(&self) -> bool {
        use async_nats::ConnectErrorKind as K;
        match self.kind() {
            K::TimedOut | K::Io | K::Dns | K::MaxReconnects => true,
            K::ServerParse | K::Authentication | K::AuthorizationViolation | K::Tls => false,
        }
    }
}

/// Flushing fails only when the connection does.
impl Classify for async_nats::client::FlushError {
    fn is_transient(&self) -> bool {
        use async_nats::client::FlushErrorKind as K;
        match self.kind() {
            K::SendError | K::FlushError => true,
        }
    }
}

/// A core publish (acks, naks and progress reports are publishes on the reply subject).
impl Classify for async_nats::client::PublishError {
    fn is_transient(&self) -> bool {
        use async_nats::client::PublishErrorKind as K;
        match self.kind() {
            // The message could not be handed to the connection.
            K::Send => true,
            K::MaxPayloadExceeded | K::BadSubject => false,
        }
    }
}

/// A core request.
impl Classify for async_nats::client::RequestError {
    fn is_transient(&self) -> bool {
        use async_nats::client::RequestErrorKind as K;
        match self.kind() {
            K::TimedOut | K::NoResponders => true,
            K::Other => sources_are_transient(self, true),
        }
    }
}

/// A JetStream API request (listing streams, and the transport under most calls).
impl Classify for JsRequestError {
    fn is_transient(&self) -> bool {
        match self.kind() {
            JsRequestErrorKind::TimedOut | JsRequestErrorKind::NoResponders => true,
            // A failed request, or the server's answer (an API error) as its source.
            JsRequestErrorKind::Other => sources_are_transient(self, true),
        }
    }
}

/// Creating (or looking up) a stream.
impl Classify for CreateStreamError {
    fn is_transient(&self) -> bool {
        use CreateStreamErrorKind as K;
        match self.kind() {
            K::TimedOut | K::JetStreamUnavailable => true,
            // The request failed on the way.
            K::Response => sources_are_transient(self, true),
            // Deleted between the lookup and the creation: creating again can succeed.
            K::NotFound => true,
            K::JetStream(e) => api_is_transient(&e),
            K::EmptyStreamName | K::InvalidStreamName | K::DomainAndExternalSet => false,
            // The server answered something this client cannot read.
            K::ResponseParse => false,
        }
    }
}

/// Deleting a stream (the same type as looking one up).
impl Classify for DeleteStreamError {
    fn is_transient(&self) -> bool {
        use DeleteStreamErrorKind as K;
        match self.kind() {
            K::Request => sources_are_transient(self, true),
            K::JetStream(e) => api_is_transient(&e),
            K::EmptyName | K::InvalidStreamName => false,
        }
    }
}

/// Publishing on JetStream, and waiting for its acknowledgement.
impl Classify for JsPublishError {
    fn is_transient(&self) -> bool {
        use JsPublishErrorKind as K;
        match self.kind() {
            // No responders: JetStream is away, or the stream is not (yet) there.
            K::StreamNotFound => true,
            K::TimedOut | K::BrokenPipe | K::MaxAckPending => true,
            K::WrongLastMessageId | K::WrongLastSequence => false,
            // The stream's answer (an API error: message too large, a limit…) or a failed
            // send, as the source.
            K::Other => sources_are_transient(self, true),
        }
    }
}

/// Creating (or looking up) a consumer.
impl Classify for ConsumerError {
    fn is_transient(&self) -> bool {
        use ConsumerErrorKind as K;
        match self.kind() {
            K::TimedOut => true,
            K::Request => sources_are_transient(self, true),
            K::JetStream(e) => api_is_transient(&e),
            K::InvalidConsumerType | K::InvalidName => false,
            // An invalid stream name, or a consumer configuration this client cannot read.
            K::Other => false,
        }
    }
}

/// Starting a pull request.
impl Classify for BatchError {
    fn is_transient(&self) -> bool {
        match self.kind() {
            BatchErrorKind::Subscribe | BatchErrorKind::Flush => true,
            BatchErrorKind::Pull => sources_are_transient(self, true),
            BatchErrorKind::Serialize => false,
        }
    }
}

/// Sending a pull request.
impl Classify for BatchRequestError {
    fn is_transient(&self) -> bool {
        match self.kind() {
            BatchRequestErrorKind::Publish | BatchRequestErrorKind::Flush => true,
            BatchRequestErrorKind::Serialize => false,
        }
    }
}

/// An error from the server's JetStream API, by its code.
impl Classify for jetstream::Error {
    fn is_transient(&self) -> bool {
        api_is_transient(self)
    }
}

/// I/O errors, by kind, as [`Error::Io`] classifies them.
impl Classify for std::io::Error {
    fn is_transient(&self) -> bool {
        io_is_transient(self.kind())
    }
}

/// The boxed error async-nats returns where it has no kind (acks, naks, progress reports,
/// delivery metadata, messages of a pull): classified by the first error in its chain
/// whose type is known (an I/O error by its kind, a client publish error by its kind…);
/// an error of no known type is permanent.
impl Classify for async_nats::Error {
    fn is_transient(&self) -> bool {
        chain_is_transient(self.as_ref(), false)
    }
}

/// An error from the message stream of a pull request. async-nats reports a status the
/// server ended the pull with (409 leadership change, server shutdown, consumer deleted or
/// too many waiting pulls; 503 no responders) as an I/O error of kind `Other`: the next
/// pull can succeed, so that is transient. Other errors are classified by their type.
pub(crate) struct PullMessageError(pub(crate) async_nats::Error);

impl fmt::Display for PullMessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Classify for PullMessageError {
    fn is_transient(&self) -> bool {
        match self.0.downcast_ref::<std::io::Error>() {
            Some(io) if io.kind() == std::io::ErrorKind::Other => true,
            _ => self.0.is_transient(),
        }
    }
}

/// Whether a JetStream API error can pass on a retry: the cluster, the stream or the
/// consumer unavailable for a while (no leader, offline, moving, overloaded, a failed
/// store), or JetStream not answering (status 503). Every other code means the request
/// conflicts with what exists (a stream name or subjects in use, a consumer that exists
/// with another configuration), is invalid, or hits a limit: it needs a change first.
fn api_is_transient(e: &jetstream::Error) -> bool {
    match e.error_code() {
        ErrorCode::CLUSTER_NOT_AVAILABLE
        | ErrorCode::CLUSTER_NOT_ACTIVE
        | ErrorCode::CLUSTER_NOT_LEADER
        | ErrorCode::CLUSTER_NOT_ASSIGNED
        | ErrorCode::CLUSTER_NO_PEERS
        | ErrorCode::CLUSTER_INCOMPLETE
        | ErrorCode::RAFT_GENERAL
        | ErrorCode::JETSTREAM_NOT_ENABLED
        | ErrorCode::INSUFFICIENT_RESOURCES
        | ErrorCode::STREAM_OFFLINE
        | ErrorCode::STREAM_OFFLINE_REASON
        | ErrorCode::CONSUMER_OFFLINE
        | ErrorCode::CONSUMER_OFFLINE_REASON
        | ErrorCode::STREAM_MOVE_IN_PROGRESS
        | ErrorCode::STREAM_TOO_MANY_REQUESTS
        | ErrorCode::STREAM_EXPECTED_LAST_SEQ_PER_SUBJECT_NOT_READY
        | ErrorCode::STREAM_STORE_FAILED
        | ErrorCode::CONSUMER_STORE_FAILED
        | ErrorCode::TEMP_STORAGE_FAILED => true,
        _ => e.code() == 503,
    }
}

/// Whether an I/O error of this kind is transient, by the same rule as [`Error::Io`].
fn io_is_transient(kind: std::io::ErrorKind) -> bool {
    Error::Io(kind.into()).is_transient()
}

/// Classifies `e` by its sources (not by `e` itself): the first one of a known type
/// decides; `default` when there is none.
fn sources_are_transient(e: &(dyn StdError + 'static), default: bool) -> bool {
    e.source()
        .map_or(default, |source| chain_is_transient(source, default))
}

/// Classifies by the first error of a known type in `e` and its sources; `default` when
/// there is none.
fn chain_is_transient(e: &(dyn StdError + 'static), default: bool) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(transient) = known(e) {
            return transient;
        }
        next = e.source();
    }
    default
}

/// `e`'s classification if its type is one of those implementing [`Classify`].
fn known(e: &(dyn StdError + 'static)) -> Option<bool> {
    macro_rules! try_types {
        ($($t:ty),* $(,)?) => {
            $(if let Some(e) = e.downcast_ref::<$t>() {
                return Some(e.is_transient());
            })*
        };
    }
    try_types!(
        std::io::Error,
        jetstream::Error,
        async_nats::ConnectError,
        async_nats::client::FlushError,
        async_nats::client::PublishError,
        async_nats::client::RequestError,
        JsRequestError,
        CreateStreamError,
        DeleteStreamError,
        JsPublishError,
        ConsumerError,
        BatchError,
        BatchRequestError,
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn transient(e: impl Classify) -> bool {
        nats_err("testing", e).is_transient()
    }

    #[test]
    fn the_message_says_what_was_done_and_what_failed() {
        let e = nats_err(
            "creating a stream",
            CreateStreamError::new(CreateStreamErrorKind::TimedOut),
        );
        assert_eq!(
            e.to_string(),
            "nats backend failed: creating a stream: jetstream request timed out"
        );
    }

    #[test]
    fn timeouts_and_unavailability_are_transient() {
        assert!(transient(CreateStreamError::new(
            CreateStreamErrorKind::TimedOut
        )));
        assert!(transient(CreateStreamError::new(
            CreateStreamErrorKind::JetStreamUnavailable
        )));
        assert!(transient(JsPublishError::new(JsPublishErrorKind::TimedOut)));
        assert!(transient(JsPublishError::new(
            JsPublishErrorKind::StreamNotFound
        )));
        assert!(transient(JsRequestError::new(
            JsRequestErrorKind::NoResponders
        )));
        assert!(transient(ConsumerError::new(ConsumerErrorKind::TimedOut)));
        assert!(transient(BatchError::new(BatchErrorKind::Flush)));
        assert!(transient(async_nats::ConnectError::new(
            async_nats::ConnectErrorKind::Io
        )));
    }

    #[test]
    fn invalid_arguments_are_permanent() {
        assert!(!transient(CreateStreamError::new(
            CreateStreamErrorKind::InvalidStreamName
        )));
        assert!(!transient(DeleteStreamError::new(
            DeleteStreamErrorKind::EmptyName
        )));
        assert!(!transient(ConsumerError::new(
            ConsumerErrorKind::InvalidName
        )));
        assert!(!transient(JsPublishError::new(
            JsPublishErrorKind::WrongLastSequence
        )));
        assert!(!transient(BatchError::new(BatchErrorKind::Serialize)));
        assert!(!transient(async_nats::ConnectError::new(
            async_nats::ConnectErrorKind::AuthorizationViolation
        )));
    }

    #[test]
    fn sources_decide_for_generic_kinds() {
        let timed_out = JsRequestError::new(JsRequestErrorKind::TimedOut);
        assert!(transient(DeleteStreamError::with_source(
            DeleteStreamErrorKind::Request,
            timed_out
        )));
        let serialize = BatchRequestError::new(BatchRequestErrorKind::Serialize);
        assert!(!transient(BatchError::with_source(
            BatchErrorKind::Pull,
            serialize
        )));
        let closed =
            async_nats::client::PublishError::new(async_nats::client::PublishErrorKind::Send);
        assert!(transient(JsPublishError::with_source(
            JsPublishErrorKind::Other,
            closed
        )));
    }

    #[test]
    fn boxed_errors_are_classified_by_type() {
        let send: async_nats::Error = Box::new(async_nats::client::PublishError::new(
            async_nats::client::PublishErrorKind::Send,
        ));
        assert!(transient(send));
        let reset: async_nats::Error = Box::new(io::Error::from(io::ErrorKind::ConnectionReset));
        assert!(transient(reset));
        let no_reply: async_nats::Error =
            Box::new(io::Error::new(io::ErrorKind::NotFound, "no reply subject"));
        assert!(!transient(no_reply));
        let unknown: async_nats::Error = Box::new(fmt::Error);
        assert!(!transient(unknown));
    }

    #[test]
    fn a_status_ending_a_pull_is_transient() {
        let status: async_nats::Error = Box::new(io::Error::other(
            "error while processing messages from the stream: 409, Some(\"Leadership Change\")",
        ));
        assert!(transient(PullMessageError(status)));
        let permission: async_nats::Error =
            Box::new(io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(!transient(PullMessageError(permission)));
    }
}
