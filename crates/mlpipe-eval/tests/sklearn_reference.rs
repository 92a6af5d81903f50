//! Every evaluator pinned to scikit-learn 1.9.1: `tests/fixtures/sklearn_metrics.json`
//! (made by `bench/reference/metrics.py`) and `tests/fixtures/sklearn_metrics_extra.json`
//! (made by `bench/reference/metrics_extra.py`). Values agree to 1e-10 (relative above 1);
//! curves agree exactly in length and to 1e-10 in every value.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mlpipe_core::Score;
use mlpipe_eval::metrics::classification::{
    accuracy, balanced_accuracy, precision_recall_f1, Average, ConfusionMatrix,
};
use mlpipe_eval::metrics::clustering::{
    calinski_harabasz, davies_bouldin, inertia, silhouette_samples, silhouette_score,
};
use mlpipe_eval::metrics::curves::{average_precision, roc_auc, roc_auc_ovr, PrCurve, RocCurve};
use mlpipe_eval::metrics::probabilistic::{
    brier_score, log_loss, log_loss_binary, CalibrationCurve, CalibrationStrategy,
};
use mlpipe_eval::metrics::regression::RegressionMetric;
use mlpipe_eval::metrics::ForecastErrors;
use mlpipe_eval::{evaluator, EvalError};
use ndarray::Array2;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect("json")
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        Value::Null => f64::NAN,
        v => v.as_f64().expect("number"),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_i64().expect("int"))
        .collect()
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().expect("array").iter().map(nums).collect()
}

#[track_caller]
fn close(got: f64, want: f64, what: &str) {
    let ok = (got.is_nan() && want.is_nan())
        || got == want
        || (got - want).abs() <= 1e-10 * want.abs().max(1.0);
    assert!(ok, "{what}: got {got:e}, scikit-learn {want:e}");
}

#[track_caller]
fn same_curve(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length {got:?} vs {want:?}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        close(*g, *w, &format!("{what}[{i}]"));
    }
}

fn probs(p: &[f64]) -> Vec<Score> {
    p.iter()
        .map(|&v| Score::Probabilities {
            classes: vec![0, 1],
            probabilities: vec![1.0 - v, v],
        })
        .collect()
}

fn classes(labels: &[i64]) -> Vec<Score> {
    labels.iter().map(|&l| Score::Class { label: l }).collect()
}

