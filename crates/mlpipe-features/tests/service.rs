//! The preparation service: the data quality report (pinned to SciPy/NumPy, passing and
//! failing thresholds, audited), combined feature sets joined when all sources are ready
//! in either order, online preparation and pre-warming the online store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use arrow_schema::{DataType, Field, Schema};
use common::*;
use mlpipe_core::broker::{Broker, BrokerExt, InProcessBroker, SubscribeOptions};
use mlpipe_core::events::{Event, Topic};
use mlpipe_core::service::StageExt as _;
use mlpipe_core::store::memory::MemoryOnlineStore;
use mlpipe_core::store::*;
use mlpipe_core::table::{rows_of, rows_to_batch, to_matrix};
use mlpipe_core::{BatchId, FeatureSetId, RecordBatch, Row, Value};
use mlpipe_features::*;
use std::collections::BTreeMap;
use std::sync::Arc;

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("x", DataType::Float64, true),
        Field::new("label", DataType::Int64, true),
    ]))
}

fn rows(ids: &[&str], label_every: usize) -> Vec<Row> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            Row::new()
                .with("id", *id)
                .with("x", i as f64 * 1.5 - 3.0)
                .with("label", i64::from(i % label_every == 0))
        })
        .collect()
}

async fn put_raw(stores: &Stores, dataset: &str, batch: &str, data: RecordBatch) -> BatchId {
    let id = BatchId::new(batch);
    stores
        .raw
        .put(
            &id,
            BatchMeta {
                dataset: dataset.into(),
                ..Default::default()
            },
            vec![data],
            BatchSummary::default(),
        )
        .await
        .unwrap();
    id
}

fn dataset(label: Option<&str>, quality: Option<QualityThresholds>) -> DatasetFeatures {
    DatasetFeatures {
        pipeline: PipelineDef {
            label: label.map(String::from),
            key: Some("id".into()),
            transform: vec![StepSpec::new("standard_scaler")],
            ..Default::default()
        },
        refit: true,
        replicate_online: true,
        quality,
    }
}

/// How many feature sets `dataset` has.
async fn feature_sets_of(stores: &Stores, dataset: &str) -> usize {
    stores
        .features
        .feature_sets(Some(dataset))
        .await
        .unwrap()
        .len()
}

/// The one `combined.failed` audit record; its error must contain `reason`.
async fn the_combined_failure(stores: &Stores, reason: &str) {
    let trail = stores.lineage.audit_trail(None).await.unwrap();
    let failed: Vec<&AuditRecord> = trail
        .iter()
        .filter(|a| a.action == "combined.failed")
        .collect();
    assert_eq!(failed.len(), 1, "{trail:?}");
    assert!(
        failed[0].detail["error"]
            .as_str()
            .is_some_and(|m| m.contains(reason)),
        "{:?}",
        failed[0].detail
    );
}

fn service(stores: &Stores, broker: Arc<dyn Broker>, config: PrepareConfig) -> PreparationService {
    PreparationService::new(
        stores.clone(),
        broker,
        Arc::new(StepRegistry::builtin()),
        config,
    )
}

