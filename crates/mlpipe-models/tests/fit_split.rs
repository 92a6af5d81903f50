//! Features fitted on the training part of a split only (`fit_split`): the preparation
//! service fits its steps on exactly the rows the segregation API later gives training,
//! the evaluation rows never reach a fitted statistic, and the trainer refuses a split
//! that would put fitted rows into evaluation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use arrow_array::{Float64Array, Int64Array, StringArray};
use arrow_schema::{DataType, Field, Schema};
use mlpipe_core::broker::InProcessBroker;
use mlpipe_core::store::*;
use mlpipe_core::{BatchId, RecordBatch};
use mlpipe_features::*;
use mlpipe_models::*;
use mlpipe_split::{SegregationApi, SplitConfig};
use std::collections::BTreeMap;
use std::sync::Arc;

fn split(seed: u64) -> SplitConfig {
    toml::from_str(&format!(
        "strategy = \"stratified\"\ntrain_ratio = 0.7\nseed = {seed}"
    ))
    .unwrap()
}

/// 60 rows: x grows with the row number (so the mean of any subset tells which rows it
/// came from), two classes.
fn raw() -> RecordBatch {
    let n = 60;
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("x", DataType::Float64, true),
        Field::new("z", DataType::Float64, true),
        Field::new("y", DataType::Int64, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(
                (0..n).map(|i| format!("k{i}")).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                (0..n)
                    .map(|i| f64::from(i) * f64::from(i))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                (0..n).map(|i| f64::from(i % 7)).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                (0..n).map(|i| i64::from(i % 3 == 0)).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
}

async fn prepared(fit_split: Option<SplitConfig>) -> (Stores, mlpipe_core::FeatureSetId) {
    let stores = Stores::in_memory();
    let batch = BatchId::new("raw-1");
    stores
        .raw
        .put(
            &batch,
            BatchMeta {
                dataset: "d".into(),
                ..Default::default()
            },
            vec![raw()],
            BatchSummary::default(),
        )
        .await
        .unwrap();
    let config = PrepareConfig {
        datasets: BTreeMap::from([(
            "d".to_string(),
            DatasetFeatures {
                pipeline: PipelineDef {
                    label: Some("y".into()),
                    key: Some("id".into()),
                    extract: vec![StepSpec::new("numeric").with("columns", ["x", "z"])],
                    transform: vec![StepSpec::new("standard_scaler")],
                    fit_split,
                    ..Default::default()
                },
                refit: true,
                replicate_online: false,
                quality: None,
            },
        )]),
        combined: BTreeMap::new(),
    };
    let svc = PreparationService::new(
        stores.clone(),
        Arc::new(InProcessBroker::new()),
        Arc::new(StepRegistry::builtin()),
        config,
    );
    let report = svc.prepare("d", &batch, None).await.unwrap().unwrap();
    assert_eq!(
        report.rows, 60,
        "every row is transformed, not only the fitted ones"
    );
    (stores, report.feature_set_id)
}

fn fitted_mean(stores_rec: &FeatureSetRecord) -> f64 {
    let t = &stores_rec.pipeline["transforms"][0]["state"];
    t["mean"][0].as_f64().unwrap()
}

fn mean_of_x(rows: &[u32]) -> f64 {
    rows.iter()
        .map(|&i| f64::from(i) * f64::from(i))
        .sum::<f64>()
        / rows.len() as f64
}

fn training(split: SplitConfig) -> TrainingConfig {
    let mut t: TrainingConfig = toml::from_str(
        r#"
        [datasets.d]
        candidates = [{ name = "lr", kind = "logistic_regression" }]
        "#,
    )
    .unwrap();
    if let Some(d) = t.datasets.get_mut("d") {
        d.split = split;
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_are_fitted_on_the_training_rows_the_trainer_then_trains_on() {
    let (stores, fs) = prepared(Some(split(7))).await;
    let rec = stores.features.feature_set(&fs).await.unwrap();
    assert_eq!(SplitConfig::fitted_on(&rec).unwrap(), Some(split(7)));

    // The segregation API's training rows under the same split are the fitted rows.
    let seg = SegregationApi::new(stores.features.clone(), stores.lineage.clone());
    let cfg = split(7);
    let s = seg
        .split_with(&fs, None, cfg.build().unwrap().as_ref(), &cfg.columns())
        .await
        .unwrap();
    let train = s.training().unwrap();
    assert_eq!(train.rows.len(), 42);
    let want = mean_of_x(&train.rows);
    assert!(
        (fitted_mean(&rec) - want).abs() <= 1e-12 * want,
        "{} vs {want}",
        fitted_mean(&rec)
    );
    // ... and not the mean over all rows, which the evaluation rows would have moved.
    let all: Vec<u32> = (0..60).collect();
    assert!((fitted_mean(&rec) - mean_of_x(&all)).abs() > 1.0);
    let again = cfg
        .split_table(&mlpipe_split::SplitRegistry::builtin(), &[raw()], Some("y"))
        .unwrap();
    assert_eq!(
        again.train, train.rows,
        "the raw split and the feature split agree"
    );

    // Without fit_split the same definition fits on every row: another feature set.
    let (plain_stores, plain) = prepared(None).await;
    assert_ne!(plain, fs);
    let plain_rec = plain_stores.features.feature_set(&plain).await.unwrap();
    assert!((fitted_mean(&plain_rec) - mean_of_x(&all)).abs() <= 1e-9);
    assert_eq!(SplitConfig::fitted_on(&plain_rec).unwrap(), None);

    // Training with the same split trains; another split is refused before any work.
    let algorithms = Arc::new(Algorithms::builtin());
    let broker = Arc::new(InProcessBroker::new());
    let same = TrainingService::new(
        stores.clone(),
        broker.clone(),
        algorithms.clone(),
        training(split(7)),
    );
    let report = same.train("d", &fs, None, None).await.unwrap().unwrap();
    assert_eq!(report.candidates.len(), 1, "{:?}", report.failed);
    let other = TrainingService::new(stores.clone(), broker, algorithms, training(split(8)));
    let err = other.train("d", &fs, None, None).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("was fitted on the training part of split"),
        "{err}"
    );
}

#[test]
fn a_fit_split_training_could_not_repeat_is_a_definition_error() {
    for (split, why) in [
        // Needs a time column it was not given.
        ("strategy = \"time\"\ntrain_ratio = 0.7", "fit_split:"),
        // Columns the feature table does not keep.
        (
            "strategy = \"time\"\ntrain_ratio = 0.7\ntime_column = \"z\"",
            "time column is not kept",
        ),
        (
            "strategy = \"group\"\ntrain_ratio = 0.7\ngroup_column = \"z\"",
            "must be the pipeline's key",
        ),
        (
            "strategy = \"stratified\"\ntrain_ratio = 0.7\nlabel_column = \"z\"",
            "must be the pipeline's label",
        ),
    ] {
        let def = PipelineDef {
            label: Some("y".into()),
            key: Some("id".into()),
            extract: vec![StepSpec::new("numeric").with("columns", ["x"])],
            fit_split: Some(toml::from_str(split).unwrap()),
            ..Default::default()
        };
        let err = FeaturePipeline::new(def, Arc::new(StepRegistry::builtin()))
            .fit(&[raw()])
            .unwrap_err();
        assert!(
            matches!(&err, FeatureError::Definition(m) if m.contains(why)),
            "{split}: {err}"
        );
    }
    // Groups by the key are kept, so they may be used.
    let def = PipelineDef {
        label: Some("y".into()),
        key: Some("id".into()),
        extract: vec![StepSpec::new("numeric").with("columns", ["x"])],
        fit_split: Some(
            toml::from_str(
                "strategy = \"group\"\ntrain_ratio = 0.7\nseed = 3\ngroup_column = \"id\"",
            )
            .unwrap(),
        ),
        ..Default::default()
    };
    FeaturePipeline::new(def, Arc::new(StepRegistry::builtin()))
        .fit(&[raw()])
        .unwrap();
}

#[test]
fn fit_split_reads_from_a_dataset_section_of_the_configuration() {
    let config: PrepareConfig = toml::from_str(
        r#"
        [datasets.d]
        label = "y"
        key = "id"
        transform = [{ kind = "standard_scaler" }]
        fit_split = { strategy = "stratified", train_ratio = 0.7, seed = 7 }
        "#,
    )
    .unwrap();
    assert_eq!(config.datasets["d"].pipeline.fit_split, Some(split(7)));
}

#[tokio::test]
async fn fit_split_with_a_reused_feature_set_is_refused() {
    let stores = Stores::in_memory();
    let config: PrepareConfig = toml::from_str(
        r#"
        [datasets.d]
        label = "y"
        refit = false
        fit_split = { strategy = "random", train_ratio = 0.7, seed = 1 }
        "#,
    )
    .unwrap();
    let svc = PreparationService::new(
        stores,
        Arc::new(InProcessBroker::new()),
        Arc::new(StepRegistry::builtin()),
        config,
    );
    let err = svc
        .prepare("d", &BatchId::new("any"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, FeatureError::Definition(m) if m.contains("needs `refit = true`")),
        "{err}"
    );
    assert!(!err.is_transient());
}

#[test]
fn configurations_that_could_only_fail_later_are_refused_up_front() {
    for (text, why) in [
        (
            "[datasets.d]\nlabel = \"y\"\nrefit = false\nfit_split = { strategy = \"random\", train_ratio = 0.7, seed = 1 }",
            "needs `refit = true`",
        ),
        (
            "[datasets.a]\nkey = \"id\"\n[combined.ab]\nsources = [\"a\", \"b\"]\nkey = \"id\"",
            "`b` has no feature definition",
        ),
        (
            "[datasets.a]\nkey = \"id\"\n[datasets.b]\nlabel = \"y\"\n[combined.ab]\nsources = [\"a\", \"b\"]\nkey = \"id\"",
            "`b` has no key column",
        ),
        (
            "[datasets.a]\nkey = \"id\"\n[datasets.b]\nkey = \"id\"\nfit_split = { strategy = \"random\", train_ratio = 0.7, seed = 1 }\n[combined.ab]\nsources = [\"a\", \"b\"]\nkey = \"id\"",
            "`b` is fitted with `fit_split`",
        ),
    ] {
        let config: PrepareConfig = toml::from_str(text).unwrap();
        let err = config.validate().unwrap_err();
        assert!(
            matches!(&err, FeatureError::Definition(m) if m.contains(why)),
            "{text}: {err}"
        );
    }
    let fine: PrepareConfig = toml::from_str(
        "[datasets.a]\nkey = \"id\"\nfit_split = { strategy = \"random\", train_ratio = 0.7, seed = 1 }\n[datasets.b]\nkey = \"id\"\n[datasets.c]\nkey = \"id\"\n[combined.bc]\nsources = [\"b\", \"c\"]\nkey = \"id\"",
    )
    .unwrap();
    fine.validate().unwrap();
}
