//! Every dead letter in the audit trail: a consumer (one group for the whole deployment,
//! so each dead letter is recorded once) reads every `<topic>.dead-letter` topic and
//! writes an audit record `dead_letter` naming the event, the stage that gave up, its
//! error and the attempts. It runs beside the stages of every worker and pipeline.

use mlpipe_core::broker::*;
use mlpipe_core::events::Topic;
use mlpipe_core::service::{spawn_consumer, ServiceHandle};
use mlpipe_core::store::{AuditRecord, LineageStore, Node};
use std::sync::Arc;

/// Consumer group of the dead-letter audit.
pub const GROUP: &str = "mlpipe-dead-letter-audit";

/// Subscribes to every dead-letter topic and records what arrives.
pub async fn start(
    broker: Arc<dyn Broker>,
    lineage: Arc<dyn LineageStore>,
    options: SubscribeOptions,
) -> mlpipe_core::Result<ServiceHandle> {
    let topics = Topic::ALL
        .iter()
        .map(|t| dead_letter_topic(t.as_str()))
        .collect();
    let on = move |d: Delivery| {
        let lineage = lineage.clone();
        async move {
            let dl = d.message.dead_letter().unwrap_or(DeadLetter {
                topic: String::new(),
                group: String::new(),
                error: String::new(),
                attempts: None,
            });
            let actor = if dl.group.is_empty() {
                "broker".to_string()
            } else {
                dl.group.clone()
            };
            let record = AuditRecord::now(
                actor,
                "dead_letter",
                &Node::Event(d.message.id.clone()),
                serde_json::json!({
                    "topic": dl.topic,
                    "group": dl.group,
                    "error": dl.error,
                    "attempts": dl.attempts,
                    "event": serde_json::from_slice::<serde_json::Value>(&d.message.payload).ok(),
                }),
            );
            let result = match lineage.audit(record).await {
                Ok(()) => d.ack().await,
                // Not recorded: the broker delivers it again.
                Err(e) => d.nack(&format!("audit write failed: {e}")).await,
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "dead-letter audit: could not settle a delivery");
            }
        }
    };
    spawn_consumer(broker, topics, GROUP, options, on).await
}
