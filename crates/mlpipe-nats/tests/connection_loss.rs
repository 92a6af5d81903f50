//! Losing the connection to NATS mid-run: calls fail with typed transient errors, the
//! client reconnects when the server is reachable again, and nothing the server
//! acknowledged is lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Says loudly that a test did not run: straight to the process's stderr, which the test
/// harness does not capture (it captures `eprintln!`).
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use mlpipe_core::testkit::proxy;

use mlpipe_core::broker::{Broker, Message};
use mlpipe_core::testkit;
use mlpipe_nats::{NatsBroker, NatsOptions};
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_a_lost_connection() {
    let Ok(url) = std::env::var("MLPIPE_TEST_NATS_URL") else {
        skipped!("SKIPPED: connection loss: set MLPIPE_TEST_NATS_URL (e.g. nats://127.0.0.1:4222) to run it against NATS JetStream");
        return;
    };
    let mut proxy = proxy::Proxy::start(proxy::socket_of(&url)).await;
    let options = NatsOptions {
        prefix: testkit::unique("mlpipe-test"),
        pull_wait: Duration::from_millis(500),
        request_timeout: Duration::from_secs(1),
        ..NatsOptions::default()
    };
    let broker = NatsBroker::connect_with(&format!("nats://{}", proxy.addr), options.clone())
        .await
        .unwrap();
    let topic = testkit::unique("t");
    let mut sub = broker
        .subscribe(&topic, "g", testkit::broker::quick_options())
        .await
        .unwrap();
    let mut sent = BTreeSet::new();
    for i in 0..5 {
        let m = Message::new(topic.clone(), format!("{i}"));
        sent.insert(m.id.clone());
        broker.publish(m).await.unwrap();
    }

    proxy.cut();
    let err = broker
        .publish(Message::new(topic.clone(), "during the outage"))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "a lost connection is transient: {err}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.restore().await;

    // Once reconnected, every acknowledged message arrives (the one published during the
    // outage may or may not have reached the server before the cut).
    let mut got = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !sent.is_subset(&got) && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(2), sub.next()).await {
            Ok(Ok(Some(d))) => {
                got.insert(d.message.id.clone());
                let _ = d.ack().await;
            }
            Ok(Ok(None)) => panic!("subscription closed"),
            Ok(Err(e)) => {
                assert!(e.is_transient(), "{e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(_) => {}
        }
    }
    assert!(
        sent.is_subset(&got),
        "lost acknowledged messages: {:?}",
        sent.difference(&got).collect::<Vec<_>>()
    );
    broker
        .publish(Message::new(topic.clone(), "after"))
        .await
        .unwrap();
    proxy.cut();
    let direct = NatsBroker::connect_with(&url, options).await.unwrap();
    direct
        .subscribe(&topic, "cleanup", testkit::broker::quick_options())
        .await
        .unwrap();
    direct.delete_streams().await.unwrap();
}
