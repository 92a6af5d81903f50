//! The algorithms of issue 6 through the facade: identical batch and row paths, artefacts
//! that round-trip and refuse corruption, seeded determinism, typed errors on bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mlpipe_core::{FeatureSetId, Score};
use mlpipe_models::*;
use ndarray::{array, Array1, Array2};
use serde_json::{json, Value};

fn fit(kind: &str, params: Value, x: &Array2<f64>, y: &Array1<f64>) -> Result<Box<dyn Model>> {
    let names: Vec<String> = (0..x.ncols()).map(|j| format!("f{j}")).collect();
    let fs = FeatureSetId::new("fs-algos");
    Algorithms::builtin()
        .trainer(kind, &params)?
        .train(&TrainingData {
            x: x.view(),
            y: y.view(),
            feature_names: &names,
            feature_set_id: &fs,
        })
}

const REGRESSORS: [&str; 5] = [
    "linear_regression",
    "ridge",
    "elastic_net",
    "decision_tree_regressor",
    "random_forest_regressor",
];
const CLASSIFIERS: [&str; 2] = ["gaussian_nb", "random_forest"];

fn small_params(kind: &str) -> Value {
    match kind {
        "random_forest" | "random_forest_regressor" => json!({"n_estimators": 10, "seed": 3}),
        "kmeans" => json!({"k": 3, "seed": 1}),
        "elastic_net" => json!({"alpha": 0.01}),
        _ => json!({}),
    }
}

/// Batch and row paths agree, and the artefact reloads to the same predictions.
fn paths_and_round_trip(kind: &str, m: &dyn Model, x: &Array2<f64>) {
    let batch = m.predict_batch(x.view()).unwrap();
    for (i, s) in batch.iter().enumerate() {
        assert_eq!(
            &m.predict_row(&x.row(i).to_vec()).unwrap(),
            s,
            "{kind}: row {i}"
        );
    }
    let bytes = m.artefact().unwrap().to_bytes().unwrap();
    let (art, back) = Algorithms::builtin().load_bytes(&bytes).unwrap();
    assert_eq!(art.kind, kind);
    assert_eq!(
        back.predict_batch(x.view()).unwrap(),
        batch,
        "{kind}: round trip"
    );
    assert!(matches!(
        m.predict_row(&[1.0]),
        Err(ModelError::Width { got: 1, .. })
    ));
}

#[tokio::test]
async fn every_new_kind_round_trips_and_paths_agree() {
    let (xd, yd, _) = dataset("diabetes").await;
    for kind in REGRESSORS {
        let m = fit(kind, small_params(kind), &xd, &yd).unwrap();
        assert!(matches!(
            m.predict_row(&xd.row(0).to_vec()).unwrap(),
            Score::Value { .. }
        ));
        paths_and_round_trip(kind, m.as_ref(), &xd);
    }
    let (xw, yw, _) = dataset("wine").await;
    for kind in CLASSIFIERS {
        let m = fit(kind, small_params(kind), &xw, &yw).unwrap();
        let scores = m.predict_batch(xw.view()).unwrap();
        let acc = accuracy(&scores, &yw);
        assert!(acc > 0.95, "{kind}: training accuracy on wine {acc}");
        paths_and_round_trip(kind, m.as_ref(), &xw);
    }
    let m = fit("kmeans", small_params("kmeans"), &xw, &yw).unwrap();
    paths_and_round_trip("kmeans", m.as_ref(), &xw);
}

#[test]
fn regression_tree_splits_at_the_midpoint_and_predicts_leaf_means() {
    let x = array![[1.0], [2.0], [3.0], [4.0], [5.0]];
    let y = array![1.0, 1.0, 5.0, 5.0, 6.0];
    let m = fit("decision_tree_regressor", json!({"max_depth": 1}), &x, &y).unwrap();
    let l = m.artefact().unwrap().learned;
    assert_eq!(l["nodes"][0]["threshold"], json!(2.5));
    assert_eq!(m.predict_row(&[2.5]).unwrap(), Score::Value { value: 1.0 });
    assert_eq!(
        m.predict_row(&[2.6]).unwrap(),
        Score::Value { value: 16.0 / 3.0 }
    );
}

