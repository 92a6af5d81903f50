//! The Parquet data stores pass the raw and feature conformance suites, on a local
//! directory and in memory.

use mlpipe_core::testkit;
use mlpipe_parquet::{ParquetStore, PartOptions};
use std::sync::Arc;

fn local() -> (tempfile::TempDir, ParquetStore) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let store = ParquetStore::local(dir.path()).unwrap_or_else(|e| panic!("open: {e}"));
    (dir, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_store_local() {
    let (_d, s) = local();
    testkit::raw::conformance(Arc::new(s)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_store_local_small_parts() {
    // Many small parts exercise the part-splitting path.
    let (_d, s) = local();
    let s = s.with_part_options(PartOptions {
        rows_per_part: 3,
        compress: false,
        float_statistics: true,
    });
    testkit::raw::conformance(Arc::new(s)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_store_in_memory() {
    testkit::raw::conformance(Arc::new(ParquetStore::in_memory())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_store_local() {
    let (_d, s) = local();
    testkit::features::conformance(Arc::new(s)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_store_in_memory() {
    testkit::features::conformance(Arc::new(ParquetStore::in_memory())).await;
}

#[tokio::test]
async fn unsupported_url_is_a_config_error() {
    assert!(matches!(
        ParquetStore::open_url("ftp://x"),
        Err(mlpipe_core::Error::Config(_))
    ));
}
