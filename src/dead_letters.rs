//! Every dead letter in the audit trail: a consumer (one group for the whole deployment,
//! so each dead letter is recorded once) reads every `<topic>.dead-letter` topic and
//! writes an audit record `dead_letter` naming the event, the stage that gave up, its
//! error and the attempts. It runs beside the stages of every worker and pipeline.

use mlpipe_core::broker::*;
use mlpipe_core::events::Topic;
use mlpipe_core::service::ServiceHandle;
use mlpipe_core::store::{AuditRecord, LineageStore, Node};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Consumer group of the dead-letter audit.
pub const GROUP: &str = "mlpipe-dead-letter-audit";

/// Subscribes to every dead-letter topic and records what arrives.
pub async fn start(
    broker: Arc<dyn Broker>,
    lineage: Arc<dyn LineageStore>,
    options: SubscribeOptions,
) -> mlpipe_core::Result<ServiceHandle> {
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for topic in Topic::ALL {
        let name = dead_letter_topic(topic.as_str());
        let mut sub = broker.subscribe(&name, GROUP, options.clone()).await?;
        let lineage = lineage.clone();
        let mut stop_rx = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    biased;
                    _ = stop_rx.changed() => break,
                    n = sub.next() => n,
                };
                let d = match next {
                    Ok(Some(d)) => d,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(topic = %name, error = %e, "dead-letter audit: subscription failed; retrying");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                };
                let h = |k: &str| d.message.headers.get(k).cloned().unwrap_or_default();
                let group = h(HEADER_GROUP);
                let record = AuditRecord::now(
                    if group.is_empty() { "broker".to_string() } else { group.clone() },
                    "dead_letter",
                    &Node::Event(d.message.id.clone()),
                    serde_json::json!({
                        "topic": h(HEADER_ORIGINAL_TOPIC),
                        "group": group,
                        "error": h(HEADER_ERROR),
                        "attempts": h(HEADER_ATTEMPTS).parse::<u32>().ok(),
                        "event": serde_json::from_slice::<serde_json::Value>(&d.message.payload).ok(),
                    }),
                );
                let result = match lineage.audit(record).await {
                    Ok(()) => d.ack().await,
                    // Not recorded: the broker delivers it again.
                    Err(e) => d.nack(&format!("audit write failed: {e}")).await,
                };
                if let Err(e) = result {
                    tracing::warn!(topic = %name, error = %e, "dead-letter audit: could not settle a delivery");
                }
            }
        }));
    }
    Ok(ServiceHandle::from_parts(GROUP, stop, tasks))
}