#[test]
fn quality_report_matches_scipy_on_breast_cancer() {
    let f: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/quality.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let (names, x, y) = breast_cancer();
    let mut fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(n, DataType::Float64, true))
        .collect();
    fields.push(Field::new("target", DataType::Int64, true));
    let rows: Vec<Row> = x
        .outer_iter()
        .zip(y.iter())
        .map(|(r, &t)| {
            let mut row = Row::new().with("target", t as i64);
            for (n, v) in names.iter().zip(r.iter()) {
                row.insert(n.clone(), *v);
            }
            row
        })
        .collect();
    let batch = rows_to_batch(&rows, Arc::new(Schema::new(fields))).unwrap();
    let report = quality_report(&batch, Some("target"));
    assert_eq!(report.rows, 569);
    let skew: Vec<f64> = report.columns[..30]
        .iter()
        .map(|c| c.skewness.unwrap())
        .collect();
    close(&skew, &floats(&f["skewness"]), 1e-10, "skewness");
    let iqr: Vec<f64> = report.columns[..30]
        .iter()
        .map(|c| c.iqr_outliers as f64)
        .collect();
    assert_eq!(iqr, floats(&f["iqr_outliers"]));
    let z: Vec<f64> = report.columns[..30]
        .iter()
        .map(|c| c.z_outliers as f64)
        .collect();
    assert_eq!(z, floats(&f["z_outliers"]));
    let label = report.label.as_ref().unwrap();
    let counts: Vec<f64> = strings(&f["label_classes"])
        .iter()
        .map(|c| label.counts[c] as f64)
        .collect();
    assert_eq!(counts, floats(&f["label_counts"]));
    assert!(report.columns.iter().all(|c| c.missing == 0 && !c.constant));

    // Each outlier and skewness limit, set just under the worst column's pinned value,
    // names exactly the columns over it.
    let over = |values: &[f64], limit: f64| -> Vec<String> {
        names
            .iter()
            .zip(values)
            .filter(|(_, v)| **v > limit)
            .map(|(n, _)| n.clone())
            .collect()
    };
    let worst = |values: &[f64]| values.iter().fold(0.0f64, |m, v| m.max(*v));
    let iqr_ratio: Vec<f64> = iqr.iter().map(|c| c / 569.0).collect();
    let z_ratio: Vec<f64> = z.iter().map(|c| c / 569.0).collect();
    let abs_skew: Vec<f64> = skew.iter().map(|s| s.abs()).collect();
    for (limits, values, what) in [
        (
            QualityThresholds {
                max_outlier_ratio: Some(worst(&iqr_ratio) - 1e-9),
                ..Default::default()
            },
            &iqr_ratio,
            "IQR outliers",
        ),
        (
            QualityThresholds {
                max_z_outlier_ratio: Some(worst(&z_ratio) - 1e-9),
                ..Default::default()
            },
            &z_ratio,
            "z-score outliers",
        ),
        (
            QualityThresholds {
                max_abs_skewness: Some(worst(&abs_skew) - 1e-9),
                ..Default::default()
            },
            &abs_skew,
            "skewness",
        ),
    ] {
        let problems = report.problems(&limits);
        let flagged = over(values, worst(values) - 1e-9);
        assert!(!flagged.is_empty());
        assert_eq!(problems.len(), flagged.len(), "{what}: {problems:?}");
        for (p, name) in problems.iter().zip(&flagged) {
            assert!(p.contains(&format!("`{name}`")) && p.contains(what), "{p}");
        }
        let err = report.check(&limits).unwrap_err();
        assert!(
            matches!(&err, FeatureError::Quality(m) if m.contains(what)),
            "{err}"
        );
        // Just over the worst value, nothing is flagged.
        let mut relaxed = limits.clone();
        for l in [
            &mut relaxed.max_outlier_ratio,
            &mut relaxed.max_z_outlier_ratio,
            &mut relaxed.max_abs_skewness,
        ] {
            if let Some(v) = l.as_mut() {
                *v += 2e-9;
            }
        }
        assert!(report.check(&relaxed).is_ok(), "{what}");
    }
}

#[test]
fn quality_report_finds_missing_mismatches_and_constants() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("n", DataType::Float64, true),
        Field::new("t", DataType::Utf8, true),
        Field::new("c", DataType::Int64, true),
    ]));
    let rows: Vec<Row> = (0..10)
        .map(|i| {
            Row::new()
                .with(
                    "n",
                    if i < 3 {
                        Value::Null
                    } else {
                        Value::Float(i as f64)
                    },
                )
                .with(
                    "t",
                    if i == 0 {
                        "n/a".to_string()
                    } else {
                        i.to_string()
                    },
                )
                .with("c", 7i64)
        })
        .collect();
    let r = quality_report(&rows_to_batch(&rows, schema).unwrap(), None);
    assert_eq!(r.columns[0].missing, 3);
    assert!((r.columns[0].missing_ratio - 0.3).abs() < 1e-15);
    assert_eq!(r.columns[1].type_mismatches, 1);
    // The mostly numeric text column is named in a warning, not left out silently.
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].contains("`t`") && r.warnings[0].contains("`n/a`"));
    assert!(r.columns[2].constant && !r.columns[0].constant);
    let strict = QualityThresholds {
        max_missing_ratio: Some(0.2),
        max_type_mismatch_ratio: Some(0.05),
        fail_on_constant: true,
        ..Default::default()
    };
    let problems = r.problems(&strict);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        matches!(r.check(&strict), Err(FeatureError::Quality(m)) if m.contains("`n` is 30.0% missing"))
    );
    assert!(r.check(&QualityThresholds::default()).is_ok());
}

