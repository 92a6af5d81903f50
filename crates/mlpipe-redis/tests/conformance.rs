//! The Redis backends pass the conformance suites against the real server named by
//! `MLPIPE_TEST_REDIS_URL` (each test under its own key prefix, deleted at the end).
//! Without the variable the tests say so and pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Says loudly that a test did not run: straight to the process's stderr, which the test
/// harness does not capture (it captures `eprintln!`).
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use mlpipe_core::store::memory::{MemoryRegistry, MemoryScoreStore};
use mlpipe_core::store::*;
use mlpipe_core::testkit;
use mlpipe_redis::*;
use std::sync::Arc;
use std::time::Duration;

struct Fixture {
    redis: Redis,
}

impl Fixture {
    /// Deletes every key under this test's prefix.
    async fn clean(self) {
        self.redis.delete_prefix().await.unwrap();
    }
}

async fn fixture(test: &str) -> Option<Fixture> {
    let Ok(url) = std::env::var("MLPIPE_TEST_REDIS_URL") else {
        skipped!("SKIPPED: {test}: set MLPIPE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) to run it against Redis");
        return None;
    };
    let options = RedisOptions {
        prefix: testkit::unique("mlpipe-test"),
        ..RedisOptions::default()
    };
    let redis = Redis::connect_with(&url, options).await.unwrap();
    Some(Fixture { redis })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_store() {
    let Some(f) = fixture("online_store").await else {
        return;
    };
    testkit::features::online_conformance(Arc::new(RedisOnlineStore::new(f.redis.clone()))).await;
    f.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_registry_passes_the_registry_suite() {
    let Some(f) = fixture("cached_registry").await else {
        return;
    };
    let reg = CachedRegistry::new(
        Arc::new(MemoryRegistry::default()),
        RedisModelCache::new(f.redis.clone()),
    );
    testkit::registry::conformance(Arc::new(reg)).await;
    f.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_score_store_passes_the_score_suite() {
    let Some(f) = fixture("cached_scores").await else {
        return;
    };
    let s = CachedScoreStore::new(
        Arc::new(MemoryScoreStore::default()),
        RedisScoreCache::new(f.redis.clone()),
    );
    testkit::scores::conformance(Arc::new(s)).await;
    f.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_puts_live_artefacts_in_redis_for_serving_nodes() {
    let Some(f) = fixture("deploy_to_cache").await else {
        return;
    };
    let cache = RedisModelCache::new(f.redis.clone());
    let reg = CachedRegistry::new(Arc::new(MemoryRegistry::default()), cache.clone());
    let model = mlpipe_core::ModelId::new(testkit::unique("m"));
    let v1 = reg
        .register(testkit::registry::candidate(&model, "r1"))
        .await
        .unwrap();
    let v2 = reg
        .register(testkit::registry::candidate(&model, "r2"))
        .await
        .unwrap();
    assert!(
        !cache.contains(&v1).await.unwrap(),
        "candidates are not cached"
    );
    reg.record_deployment(DeploymentRecord {
        model: model.clone(),
        live: vec![v2.version, v1.version],
        default: v2.version,
        action: "deploy".into(),
        actor: "test".into(),
        at: chrono::Utc::now(),
    })
    .await
    .unwrap();
    // Another node, with only Redis, finds both live artefacts.
    let other = RedisModelCache::new(f.redis.clone());
    assert_eq!(
        other.get(&v2).await.unwrap(),
        Some(testkit::registry::candidate(&model, "r2").artefact)
    );
    assert_eq!(
        other.get(&v1).await.unwrap(),
        Some(testkit::registry::candidate(&model, "r1").artefact)
    );
    cache.remove(&v1).await.unwrap();
    assert!(!cache.contains(&v1).await.unwrap());
    // A miss is filled from the registry of record.
    assert_eq!(
        reg.artefact(&v1).await.unwrap(),
        testkit::registry::candidate(&model, "r1").artefact
    );
    assert!(cache.contains(&v1).await.unwrap());
    f.clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_score_never_replaces_a_newer_one() {
    let Some(f) = fixture("newest_wins").await else {
        return;
    };
    let cache = RedisScoreCache::new(f.redis.clone());
    let model = mlpipe_core::ModelRef::new(testkit::unique("m"), 1);
    let rec = |v: f64, secs: i64| ScoreRecord {
        request_id: mlpipe_core::RequestId::generate(),
        run_id: None,
        model: model.clone(),
        entity_key: Some("u".into()),
        score: mlpipe_core::Score::Value { value: v },
        latency_us: None,
        created_at: chrono::DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap(),
    };
    cache.put(&[rec(2.0, 10)]).await.unwrap();
    cache.put(&[rec(1.0, 5)]).await.unwrap();
    let got = cache.latest(&model.model, "u").await.unwrap().unwrap();
    assert_eq!(got.score, mlpipe_core::Score::Value { value: 2.0 });
    cache.put(&[rec(3.0, 11), rec(4.0, 12)]).await.unwrap();
    let got = cache.latest(&model.model, "u").await.unwrap().unwrap();
    assert_eq!(got.score, mlpipe_core::Score::Value { value: 4.0 });
    assert!(cache
        .latest(&model.model, "nobody")
        .await
        .unwrap()
        .is_none());
    f.clean().await;
}

/// Connection loss without disturbing the shared server: a closed port gives a typed,
/// transient error after the configured retries with back-off.
#[tokio::test]
async fn unreachable_server_is_a_transient_error_after_retries() {
    let options = RedisOptions {
        connect_timeout: Duration::from_millis(300),
        retries: 2,
        retry_delay: Duration::from_millis(20),
        ..RedisOptions::default()
    };
    let started = std::time::Instant::now();
    match Redis::connect_with("redis://127.0.0.1:1", options).await {
        Err(e) => {
            assert!(e.is_transient(), "connection refused is transient: {e}");
            assert!(matches!(
                e,
                mlpipe_core::Error::Backend {
                    backend: "redis",
                    ..
                }
            ));
        }
        Ok(_) => panic!("nothing listens on port 1"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_bad_url_is_a_config_error() {
    assert!(matches!(
        Redis::connect("mysql://x").await,
        Err(mlpipe_core::Error::Config(_))
    ));
}
