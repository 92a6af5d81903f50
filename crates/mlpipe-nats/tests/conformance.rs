//! The NATS JetStream broker passes the broker conformance suite against the real server
//! named by `MLPIPE_TEST_NATS_URL` (each test with its own subject prefix and streams,
//! deleted at the end). Without the variable the tests say so and pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Says loudly that a test did not run: straight to the process's stderr, which the test
/// harness does not capture (it captures `eprintln!`).
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use mlpipe_core::broker::{Broker, Message, SubscribeOptions};
use mlpipe_core::testkit;
use mlpipe_nats::{NatsBroker, NatsOptions};
use std::sync::Arc;
use std::time::Duration;

async fn broker(test: &str) -> Option<NatsBroker> {
    let Ok(url) = std::env::var("MLPIPE_TEST_NATS_URL") else {
        skipped!("SKIPPED: {test}: set MLPIPE_TEST_NATS_URL (e.g. nats://127.0.0.1:4222) to run it against NATS JetStream");
        return None;
    };
    let options = NatsOptions {
        prefix: testkit::unique("mlpipe-test"),
        pull_wait: Duration::from_millis(500),
        ..NatsOptions::default()
    };
    Some(NatsBroker::connect_with(&url, options).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_conformance() {
    let Some(b) = broker("broker_conformance").await else {
        return;
    };
    let caps = b.capabilities();
    assert!(caps.durable && caps.distributed);
    testkit::broker::conformance(Arc::new(b.clone())).await;
    b.delete_streams().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_gets_what_is_published_after_it_joined() {
    let Some(b) = broker("late_groups").await else {
        return;
    };
    let topic = testkit::unique("t");
    ok(b.publish(Message::new(topic.clone(), "before")).await);
    let mut s = b
        .subscribe(&topic, "g", testkit::broker::quick_options())
        .await
        .unwrap();
    ok(b.publish(Message::new(topic.clone(), "after")).await);
    let d = testkit::broker::next_within(&mut s, Duration::from_secs(3))
        .await
        .expect("a delivery");
    assert_eq!(&d.message.payload[..], b"after");
    d.ack().await.unwrap();
    b.delete_streams().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_that_fails_again_goes_one_level_down() {
    let Some(b) = broker("dead_dead").await else {
        return;
    };
    let topic = testkit::unique("t");
    let dl = mlpipe_core::broker::dead_letter_topic(&topic);
    let mut s = b
        .subscribe(&topic, "g", testkit::broker::quick_options())
        .await
        .unwrap();
    ok(b.publish(Message::new(topic.clone(), "bad")).await);
    let d = testkit::broker::next_within(&mut s, Duration::from_secs(3))
        .await
        .expect("one");
    d.reject("first").await.unwrap();
    let mut s = b
        .subscribe(&dl, "g", testkit::broker::quick_options())
        .await
        .unwrap();
    let d = testkit::broker::next_within(&mut s, Duration::from_secs(3))
        .await
        .expect("dead");
    d.reject("second").await.unwrap();
    let mut s = b
        .subscribe(
            &mlpipe_core::broker::dead_letter_topic(&dl),
            "g",
            testkit::broker::quick_options(),
        )
        .await
        .unwrap();
    let d = testkit::broker::next_within(&mut s, Duration::from_secs(3))
        .await
        .expect("dead twice");
    assert_eq!(
        d.message.headers.get("mlpipe-error").map(String::as_str),
        Some("second")
    );
    assert_eq!(d.message.headers.get("mlpipe-original-topic"), Some(&dl));
    d.ack().await.unwrap();
    b.delete_streams().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_in_two_connections_share_a_group() {
    let Some(b1) = broker("two_connections").await else {
        return;
    };
    let url = std::env::var("MLPIPE_TEST_NATS_URL").unwrap();
    let b2 = NatsBroker::connect_with(&url, b1.options().clone())
        .await
        .unwrap();
    let topic = testkit::unique("t");
    let opts = testkit::broker::quick_options();
    let s1 = b1.subscribe(&topic, "g", opts.clone()).await.unwrap();
    let s2 = b2.subscribe(&topic, "g", opts).await.unwrap();
    for i in 0..40 {
        ok(b1
            .publish(Message::new(topic.clone(), format!("{i}")))
            .await);
    }
    let collect = |mut sub: Box<dyn mlpipe_core::broker::Subscription>| async move {
        let mut got = Vec::new();
        while let Some(d) =
            testkit::broker::next_within(&mut sub, Duration::from_millis(1500)).await
        {
            got.push(String::from_utf8(d.message.payload.to_vec()).unwrap());
            d.ack().await.unwrap();
        }
        got
    };
    let (x, y) = tokio::join!(collect(s1), collect(s2));
    let mut all: Vec<u32> = x.iter().chain(&y).map(|s| s.parse().unwrap()).collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..40).collect::<Vec<_>>(),
        "each message once across processes"
    );
    b1.delete_streams().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn republishing_an_id_is_deduplicated() {
    let Some(b) = broker("dedup").await else {
        return;
    };
    let topic = testkit::unique("t");
    let mut s = b
        .subscribe(&topic, "g", testkit::broker::quick_options())
        .await
        .unwrap();
    let m = Message::new(topic.clone(), "once");
    ok(b.publish(m.clone()).await);
    ok(b.publish(m.clone()).await);
    let d = testkit::broker::next_within(&mut s, Duration::from_secs(3))
        .await
        .expect("one");
    d.ack().await.unwrap();
    assert!(
        testkit::broker::next_within(&mut s, Duration::from_millis(800))
            .await
            .is_none()
    );
    b.delete_streams().await.unwrap();
}

#[tokio::test]
async fn bad_names_and_options_are_refused() {
    let Some(b) = broker("bad_names").await else {
        return;
    };
    assert!(b
        .subscribe("a b", "g", SubscribeOptions::default())
        .await
        .is_err());
    assert!(b.publish(Message::new("x.*", "p")).await.is_err());
    let zero = SubscribeOptions {
        max_deliveries: 0,
        ..SubscribeOptions::default()
    };
    assert!(b.subscribe("ok", "g", zero).await.is_err());
}

#[tokio::test]
async fn closed_port_is_a_transient_error() {
    let options = NatsOptions {
        connect_timeout: Duration::from_secs(2),
        ..NatsOptions::default()
    };
    match NatsBroker::connect_with("nats://127.0.0.1:1", options).await {
        Err(e) => assert!(e.is_transient(), "connection refused is transient: {e}"),
        Ok(_) => panic!("nothing listens on port 1"),
    }
}

fn ok<T>(r: mlpipe_core::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}