#[test]
fn ols_recovers_an_exact_plane_and_lasso_zeroes_useless_features() {
    let x = array![
        [0.0, 1.0, 3.0],
        [1.0, 0.0, -1.0],
        [2.0, 2.0, 0.5],
        [3.0, 1.0, 2.0],
        [4.0, 5.0, 1.0]
    ];
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| 2.0 + 3.0 * r[0] - r[1])
        .collect();
    let m = fit("linear_regression", json!({}), &x, &y).unwrap();
    let l = m.artefact().unwrap().learned;
    let coef: Vec<f64> = serde_json::from_value(l["coef"].clone()).unwrap();
    for (g, w) in coef.iter().zip([3.0, -1.0, 0.0]) {
        assert!((g - w).abs() < 1e-10, "{coef:?}");
    }
    assert!((l["intercept"].as_f64().unwrap() - 2.0).abs() < 1e-10);
    let lasso = fit(
        "elastic_net",
        json!({"alpha": 0.5, "l1_ratio": 1.0}),
        &x,
        &y,
    )
    .unwrap();
    let coef: Vec<f64> =
        serde_json::from_value(lasso.artefact().unwrap().learned["coef"].clone()).unwrap();
    assert_eq!(coef[2], 0.0, "{coef:?}");
    assert!(coef[0] > 2.0);
}

#[test]
fn seeded_kinds_are_deterministic() {
    let x = Array2::from_shape_fn((9000, 4), |(i, j)| ((i * 37 + j * 11) % 23) as f64);
    let y: Array1<f64> = (0..9000).map(|i| ((i * 7 / 5) % 3) as f64).collect();
    // Parallel sums are taken in chunk order, so even the Newton solver's result is
    // bit-identical from run to run.
    for kind in [
        "random_forest",
        "random_forest_regressor",
        "kmeans",
        "logistic_regression",
    ] {
        let a = fit(kind, small_params(kind), &x, &y)
            .unwrap()
            .artefact()
            .unwrap();
        let b = fit(kind, small_params(kind), &x, &y)
            .unwrap()
            .artefact()
            .unwrap();
        assert_eq!(a.learned, b.learned, "{kind}");
    }
}

