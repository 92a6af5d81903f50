//! The message broker contract: topics, consumer groups, explicit ack/nack, redelivery
//! with back-off and a dead-letter topic.
//!
//! # Contract
//! - A message published on a topic reaches **every group** subscribed to that topic at the
//!   time of publishing; **inside a group exactly one consumer** gets it at a time.
//! - Delivery is at-least-once. A delivery that is [acked](Delivery::ack) is done. One that
//!   is [nacked](Delivery::nack), or not acked within `ack_wait`, is delivered again after
//!   the back-off for its attempt, with the same message id and `attempt + 1`.
//! - After `max_deliveries` attempts, or at once when [rejected](Delivery::reject), the
//!   message goes to the dead-letter topic [`dead_letter_topic`]`(topic)` with the reason in
//!   the `mlpipe-error` header. Dead-letter topics keep their messages until a group reads
//!   them, so nothing is lost even if nobody listens yet.
//!
//! Implementations: [`InProcessBroker`] here; NATS JetStream in `mlpipe-nats`. The
//! conformance suite in `mlpipe_core::testkit::broker` (feature `testkit`) holds every implementation to this.

mod memory;

pub use memory::InProcessBroker;

use crate::events::{Envelope, Topic};
use crate::ids::EventId;
use crate::{Error, Result};
use async_trait::async_trait;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::time::Duration;

/// Header carrying the reason a message was dead-lettered.
pub const HEADER_ERROR: &str = "mlpipe-error";
/// Header carrying how many deliveries a dead-lettered message had.
pub const HEADER_ATTEMPTS: &str = "mlpipe-attempts";
/// Header carrying the topic a dead-lettered message came from.
pub const HEADER_ORIGINAL_TOPIC: &str = "mlpipe-original-topic";
/// Header carrying the group that gave up on a dead-lettered message.
pub const HEADER_GROUP: &str = "mlpipe-group";

/// The dead-letter topic of `topic`.
pub fn dead_letter_topic(topic: &str) -> String {
    format!("{topic}.dead-letter")
}

/// One message on the broker.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Stable id: redeliveries and dead-lettered copies keep it.
    pub id: EventId,
    /// Topic it was published on.
    pub topic: String,
    /// The body (JSON for pipeline events).
    pub payload: Bytes,
    /// Free-form headers.
    pub headers: BTreeMap<String, String>,
}

impl Message {
    /// A message with a fresh id.
    pub fn new(topic: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        Self {
            id: EventId::generate(),
            topic: topic.into(),
            payload: payload.into(),
            headers: BTreeMap::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.headers.insert(k.into(), v.into());
        self
    }

    /// The message for a pipeline event: its envelope as JSON on the event's topic.
    pub fn from_envelope(env: &Envelope) -> Result<Self> {
        let payload = serde_json::to_vec(env).map_err(|e| Error::serde("event", e))?;
        Ok(Self {
            id: env.id.clone(),
            topic: env.topic().as_str().to_string(),
            payload: payload.into(),
            headers: BTreeMap::new(),
        })
    }

    /// What the broker recorded on a message of a dead-letter topic (`None` on any
    /// other topic): the topic and group that gave up on it, their error, the attempts.
    pub fn dead_letter(&self) -> Option<DeadLetter> {
        if !self.topic.ends_with(".dead-letter") {
            return None;
        }
        let h = |k: &str| self.headers.get(k).cloned().unwrap_or_default();
        Some(DeadLetter {
            topic: h(HEADER_ORIGINAL_TOPIC),
            group: h(HEADER_GROUP),
            error: h(HEADER_ERROR),
            attempts: h(HEADER_ATTEMPTS).parse().ok(),
        })
    }

    /// Decodes the payload as a pipeline event envelope.
    pub fn envelope(&self) -> Result<Envelope> {
        serde_json::from_slice(&self.payload)
            .map_err(|e| Error::serde(format!("event on topic {}", self.topic), e))
    }
}

/// The headers a broker puts on a dead-lettered message, read by [`Message::dead_letter`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// The topic the message was on ([`HEADER_ORIGINAL_TOPIC`]).
    pub topic: String,
    /// The consumer group that gave up on it ([`HEADER_GROUP`]).
    pub group: String,
    /// Its handler's error ([`HEADER_ERROR`]).
    pub error: String,
    /// Deliveries tried ([`HEADER_ATTEMPTS`]), when recorded.
    pub attempts: Option<u32>,
}

