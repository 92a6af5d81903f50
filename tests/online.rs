//! Online ingestion hands each record to online feature preparation at once: its
//! features are in the online store when `push` returns, with the same bits as the batch
//! path, and the records are persisted as raw batches when the ingestor goes away.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mlpipe::core::broker::{Broker, InProcessBroker};
use mlpipe::core::store::{OnlineFeatureStoreExt, Stores};
use mlpipe::core::{Row, Value};
use mlpipe::features::{
    load_pipeline, OnlinePreparer, PreparationService, PrepareConfig, StepRegistry,
};
use mlpipe::ingest::{
    CsvOptions, CsvSource, IngestConfig, IngestionService, OnlineConfig, OnlineIngestion, Source,
};
use mlpipe::online::PrepareOnline;
use std::io::Write;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_records_get_online_features_at_once_and_are_persisted() {
    let stores = Stores::in_memory();
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    // Fit the feature definition offline on a small file.
    let mut f = tempfile::NamedTempFile::new().unwrap();
    writeln!(f, "id,a,b,label").unwrap();
    for i in 0..30 {
        writeln!(f, "u{i},{},{},{}", i as f64 * 1.5, (i % 7) as f64, i % 2).unwrap();
    }
    let ingest = IngestionService::new(stores.clone(), broker.clone(), IngestConfig::default());
    let mut src = CsvSource::new(f.path(), CsvOptions::default());
    let schema = src.schema().await.unwrap();
    let raw = ingest.ingest("clicks", &mut src, None).await.unwrap();
    let config: PrepareConfig = toml::from_str(
        r#"
        [datasets.clicks]
        key = "id"
        label = "label"
        extract = [{ kind = "numeric", columns = ["a", "b"] }]
        transform = [{ kind = "standard_scaler" }]
        "#,
    )
    .unwrap();
    let registry = Arc::new(StepRegistry::builtin());
    let prep = PreparationService::new(stores.clone(), broker.clone(), registry.clone(), config);
    let report = prep
        .prepare("clicks", &raw.batch.id, None)
        .await
        .unwrap()
        .unwrap();
    let pipeline = Arc::new(
        load_pipeline(stores.features.as_ref(), &registry, &report.feature_set_id)
            .await
            .unwrap(),
    );
    let preparer = Arc::new(OnlinePreparer::new(
        pipeline.clone(),
        schema.clone(),
        stores.online.clone(),
        stores.features.clone(),
    ));

    // Online: records flow through ingestion into preparation.
    let mut cfg = OnlineConfig::new("clicks", schema);
    cfg.sink = Some(Arc::new(PrepareOnline::new(preparer.clone())));
    let (ingestor, task) = OnlineIngestion::start(stores.clone(), broker.clone(), cfg).unwrap();
    // `b` holds whole numbers in the file, so its inferred type is integer.
    let row = |id: &str, a: f64, b: i64| -> Row {
        Row::new()
            .with("id", Value::Str(id.into()))
            .with("a", Value::Float(a))
            .with("b", Value::Int(b))
            .with("label", Value::Int(1))
    };
    for (id, a, b) in [("new-1", 3.0, 4), ("new-2", 100.0, -1)] {
        ingestor.push(row(id, a, b)).await.unwrap();
        // Already online, and equal to the row path's output.
        let online = stores
            .online
            .get(report.feature_set_id.as_str(), id)
            .await
            .unwrap()
            .expect("features are online when push returns");
        assert_eq!(
            online.values,
            pipeline.transform_row(&row(id, a, b)).unwrap()
        );
    }
    // A record that does not fit the schema is refused, not prepared.
    let bad = Row::new()
        .with("id", Value::Str("x".into()))
        .with("a", Value::Str("oops".into()));
    assert!(ingestor.push(bad).await.is_err());
    assert!(stores
        .online
        .get(report.feature_set_id.as_str(), "x")
        .await
        .unwrap()
        .is_none());
    // Dropping the ingestor flushes the buffered records into a raw batch.
    drop(ingestor);
    let summary = task.wait().await.unwrap();
    assert_eq!(summary.rows, 2);
    let batches = stores.raw.list(Some("clicks")).await.unwrap();
    assert_eq!(batches.len(), 2, "the offline batch and the online one");
    // Stopping the ingestion also wrote the preparer's kept records offline.
    assert_eq!(preparer.pending(), 0, "the sink was closed");
    assert!(preparer.flush().await.unwrap().is_none());
    let feature_batches = stores
        .features
        .batches(&report.feature_set_id)
        .await
        .unwrap();
    assert_eq!(
        feature_batches.len(),
        2,
        "the offline batch and the online one"
    );
    let online_rows = stores
        .features
        .read(&report.feature_set_id, Some(&feature_batches[1..]))
        .await
        .unwrap();
    assert_eq!(online_rows.iter().map(|t| t.num_rows()).sum::<usize>(), 2);
}
