//! # mlpipe-nats
//!
//! The mlpipe [`Broker`] on **NATS JetStream**, for pipelines whose stages run as separate
//! processes on one or many machines. It keeps the contract of the in-process broker
//! ([`mlpipe_core::broker`]):
//!
//! - **a stream per topic family**: topic `t` and its dead-letter topic `t.dead-letter`
//!   share the stream `{prefix}_{t}` on subjects `{prefix}.t` and `{prefix}.t.dead-letter`
//!   (file storage, kept for [`NatsOptions::max_age`]);
//! - **a durable pull consumer per group**: every consumer of a group, in any process,
//!   pulls from the same durable consumer, so the group works as a queue; each group gets
//!   every message published after it was created (a dead-letter topic's groups get all it
//!   holds, so nothing dead-lettered is lost while nobody listens);
//! - **explicit ack**: a delivery not acked within `ack_wait` comes back (the server
//!   redelivers); a nack comes back after the back-off of its attempt (a delayed `NAK`);
//! - **dead letters**: after `max_deliveries` attempts, or at once on reject, the message is
//!   published on the dead-letter topic with the headers `mlpipe-error`, `mlpipe-attempts`,
//!   `mlpipe-original-topic` and `mlpipe-group`, and only then terminated on the original
//!   consumer, so a crash in between can duplicate a dead letter (deduplicated by its
//!   `Nats-Msg-Id`) but never lose one.
//!
//! Messages keep their id (header `mlpipe-id`, also the `Nats-Msg-Id`, so the server drops
//! a republished event within its duplicate window).
//!
//! ```no_run
//! # async fn f() -> mlpipe_core::Result<()> {
//! use mlpipe_core::broker::{Broker, Message, SubscribeOptions};
//! let broker = mlpipe_nats::NatsBroker::connect("nats://127.0.0.1:4222").await?;
//! let mut sub = broker.subscribe("raw-data-extracted", "mlpipe-prepare", SubscribeOptions::default()).await?;
//! broker.publish(Message::new("raw-data-extracted", "{}")).await?;
//! if let Some(d) = sub.next().await? { d.ack().await?; }
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod error;
mod naming;
mod subscription;

use async_nats::jetstream::{self, stream};
use async_trait::async_trait;
use mlpipe_core::broker::*;
use mlpipe_core::{Error, Result};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use error::{nats_err, Classify, BACKEND};

/// Header carrying the mlpipe message id on NATS.
pub const HEADER_ID: &str = "mlpipe-id";

/// How a [`NatsBroker`] names and keeps its streams.
#[derive(Clone, Debug)]
pub struct NatsOptions {
    /// Prefix of every subject and stream name (separates deployments on one server).
    pub prefix: String,
    /// How long a stream keeps messages (acknowledged ones too: streams use limits retention).
    pub max_age: Duration,
    /// Window in which a republished message id is dropped by the server.
    pub duplicate_window: Duration,
    /// How long one pull request waits on the server before the client asks again.
    pub pull_wait: Duration,
    /// How long to wait for the server when connecting.
    pub connect_timeout: Duration,
    /// How long to wait for JetStream to answer a request (a publish acknowledgement, a
    /// stream or consumer lookup) before the call fails with a transient error.
    pub request_timeout: Duration,
}

impl Default for NatsOptions {
    fn default() -> Self {
        Self {
            prefix: "mlpipe".into(),
            max_age: Duration::from_secs(7 * 24 * 3600),
            duplicate_window: Duration::from_secs(120),
            pull_wait: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// A [`Broker`] on NATS JetStream. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct NatsBroker {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) client: async_nats::Client,
    pub(crate) js: jetstream::Context,
    pub(crate) options: NatsOptions,
    /// Streams known to exist (created or checked by this broker).
    streams: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for NatsBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsBroker")
            .field("options", &self.inner.options)
            .finish()
    }
}

impl NatsBroker {
    /// Connects to `url` (`nats://host:port`) with default options.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, NatsOptions::default()).await
    }

    /// Connects to a URL that may carry the subject prefix as a query parameter:
    /// `nats://host:4222?prefix=team_a` (default prefix `mlpipe`).
    pub async fn connect_url(url: &str) -> Result<Self> {
        let mut options = NatsOptions::default();
        let url = match url.split_once('?') {
            Some((base, query)) => {
                for kv in query.split('&').filter(|kv| !kv.is_empty()) {
                    match kv.split_once('=') {
                        Some(("prefix", v)) => options.prefix = v.to_string(),
                        _ => {
                            return Err(Error::Config(format!(
                                "unknown NATS URL parameter `{kv}`: only `prefix` is understood"
                            )))
                        }
                    }
                }
                base
            }
            None => url,
        };
        Self::connect_with(url, options).await
    }

