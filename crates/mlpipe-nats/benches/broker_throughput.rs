//! Broker throughput and publish → handler latency, for the in-process broker and NATS
//! JetStream (MLPIPE_TEST_NATS_URL), in one run.
//!
//! - throughput: one task publishes N messages (each waits for the broker's acceptance,
//!   for NATS the JetStream publish acknowledgement) while `CONSUMERS` consumers of one
//!   group receive and ack them; messages/s from first publish to last ack;
//! - latency: messages published one every 1 ms, each carrying its send time; the
//!   handler's receive time minus the send time, p50/p99.
//!
//! `MLPIPE_TEST_NATS_URL=nats://127.0.0.1:4222 cargo bench -p mlpipe-nats --bench broker_throughput`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mlpipe_core::broker::{Broker, InProcessBroker, Message, SubscribeOptions};
use mlpipe_nats::{NatsBroker, NatsOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

const THROUGHPUT_MESSAGES: usize = 20_000;
const LATENCY_MESSAGES: usize = 2_000;
const CONSUMERS: usize = 4;

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

async fn throughput(name: &str, broker: Arc<dyn Broker>) {
    let topic = mlpipe_core::testkit::unique("bench");
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut tasks = Vec::new();
    for _ in 0..CONSUMERS {
        let mut sub = broker
            .subscribe(&topic, "bench", SubscribeOptions::default())
            .await
            .unwrap();
        let done = done_tx.clone();
        tasks.push(tokio::spawn(async move {
            while let Ok(Some(d)) = sub.next().await {
                d.ack().await.unwrap();
                if done.send(()).is_err() {
                    break;
                }
            }
        }));
    }
    let started = Instant::now();
    let publisher = {
        let broker = broker.clone();
        let topic = topic.clone();
        tokio::spawn(async move {
            for i in 0..THROUGHPUT_MESSAGES {
                broker
                    .publish(Message::new(topic.clone(), format!("{i}")))
                    .await
                    .unwrap();
            }
            started.elapsed()
        })
    };
    for _ in 0..THROUGHPUT_MESSAGES {
        done_rx.recv().await.unwrap();
    }
    let total = started.elapsed();
    let publish = publisher.await.unwrap();
    for t in tasks {
        t.abort();
    }
    println!(
        "{{\"broker\":\"{name}\",\"test\":\"throughput\",\"messages\":{THROUGHPUT_MESSAGES},\"consumers\":{CONSUMERS},\"publish_per_s\":{:.0},\"end_to_end_per_s\":{:.0}}}",
        THROUGHPUT_MESSAGES as f64 / publish.as_secs_f64(),
        THROUGHPUT_MESSAGES as f64 / total.as_secs_f64()
    );
}

async fn latency(name: &str, broker: Arc<dyn Broker>) {
    let topic = mlpipe_core::testkit::unique("bench");
    let epoch = Instant::now();
    let mut sub = broker
        .subscribe(&topic, "bench", SubscribeOptions::default())
        .await
        .unwrap();
    let receiver = tokio::spawn(async move {
        let mut lat = Vec::with_capacity(LATENCY_MESSAGES);
        while lat.len() < LATENCY_MESSAGES {
            let d = sub.next().await.unwrap().unwrap();
            let sent: u64 = std::str::from_utf8(&d.message.payload)
                .unwrap()
                .parse()
                .unwrap();
            let now = epoch.elapsed().as_nanos() as u64;
            lat.push((now - sent) as f64 / 1e3);
            d.ack().await.unwrap();
        }
        lat
    });
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for _ in 0..LATENCY_MESSAGES {
        tick.tick().await;
        let sent = epoch.elapsed().as_nanos() as u64;
        broker
            .publish(Message::new(topic.clone(), sent.to_string()))
            .await
            .unwrap();
    }
    let mut lat = receiver.await.unwrap();
    lat.sort_by(f64::total_cmp);
    println!(
        "{{\"broker\":\"{name}\",\"test\":\"latency\",\"messages\":{LATENCY_MESSAGES},\"p50_us\":{:.0},\"p99_us\":{:.0},\"max_us\":{:.0}}}",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let memory: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    throughput("in-process", memory.clone()).await;
    latency("in-process", memory).await;
    match std::env::var("MLPIPE_TEST_NATS_URL") {
        Ok(url) => {
            let options = NatsOptions {
                prefix: mlpipe_core::testkit::unique("mlpipe-bench"),
                ..NatsOptions::default()
            };
            let nats = NatsBroker::connect_with(&url, options).await.unwrap();
            throughput("nats-jetstream", Arc::new(nats.clone())).await;
            latency("nats-jetstream", Arc::new(nats.clone())).await;
            nats.delete_streams().await.unwrap();
        }
        Err(_) => eprintln!("SKIPPED nats: set MLPIPE_TEST_NATS_URL"),
    }
}