/// How a group consumes a topic.
#[derive(Clone, Debug)]
pub struct SubscribeOptions {
    /// Deliveries before a message is dead-lettered (at least 1).
    pub max_deliveries: u32,
    /// How long a delivery may stay unacknowledged before it is delivered again.
    pub ack_wait: Duration,
    /// Delay before redelivery after the n-th failed attempt (the last entry repeats).
    pub backoff: Vec<Duration>,
}

impl Default for SubscribeOptions {
    fn default() -> Self {
        Self {
            max_deliveries: 5,
            ack_wait: Duration::from_secs(30),
            backoff: vec![
                Duration::from_millis(100),
                Duration::from_millis(500),
                Duration::from_secs(2),
                Duration::from_secs(5),
            ],
        }
    }
}

impl SubscribeOptions {
    /// The delay before redelivering a message whose `attempt`-th delivery failed.
    pub fn backoff_for(&self, attempt: u32) -> Duration {
        let i = (attempt.max(1) - 1) as usize;
        self.backoff
            .get(i)
            .or(self.backoff.last())
            .copied()
            .unwrap_or(Duration::ZERO)
    }

    /// Checks the options make sense.
    pub fn validate(&self) -> Result<()> {
        if self.max_deliveries == 0 {
            return Err(Error::invalid("max_deliveries must be at least 1"));
        }
        if self.ack_wait.is_zero() {
            return Err(Error::invalid("ack_wait must be longer than zero"));
        }
        Ok(())
    }
}

/// Settles one delivery. Implemented by each broker backend.
#[async_trait]
pub trait Acker: Send + Sync {
    /// The message was handled.
    async fn ack(&self) -> Result<()>;
    /// The handler failed; deliver again after back-off (or dead-letter after the last attempt).
    async fn nack(&self, reason: &str) -> Result<()>;
    /// The message can never succeed (e.g. it cannot be decoded): dead-letter it now.
    async fn reject(&self, reason: &str) -> Result<()>;
    /// The handler is still working: restart the `ack_wait` clock so the message is not
    /// delivered again meanwhile. The default does nothing (for brokers without a
    /// redelivery clock).
    async fn in_progress(&self) -> Result<()> {
        Ok(())
    }
}

/// A message handed to one consumer, to be settled with exactly one of ack, nack or reject.
pub struct Delivery {
    /// The message.
    pub message: Message,
    /// Which delivery of the message this is, from 1.
    pub attempt: u32,
    acker: Box<dyn Acker>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("message", &self.message)
            .field("attempt", &self.attempt)
            .finish()
    }
}

impl Delivery {
    /// Builds a delivery (for broker implementations).
    pub fn new(message: Message, attempt: u32, acker: Box<dyn Acker>) -> Self {
        Self {
            message,
            attempt,
            acker,
        }
    }
    /// Marks the message handled.
    pub async fn ack(self) -> Result<()> {
        self.acker.ack().await
    }
    /// Marks the attempt failed; the message comes back after back-off.
    pub async fn nack(self, reason: &str) -> Result<()> {
        self.acker.nack(reason).await
    }
    /// Sends the message straight to the dead-letter topic.
    pub async fn reject(self, reason: &str) -> Result<()> {
        self.acker.reject(reason).await
    }
    /// Says the handler is still working, so the message is not delivered again after
    /// `ack_wait` while it runs ([`spawn_handler`](crate::service::spawn_handler) calls
    /// this every half `ack_wait`).
    pub async fn in_progress(&self) -> Result<()> {
        self.acker.in_progress().await
    }
}

