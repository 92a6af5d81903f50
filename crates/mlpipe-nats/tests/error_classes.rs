//! NATS errors are transient or permanent by their type: a configuration conflict the
//! server reports (subjects already taken by another stream) and a URL that does not parse
//! are permanent, with messages that say what was being done.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Says loudly that a test did not run: straight to the process's stderr, which the test
/// harness does not capture (it captures `eprintln!`).
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use mlpipe_core::broker::{Broker, Message};
use mlpipe_core::testkit;
use mlpipe_nats::{NatsBroker, NatsOptions};

#[tokio::test]
async fn a_url_that_does_not_parse_is_permanent() {
    let err = NatsBroker::connect("nats://127.0.0.1:not-a-port")
        .await
        .unwrap_err();
    assert!(!err.is_transient(), "a bad URL is permanent: {err}");
    assert!(err.to_string().contains("cannot connect to"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subjects_taken_by_another_stream_are_a_permanent_error() {
    let Ok(url) = std::env::var("MLPIPE_TEST_NATS_URL") else {
        skipped!("SKIPPED: error classes: set MLPIPE_TEST_NATS_URL (e.g. nats://127.0.0.1:4222) to run it against NATS JetStream");
        return;
    };
    let prefix = testkit::unique("mlpipe-test");
    let options = NatsOptions {
        prefix: prefix.clone(),
        ..NatsOptions::default()
    };
    let broker = NatsBroker::connect_with(&url, options).await.unwrap();

    // Another stream (named so that the broker's tear-down deletes it) holds every subject
    // of the prefix, so the broker cannot create the stream of a topic.
    let client = async_nats::connect(&url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    js.create_stream(async_nats::jetstream::stream::Config {
        name: format!("{prefix}_squatter"),
        subjects: vec![format!("{prefix}.>")],
        ..Default::default()
    })
    .await
    .unwrap();

    let err = broker.publish(Message::new("t", "{}")).await.unwrap_err();
    let text = err.to_string();
    broker.delete_streams().await.unwrap();
    assert!(
        !err.is_transient(),
        "overlapping subjects are permanent: {text}"
    );
    assert!(text.contains("creating a stream"), "{text}");
    assert!(
        text.contains("overlap"),
        "the server's reason is kept: {text}"
    );
}
