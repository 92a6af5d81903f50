//! Online feature reads: batch gets of 100 entities × 30 features, p50/p99 per batch, from
//! Redis (MLPIPE_TEST_REDIS_URL) and from the in-memory store, in one run.
//!
//! `MLPIPE_TEST_REDIS_URL=redis://127.0.0.1:6379 cargo bench -p mlpipe-redis --bench online_reads`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mlpipe_core::store::memory::MemoryOnlineStore;
use mlpipe_core::store::OnlineFeatureStore;
use mlpipe_redis::{Redis, RedisOnlineStore, RedisOptions};
use std::time::{Duration, Instant};

const ENTITIES: usize = 10_000;
const FEATURES: usize = 30;
const BATCH: usize = 100;
const ROUNDS: usize = 3_000;

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

async fn measure(name: &str, store: &dyn OnlineFeatureStore) {
    let entries: Vec<(String, Vec<f64>)> = (0..ENTITIES)
        .map(|i| {
            (
                format!("entity-{i}"),
                (0..FEATURES)
                    .map(|j| (i * FEATURES + j) as f64 * 0.5)
                    .collect(),
            )
        })
        .collect();
    store.put("bench", entries).await.unwrap();
    // A fixed pseudo-random walk over the keys (LCG), the same for every store.
    let mut state: u64 = 42;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize % ENTITIES
    };
    let batches: Vec<Vec<String>> = (0..ROUNDS)
        .map(|_| (0..BATCH).map(|_| format!("entity-{}", next())).collect())
        .collect();
    for b in batches.iter().take(200) {
        store.get_many("bench", b).await.unwrap(); // warm-up
    }
    let mut times = Vec::with_capacity(ROUNDS);
    let started = Instant::now();
    for b in &batches {
        let t = Instant::now();
        let got = store.get_many("bench", b).await.unwrap();
        times.push(t.elapsed());
        assert_eq!(got.len(), BATCH);
        assert!(got
            .iter()
            .all(|v| v.as_ref().is_some_and(|v| v.values.len() == FEATURES)));
    }
    let total = started.elapsed();
    times.sort_unstable();
    println!(
        "{{\"store\":\"{name}\",\"batch\":{BATCH},\"features\":{FEATURES},\"rounds\":{ROUNDS},\"p50_us\":{:.1},\"p99_us\":{:.1},\"max_us\":{:.1},\"batches_per_s\":{:.0}}}",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        percentile(&times, 1.0),
        ROUNDS as f64 / total.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    measure("memory", &MemoryOnlineStore::default()).await;
    match std::env::var("MLPIPE_TEST_REDIS_URL") {
        Ok(url) => {
            let options = RedisOptions {
                prefix: mlpipe_core::testkit::unique("mlpipe-bench"),
                ..RedisOptions::default()
            };
            let redis = Redis::connect_with(&url, options).await.unwrap();
            measure("redis", &RedisOnlineStore::new(redis.clone())).await;
            redis.delete_prefix().await.unwrap();
        }
        Err(_) => eprintln!("SKIPPED redis: set MLPIPE_TEST_REDIS_URL"),
    }
}