fn as_f64(v: &[i64]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

#[test]
fn binary_curves_match_sklearn() {
    let f = fixture("sklearn_metrics.json");
    let b = &f["binary"];
    let y: Vec<bool> = ints(&b["inputs"]["y_true"])
        .iter()
        .map(|&v| v == 1)
        .collect();
    let s = nums(&b["inputs"]["y_score"]);
    for (drop, key) in [
        (true, "roc_curve_drop_intermediate_true"),
        (false, "roc_curve_drop_intermediate_false"),
    ] {
        let c = RocCurve::new(&y, &s, drop).unwrap();
        same_curve(&c.fpr, &nums(&b[key]["fpr"]), &format!("{key}.fpr"));
        same_curve(&c.tpr, &nums(&b[key]["tpr"]), &format!("{key}.tpr"));
        same_curve(
            &c.thresholds,
            &nums(&b[key]["thresholds"]),
            &format!("{key}.thresholds"),
        );
    }
    close(
        roc_auc(&y, &s).unwrap(),
        num(&b["roc_auc_score"]),
        "roc_auc",
    );
    let pr = PrCurve::new(&y, &s, false).unwrap();
    let w = &b["precision_recall_curve"];
    same_curve(&pr.precision, &nums(&w["precision"]), "pr.precision");
    same_curve(&pr.recall, &nums(&w["recall"]), "pr.recall");
    same_curve(&pr.thresholds, &nums(&w["thresholds"]), "pr.thresholds");
    close(
        average_precision(&y, &s).unwrap(),
        num(&b["average_precision_score"]),
        "average_precision",
    );
    close(
        log_loss_binary(&y, &s).unwrap(),
        num(&b["log_loss"]),
        "log_loss",
    );
    close(
        brier_score(&y, &s).unwrap(),
        num(&b["brier_score_loss"]),
        "brier",
    );
    for (strategy, key) in [
        (CalibrationStrategy::Uniform, "calibration_curve_uniform"),
        (CalibrationStrategy::Quantile, "calibration_curve_quantile"),
    ] {
        let c = CalibrationCurve::new(&y, &s, 5, strategy).unwrap();
        same_curve(
            &c.prob_true,
            &nums(&b[key]["prob_true"]),
            &format!("{key}.prob_true"),
        );
        same_curve(
            &c.prob_pred,
            &nums(&b[key]["prob_pred"]),
            &format!("{key}.prob_pred"),
        );
    }

    // The same numbers through the evaluators the service runs.
    let truth = as_f64(&ints(&b["inputs"]["y_true"]));
    let scores = probs(&s);
    for (name, key) in [
        ("roc_auc", "roc_auc_score"),
        ("average_precision", "average_precision_score"),
        ("log_loss", "log_loss"),
        ("brier_score", "brier_score_loss"),
    ] {
        let v = evaluator(name).unwrap().evaluate(&truth, &scores).unwrap();
        close(v, num(&b[key]), name);
    }
}

#[test]
fn binary_class_metrics_match_sklearn() {
    let f = fixture("sklearn_metrics.json");
    let b = &f["binary"];
    let t = ints(&b["inputs"]["y_true"]);
    let p = ints(&b["inputs"]["y_pred"]);
    close(accuracy(&t, &p).unwrap(), num(&b["accuracy"]), "accuracy");
    close(
        balanced_accuracy(&t, &p).unwrap(),
        num(&b["balanced_accuracy"]),
        "balanced",
    );
    let r = precision_recall_f1(&t, &p, Average::Binary { pos_label: 1 }).unwrap();
    close(r.precision, num(&b["precision"]), "precision");
    close(r.recall, num(&b["recall"]), "recall");
    close(r.f1, num(&b["f1"]), "f1");
    let cm = ConfusionMatrix::new(&t, &p).unwrap();
    let want: Vec<Vec<u64>> = b["confusion_matrix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(cm.counts, want);
    let (truth, scores) = (as_f64(&t), classes(&p));
    for name in ["accuracy", "balanced_accuracy", "precision", "recall", "f1"] {
        let v = evaluator(name).unwrap().evaluate(&truth, &scores).unwrap();
        close(v, num(&b[name]), name);
    }
}

#[test]
fn multiclass_metrics_match_sklearn() {
    let f = fixture("sklearn_metrics.json");
    let m = &f["multiclass"];
    let t = ints(&m["inputs"]["y_true"]);
    let p = ints(&m["inputs"]["y_pred"]);
    let proba = matrix(&m["inputs"]["y_proba"]);
    close(accuracy(&t, &p).unwrap(), num(&m["accuracy"]), "accuracy");
    close(
        balanced_accuracy(&t, &p).unwrap(),
        num(&m["balanced_accuracy"]),
        "balanced",
    );
    for (avg, key) in [
        (Average::Macro, "macro"),
        (Average::Weighted, "weighted"),
        (Average::Micro, "micro"),
    ] {
        let r = precision_recall_f1(&t, &p, avg).unwrap();
        close(r.precision, num(&m[format!("precision_{key}")]), key);
        close(r.recall, num(&m[format!("recall_{key}")]), key);
        close(r.f1, num(&m[format!("f1_{key}")]), key);
    }
    // Per class (average=None) is the binary average of each class against the rest.
    for (k, c) in [0i64, 1, 2].iter().enumerate() {
        let tb: Vec<i64> = t.iter().map(|v| i64::from(v == c)).collect();
        let pb: Vec<i64> = p.iter().map(|v| i64::from(v == c)).collect();
        let r = precision_recall_f1(&tb, &pb, Average::Binary { pos_label: 1 }).unwrap();
        close(r.precision, nums(&m["precision_none"])[k], "precision_none");
        close(r.recall, nums(&m["recall_none"])[k], "recall_none");
        close(r.f1, nums(&m["f1_none"])[k], "f1_none");
    }
    let cm = ConfusionMatrix::new(&t, &p).unwrap();
    assert_eq!(
        cm.counts
            .iter()
            .map(|r| r.iter().map(|&v| v as f64).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        matrix(&m["confusion_matrix"])
    );
    close(
        log_loss(&t, &[0, 1, 2], &proba).unwrap(),
        num(&m["log_loss"]),
        "log_loss",
    );
    close(
        roc_auc_ovr(&t, &[0, 1, 2], &proba, false).unwrap(),
        num(&m["roc_auc_ovr_macro"]),
        "ovr macro",
    );
    close(
        roc_auc_ovr(&t, &[0, 1, 2], &proba, true).unwrap(),
        num(&m["roc_auc_ovr_weighted"]),
        "ovr weighted",
    );
    let truth = as_f64(&t);
    let scores: Vec<Score> = proba
        .iter()
        .map(|r| Score::Probabilities {
            classes: vec![0, 1, 2],
            probabilities: r.clone(),
        })
        .collect();
    for (name, key) in [
        ("accuracy", "accuracy"),
        ("balanced_accuracy", "balanced_accuracy"),
        ("f1_macro", "f1_macro"),
        ("precision_weighted", "precision_weighted"),
        ("recall_micro", "recall_micro"),
        ("log_loss", "log_loss"),
        ("roc_auc_ovr", "roc_auc_ovr_macro"),
        ("roc_auc_ovr_weighted", "roc_auc_ovr_weighted"),
    ] {
        let v = evaluator(name).unwrap().evaluate(&truth, &scores).unwrap();
        close(v, num(&m[key]), name);
    }
    assert!(matches!(
        evaluator("f1").unwrap().evaluate(&truth, &scores),
        Err(EvalError::Undefined { .. })
    ));
}

#[test]
fn regression_metrics_match_sklearn() {
    let f = fixture("sklearn_metrics.json");
    let r = &f["regression"];
    let t = nums(&r["inputs"]["y_true"]);
    let p = nums(&r["inputs"]["y_pred"]);
    let scores: Vec<Score> = p.iter().map(|&v| Score::Value { value: v }).collect();
    for name in ["mae", "mse", "rmse", "r2", "mape", "explained_variance"] {
        let m = RegressionMetric::from_name(name).unwrap();
        close(m.compute(&t, &p).unwrap(), num(&r[name]), name);
        let e = evaluator(name).unwrap();
        close(e.evaluate(&t, &scores).unwrap(), num(&r[name]), name);
        assert_eq!(
            e.higher_is_better(),
            matches!(name, "r2" | "explained_variance")
        );
    }
}

#[test]
fn degenerate_inputs_follow_sklearn() {
    let f = fixture("sklearn_metrics.json");
    let d = &f["degenerate"];
    let n = &d["no_predicted_positives"];
    let r = precision_recall_f1(
        &ints(&n["inputs"]["y_true"]),
        &ints(&n["inputs"]["y_pred"]),
        Average::Binary { pos_label: 1 },
    )
    .unwrap();
    close(
        r.precision,
        num(&n["precision_default"]["value"]),
        "precision zero_division",
    );
    close(r.recall, num(&n["recall"]["value"]), "recall");
    close(r.f1, num(&n["f1_default"]["value"]), "f1 zero_division");

    // scikit-learn returns NaN with a warning; we return a typed error instead.
    let one = &d["roc_auc_single_class"];
    assert!(num(&one["roc_auc_score"]["value"]).is_nan());
    let y = as_f64(&ints(&one["inputs"]["y_true"]));
    let s = probs(&nums(&one["inputs"]["y_score"]));
    assert!(matches!(
        evaluator("roc_auc").unwrap().evaluate(&y, &s),
        Err(EvalError::Undefined { .. })
    ));

    let c = &d["constant_scores"];
    let y = as_f64(&ints(&c["inputs"]["y_true"]));
    let s = probs(&nums(&c["inputs"]["y_score"]));
    close(
        evaluator("roc_auc").unwrap().evaluate(&y, &s).unwrap(),
        num(&c["roc_auc_score"]["value"]),
        "constant roc_auc",
    );
    close(
        evaluator("average_precision")
            .unwrap()
            .evaluate(&y, &s)
            .unwrap(),
        num(&c["average_precision_score"]["value"]),
        "constant ap",
    );
}

fn iris() -> Array2<f64> {
    let path = format!("{}/../../data/iris.csv", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split(',')
                .take(4)
                .map(|v| v.trim().parse().unwrap())
                .collect()
        })
        .collect();
    Array2::from_shape_vec((rows.len(), 4), rows.concat()).unwrap()
}

#[test]
fn clustering_metrics_match_sklearn() {
    let f = fixture("sklearn_metrics.json");
    let c = &f["clustering"];
    let x = iris();
    let labels = ints(&c["inputs"]["labels"]);
    close(
        silhouette_score(x.view(), &labels).unwrap(),
        num(&c["silhouette_score"]),
        "silhouette",
    );
    let samples = silhouette_samples(x.view(), &labels).unwrap();
    same_curve(
        &samples[..10],
        &nums(&c["silhouette_samples_first10"]),
        "silhouette_samples",
    );
    let centres = matrix(&c["cluster_centers"]);
    let centres = Array2::from_shape_vec((centres.len(), 4), centres.concat()).unwrap();
    close(
        inertia(x.view(), &labels, centres.view()).unwrap(),
        num(&c["inertia"]),
        "inertia",
    );
    close(
        davies_bouldin(x.view(), &labels).unwrap(),
        num(&c["davies_bouldin_score"]),
        "db",
    );
    close(
        calinski_harabasz(x.view(), &labels).unwrap(),
        num(&c["calinski_harabasz_score"]),
        "ch",
    );
    assert!(matches!(
        silhouette_score(x.view(), &vec![0; 150]),
        Err(EvalError::Undefined { .. })
    ));
}

#[test]
fn forecast_errors_match_reference() {
    let f = fixture("sklearn_metrics.json");
    let c = &f["forecasting"];
    let e = ForecastErrors::new(
        &nums(&c["inputs"]["y_test"]),
        &nums(&c["inputs"]["y_pred"]),
        &nums(&c["inputs"]["y_train"]),
        1,
    )
    .unwrap();
    close(e.mae, num(&c["mae_sklearn"]), "mae");
    close(e.rmse, num(&c["rmse_sklearn"]), "rmse");
    close(e.mase, num(&c["mase"]), "mase");
    assert!(matches!(
        ForecastErrors::new(&[1.0], &[1.0], &[2.0, 2.0, 2.0], 1),
        Err(EvalError::Undefined { .. })
    ));
}

#[test]
fn many_ties_and_edges_match_sklearn() {
    let f = fixture("sklearn_metrics_extra.json");
    let b = &f["binary_ties"];
    let y: Vec<bool> = ints(&b["inputs"]["y_true"])
        .iter()
        .map(|&v| v == 1)
        .collect();
    let s = nums(&b["inputs"]["y_score"]);
    for (drop, k) in [(true, "true"), (false, "false")] {
        let r = RocCurve::new(&y, &s, drop).unwrap();
        let w = &b[format!("roc_curve_drop_{k}")];
        same_curve(&r.fpr, &nums(&w["fpr"]), "fpr");
        same_curve(&r.tpr, &nums(&w["tpr"]), "tpr");
        same_curve(&r.thresholds, &nums(&w["thresholds"]), "roc thresholds");
        let p = PrCurve::new(&y, &s, drop).unwrap();
        let w = &b[format!("pr_curve_drop_{k}")];
        same_curve(&p.precision, &nums(&w["precision"]), "precision");
        same_curve(&p.recall, &nums(&w["recall"]), "recall");
        same_curve(&p.thresholds, &nums(&w["thresholds"]), "pr thresholds");
    }
    close(roc_auc(&y, &s).unwrap(), num(&b["roc_auc_score"]), "auc");
    close(
        average_precision(&y, &s).unwrap(),
        num(&b["average_precision_score"]),
        "ap",
    );
    close(
        log_loss_binary(&y, &s).unwrap(),
        num(&b["log_loss"]),
        "log loss clipped",
    );
    close(
        brier_score(&y, &s).unwrap(),
        num(&b["brier_score_loss"]),
        "brier",
    );
    for (strategy, bins, key) in [
        (CalibrationStrategy::Uniform, 10, "calibration_uniform_10"),
        (CalibrationStrategy::Quantile, 10, "calibration_quantile_10"),
        (CalibrationStrategy::Quantile, 7, "calibration_quantile_7"),
    ] {
        let c = CalibrationCurve::new(&y, &s, bins, strategy).unwrap();
        same_curve(&c.prob_true, &nums(&b[key]["prob_true"]), key);
        same_curve(&c.prob_pred, &nums(&b[key]["prob_pred"]), key);
    }

    let m = &f["multiclass"];
    let t = ints(&m["inputs"]["y_true"]);
    let proba = matrix(&m["inputs"]["y_proba"]);
    let labels = ints(&m["inputs"]["labels"]);
    close(
        log_loss(&t, &labels, &proba).unwrap(),
        num(&m["log_loss"]),
        "mc log loss",
    );
    let scores: Vec<Score> = proba
        .iter()
        .map(|r| Score::Probabilities {
            classes: labels.clone(),
            probabilities: r.clone(),
        })
        .collect();
    let truth = as_f64(&t);
    close(
        evaluator("brier_score")
            .unwrap()
            .evaluate(&truth, &scores)
            .unwrap(),
        num(&m["brier_score_loss"]),
        "mc brier",
    );
    close(
        evaluator("accuracy")
            .unwrap()
            .evaluate(&truth, &scores)
            .unwrap(),
        num(&m["accuracy"]),
        "mc accuracy (argmax, first on ties)",
    );

    let e = &f["edge"];
    for (key, metric) in [
        ("r2_constant_truth_perfect", RegressionMetric::R2),
        ("r2_constant_truth_off", RegressionMetric::R2),
        (
            "explained_variance_constant_truth_off",
            RegressionMetric::ExplainedVariance,
        ),
        ("mape_zero_truth", RegressionMetric::Mape),
    ] {
        let c = &e[key];
        let v = metric
            .compute(&nums(&c["y_true"]), &nums(&c["y_pred"]))
            .unwrap();
        close(v, num(&c["value"]), key);
    }
    let c = &e["balanced_accuracy_class_only_predicted"];
    close(
        balanced_accuracy(&ints(&c["y_true"]), &ints(&c["y_pred"])).unwrap(),
        num(&c["value"]),
        "balanced accuracy",
    );
    let c = &e["binary_one_label"];
    let r = precision_recall_f1(
        &ints(&c["y_true"]),
        &ints(&c["y_pred"]),
        Average::Binary { pos_label: 1 },
    )
    .unwrap();
    close(r.precision, num(&c["precision"]), "one label precision");
    close(r.recall, num(&c["recall"]), "one label recall");
    close(r.f1, num(&c["f1"]), "one label f1");
    let c = &e["average_precision_no_positives"];
    let y: Vec<bool> = ints(&c["y_true"]).iter().map(|&v| v == 1).collect();
    close(
        average_precision(&y, &nums(&c["y_score"])).unwrap(),
        num(&c["value"]),
        "ap none",
    );
    let c = &e["silhouette_singleton"];
    let rows = matrix(&c["X"]);
    let x = Array2::from_shape_vec((rows.len(), 2), rows.concat()).unwrap();
    let labels = ints(&c["labels"]);
    same_curve(
        &silhouette_samples(x.view(), &labels).unwrap(),
        &nums(&c["samples"]),
        "sil",
    );
    close(
        silhouette_score(x.view(), &labels).unwrap(),
        num(&c["score"]),
        "sil score",
    );
}

#[test]
fn bad_input_is_a_typed_error() {
    let nan = probs(&[0.2, f64::NAN]);
    for name in [
        "roc_auc",
        "average_precision",
        "log_loss",
        "brier_score",
        "accuracy",
        "f1",
    ] {
        let r = evaluator(name).unwrap().evaluate(&[0.0, 1.0], &nan);
        assert!(
            matches!(r, Err(EvalError::BadScore { .. })),
            "{name}: {r:?}"
        );
        let r = evaluator(name).unwrap().evaluate(&[], &[]);
        assert!(matches!(r, Err(EvalError::Empty { .. })), "{name}: {r:?}");
    }
    let r = evaluator("mae")
        .unwrap()
        .evaluate(&[1.0], &[Score::Value { value: f64::NAN }]);
    assert!(matches!(r, Err(EvalError::BadScore { .. })));
    assert!(matches!(
        log_loss_binary(&[true], &[1.5]),
        Err(EvalError::BadScore { .. })
    ));
    assert!(matches!(
        CalibrationCurve::new(&[true], &[-0.1], 5, CalibrationStrategy::Uniform),
        Err(EvalError::BadScore { .. })
    ));
    for name in mlpipe_eval::METRIC_NAMES {
        assert_eq!(evaluator(name).unwrap().name(), *name);
    }
}