    /// Connects to `url` with `options`. A server that cannot be reached (refused, timed
    /// out, not resolved) is a transient error: retry later, or check the URL and that
    /// `nats-server -js` runs. A URL that does not parse, refused credentials or a failed
    /// TLS setup are permanent.
    pub async fn connect_with(url: &str, options: NatsOptions) -> Result<Self> {
        naming::check_token("prefix", &options.prefix)?;
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(options.connect_timeout)
            .connect(url)
            .await
            .map_err(|e| {
                let transient = e.is_transient();
                let hint = if transient {
                    "is nats-server running with JetStream (-js)?"
                } else {
                    "check the URL, the credentials and the TLS settings"
                };
                error::backend_error(format!("cannot connect to {url}: {e}; {hint}"), transient)
            })?;
        let mut js = jetstream::new(client.clone());
        js.set_timeout(options.request_timeout);
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                js,
                options,
                streams: Mutex::new(HashSet::new()),
            }),
        })
    }

    /// The options this broker was made with.
    pub fn options(&self) -> &NatsOptions {
        &self.inner.options
    }

    /// Deletes every stream of this broker's prefix (`{prefix}_…`): all topics, their
    /// messages and consumer groups are gone. For tests and tear-down.
    pub async fn delete_streams(&self) -> Result<()> {
        use futures::TryStreamExt;
        let start = format!("{}_", naming::sanitize(&self.inner.options.prefix));
        let names: Vec<String> = self
            .inner
            .js
            .stream_names()
            .try_collect()
            .await
            .map_err(|e| nats_err("listing streams", e))?;
        for name in names.into_iter().filter(|n| n.starts_with(&start)) {
            self.inner
                .js
                .delete_stream(&name)
                .await
                .map_err(|e| nats_err("deleting a stream", e))?;
        }
        match self.inner.streams.lock() {
            Ok(mut s) => s.clear(),
            Err(p) => p.into_inner().clear(),
        }
        Ok(())
    }

    /// Waits until everything published so far has reached the server.
    pub async fn flush(&self) -> Result<()> {
        self.inner
            .client
            .flush()
            .await
            .map_err(|e| nats_err("flushing", e))
    }
}

impl Inner {
    /// Makes sure the stream of `topic`'s family exists; returns it.
    pub(crate) async fn stream(&self, topic: &str) -> Result<stream::Stream> {
        let name = naming::stream_name(&self.options.prefix, topic);
        let config = stream::Config {
            name: name.clone(),
            subjects: naming::stream_subjects(&self.options.prefix, topic),
            retention: stream::RetentionPolicy::Limits,
            storage: stream::StorageType::File,
            max_age: self.options.max_age,
            duplicate_window: self.options.duplicate_window,
            ..Default::default()
        };
        let stream = self
            .js
            .get_or_create_stream(config)
            .await
            .map_err(|e| nats_err("creating a stream", e))?;
        self.remember(name);
        Ok(stream)
    }

    fn known(&self, name: &str) -> bool {
        match self.streams.lock() {
            Ok(s) => s.contains(name),
            Err(p) => p.into_inner().contains(name),
        }
    }

    fn remember(&self, name: String) {
        match self.streams.lock() {
            Ok(mut s) => s.insert(name),
            Err(p) => p.into_inner().insert(name),
        };
    }

    /// Publishes `message` and waits for the server to store it.
    pub(crate) async fn publish(&self, message: Message, dedup_id: String) -> Result<()> {
        naming::check_topic(&message.topic)?;
        if !self.known(&naming::stream_name(&self.options.prefix, &message.topic)) {
            self.stream(&message.topic).await?;
        }
        let mut headers = async_nats::HeaderMap::new();
        for (k, v) in &message.headers {
            headers.insert(k.as_str(), naming::header_value(v).as_str());
        }
        headers.insert(HEADER_ID, message.id.as_str());
        headers.insert(async_nats::header::NATS_MESSAGE_ID, dedup_id.as_str());
        let subject = naming::subject(&self.options.prefix, &message.topic);
        let ack = self
            .js
            .publish_with_headers(subject, headers, message.payload)
            .await
            .map_err(|e| nats_err("publishing", e))?;
        ack.await
            .map_err(|e| nats_err("waiting for the publish acknowledgement", e))?;
        Ok(())
    }
}

#[async_trait]
impl Broker for NatsBroker {
    async fn publish(&self, message: Message) -> Result<()> {
        let dedup = message.id.as_str().to_string();
        self.inner.publish(message, dedup).await
    }

    async fn subscribe(
        &self,
        topic: &str,
        group: &str,
        options: SubscribeOptions,
    ) -> Result<Box<dyn Subscription>> {
        options.validate()?;
        naming::check_topic(topic)?;
        if group.is_empty() {
            return Err(Error::invalid("a group name must not be empty"));
        }
        let sub =
            subscription::NatsSubscription::open(self.inner.clone(), topic, group, options).await?;
        Ok(Box::new(sub))
    }

    fn capabilities(&self) -> BrokerCapabilities {
        BrokerCapabilities::new(true, true)
    }
}
