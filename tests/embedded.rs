//! The embedded durable default (Parquet + SQLite under one directory): every store
//! survives a restart, and an ingestion interrupted after its batch was stored is neither
//! lost nor duplicated when the same event comes again.

use futures::future::BoxFuture;
use mlpipe::core::broker::{Broker, InProcessBroker};
use mlpipe::core::events::SourceRef;
use mlpipe::core::store::Stores;
use mlpipe::core::{Config, EventId};
use mlpipe::ingest::{open_source, IngestConfig, IngestionService};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn config(dir: &Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    }
}

async fn open(dir: PathBuf) -> Stores {
    mlpipe::open_stores(&config(&dir))
        .await
        .unwrap_or_else(|e| panic!("open stores in {}: {e}", dir.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_embedded_store_survives_reopening() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().to_path_buf();
    let opener = move || -> BoxFuture<'static, Stores> { Box::pin(open(path.clone())) };
    mlpipe::core::testkit::durability::survives_reopen(&opener).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_stores_pass_the_conformance_suites_through_the_facade() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let s = open(dir.path().to_path_buf()).await;
    mlpipe::core::testkit::raw::conformance(s.raw.clone()).await;
    mlpipe::core::testkit::features::conformance(s.features.clone()).await;
    mlpipe::core::testkit::features::online_conformance(s.online.clone()).await;
    mlpipe::core::testkit::registry::conformance(s.registry.clone()).await;
    mlpipe::core::testkit::scores::conformance(s.scores.clone()).await;
    mlpipe::core::testkit::lineage::conformance(s.lineage.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_after_ingestion_neither_loses_nor_duplicates_the_batch() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/breast_cancer.csv");
    let source = SourceRef {
        uri: csv.display().to_string(),
        format: "csv".into(),
        options: Default::default(),
    };
    let event = EventId::generate();

    // First process: ingest, then "crash" (drop everything without shutting down).
    let first = {
        let stores = open(dir.path().to_path_buf()).await;
        let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
        let svc = IngestionService::new(stores.clone(), broker, IngestConfig::default());
        let mut src = open_source(&source).unwrap_or_else(|e| panic!("{e}"));
        let r = svc
            .ingest("breast-cancer", src.as_mut(), Some(&event))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.already_ingested);
        let data = stores.raw.read(&r.batch.id).await.unwrap_or_default();
        (r.batch, data)
    };

    // Second process: the unacknowledged event comes again.
    let stores = open(dir.path().to_path_buf()).await;
    let listed = stores
        .raw
        .list(Some("breast-cancer"))
        .await
        .unwrap_or_default();
    assert_eq!(listed.len(), 1, "the first batch must survive the restart");
    assert_eq!(listed[0].rows, 569);
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    let svc = IngestionService::new(stores.clone(), broker, IngestConfig::default());
    let mut src = open_source(&source).unwrap_or_else(|e| panic!("{e}"));
    let again = svc
        .ingest("breast-cancer", src.as_mut(), Some(&event))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        again.already_ingested,
        "a redelivered event must not ingest twice"
    );
    assert_eq!(again.batch.id, first.0.id);
    assert_eq!(
        stores
            .raw
            .list(Some("breast-cancer"))
            .await
            .unwrap_or_default()
            .len(),
        1
    );

    // A new run (new event) adds a second batch; the first is unchanged.
    let mut src = open_source(&source).unwrap_or_else(|e| panic!("{e}"));
    let second = svc
        .ingest("breast-cancer", src.as_mut(), Some(&EventId::generate()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(second.batch.id, first.0.id);
    assert_eq!(
        stores
            .raw
            .list(Some("breast-cancer"))
            .await
            .unwrap_or_default()
            .len(),
        2
    );
    let reread = stores.raw.read(&first.0.id).await.unwrap_or_default();
    assert_eq!(
        mlpipe::core::table::concat(&reread).unwrap_or_else(|e| panic!("{e}")),
        mlpipe::core::table::concat(&first.1).unwrap_or_else(|e| panic!("{e}"))
    );
    assert_eq!(
        stores
            .raw
            .info(&first.0.id)
            .await
            .map(|i| i.summary.checksum)
            .ok(),
        Some(first.0.summary.checksum.clone())
    );
}
