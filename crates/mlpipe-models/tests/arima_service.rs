//! ARIMA through the training service: a sequential split keeps the series in time
//! order, the service trains on the first 90% of the Nile series, and the registered
//! model forecasts exactly what the direct API fitted on those rows does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mlpipe_core::broker::InProcessBroker;
use mlpipe_core::store::*;
use mlpipe_core::{BatchId, FeatureSetId, Score};
use mlpipe_models::*;
use std::sync::Arc;

fn nile() -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/nile.csv"))
        .unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let (t, v) = l.split_once(',').unwrap();
            (t.trim().parse().unwrap(), v.trim().parse().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn arima_trains_through_the_service_on_a_time_ordered_split() {
    use arrow_array::Float64Array;
    use arrow_schema::{DataType, Field, Schema};
    let series = nile();
    assert_eq!(series.len(), 100);
    let stores = Stores::in_memory();
    let fs = FeatureSetId::new("fs-nile");
    stores
        .features
        .put_feature_set(FeatureSetRecord {
            id: fs.clone(),
            dataset: "nile".into(),
            feature_names: vec!["year".into()],
            label: Some("flow".into()),
            key: None,
            pipeline: serde_json::Value::Null,
            fitted_on: vec![],
            created_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("year", DataType::Float64, false),
        Field::new("flow", DataType::Float64, false),
    ]));
    let batch = mlpipe_core::RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Float64Array::from(
                series.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                series.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap();
    stores
        .features
        .write(&fs, &BatchId::generate(), vec![batch])
        .await
        .unwrap();
    let config: TrainingConfig = toml::from_str(
        r#"
        [datasets.nile]
        split = { strategy = "sequential", train_ratio = 0.9 }
        candidates = [{ name = "arima", kind = "arima", params = { p = 1, d = 1, q = 1 } }]
        "#,
    )
    .unwrap();
    let algorithms = Arc::new(Algorithms::builtin());
    let svc = TrainingService::new(
        stores.clone(),
        Arc::new(InProcessBroker::new()),
        algorithms.clone(),
        config,
    );
    let report = svc.train("nile", &fs, None, None).await.unwrap().unwrap();
    assert_eq!(report.rows, 90);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let bytes = stores
        .registry
        .artefact(&report.candidates[0])
        .await
        .unwrap();
    let (_, model) = algorithms.load_bytes(&bytes).unwrap();
    let Score::Forecast(f) = model.predict_row(&[10.0]).unwrap() else {
        panic!("a forecast");
    };
    let first90: Vec<f64> = series[..90].iter().map(|r| r.1).collect();
    let direct = Arima::new(1, 1, 1)
        .fit(&first90)
        .unwrap()
        .forecast(10, 0.05)
        .unwrap();
    assert_eq!(f.mean, direct.mean);
    assert_eq!(f.lower, direct.lower);
    // The forecast starts after the training rows: the last 10 observations were held
    // out, so they are what it predicts.
    let held_out: Vec<f64> = series[90..].iter().map(|r| r.1).collect();
    let inside = held_out
        .iter()
        .zip(f.lower.iter().zip(&f.upper))
        .filter(|&(&y, (&lo, &hi))| lo <= y && y <= hi)
        .count();
    assert!(
        inside >= 8,
        "95% intervals cover most of the held-out decade ({inside}/10)"
    );
}
