//! Evaluators and hyper-parameter search against scikit-learn, measured side by side in
//! one run on `bench/data/classification_200k.csv` (200,000 × 20,
//! `make_classification(..., random_state=42)`).
//!
//! Truth = `target`; score = 1 / (1 + e^(−f0)) rounded to 3 decimals (ties, like real
//! probabilities). The peer `bench/peers/sklearn_metrics.py` times the same metrics and a
//! `GridSearchCV(DecisionTreeClassifier, {max_depth: [4, 8], min_samples_leaf: [1, 20]},
//! cv=KFold(5), scoring="roc_auc", n_jobs=2)` on the first 20,000 rows; we run the same
//! grid with our decision tree, `KFold { k: 5 }` and rayon.
//!
//! Run: `cargo bench -p mlpipe-eval --bench eval_vs_sklearn` (env `BENCH_REPEAT`, default
//! 3, best of).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mlpipe_core::{FeatureSetId, Score};
use mlpipe_eval::metrics::curves::{average_precision, roc_auc, PrCurve};
use mlpipe_eval::metrics::probabilistic::{
    brier_score, log_loss_binary, CalibrationCurve, CalibrationStrategy,
};
use mlpipe_eval::{Evaluator, ParamSpace, RocAuc, Search};
use mlpipe_models::{Algorithms, TrainingData};
use mlpipe_split::KFold;
use ndarray::{Array1, Array2, Axis};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_csv(path: &Path) -> (Array2<f64>, Array1<f64>, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with `bench/.venv/bin/python bench/gen_data.py`",
            path.display()
        )
    });
    let mut lines = text.lines();
    let mut names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    names.pop();
    let d = names.len();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for line in lines.filter(|l| !l.is_empty()) {
        let mut it = line.split(',').map(|v| v.parse::<f64>().unwrap());
        xs.extend(it.by_ref().take(d));
        ys.push(it.next().unwrap());
    }
    let n = ys.len();
    (
        Array2::from_shape_vec((n, d), xs).unwrap(),
        Array1::from(ys),
        names,
    )
}

fn best_of<T>(repeat: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(v);
    }
    (best, out.unwrap())
}

fn main() {
    let repeat: usize = std::env::var("BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let csv = root().join("bench/data/classification_200k.csv");
    let (x, y, names) = read_csv(&csv);
    let s: Vec<f64> = x
        .column(0)
        .iter()
        .map(|v| ((1.0 / (1.0 + (-v).exp())) * 1000.0).round_ties_even() / 1000.0)
        .collect();
    let yb: Vec<bool> = y.iter().map(|v| *v == 1.0).collect();
    let truth = y.to_vec();
    let scores: Vec<Score> = s
        .iter()
        .map(|&p| Score::Probabilities {
            classes: vec![0, 1],
            probabilities: vec![1.0 - p, p],
        })
        .collect();

    let out = Command::new(root().join("bench/.venv/bin/python"))
        .arg("bench/peers/sklearn_metrics.py")
        .arg(&csv)
        .args(["--repeat", &repeat.to_string()])
        .current_dir(root())
        .output()
        .expect("bench/.venv missing: run `bash bench/setup_venv.sh`");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peer: Value = serde_json::from_slice(&out.stdout).unwrap();

    println!(
        "mlpipe-eval vs scikit-learn on {} rows (best of {repeat})",
        y.len()
    );
    println!(
        "{:<28} {:>12} {:>12} {:>8}  values (ours / sklearn)",
        "metric", "ours ms", "sklearn ms", "ratio"
    );
    let row = |name: &str, secs: f64, value: Value| {
        let p = &peer["metrics"][name];
        let ps = p["seconds"].as_f64().unwrap_or(f64::NAN);
        println!(
            "{name:<28} {:>12.2} {:>12.2} {:>7.1}x  {value} / {}",
            secs * 1e3,
            ps * 1e3,
            ps / secs,
            p["value"]
        );
    };
    let (t, v) = best_of(repeat, || roc_auc(&yb, &s).unwrap());
    row("roc_auc", t, json!(v));
    let (t, v) = best_of(repeat, || average_precision(&yb, &s).unwrap());
    row("average_precision", t, json!(v));
    let (t, v) = best_of(repeat, || {
        PrCurve::new(&yb, &s, false).unwrap().precision.len()
    });
    row("precision_recall_curve", t, json!(v));
    let (t, v) = best_of(repeat, || log_loss_binary(&yb, &s).unwrap());
    row("log_loss", t, json!(v));
    let (t, v) = best_of(repeat, || brier_score(&yb, &s).unwrap());
    row("brier_score", t, json!(v));
    let (t, v) = best_of(repeat, || {
        CalibrationCurve::new(&yb, &s, 10, CalibrationStrategy::Quantile)
            .unwrap()
            .prob_true
    });
    row("calibration_quantile_10", t, json!(v));
    let (t, v) = best_of(repeat, || RocAuc.evaluate(&truth, &scores).unwrap());
    println!(
        "{:<28} {:>12.2} {:>12} {:>8}  {v} (through Score::Probabilities)",
        "roc_auc evaluator",
        t * 1e3,
        "",
        ""
    );

    let g = &peer["grid_search"];
    let n = g["rows"].as_u64().unwrap() as usize;
    let rows: Vec<usize> = (0..n).collect();
    let (xs, ys) = (x.select(Axis(0), &rows), y.select(Axis(0), &rows));
    let fs = FeatureSetId::new("bench");
    let data = TrainingData {
        x: xs.view(),
        y: ys.view(),
        feature_names: &names,
        feature_set_id: &fs,
    };
    let search = Search {
        kind: "decision_tree".into(),
        space: ParamSpace::Grid(BTreeMap::from([
            ("max_depth".into(), vec![json!(4), json!(8)]),
            ("min_samples_leaf".into(), vec![json!(1), json!(20)]),
        ])),
        fixed: Value::Null,
        metric: "roc_auc".into(),
        metrics: vec![],
    };
    let algorithms = Algorithms::builtin();
    let folds = KFold {
        k: 5,
        shuffle: false,
        seed: 0,
    };
    let (t, report) = best_of(repeat, || search.run(&algorithms, &data, &folds).unwrap());
    let ps = g["seconds"].as_f64().unwrap_or(f64::NAN);
    println!(
        "\ngrid search 4 candidates × 5 folds on {n} rows: ours {:.2} s (rayon, {} threads), GridSearchCV {:.2} s (n_jobs=2): {:.1}x",
        t,
        rayon::current_num_threads(),
        ps,
        ps / t
    );
    println!(
        "ours mean roc_auc   : {:?}",
        report
            .candidates
            .iter()
            .map(|c| c.mean["roc_auc"])
            .collect::<Vec<_>>()
    );
    println!("sklearn mean roc_auc: {}", g["mean_test_score"]);
    println!(
        "ours best {:?}, sklearn best {}",
        report.best_params(),
        g["best_params"]
    );
}
