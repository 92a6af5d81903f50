//! Cross-validation and hyper-parameter search on iris.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mlpipe_core::FeatureSetId;
use mlpipe_eval::{cross_validate, evaluator, Distribution, EvalError, ParamSpace, Search};
use mlpipe_models::{Algorithms, TrainingData};
use mlpipe_split::{HoldOut, KFold, RandomSplit, StratifiedKFold};
use ndarray::{Array1, Array2};
use serde_json::json;
use std::collections::BTreeMap;

fn iris() -> (Array2<f64>, Array1<f64>, Vec<String>) {
    let path = format!("{}/../../data/iris.csv", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let mut names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    names.pop();
    let rows: Vec<Vec<f64>> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect())
        .collect();
    let x: Vec<f64> = rows.iter().flat_map(|r| r[..4].to_vec()).collect();
    let y: Vec<f64> = rows.iter().map(|r| r[4]).collect();
    (
        Array2::from_shape_vec((rows.len(), 4), x).unwrap(),
        Array1::from(y),
        names,
    )
}

#[test]
fn grid_order_is_sklearns_parameter_grid() {
    let path = format!(
        "{}/tests/fixtures/sklearn_metrics_extra.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let f: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let grid: BTreeMap<String, Vec<serde_json::Value>> =
        serde_json::from_value(f["parameter_grid"]["grid"].clone()).unwrap();
    let ours = ParamSpace::Grid(grid).candidates().unwrap();
    assert_eq!(json!(ours), f["parameter_grid"]["order"]);
    let empty = ParamSpace::Grid(BTreeMap::from([("a".into(), vec![])]));
    assert!(matches!(empty.candidates(), Err(EvalError::Search(_))));
}

#[test]
fn random_search_is_seeded_and_within_bounds() {
    let space = |seed| ParamSpace::Random {
        distributions: BTreeMap::from([
            (
                "c".into(),
                Distribution::LogUniform {
                    low: 1e-3,
                    high: 1e3,
                },
            ),
            ("depth".into(), Distribution::Int { low: 1, high: 9 }),
            (
                "w".into(),
                Distribution::Uniform {
                    low: -1.0,
                    high: 1.0,
                },
            ),
            (
                "crit".into(),
                Distribution::Choice {
                    values: vec![json!("gini"), json!("entropy")],
                },
            ),
        ]),
        n_iter: 50,
        seed,
    };
    let a = space(7).candidates().unwrap();
    assert_eq!(a, space(7).candidates().unwrap());
    assert_ne!(a, space(8).candidates().unwrap());
    assert_eq!(a.len(), 50);
    for p in &a {
        let c = p["c"].as_f64().unwrap();
        assert!((1e-3..1e3).contains(&c));
        assert!((1..9).contains(&p["depth"].as_i64().unwrap()));
        assert!((-1.0..1.0).contains(&p["w"].as_f64().unwrap()));
        assert!(p["crit"] == "gini" || p["crit"] == "entropy");
    }
    // Every depth is drawn at least once in 50 draws of 8 values.
    let depths: std::collections::BTreeSet<i64> =
        a.iter().map(|p| p["depth"].as_i64().unwrap()).collect();
    assert_eq!(depths.len(), 8);
    let bad = ParamSpace::Random {
        distributions: BTreeMap::from([(
            "c".into(),
            Distribution::LogUniform {
                low: 0.0,
                high: 1.0,
            },
        )]),
        n_iter: 1,
        seed: 0,
    };
    assert!(matches!(bad.candidates(), Err(EvalError::Search(_))));
}

#[test]
fn cross_validation_over_any_fold_strategy() {
    let (x, y, names) = iris();
    let fs = FeatureSetId::new("iris");
    let data = TrainingData {
        x: x.view(),
        y: y.view(),
        feature_names: &names,
        feature_set_id: &fs,
    };
    let algorithms = Algorithms::builtin();
    let evals = vec![
        evaluator("accuracy").unwrap(),
        evaluator("f1_macro").unwrap(),
    ];
    let params = json!({"max_depth": 3});
    let k = cross_validate(
        &algorithms,
        "decision_tree",
        &params,
        &data,
        &StratifiedKFold {
            k: 5,
            shuffle: true,
            seed: 1,
        },
        &evals,
    )
    .unwrap();
    let acc = &k.fold_scores["accuracy"];
    assert_eq!(acc.len(), 5);
    let mean = acc.iter().sum::<f64>() / 5.0;
    let std = (acc.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 5.0).sqrt();
    assert!((k.mean["accuracy"] - mean).abs() < 1e-15);
    assert!((k.std["accuracy"] - std).abs() < 1e-15);
    assert!(mean > 0.9, "{acc:?}");
    assert!(k.problems.is_empty());

    // Unshuffled k-fold on iris (sorted by class) leaves classes out of training folds:
    // the tree still trains, and the scores say how bad that is.
    let plain = cross_validate(
        &algorithms,
        "decision_tree",
        &params,
        &data,
        &KFold {
            k: 3,
            shuffle: false,
            seed: 0,
        },
        &evals,
    )
    .unwrap();
    assert_eq!(plain.fold_scores["accuracy"], vec![0.0, 0.0, 0.0]);

    // Any split strategy is one hold-out fold.
    let hold = cross_validate(
        &algorithms,
        "decision_tree",
        &params,
        &data,
        &HoldOut(RandomSplit::new(0.7, 3)),
        &evals,
    )
    .unwrap();
    assert_eq!(hold.fold_scores["accuracy"].len(), 1);
    assert_eq!(hold.std["accuracy"], 0.0);
}

#[test]
fn search_ranks_candidates_in_the_metrics_direction() {
    let (x, y, names) = iris();
    let fs = FeatureSetId::new("iris");
    let data = TrainingData {
        x: x.view(),
        y: y.view(),
        feature_names: &names,
        feature_set_id: &fs,
    };
    let algorithms = Algorithms::builtin();
    let folds = StratifiedKFold {
        k: 5,
        shuffle: true,
        seed: 11,
    };
    let grid = ParamSpace::Grid(BTreeMap::from([(
        "max_depth".into(),
        vec![json!(1), json!(2), json!(4)],
    )]));
    let by_loss = Search {
        kind: "decision_tree".into(),
        space: grid.clone(),
        fixed: json!({"min_samples_leaf": 2}),
        metric: "log_loss".into(),
        metrics: vec!["accuracy".into()],
    };
    let r = by_loss.run(&algorithms, &data, &folds).unwrap();
    assert!(!r.higher_is_better);
    let losses: Vec<f64> = r.candidates.iter().map(|c| c.mean["log_loss"]).collect();
    let min = losses.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(r.best_score(), Some(min));
    assert_eq!(
        r.candidates[0].params,
        json!({"max_depth": 1, "min_samples_leaf": 2})
    );
    assert!(
        r.candidates[0].mean["accuracy"] < 0.7,
        "a stump separates one class of three"
    );
    assert!(r.table().contains("accuracy"));

    let by_acc = Search {
        metric: "accuracy".into(),
        metrics: vec![],
        ..by_loss.clone()
    };
    let r = by_acc.run(&algorithms, &data, &folds).unwrap();
    let accs: Vec<f64> = r.candidates.iter().map(|c| c.mean["accuracy"]).collect();
    let best = accs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(r.best_score(), Some(best));
    assert_eq!(r.best, accs.iter().position(|v| *v == best));

    // A candidate that cannot be built is reported, not fatal.
    let bad = Search {
        space: ParamSpace::Grid(BTreeMap::from([(
            "max_depth".into(),
            vec![json!(2), json!("deep")],
        )])),
        ..by_acc.clone()
    };
    let r = bad.run(&algorithms, &data, &folds).unwrap();
    assert_eq!(r.best, Some(0));
    assert!(r.candidates[1].mean.is_empty() && !r.candidates[1].problems.is_empty());
    let unknown = Search {
        kind: "nope".into(),
        ..by_acc
    };
    assert_eq!(unknown.run(&algorithms, &data, &folds).unwrap().best, None);
}

/// Our grid search against `GridSearchCV` (same grid, unshuffled `KFold(5)`, ROC AUC) on
/// breast cancer: shallow CART trees are deterministic, so every fold score agrees.
#[test]
fn grid_search_matches_sklearn_grid_search_cv() {
    let path = format!(
        "{}/tests/fixtures/sklearn_metrics_extra.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let f: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let want = &f["cross_validation"];
    let csv = format!(
        "{}/../../data/breast_cancer.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    let mut names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    names.pop();
    let rows: Vec<Vec<f64>> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect())
        .collect();
    let d = names.len();
    let x: Vec<f64> = rows.iter().flat_map(|r| r[..d].to_vec()).collect();
    let y: Vec<f64> = rows.iter().map(|r| r[d]).collect();
    let (x, y) = (
        Array2::from_shape_vec((rows.len(), d), x).unwrap(),
        Array1::from(y),
    );
    let fs = FeatureSetId::new("bc");
    let data = TrainingData {
        x: x.view(),
        y: y.view(),
        feature_names: &names,
        feature_set_id: &fs,
    };
    let search = Search {
        kind: "decision_tree".into(),
        space: ParamSpace::Grid(serde_json::from_value(want["grid"].clone()).unwrap()),
        fixed: serde_json::Value::Null,
        metric: "roc_auc".into(),
        metrics: vec!["accuracy".into()],
    };
    let r = search
        .run(
            &Algorithms::builtin(),
            &data,
            &KFold {
                k: 5,
                shuffle: false,
                seed: 0,
            },
        )
        .unwrap();
    assert_eq!(
        json!(r.candidates.iter().map(|c| &c.params).collect::<Vec<_>>()),
        want["params"]
    );
    let close = |a: f64, b: &serde_json::Value| (a - b.as_f64().unwrap()).abs() <= 1e-10;
    for (i, c) in r.candidates.iter().enumerate() {
        assert!(
            close(c.mean["roc_auc"], &want["mean_test_roc_auc"][i]),
            "{i}: {:?}",
            c.mean
        );
        assert!(close(c.std["roc_auc"], &want["std_test_roc_auc"][i]), "{i}");
        assert!(
            close(c.mean["accuracy"], &want["mean_test_accuracy"][i]),
            "{i}"
        );
        for fold in 0..5 {
            assert!(close(
                c.fold_scores["roc_auc"][fold],
                &want["split_test_roc_auc"][fold][i]
            ));
        }
    }
    assert_eq!(r.best, Some(want["best_index"].as_u64().unwrap() as usize));
    assert_eq!(json!(r.best_params()), want["best_params"]);
}