#[tokio::test]
async fn preparation_runs_the_quality_report_and_fails_on_thresholds() {
    let stores = Stores::in_memory();
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    let ids: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    // One positive in ten: minority ratio 2/18.
    let data = rows_to_batch(&rows(&ids, 10), schema()).unwrap();
    let ok_batch = put_raw(&stores, "lenient", "b-ok", data.clone()).await;
    let bad_batch = put_raw(&stores, "strict", "b-bad", data).await;
    let strict = QualityThresholds {
        min_class_ratio: Some(0.25),
        ..Default::default()
    };
    let config = PrepareConfig {
        datasets: BTreeMap::from([
            ("lenient".to_string(), dataset(Some("label"), None)),
            ("strict".to_string(), dataset(Some("label"), Some(strict))),
        ]),
        combined: BTreeMap::new(),
    };
    let svc = service(&stores, broker, config);

    let report = svc
        .prepare("lenient", &ok_batch, None)
        .await
        .unwrap()
        .unwrap();
    let balance = report.quality.label.as_ref().unwrap();
    assert_eq!(balance.counts["0"], 18);
    assert_eq!(balance.counts["1"], 2);
    assert_eq!(report.rows, 20);

    let err = svc.prepare("strict", &bad_batch, None).await.unwrap_err();
    assert!(
        matches!(&err, FeatureError::Quality(m) if m.contains("imbalanced")),
        "{err}"
    );
    assert!(stores
        .features
        .feature_sets(Some("strict"))
        .await
        .unwrap()
        .is_empty());
    let trail = stores.lineage.audit_trail(None).await.unwrap();
    let actions: Vec<(&str, String)> = trail
        .iter()
        .map(|a| (a.action.as_str(), a.subject.clone()))
        .collect();
    assert!(
        actions.contains(&("quality.passed", "raw_batch:b-ok".to_string())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("quality.failed", "raw_batch:b-bad".to_string())),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_failing_its_quality_gate_is_dead_lettered_at_once_not_retried() {
    use mlpipe_core::events::{Envelope, RawDataExtracted};
    let stores = Stores::in_memory();
    let broker = Arc::new(InProcessBroker::new());
    let opts = SubscribeOptions {
        max_deliveries: 5,
        ack_wait: std::time::Duration::from_secs(5),
        backoff: vec![std::time::Duration::from_millis(10)],
    };
    let mut dlq = broker
        .subscribe(
            &mlpipe_core::broker::dead_letter_topic(Topic::RawDataExtracted.as_str()),
            "t",
            opts.clone(),
        )
        .await
        .unwrap();
    let ids: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let data = rows_to_batch(&rows(&ids, 10), schema()).unwrap();
    let batch = put_raw(&stores, "strict", "b-bad", data).await;
    let strict = QualityThresholds {
        min_class_ratio: Some(0.25),
        ..Default::default()
    };
    let config = PrepareConfig {
        datasets: BTreeMap::from([("strict".to_string(), dataset(Some("label"), Some(strict)))]),
        combined: BTreeMap::new(),
    };
    let svc = Arc::new(service(&stores, broker.clone(), config));
    let h = svc.start(opts).await.unwrap();
    let env = Envelope::new(Event::RawDataExtracted(RawDataExtracted {
        dataset: "strict".into(),
        batch_id: batch.clone(),
        rows: 20,
        quarantined: 0,
    }));
    broker.publish_event(&env).await.unwrap();
    let d = tokio::time::timeout(std::time::Duration::from_secs(10), dlq.next())
        .await
        .expect("nothing dead-lettered")
        .unwrap()
        .unwrap();
    assert_eq!(d.message.id, env.id);
    assert_eq!(
        d.message.headers.get("mlpipe-attempts").map(String::as_str),
        Some("1"),
        "a quality failure is not retried"
    );
    assert!(d
        .message
        .headers
        .get("mlpipe-error")
        .is_some_and(|e| e.contains("imbalanced")));
    h.shutdown().await;
    let failed = stores
        .lineage
        .audit_trail(None)
        .await
        .unwrap()
        .iter()
        .filter(|a| a.action == "quality.failed")
        .count();
    assert_eq!(failed, 1, "audited once, not once per retry");
}

async fn combined_run(a_first: bool) -> (FeatureSetId, RecordBatch, Vec<String>) {
    let stores = Stores::in_memory();
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    let mut sub = broker
        .subscribe_topic(
            Topic::FeaturesGenerated,
            "test",
            SubscribeOptions::default(),
        )
        .await
        .unwrap();
    let a = rows_to_batch(&rows(&["u1", "u2", "u3", "u4"], 2), schema()).unwrap();
    let b_schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("spend", DataType::Float64, true),
    ]));
    let b_rows: Vec<Row> = ["u4", "u2", "u9", "u1"]
        .iter()
        .enumerate()
        .map(|(i, id)| Row::new().with("id", *id).with("spend", 10.0 * i as f64))
        .collect();
    let b = rows_to_batch(&b_rows, b_schema).unwrap();
    let ba = put_raw(&stores, "people", "raw-a", a).await;
    let bb = put_raw(&stores, "spend", "raw-b", b).await;
    let config = PrepareConfig {
        datasets: BTreeMap::from([
            ("people".to_string(), dataset(Some("label"), None)),
            ("spend".to_string(), dataset(None, None)),
        ]),
        combined: BTreeMap::from([(
            "people-spend".to_string(),
            CombinedFeatures {
                sources: vec!["people".into(), "spend".into()],
                key: "id".into(),
                replicate_online: true,
            },
        )]),
    };
    let svc = service(&stores, broker, config);
    let order = if a_first {
        [("people", &ba), ("spend", &bb)]
    } else {
        [("spend", &bb), ("people", &ba)]
    };
    let first = svc
        .prepare(order[0].0, order[0].1, None)
        .await
        .unwrap()
        .unwrap();
    assert!(first.combined.is_empty(), "waits for the other source");
    let second = svc
        .prepare(order[1].0, order[1].1, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.combined.len(), 1);
    let id = second.combined[0].clone();
    let mut datasets = Vec::new();
    for _ in 0..3 {
        let d = tokio::time::timeout(std::time::Duration::from_secs(5), sub.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Event::FeaturesGenerated(e) = d.message.envelope().unwrap().event {
            // The batches the event names hold the features (a trainer reads them).
            let tables = stores
                .features
                .read(&e.feature_set_id, Some(&e.batch_ids))
                .await
                .unwrap();
            assert_eq!(
                mlpipe_core::table::num_rows(&tables) as u64,
                e.rows,
                "{}",
                e.dataset
            );
            datasets.push(e.dataset);
        }
        d.ack().await.unwrap();
    }
    let table =
        mlpipe_core::table::concat(&stores.features.read(&id, None).await.unwrap()).unwrap();
    let rec = stores.features.feature_set(&id).await.unwrap();
    assert_eq!(rec.dataset, "people-spend");
    assert_eq!(rec.feature_names, ["people.x", "spend.spend"]);
    assert_eq!(stores.online.count(id.as_str()).await.unwrap(), 3);
    assert_eq!(datasets.last().map(String::as_str), Some("people-spend"));
    // A consumer loads it as a combined set (a pipeline loader refuses it clearly).
    let registry = StepRegistry::builtin();
    let loaded = load_features(stores.features.as_ref(), &registry, &id)
        .await
        .unwrap();
    match &loaded {
        StoredFeatures::Combined(c) => {
            assert_eq!(c.name, "people-spend");
            assert_eq!(c.sources, ["people", "spend"]);
            assert_eq!(c.key, "id");
        }
        other => panic!("expected a combined set, got {other:?}"),
    }
    assert_eq!(loaded.feature_names(), ["people.x", "spend.spend"]);
    assert_eq!(loaded.key_column(), "id");
    let refused = loaded
        .transform_row(&Row::new().with("id", "u1"))
        .unwrap_err();
    assert!(refused.to_string().contains("by entity key"), "{refused}");
    let not_a_pipeline = load_pipeline(stores.features.as_ref(), &registry, &id)
        .await
        .unwrap_err();
    assert!(
        not_a_pipeline.to_string().contains("load_features"),
        "{not_a_pipeline}"
    );
    // A source's own feature set loads as a pipeline.
    let people = stores.features.feature_sets(Some("people")).await.unwrap();
    let p = load_features(stores.features.as_ref(), &registry, &people[0].id)
        .await
        .unwrap();
    assert!(p.pipeline().is_some());
    (id, table, datasets)
}

