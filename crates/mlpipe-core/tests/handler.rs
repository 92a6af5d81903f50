//! `spawn_handler` over the in-process broker: a handler that runs several `ack_wait`s
//! keeps its delivery (no second delivery, no dead-letter), a failing handler is retried
//! until the dead-letter, and a `Permanent` failure is dead-lettered at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use mlpipe_core::broker::*;
use mlpipe_core::events::{Envelope, Event, RawDataExtracted, Topic};
use mlpipe_core::service::{spawn_handler, EventHandler, HandlerError, Permanent};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy)]
enum Behaviour {
    /// Works for this long, then succeeds.
    Slow(Duration),
    /// Fails with a retryable error.
    Fails,
    /// Fails for good.
    FailsForGood,
}

struct Handler {
    behaviour: Behaviour,
    calls: AtomicU32,
}

#[async_trait]
impl EventHandler for Handler {
    async fn handle(&self, _env: Envelope, _attempt: u32) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.behaviour {
            Behaviour::Slow(d) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
            Behaviour::Fails => Err("store unavailable".into()),
            Behaviour::FailsForGood => Err(Permanent::new("column `y` is missing").into()),
        }
    }
}

fn options() -> SubscribeOptions {
    SubscribeOptions {
        max_deliveries: 3,
        ack_wait: Duration::from_millis(500),
        backoff: vec![Duration::from_millis(10)],
    }
}

/// Runs `behaviour` on one event; returns the handler's call count and the dead
/// letters (their attempt headers) seen within `wait`.
async fn run(behaviour: Behaviour, wait: Duration) -> (u32, Vec<String>) {
    let broker = Arc::new(InProcessBroker::new());
    let topic = Topic::RawDataExtracted;
    let mut dlq = broker
        .subscribe(&dead_letter_topic(topic.as_str()), "watch", options())
        .await
        .unwrap();
    let handler = Arc::new(Handler {
        behaviour,
        calls: AtomicU32::new(0),
    });
    // Two consumers: the idle one would take a redelivery while the other works.
    let h = spawn_handler(broker.clone(), topic, "g", options(), 2, handler.clone())
        .await
        .unwrap();
    let env = Envelope::new(Event::RawDataExtracted(RawDataExtracted {
        dataset: "d".into(),
        batch_id: mlpipe_core::BatchId::new("b"),
        rows: 1,
        quarantined: 0,
    }));
    broker.publish_event(&env).await.unwrap();
    let mut dead = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Ok(Some(d))) = tokio::time::timeout_at(deadline, dlq.next()).await {
        dead.push(
            d.message
                .headers
                .get("mlpipe-attempts")
                .cloned()
                .unwrap_or_default(),
        );
        d.ack().await.unwrap();
    }
    h.shutdown().await;
    (handler.calls.load(Ordering::SeqCst), dead)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_longer_than_ack_wait_keeps_its_delivery() {
    // Four ack_waits of work: without the keep-alive the event would come back three
    // times and end in the dead-letter topic.
    let (calls, dead) = run(
        Behaviour::Slow(Duration::from_millis(800)),
        Duration::from_millis(1500),
    )
    .await;
    assert_eq!(calls, 1);
    assert!(dead.is_empty(), "{dead:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_is_retried_then_dead_lettered_and_a_permanent_one_at_once() {
    let (calls, dead) = run(Behaviour::Fails, Duration::from_secs(2)).await;
    assert_eq!((calls, dead), (3, vec!["3".to_string()]));
    let (calls, dead) = run(Behaviour::FailsForGood, Duration::from_secs(1)).await;
    assert_eq!((calls, dead), (1, vec!["1".to_string()]));
}