#[test]
fn bad_training_input_is_a_typed_error() {
    let x = array![[1.0, 2.0], [2.0, 1.0], [3.0, 0.0]];
    let y = array![0.0, 1.0, 1.0];
    let nan = array![[1.0, f64::NAN], [2.0, 1.0], [3.0, 0.0]];
    let empty = Array2::<f64>::zeros((0, 2));
    let e0 = Array1::<f64>::zeros(0);
    let all = REGRESSORS.iter().chain(&CLASSIFIERS).chain(&["kmeans"]);
    for &kind in all {
        let p = small_params(kind);
        assert!(
            matches!(
                fit(kind, p.clone(), &empty, &e0),
                Err(ModelError::NoRows { .. })
            ),
            "{kind}"
        );
        assert!(
            matches!(fit(kind, p.clone(), &nan, &y), Err(ModelError::NonFinite { ref feature, .. }) if feature == "f1"),
            "{kind}"
        );
    }
    for kind in CLASSIFIERS {
        let p = small_params(kind);
        assert!(matches!(
            fit(kind, p.clone(), &x, &array![1.0, 1.0, 1.0]),
            Err(ModelError::OneClass { .. })
        ));
        assert!(matches!(
            fit(kind, p, &x, &array![0.0, 0.5, 1.0]),
            Err(ModelError::Labels { .. })
        ));
    }
    for kind in REGRESSORS {
        let ynan = array![0.0, f64::NAN, 1.0];
        assert!(
            matches!(
                fit(kind, small_params(kind), &x, &ynan),
                Err(ModelError::Labels { .. })
            ),
            "{kind}"
        );
    }
    let wide = Array2::from_shape_fn((3, 5), |(i, j)| (i * j) as f64 + j as f64);
    assert!(matches!(
        fit("linear_regression", json!({}), &wide, &y),
        Err(ModelError::TooManyFeatures {
            features: 5,
            rows: 3,
            ..
        })
    ));
    assert!(fit("ridge", json!({"alpha": 1.0}), &wide, &y).is_ok());
    let collinear = array![[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.0]];
    let y4 = array![1.0, 2.0, 3.0, 5.0];
    assert!(matches!(
        fit("linear_regression", json!({}), &collinear, &y4),
        Err(ModelError::Numeric { .. })
    ));
    assert!(matches!(
        fit("kmeans", json!({"k": 4}), &x, &y),
        Err(ModelError::Params { .. })
    ));
    for (kind, p) in [
        ("ridge", json!({"alpha": -1.0})),
        ("elastic_net", json!({"l1_ratio": 2.0})),
        ("gaussian_nb", json!({"var_smoothing": -1.0})),
        ("random_forest", json!({"max_features": "half"})),
        ("random_forest", json!({"n_estimators": 0})),
        ("kmeans", json!({"k": 0})),
    ] {
        assert!(
            matches!(fit(kind, p.clone(), &x, &y), Err(ModelError::Params { .. })),
            "{kind} {p}"
        );
    }
    assert!(matches!(
        Algorithms::builtin().trainer("kmeans", &json!({"clusters": 3})),
        Err(ModelError::Params { .. })
    ));
}

#[test]
fn corrupt_artefacts_are_refused() {
    let x = array![[1.0, 2.0], [2.0, 1.0], [3.0, 0.0], [4.0, 4.0]];
    let y = array![0.0, 1.0, 1.0, 0.0];
    let algos = Algorithms::builtin();
    let corruptions: [(&str, Value); 7] = [
        (
            "linear_regression",
            json!({"coef": [1.0], "intercept": 0.0}),
        ),
        ("ridge", json!({"coef": [1.0, "x"], "intercept": 0.0})),
        (
            "gaussian_nb",
            json!({"classes": [0, 1], "class_prior": [0.5, 0.5], "theta": [[0.0, 0.0], [1.0, 1.0]], "var": [[1.0, -1.0], [1.0, 1.0]], "epsilon": 0.0}),
        ),
        (
            "decision_tree_regressor",
            json!({"nodes": [{"feature": 0, "threshold": 1.0, "left": 0, "right": 2}]}),
        ),
        (
            "random_forest",
            json!({"classes": [0, 1], "trees": [[{"value": [1.0]}]]}),
        ),
        (
            "random_forest_regressor",
            json!({"classes": [], "trees": []}),
        ),
        (
            "kmeans",
            json!({"centers": [[1.0]], "inertia": 0.0, "n_iter": 1}),
        ),
    ];
    for (kind, learned) in corruptions {
        let mut a = fit(kind, small_params(kind), &x, &y)
            .unwrap()
            .artefact()
            .unwrap();
        a.learned = learned;
        let r = algos.load_bytes(&a.to_bytes().unwrap());
        assert!(matches!(r, Err(ModelError::Artefact(_))), "{kind}: {r:?}");
    }
}

#[test]
fn models_and_trainers_are_send_and_sync() {
    fn ok<T: Send + Sync>() {}
    ok::<linear::LinearModel>();
    ok::<linear::ElasticNet>();
    ok::<naive_bayes::GaussianNbModel>();
    ok::<tree_regressor::RegressionTreeModel>();
    ok::<forest::ForestModel>();
    ok::<forest::RandomForest>();
    ok::<kmeans::KMeansModel>();
    ok::<kmeans::KMeans>();
}