#[tokio::test]
async fn a_combined_source_without_a_key_is_refused_not_joined_by_row_number() {
    let stores = Stores::in_memory();
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    let a = rows_to_batch(&rows(&["u1", "u2", "u3"], 2), schema()).unwrap();
    let b = rows_to_batch(&rows(&["u3", "u2", "u1"], 2), schema()).unwrap();
    let ba = put_raw(&stores, "keyed", "raw-a", a).await;
    let bb = put_raw(&stores, "keyless", "raw-b", b).await;
    let mut keyless = dataset(None, None);
    keyless.pipeline.key = None;
    let config = PrepareConfig {
        datasets: BTreeMap::from([
            ("keyed".to_string(), dataset(Some("label"), None)),
            ("keyless".to_string(), keyless),
        ]),
        combined: BTreeMap::from([(
            "both".to_string(),
            CombinedFeatures {
                sources: vec!["keyed".into(), "keyless".into()],
                key: "id".into(),
                replicate_online: true,
            },
        )]),
    };
    let svc = service(&stores, broker, config);
    svc.prepare("keyed", &ba, None).await.unwrap().unwrap();
    // The keyless dataset's own features are stored; the combined set is not built, and
    // the reason is audited (the dataset's event is not failed for it).
    let report = svc.prepare("keyless", &bb, None).await.unwrap().unwrap();
    assert!(report.combined.is_empty());
    assert_eq!(feature_sets_of(&stores, "keyless").await, 1);
    assert_eq!(feature_sets_of(&stores, "both").await, 0);
    the_combined_failure(&stores, "`keyless` has no key column").await;
}

