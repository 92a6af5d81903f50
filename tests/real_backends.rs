//! The facade on real servers: `postgres://` metadata, `redis://` online features (with
//! the model and score caches) and a `nats://` broker, chosen by URL, pass the conformance
//! suites and survive reopening. Each test uses its own schema, key prefix and subject
//! prefix, removed at the end; without the MLPIPE_TEST_*_URL variables it says so and passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Says loudly that a test did not run: straight to the process's stderr, which the test
/// harness does not capture (it captures `eprintln!`).
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use futures::future::BoxFuture;
use mlpipe::core::store::Stores;
use mlpipe::core::{testkit, Config};
use std::path::PathBuf;

struct Servers {
    postgres: String,
    redis: String,
    nats: String,
}

fn servers(test: &str) -> Option<Servers> {
    let get = |v: &str| std::env::var(v).ok();
    match (
        get("MLPIPE_TEST_POSTGRES_URL"),
        get("MLPIPE_TEST_REDIS_URL"),
        get("MLPIPE_TEST_NATS_URL"),
    ) {
        (Some(postgres), Some(redis), Some(nats)) => Some(Servers {
            postgres,
            redis,
            nats,
        }),
        _ => {
            skipped!("SKIPPED: {test}: set MLPIPE_TEST_POSTGRES_URL, MLPIPE_TEST_REDIS_URL and MLPIPE_TEST_NATS_URL to run it against real servers");
            None
        }
    }
}

fn config(s: &Servers, metadata_url: &str, prefix: &str, dir: &std::path::Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    c.backends.metadata_url = metadata_url.to_string();
    c.backends.online_url = format!("{}?prefix={prefix}", s.redis);
    c.backends.broker_url = format!("{}?prefix={prefix}", s.nats);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_backends_chosen_by_url_pass_the_suites_and_survive_reopening() {
    let Some(s) = servers("real backends through the facade") else {
        return;
    };
    let schema = testkit::unique("f").replace('-', "_");
    let prefix = testkit::unique("facade");
    let metadata = mlpipe::sql::create_pg_schema(&s.postgres, &schema)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&s, &metadata, &prefix, dir.path());

    let stores = mlpipe::open_stores(&cfg).await.unwrap();
    testkit::registry::conformance(stores.registry.clone()).await;
    testkit::scores::conformance(stores.scores.clone()).await;
    testkit::lineage::conformance(stores.lineage.clone()).await;
    testkit::features::online_conformance(stores.online.clone()).await;

    let cfg2 = cfg.clone();
    let opener = move || -> BoxFuture<'static, Stores> {
        let cfg = cfg2.clone();
        Box::pin(async move { mlpipe::open_stores(&cfg).await.unwrap() })
    };
    testkit::durability::survives_reopen(&opener).await;

    let broker = mlpipe::open_broker(&cfg).await.unwrap();
    assert!(broker.capabilities().distributed);
    testkit::broker::conformance(broker).await;

    // Tear down: the schema, the Redis keys and the streams of this test.
    mlpipe::sql::drop_pg_schema(&s.postgres, &schema)
        .await
        .unwrap();
    let redis = mlpipe::redis::Redis::connect_url(&format!("{}?prefix={prefix}", s.redis))
        .await
        .unwrap();
    assert!(
        redis.delete_prefix().await.unwrap() > 0,
        "the online store wrote to Redis"
    );
    let nats = mlpipe::nats::NatsBroker::connect_url(&format!("{}?prefix={prefix}", s.nats))
        .await
        .unwrap();
    nats.delete_streams().await.unwrap();
}

#[tokio::test]
async fn unknown_schemes_are_configuration_errors() {
    let mut c = Config::default();
    c.backends.broker_url = "kafka://x".into();
    assert!(matches!(
        mlpipe::open_broker(&c).await,
        Err(mlpipe::Error::Core(mlpipe::core::Error::Config(_)))
    ));
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config {
        data_dir: PathBuf::from(dir.path()),
        ..Config::default()
    };
    c.backends.online_url = "cassandra://x".into();
    assert!(mlpipe::open_stores(&c).await.is_err());
}
