//! Quality against scikit-learn on the very same rows: the splits, accuracies, R² and
//! learned parameters come from `tests/fixtures/sklearn_quality.json`, written by
//! `bench/reference/split_models.py` (scikit-learn 1.9.1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mlpipe_core::{FeatureSetId, Score};
use mlpipe_models::forest::ForestModel;
use mlpipe_models::kmeans::KMeansModel;
use mlpipe_models::linear::LinearModel;
use mlpipe_models::naive_bayes::GaussianNbModel;
use mlpipe_models::*;
use ndarray::{Array1, Array2};
use serde_json::{json, Value};

fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/sklearn_quality.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn idx(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as usize)
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

struct Split {
    xtr: Array2<f64>,
    ytr: Array1<f64>,
    xte: Array2<f64>,
    yte: Array1<f64>,
    names: Vec<String>,
}

async fn split(name: &str, fx: &Value) -> Split {
    let (x, y, names) = dataset(name).await;
    let (xtr, ytr) = take(&x, &y, &idx(&fx["train_idx"]));
    let (xte, yte) = take(&x, &y, &idx(&fx["test_idx"]));
    Split {
        xtr,
        ytr,
        xte,
        yte,
        names,
    }
}

fn train(
    kind: &str,
    params: Value,
    x: &Array2<f64>,
    y: &Array1<f64>,
    names: &[String],
) -> Box<dyn Model> {
    let fs = FeatureSetId::new("fs-quality");
    Algorithms::builtin()
        .trainer(kind, &params)
        .unwrap()
        .train(&TrainingData {
            x: x.view(),
            y: y.view(),
            feature_names: names,
            feature_set_id: &fs,
        })
        .unwrap_or_else(|e| panic!("{kind}: {e}"))
}

fn r2(scores: &[Score], y: &Array1<f64>) -> f64 {
    let mean = y.mean().unwrap();
    let (mut res, mut tot) = (0.0, 0.0);
    for (s, t) in scores.iter().zip(y) {
        let Score::Value { value } = s else {
            panic!("value expected, got {s:?}")
        };
        res += (t - value).powi(2);
        tot += (t - mean).powi(2);
    }
    1.0 - res / tot
}

fn assert_close(what: &str, got: &[f64], want: &[f64], rel: f64, abs: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= rel * w.abs() + abs,
            "{what}[{i}]: ours {g}, scikit-learn {w}"
        );
    }
}

/// Our model's `learned` parameters, through the artefact as a user would read them.
fn learned(m: &dyn Model) -> Value {
    m.artefact().unwrap().learned
}

#[tokio::test]
async fn breast_cancer_classifiers_match_scikit_learn_accuracy() {
    let fx = fixture();
    let bc = &fx["breast_cancer"];
    let s = split("breast_cancer", bc).await;
    let cases = [
        (
            "decision_tree",
            json!({"max_depth": 5}),
            "decision_tree",
            0.015,
        ),
        ("gaussian_nb", json!({}), "gaussian_nb", 0.015),
        // Forests draw different random streams than scikit-learn's: same method,
        // different trees, so allow two test rows more.
        (
            "random_forest",
            json!({"n_estimators": 100, "max_depth": 5, "seed": 42}),
            "random_forest",
            0.027,
        ),
    ];
    for (kind, params, key, tol) in cases {
        let m = train(kind, params, &s.xtr, &s.ytr, &s.names);
        let acc = accuracy(&m.predict_batch(s.xte.view()).unwrap(), &s.yte);
        let want = f(&bc[key]["test_accuracy"]);
        eprintln!("{kind}: accuracy {acc:.4}, scikit-learn {want:.4}");
        assert!(
            (acc - want).abs() <= tol,
            "{kind}: accuracy {acc}, scikit-learn {want}"
        );
    }
    // Logistic regression on standardised columns (train mean / population std).
    let (xtr, xte) = standardise(&s.xtr, &s.xte);
    let m = train("logistic_regression", json!({}), &xtr, &s.ytr, &s.names);
    let acc = accuracy(&m.predict_batch(xte.view()).unwrap(), &s.yte);
    let want = f(&bc["logistic_regression_scaled"]["test_accuracy"]);
    eprintln!("logistic_regression (scaled): accuracy {acc:.4}, scikit-learn {want:.4}");
    assert!((acc - want).abs() <= 0.015, "logistic: {acc} vs {want}");
}

#[tokio::test]
async fn gaussian_nb_parameters_and_probabilities_match_scikit_learn() {
    let fx = fixture();
    let bc = &fx["breast_cancer"];
    let want = &bc["gaussian_nb"];
    let s = split("breast_cancer", bc).await;
    let m = train("gaussian_nb", json!({}), &s.xtr, &s.ytr, &s.names);
    let got = learned(m.as_ref());
    for c in 0..2 {
        assert_close(
            "theta",
            &floats(&got["theta"][c]),
            &floats(&want["theta"][c]),
            1e-9,
            0.0,
        );
        assert_close(
            "var",
            &floats(&got["var"][c]),
            &floats(&want["var"][c]),
            1e-9,
            0.0,
        );
    }
    assert_close(
        "class_prior",
        &floats(&got["class_prior"]),
        &floats(&want["class_prior"]),
        1e-12,
        0.0,
    );
    assert_close(
        "epsilon",
        &[f(&got["epsilon"])],
        &[f(&want["epsilon"])],
        1e-9,
        0.0,
    );
    let loaded = GaussianNbModel::from_artefact(&m.artefact().unwrap()).unwrap();
    for (i, row) in want["predict_proba_first5_test"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let p = loaded.probabilities(&s.xte.row(i).to_vec());
        assert_close("predict_proba", &p, &floats(row), 1e-6, 1e-12);
    }
}