#[tokio::test]
async fn a_combined_set_of_fit_split_sources_is_refused_and_the_others_still_built() {
    let stores = Stores::in_memory();
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    let ids: Vec<String> = (0..12).map(|i| format!("u{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let ba = put_raw(
        &stores,
        "a",
        "raw-a",
        rows_to_batch(&rows(&ids, 2), schema()).unwrap(),
    )
    .await;
    let bb = put_raw(
        &stores,
        "b",
        "raw-b",
        rows_to_batch(&rows(&ids, 3), schema()).unwrap(),
    )
    .await;
    let bc = put_raw(
        &stores,
        "c",
        "raw-c",
        rows_to_batch(&rows(&ids, 4), schema()).unwrap(),
    )
    .await;
    let mut fitted_on_split = dataset(Some("label"), None);
    fitted_on_split.pipeline.fit_split = Some(mlpipe_split::SplitConfig::default());
    let combined = |sources: [&str; 2]| CombinedFeatures {
        sources: sources.iter().map(|s| s.to_string()).collect(),
        key: "id".into(),
        replicate_online: false,
    };
    let config = PrepareConfig {
        datasets: BTreeMap::from([
            ("a".to_string(), dataset(Some("label"), None)),
            ("b".to_string(), fitted_on_split),
            ("c".to_string(), dataset(None, None)),
        ]),
        // `a+b` is listed first: its failure must not stop `a+c`.
        combined: BTreeMap::from([
            ("a+b".to_string(), combined(["a", "b"])),
            ("a+c".to_string(), combined(["a", "c"])),
        ]),
    };
    let svc = service(&stores, broker, config);
    svc.prepare("b", &bb, None).await.unwrap().unwrap();
    svc.prepare("c", &bc, None).await.unwrap().unwrap();
    let report = svc.prepare("a", &ba, None).await.unwrap().unwrap();
    assert_eq!(report.combined.len(), 1, "a+c is built");
    assert_eq!(feature_sets_of(&stores, "a+c").await, 1);
    assert_eq!(feature_sets_of(&stores, "a+b").await, 0);
    // Preparing `b` tried nothing (`a` had no features yet); preparing `a` completed the
    // pair and failed it, once.
    the_combined_failure(&stores, "`b` is fitted with `fit_split`").await;
}

#[tokio::test]
async fn preparing_a_redelivered_event_again_publishes_the_same_event_id() {
    let stores = Stores::in_memory();
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    let mut sub = broker
        .subscribe_topic(
            Topic::FeaturesGenerated,
            "test",
            SubscribeOptions::default(),
        )
        .await
        .unwrap();
    let ids: Vec<String> = (0..6).map(|i| format!("k{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let batch = put_raw(
        &stores,
        "d",
        "raw-d",
        rows_to_batch(&rows(&ids, 2), schema()).unwrap(),
    )
    .await;
    let config = PrepareConfig {
        datasets: BTreeMap::from([("d".to_string(), dataset(Some("label"), None))]),
        combined: BTreeMap::new(),
    };
    let svc = service(&stores, broker, config);
    let cause = mlpipe_core::EventId::generate();
    let mut seen = Vec::new();
    for _ in 0..2 {
        svc.prepare("d", &batch, Some(&cause))
            .await
            .unwrap()
            .unwrap();
        let d = tokio::time::timeout(std::time::Duration::from_secs(5), sub.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let env = d.message.envelope().unwrap();
        assert_eq!(env.caused_by.as_ref(), Some(&cause));
        seen.push(env.id);
        d.ack().await.unwrap();
    }
    assert_eq!(seen[0], seen[1]);
    // Another cause (a new delivery of the data) gets another id.
    svc.prepare("d", &batch, Some(&mlpipe_core::EventId::generate()))
        .await
        .unwrap()
        .unwrap();
    let d = tokio::time::timeout(std::time::Duration::from_secs(5), sub.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_ne!(d.message.envelope().unwrap().id, seen[0]);
}

#[tokio::test]
async fn combined_features_wait_for_all_sources_then_join_in_either_order() {
    let (id1, t1, _) = combined_run(true).await;
    let (id2, t2, _) = combined_run(false).await;
    assert_eq!(id1, id2, "same sources, same combined feature set");
    assert_eq!(t1, t2);
    let names: Vec<String> = t1
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["id", "people.x", "spend.spend", "label"]);
    let keys: Vec<Value> = rows_of(&t1)
        .unwrap()
        .iter()
        .map(|r| r.get("id").cloned().unwrap())
        .collect();
    // Inner join in the first source's order: u3 (no spend) and u9 (no person) drop out.
    assert_eq!(keys, ["u1", "u2", "u4"].map(Value::from));
    let spend = to_matrix(std::slice::from_ref(&t1), &["spend.spend".to_string()]).unwrap();
    // spend of u1, u2, u4 = 30, 10, 0, standard-scaled over the source's 0, 10, 20, 30.
    let sd = 125f64.sqrt();
    let want = [(30.0 - 15.0) / sd, (10.0 - 15.0) / sd, (0.0 - 15.0) / sd];
    close(&spend.column(0).to_vec(), &want, 1e-15, "joined spend");
}

#[tokio::test]
async fn online_preparation_writes_online_and_offline_and_prewarms() {
    let stores = Stores::in_memory();
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    // "k1" appears twice: the later row is the entity's latest features.
    let data = rows_to_batch(&rows(&["k1", "k2", "k3", "k1"], 2), schema()).unwrap();
    let batch = put_raw(&stores, "d", "raw-1", data).await;
    let config = PrepareConfig {
        datasets: BTreeMap::from([("d".to_string(), dataset(Some("label"), None))]),
        combined: BTreeMap::new(),
    };
    let svc = service(&stores, broker, config);
    let report = svc.prepare("d", &batch, None).await.unwrap().unwrap();
    let fs = report.feature_set_id;
    let registry = StepRegistry::builtin();
    let pipeline = Arc::new(
        load_pipeline(stores.features.as_ref(), &registry, &fs)
            .await
            .unwrap(),
    );

    let online = OnlinePreparer::new(
        pipeline.clone(),
        schema(),
        stores.online.clone(),
        stores.features.clone(),
    );
    let row = Row::new()
        .with("id", "k7")
        .with("x", 2.25)
        .with("label", 1i64);
    let (key, x) = online.prepare(&row).await.unwrap();
    assert_eq!(key, "k7");
    assert_eq!(x, pipeline.transform_row(&row).unwrap());
    let stored = stores.online.get(fs.as_str(), "k7").await.unwrap().unwrap();
    assert_eq!(stored.values, x);
    assert!(matches!(
        online.prepare(&Row::new().with("x", 1.0)).await,
        Err(FeatureError::Shape(_))
    ));
    assert_eq!(online.pending(), 1);
    let written = online.flush().await.unwrap().unwrap();
    assert_eq!(online.pending(), 0);
    assert!(online.flush().await.unwrap().is_none());
    let t = stores.features.read(&fs, Some(&[written])).await.unwrap();
    let persisted = to_matrix(&t, pipeline.feature_names()).unwrap();
    let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&persisted.row(0).to_vec()), bits(&x));

    // Kept records are flushed every `max_pending` records without a caller's flush.
    let bounded = OnlinePreparer::new(
        pipeline.clone(),
        schema(),
        stores.online.clone(),
        stores.features.clone(),
    )
    .with_max_pending(2);
    let before = stores.features.batches(&fs).await.unwrap().len();
    for i in 0..5 {
        let r = Row::new()
            .with("id", format!("b{i}"))
            .with("x", i as f64)
            .with("label", 0i64);
        bounded.prepare(&r).await.unwrap();
    }
    assert_eq!(bounded.pending(), 1);
    assert_eq!(
        stores.features.batches(&fs).await.unwrap().len(),
        before + 2
    );
    assert!(bounded.flush().await.unwrap().is_some());

    // Pre-warm a fresh online store from the offline store: latest row per key.
    let fresh = MemoryOnlineStore::default();
    let n = prewarm_online(stores.features.as_ref(), &fresh, &fs)
        .await
        .unwrap();
    assert_eq!(n, 9, "k1, k2, k3, the online k7 and b0..b4");
    let k1 = fresh.get(fs.as_str(), "k1").await.unwrap().unwrap();
    let last_k1 = Row::new()
        .with("id", "k1")
        .with("x", 3.0 * 1.5 - 3.0)
        .with("label", 0i64);
    assert_eq!(k1.values, pipeline.transform_row(&last_k1).unwrap());
    assert_eq!(
        fresh.get(fs.as_str(), "k7").await.unwrap().unwrap().values,
        x
    );
}

#[test]
fn configuration_reads_quality_thresholds_and_combined_sets() {
    let config: PrepareConfig = serde_json::from_value(serde_json::json!({
        "datasets": {
            "people": {
                "label": "label", "key": "id",
                "extract": [{"kind": "numeric"}, {"kind": "one_hot", "columns": ["city"], "handle_unknown": "ignore"}],
                "transform": [{"kind": "imputer", "strategy": "median", "add_indicator": true}, {"kind": "robust_scaler"}],
                "select": {"kind": "k_best_f_classif", "k": 5},
                "quality": {"max_missing_ratio": 0.2, "fail_on_constant": true}
            }
        },
        "combined": {"people-spend": {"sources": ["people", "spend"], "key": "id"}}
    }))
    .unwrap();
    let d = &config.datasets["people"];
    assert!(d.refit && d.replicate_online);
    assert_eq!(d.quality.as_ref().unwrap().max_missing_ratio, Some(0.2));
    assert_eq!(d.pipeline.transform[1].kind, "robust_scaler");
    assert!(config.combined["people-spend"].replicate_online);
    let typo = serde_json::from_value::<PrepareConfig>(serde_json::json!({
        "combined": {"c": {"sources": [], "key": "id", "replicate": true}}
    }));
    assert!(typo.is_err());
}