/// A stream of deliveries for one consumer of a group.
#[async_trait]
pub trait Subscription: Send {
    /// The next delivery; waits until one is available. `Ok(None)` when the broker closed.
    async fn next(&mut self) -> Result<Option<Delivery>>;
}

/// What a broker implementation can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrokerCapabilities {
    /// Messages survive a restart of the process.
    pub durable: bool,
    /// Consumers in different processes can share a group.
    pub distributed: bool,
}

impl BrokerCapabilities {
    /// The capabilities of a broker implementation (the struct is `non_exhaustive`, so
    /// other crates build it here).
    pub fn new(durable: bool, distributed: bool) -> Self {
        Self {
            durable,
            distributed,
        }
    }
}

/// The message broker every stage talks through.
///
/// # Contract
/// The semantics of the [module documentation](self), method by method:
/// - `publish` delivers the message, id, payload and headers unchanged, to every group
///   subscribed to its topic at the time; inside a group exactly one consumer at a time.
/// - `subscribe` joins (or creates) the group: subscriptions of one group share its
///   messages. It refuses options that fail [`SubscribeOptions::validate`].
/// - Delivery is at-least-once, settled through the backend's [`Acker`]: a nacked delivery,
///   or one not acked within `ack_wait` (restarted by `in_progress`), comes back after the
///   back-off with the same id and `attempt + 1`. After `max_deliveries`, or at once when
///   rejected, it goes to [`dead_letter_topic`] with the [`HEADER_ERROR`] and the other
///   headers, and dead-letter topics keep their messages until a group reads them.
/// - [`Subscription::next`] waits until a delivery is available, and gives `Ok(None)`
///   when the broker closed.
/// - `capabilities` tells the truth: `durable` only if messages survive a restart,
///   `distributed` only if other processes can share a group.
/// - A lost connection is `Error::Backend { transient: true, .. }`
///   ([`Error::transient`]), so publishers and workers retry instead of giving up.
///
/// A backend proves all this by running `mlpipe_core::testkit::broker::conformance(broker)`
/// (feature `testkit`) from its own tests.
///
/// # Example
/// A nacked delivery comes back as the next attempt of the same message:
/// ```
/// use mlpipe_core::broker::{Broker, InProcessBroker, Message, SubscribeOptions};
/// use std::time::Duration;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let broker = InProcessBroker::new();
/// let options = SubscribeOptions { backoff: vec![Duration::from_millis(10)], ..Default::default() };
/// let mut sub = broker.subscribe("jobs", "workers", options).await?;
/// let message = Message::new("jobs", "payload");
/// broker.publish(message.clone()).await?;
/// let first = sub.next().await?.expect("a delivery");
/// first.nack("try again").await?;
/// let second = sub.next().await?.expect("a redelivery");
/// assert_eq!((second.message.id.clone(), second.attempt), (message.id, 2));
/// second.ack().await?;
/// # Ok::<(), mlpipe_core::Error>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait Broker: Send + Sync {
    /// Publishes a message on its topic.
    async fn publish(&self, message: Message) -> Result<()>;
    /// Joins (or creates) `group` on `topic` and returns one consumer of it.
    async fn subscribe(
        &self,
        topic: &str,
        group: &str,
        options: SubscribeOptions,
    ) -> Result<Box<dyn Subscription>>;
    /// What this broker can do.
    fn capabilities(&self) -> BrokerCapabilities;
}

/// Conveniences over any [`Broker`].
#[async_trait]
pub trait BrokerExt: Broker {
    /// Publishes a pipeline event on its topic.
    async fn publish_event(&self, envelope: &Envelope) -> Result<()> {
        self.publish(Message::from_envelope(envelope)?).await
    }

    /// Subscribes to a pipeline topic.
    async fn subscribe_topic(
        &self,
        topic: Topic,
        group: &str,
        options: SubscribeOptions,
    ) -> Result<Box<dyn Subscription>> {
        self.subscribe(topic.as_str(), group, options).await
    }
}

impl<B: Broker + ?Sized> BrokerExt for B {}
