//! One consumer of a group: pulls from the group's durable consumer one message at a time
//! (so a slow handler never holds messages it has not started), and settles deliveries.

use crate::error::{nats_err, PullMessageError};
use crate::{naming, Inner, HEADER_ID};
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::{self, AckKind};
use async_trait::async_trait;
use futures::StreamExt;
use mlpipe_core::broker::*;
use mlpipe_core::ids::EventId;
use mlpipe_core::Result;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A consumer of `group` on `topic`.
pub(crate) struct NatsSubscription {
    ctx: Arc<Context>,
    consumer: PullConsumer,
}

/// What a subscription and its deliveries share.
struct Context {
    inner: Arc<Inner>,
    topic: String,
    group: String,
    options: SubscribeOptions,
}

impl NatsSubscription {
    /// Joins (creating if needed) the durable consumer of `group` on `topic`.
    pub(crate) async fn open(
        inner: Arc<Inner>,
        topic: &str,
        group: &str,
        options: SubscribeOptions,
    ) -> Result<Self> {
        let stream = inner.stream(topic).await?;
        let name = naming::consumer_name(topic, group);
        let config = pull::Config {
            durable_name: Some(name.clone()),
            description: Some(format!("mlpipe group `{group}` on topic `{topic}`")),
            // Dead letters are kept for whoever reads them later; other topics deliver what
            // is published once the group exists.
            deliver_policy: if naming::is_dead_letter(topic) {
                DeliverPolicy::All
            } else {
                DeliverPolicy::New
            },
            ack_policy: AckPolicy::Explicit,
            ack_wait: options.ack_wait,
            // The client counts attempts and dead-letters; the server never gives up alone.
            max_deliver: -1,
            filter_subject: naming::subject(&inner.options.prefix, topic),
            ..Default::default()
        };
        let mut consumer: PullConsumer = stream
            .get_or_create_consumer(&name, config)
            .await
            .map_err(|e| nats_err(&format!("creating consumer {name}"), e))?;
        // An existing group keeps the ack_wait it was created with; handlers report
        // progress at half of the requested one, so a shorter stored one would let
        // deliveries come back while they are being handled.
        if let Ok(info) = consumer.info().await {
            let stored = info.config.ack_wait;
            if stored < options.ack_wait {
                tracing::warn!(
                    consumer = %name, stored_ms = stored.as_millis() as u64,
                    requested_ms = options.ack_wait.as_millis() as u64,
                    "the group's consumer was created with a shorter ack_wait than requested; \
                     long handlers may be redelivered: delete the consumer to recreate it"
                );
            }
        }
        Ok(Self {
            ctx: Arc::new(Context {
                inner,
                topic: topic.to_string(),
                group: group.to_string(),
                options,
            }),
            consumer,
        })
    }
}

#[async_trait]
impl Subscription for NatsSubscription {
    async fn next(&mut self) -> Result<Option<Delivery>> {
        loop {
            let mut batch = self
                .consumer
                .batch()
                .max_messages(1)
                .expires(self.ctx.inner.options.pull_wait)
                .messages()
                .await
                .map_err(|e| nats_err("pulling a message", e))?;
            while let Some(m) = batch.next().await {
                let m = m.map_err(|e| nats_err("receiving a message", PullMessageError(e)))?;
                if let Some(d) = self.ctx.clone().deliver(m).await? {
                    return Ok(Some(d));
                }
            }
        }
    }
}

impl Context {
    /// Turns a JetStream message into a delivery, or dead-letters it when its last allowed
    /// attempt ran out of time (`None`).
    async fn deliver(self: Arc<Self>, m: jetstream::Message) -> Result<Option<Delivery>> {
        let attempt = m
            .info()
            .map(|i| i.delivered.max(1) as u32)
            .map_err(|e| nats_err("reading delivery metadata", e))?;
        let mut headers = BTreeMap::new();
        let mut id = None;
        if let Some(h) = &m.message.headers {
            for (k, vs) in h.iter() {
                let k: &str = k.as_ref();
                let Some(v) = vs.last() else { continue };
                if k == HEADER_ID {
                    id = Some(EventId::new(v.as_str()));
                } else if k != AsRef::<str>::as_ref(&async_nats::header::NATS_MESSAGE_ID) {
                    headers.insert(k.to_string(), v.as_str().to_string());
                }
            }
        }
        let message = Message {
            id: id.unwrap_or_else(|| {
                let seq = m.info().map(|i| i.stream_sequence).unwrap_or_default();
                EventId::new(format!("nats-seq-{seq}"))
            }),
            topic: naming::topic_of(&self.inner.options.prefix, m.message.subject.as_str())
                .to_string(),
            payload: m.message.payload.clone(),
            headers,
        };
        let acker = NatsAcker {
            ctx: self.clone(),
            js_message: m,
            message: message.clone(),
            attempt,
        };
        if attempt > self.options.max_deliveries {
            // The previous, last allowed, delivery was never settled.
            acker
                .dead_letter(
                    "not acknowledged within ack_wait on the last attempt",
                    attempt - 1,
                )
                .await?;
            return Ok(None);
        }
        Ok(Some(Delivery::new(message, attempt, Box::new(acker))))
    }
}

/// Settles one JetStream delivery.
struct NatsAcker {
    ctx: Arc<Context>,
    js_message: jetstream::Message,
    message: Message,
    attempt: u32,
}

impl NatsAcker {
    /// Publishes the message on the dead-letter topic, then terminates the original.
    async fn dead_letter(&self, reason: &str, attempts: u32) -> Result<()> {
        let ctx = &self.ctx;
        tracing::warn!(
            topic = %ctx.topic, group = %ctx.group, id = %self.message.id, attempts, reason,
            "message dead-lettered"
        );
        let mut dead = self.message.clone();
        dead.headers
            .insert(HEADER_ERROR.to_string(), reason.to_string());
        dead.headers
            .insert(HEADER_ATTEMPTS.to_string(), attempts.to_string());
        dead.headers
            .insert(HEADER_ORIGINAL_TOPIC.to_string(), ctx.topic.clone());
        dead.headers
            .insert(HEADER_GROUP.to_string(), ctx.group.clone());
        dead.topic = dead_letter_topic(&ctx.topic);
        let dedup = format!("{}:{}:{}", self.message.id, dead.topic, ctx.group);
        ctx.inner.publish(dead, dedup).await?;
        self.js_message
            .ack_with(AckKind::Term)
            .await
            .map_err(|e| nats_err("terminating a dead-lettered message", e))
    }
}

#[async_trait]
impl Acker for NatsAcker {
    async fn ack(&self) -> Result<()> {
        self.js_message
            .ack()
            .await
            .map_err(|e| nats_err("acknowledging", e))
    }

    async fn nack(&self, reason: &str) -> Result<()> {
        if self.attempt >= self.ctx.options.max_deliveries {
            return self.dead_letter(reason, self.attempt).await;
        }
        let delay = self.ctx.options.backoff_for(self.attempt);
        self.js_message
            .ack_with(AckKind::Nak(Some(delay)))
            .await
            .map_err(|e| nats_err("negatively acknowledging", e))
    }

    async fn reject(&self, reason: &str) -> Result<()> {
        self.dead_letter(reason, self.attempt).await
    }

    async fn in_progress(&self) -> Result<()> {
        self.js_message
            .ack_with(AckKind::Progress)
            .await
            .map_err(|e| nats_err("reporting progress", e))
    }
}
