//! The SQLite metadata backend passes every conformance suite it implements.

use mlpipe_core::testkit;
use mlpipe_sql::SqlStore;
use std::sync::Arc;

async fn fresh() -> (tempfile::TempDir, SqlStore) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let url = format!("sqlite://{}/meta.db", dir.path().display());
    let store = SqlStore::open(&url)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e}"));
    (dir, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry() {
    let (_d, s) = fresh().await;
    testkit::registry::conformance(Arc::new(s)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_store() {
    let (_d, s) = fresh().await;
    testkit::scores::conformance(Arc::new(s)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lineage_store() {
    let (_d, s) = fresh().await;
    testkit::lineage::conformance(Arc::new(s)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_store() {
    let (_d, s) = fresh().await;
    testkit::features::online_conformance(Arc::new(s)).await;
}

#[tokio::test]
async fn reopening_applies_no_migration_twice_and_keeps_data() {
    let (dir, s) = fresh().await;
    let url = format!("sqlite://{}/meta.db", dir.path().display());
    let m = mlpipe_core::ModelId::new("m");
    use mlpipe_core::store::ModelRegistry;
    let v = s
        .register(testkit::registry::candidate(&m, "r"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    s.close().await;
    let s2 = SqlStore::open(&url).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s2.versions(&m)
            .await
            .unwrap_or_default()
            .first()
            .map(|r| r.model.clone()),
        Some(v)
    );
}

#[tokio::test]
async fn unsupported_url_is_a_config_error() {
    let e = SqlStore::open("mysql://x").await;
    assert!(matches!(e, Err(mlpipe_core::Error::Config(_))));
}
