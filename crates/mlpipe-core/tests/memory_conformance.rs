//! The in-memory backends pass every conformance suite.

use mlpipe_core::broker::InProcessBroker;
use mlpipe_core::store::memory::*;
use mlpipe_core::testkit;
use std::sync::Arc;

#[tokio::test]
async fn raw_store() {
    testkit::raw::conformance(Arc::new(MemoryRawStore::default())).await;
}

#[tokio::test]
async fn feature_store() {
    testkit::features::conformance(Arc::new(MemoryFeatureStore::default())).await;
}

#[tokio::test]
async fn online_store() {
    testkit::features::online_conformance(Arc::new(MemoryOnlineStore::default())).await;
}

#[tokio::test]
async fn registry() {
    testkit::registry::conformance(Arc::new(MemoryRegistry::default())).await;
}

#[tokio::test]
async fn score_store() {
    testkit::scores::conformance(Arc::new(MemoryScoreStore::default())).await;
}

#[tokio::test]
async fn lineage_store() {
    testkit::lineage::conformance(Arc::new(MemoryLineageStore::default())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_broker() {
    testkit::broker::conformance(Arc::new(InProcessBroker::new())).await;
}

#[tokio::test]
async fn stores_bundle_is_usable_through_trait_objects() {
    let stores = mlpipe_core::store::Stores::in_memory();
    testkit::raw::round_trip(stores.raw.as_ref()).await;
}