#[tokio::test]
async fn linear_models_match_scikit_learn_coefficients_on_diabetes() {
    let fx = fixture();
    let db = &fx["diabetes"];
    let s = split("diabetes", db).await;
    let cases = [
        ("linear_regression", json!({}), "linear_regression"),
        ("ridge", json!({"alpha": 1.0}), "ridge"),
        (
            "elastic_net",
            json!({"alpha": 0.1, "l1_ratio": 0.5, "max_iter": 100000, "tol": 1e-10}),
            "elastic_net",
        ),
        // Lasso at scikit-learn's default tol: same algorithm, same stopping point.
        (
            "elastic_net",
            json!({"alpha": 0.1, "l1_ratio": 1.0}),
            "lasso",
        ),
        (
            "elastic_net",
            json!({"alpha": 0.1, "l1_ratio": 1.0, "max_iter": 100000, "tol": 1e-10}),
            "lasso_tight",
        ),
    ];
    for (kind, params, key) in cases {
        let m = train(kind, params, &s.xtr, &s.ytr, &s.names);
        let got = learned(m.as_ref());
        let want = &db[key];
        assert_close(
            key,
            &floats(&got["coef"]),
            &floats(&want["coef"]),
            1e-4,
            1e-8,
        );
        assert_close(
            key,
            &[f(&got["intercept"])],
            &[f(&want["intercept"])],
            1e-4,
            0.0,
        );
        let r = r2(&m.predict_batch(s.xte.view()).unwrap(), &s.yte);
        let want_r2 = f(&want["test_r2"]);
        eprintln!("{key}: R² {r:.6}, scikit-learn {want_r2:.6}");
        assert!((r - want_r2).abs() <= 1e-4, "{key}: R² {r} vs {want_r2}");
        let back = LinearModel::from_artefact(&m.artefact().unwrap()).unwrap();
        assert_eq!(back.state().coef, floats(&got["coef"]));
    }
}

#[tokio::test]
async fn tree_regressors_match_scikit_learn_r2_on_diabetes() {
    let fx = fixture();
    let db = &fx["diabetes"];
    let s = split("diabetes", db).await;
    for (kind, params, tol) in [
        // Tied splits deep in the tree: scikit-learn breaks ties by a random feature order,
        // and its own test R² spans 0.324–0.353 over random_state 0..5 (ours, 0.32397,
        // is exactly its random_state=2 tree); the root levels are identical.
        ("decision_tree_regressor", json!({"max_depth": 4}), 0.025),
        // Different random streams than scikit-learn: statistically, not bitwise, equal.
        (
            "random_forest_regressor",
            json!({"n_estimators": 100, "max_depth": 6}),
            0.03,
        ),
    ] {
        let m = train(kind, params, &s.xtr, &s.ytr, &s.names);
        let r = r2(&m.predict_batch(s.xte.view()).unwrap(), &s.yte);
        let want = f(&db[kind]["test_r2"]);
        eprintln!("{kind}: R² {r:.4}, scikit-learn {want:.4}");
        assert!((r - want).abs() <= tol, "{kind}: R² {r} vs {want}");
        if kind == "random_forest_regressor" {
            let back = ForestModel::from_artefact(&m.artefact().unwrap()).unwrap();
            assert_eq!(back.state().trees.len(), 100);
        }
    }
}

#[tokio::test]
async fn kmeans_inertia_on_iris_matches_scikit_learn() {
    let fx = fixture();
    let (x, y, names) = dataset("iris").await;
    let m = train(
        "kmeans",
        json!({"k": 3, "n_init": 10, "seed": 0}),
        &x,
        &y,
        &names,
    );
    let want = f(&fx["iris"]["inertia"]);
    let back = KMeansModel::from_artefact(&m.artefact().unwrap()).unwrap();
    let got = back.state().inertia;
    eprintln!("kmeans iris inertia {got:.6}, scikit-learn {want:.6}");
    assert!(
        (got - want).abs() <= 0.01 * want,
        "inertia {got}, scikit-learn {want}"
    );
    // The recorded inertia is the sum of squared distances the model itself reports.
    let scores = m.predict_batch(x.view()).unwrap();
    let mut sizes = [0usize; 3];
    let mut sum = 0.0;
    for s in &scores {
        let Score::Cluster { cluster, distance } = s else {
            panic!("cluster expected")
        };
        sizes[*cluster as usize] += 1;
        sum += distance.unwrap().powi(2);
    }
    assert!((sum - got).abs() <= 1e-9 * got);
    sizes.sort_unstable();
    let want_sizes: Vec<usize> = idx(&fx["iris"]["cluster_sizes_sorted"]);
    assert_eq!(sizes.to_vec(), want_sizes);
}
