//! A model trained on a combined (joined) feature set is served: it loads, scores the
//! joined vectors read by key from the online store exactly as the trained model does,
//! and refuses a raw record with a client error that says to send the key.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use arrow_schema::{DataType, Field, Schema};
use mlpipe_core::broker::{Broker, InProcessBroker};
use mlpipe_core::store::*;
use mlpipe_core::table::{rows_to_batch, to_matrix};
use mlpipe_core::{BatchId, ModelId, Row, RunId};
use mlpipe_features::{
    CombinedFeatures, DatasetFeatures, PipelineDef, PreparationService, PrepareConfig,
    StepRegistry, StepSpec,
};
use mlpipe_models::{Algorithms, TrainingData};
use mlpipe_serve::ModelCache;
use std::collections::BTreeMap;
use std::sync::Arc;

fn source(label: Option<&str>) -> DatasetFeatures {
    DatasetFeatures {
        pipeline: PipelineDef {
            label: label.map(String::from),
            key: Some("id".into()),
            transform: vec![StepSpec::new("standard_scaler")],
            ..Default::default()
        },
        refit: true,
        replicate_online: true,
        quality: None,
    }
}

#[tokio::test]
async fn a_model_on_a_combined_feature_set_is_served_by_key() {
    let stores = Stores::in_memory();
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    let people: Vec<Row> = (0..40)
        .map(|i| {
            Row::new()
                .with("id", format!("u{i}"))
                .with("x", (i % 7) as f64)
                .with("label", i64::from(i % 7 > 3))
        })
        .collect();
    let spend: Vec<Row> = (0..40)
        .map(|i| {
            Row::new()
                .with("id", format!("u{i}"))
                .with("spend", (i * 3 % 11) as f64)
        })
        .collect();
    let field = |name: &str, t: DataType| Field::new(name, t, true);
    let people_schema = Arc::new(Schema::new(vec![
        field("id", DataType::Utf8),
        field("x", DataType::Float64),
        field("label", DataType::Int64),
    ]));
    let spend_schema = Arc::new(Schema::new(vec![
        field("id", DataType::Utf8),
        field("spend", DataType::Float64),
    ]));
    for (dataset, rows, schema) in [
        ("people", &people, people_schema),
        ("spend", &spend, spend_schema),
    ] {
        let batch = rows_to_batch(rows, schema).unwrap();
        stores
            .raw
            .put(
                &BatchId::new(format!("raw-{dataset}")),
                BatchMeta {
                    dataset: dataset.into(),
                    ..Default::default()
                },
                vec![batch],
                BatchSummary::default(),
            )
            .await
            .unwrap();
    }
    let config = PrepareConfig {
        datasets: BTreeMap::from([
            ("people".to_string(), source(Some("label"))),
            ("spend".to_string(), source(None)),
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
    let registry = Arc::new(StepRegistry::builtin());
    let prep = PreparationService::new(stores.clone(), broker, registry.clone(), config);
    prep.prepare("people", &BatchId::new("raw-people"), None)
        .await
        .unwrap();
    let report = prep
        .prepare("spend", &BatchId::new("raw-spend"), None)
        .await
        .unwrap()
        .unwrap();
    let fs = report.combined[0].clone();

    // Train on the joined table.
    let record = stores.features.feature_set(&fs).await.unwrap();
    let tables = stores.features.read(&fs, None).await.unwrap();
    let x = to_matrix(&tables, &record.feature_names).unwrap();
    let y = to_matrix(&tables, &["label".to_string()]).unwrap();
    let algorithms = Arc::new(Algorithms::builtin());
    let trainer = algorithms
        .trainer("logistic_regression", &serde_json::json!({}))
        .unwrap();
    let model = trainer
        .train(&TrainingData {
            x: x.view(),
            y: y.column(0),
            feature_names: &record.feature_names,
            feature_set_id: &fs,
        })
        .unwrap();
    let m = stores
        .registry
        .register(NewCandidate {
            model: ModelId::new("churn"),
            kind: "logistic_regression".into(),
            run_id: RunId::new("run-1"),
            feature_set_id: fs.clone(),
            split_id: None,
            params: serde_json::json!({}),
            training: serde_json::json!({}),
            artefact: model.artefact().unwrap().to_bytes().unwrap(),
        })
        .await
        .unwrap();

    // Serve it.
    let cache = ModelCache::new(stores.clone(), algorithms, registry);
    let loaded = cache.get(&m).await.unwrap();
    assert_eq!(
        loaded.features.feature_names(),
        record.feature_names.as_slice()
    );
    assert_eq!(loaded.features.key_column(), "id");
    let online = stores.online.get(fs.as_str(), "u5").await.unwrap().unwrap();
    let by_key = loaded.score_features(&online.values).unwrap();
    let row = to_matrix(&tables, &record.feature_names).unwrap();
    let keys = mlpipe_core::table::rows_of(&tables[0]).unwrap();
    let i = keys
        .iter()
        .position(|r| r.get("id") == Some(&mlpipe_core::Value::from("u5")))
        .unwrap();
    assert_eq!(by_key, model.predict_row(&row.row(i).to_vec()).unwrap());
    let refused = loaded
        .score_row(
            &Row::new()
                .with("id", "u5")
                .with("x", 1.0)
                .with("spend", 2.0),
        )
        .unwrap_err();
    assert!(refused.is_client_error(), "{refused}");
    assert!(refused.to_string().contains("key"), "{refused}");
}
