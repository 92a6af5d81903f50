//! Our models against scikit-learn on `bench/data/classification_200k.csv` (200,000 × 20,
//! `make_classification(..., random_state=42)`), measured side by side in one run.
//!
//! The 80/20 split is scikit-learn's own (`train_test_split(test_size=0.2,
//! random_state=42)`, indices fetched from the venv), so both sides learn from and score
//! the same rows. The peer `bench/peers/sklearn_models.py` prints its timings as JSON.
//! Also measures the facade's overhead: `Box<dyn Model>` predictions returning `Score`s
//! against calling the fitted algorithm directly.
//!
//! Run: `cargo bench -p mlpipe-models --bench models_vs_sklearn`
//! (env: `BENCH_REPEAT` (default 3; best of), `BENCH_ONLY=decision_tree,logistic_regression,kmeans,gaussian_nb,random_forest`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mlpipe_core::{FeatureSetId, Score};
use mlpipe_models::forest::{ForestParams, RandomForest};
use mlpipe_models::kmeans::{KMeans, KMeansParams};
use mlpipe_models::logistic::{LogisticModel, LogisticRegression};
use mlpipe_models::naive_bayes::GaussianNb;
use mlpipe_models::tree::{DecisionTree, TreeModel, TreeParams};
use mlpipe_models::{Model, Trainer, TrainingData};
use ndarray::{Array1, Array2, ArrayView1, Axis, Zip};
use serde_json::Value;
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
    let mut xs = Vec::with_capacity(200_000 * d);
    let mut ys = Vec::with_capacity(200_000);
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

fn python() -> PathBuf {
    root().join("bench/.venv/bin/python")
}

fn run_python(args: &[&str]) -> Value {
    let out = Command::new(python())
        .args(args)
        .current_dir(root())
        .output()
        .expect("bench/.venv missing: run `bash bench/setup_venv.sh`");
    assert!(
        out.status.success(),
        "python {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sklearn_split(csv: &str) -> (Vec<usize>, Vec<usize>) {
    let v = run_python(&[
        "-c",
        "import sys, json, numpy as np\n\
         from sklearn.model_selection import train_test_split\n\
         n = sum(1 for _ in open(sys.argv[1])) - 1\n\
         tr, te = train_test_split(np.arange(n), test_size=0.2, random_state=42, shuffle=True)\n\
         print(json.dumps({'train': tr.tolist(), 'test': te.tolist()}))",
        csv,
    ]);
    let ids = |k: &str| -> Vec<usize> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap() as usize)
            .collect()
    };
    (ids("train"), ids("test"))
}

fn best_of<T>(repeat: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(r);
    }
    (best, last.unwrap())
}

fn accuracy(scores: &[Score], y: &Array1<f64>) -> f64 {
    let hits = scores
        .iter()
        .zip(y)
        .filter(|(s, t)| s.class() == Some(**t as i64))
        .count();
    hits as f64 / y.len() as f64
}

struct Row {
    what: String,
    ours: f64,
    theirs: f64,
    note: String,
}

fn main() {
    let repeat: usize = std::env::var("BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let only = std::env::var("BENCH_ONLY").unwrap_or_else(|_| {
        "decision_tree,logistic_regression,kmeans,gaussian_nb,random_forest".into()
    });
    let want = |m: &str| only.split(',').any(|o| o == m);
    let csv_rel = "bench/data/classification_200k.csv";
    let csv = root().join(csv_rel);
    let t = Instant::now();
    let (x, y, names) = read_csv(&csv);
    eprintln!(
        "read {} rows in {:.2} s",
        x.nrows(),
        t.elapsed().as_secs_f64()
    );
    let (tr, te) = sklearn_split(csv.to_str().unwrap());
    let (xtr, ytr) = (x.select(Axis(0), &tr), y.select(Axis(0), &tr));
    let (xte, yte) = (x.select(Axis(0), &te), y.select(Axis(0), &te));
    let fs = FeatureSetId::new("bench");

    // The peer, in the same run. Forests are slow in scikit-learn: time them once.
    let fast: Vec<&str> = [
        "decision_tree",
        "logistic_regression",
        "kmeans",
        "gaussian_nb",
    ]
    .into_iter()
    .filter(|m| want(m))
    .collect();
    let mut peer = serde_json::json!({});
    let rep = repeat.to_string();
    if !fast.is_empty() {
        let joined = fast.join(",");
        let p = run_python(&[
            "bench/peers/sklearn_models.py",
            csv_rel,
            "--repeat",
            &rep,
            "--only",
            &joined,
        ]);
        peer = p["models"].clone();
    }
    if want("random_forest") {
        let p = run_python(&[
            "bench/peers/sklearn_models.py",
            csv_rel,
            "--repeat",
            "1",
            "--only",
            "random_forest",
        ]);
        peer["random_forest"] = p["models"]["random_forest"].clone();
    }
    let sk = |m: &str, k: &str| peer[m][k].as_f64().unwrap_or(f64::NAN);

    let mut rows: Vec<Row> = Vec::new();
    let train = |t: &dyn Trainer, x: &Array2<f64>, y: &Array1<f64>| -> Box<dyn Model> {
        t.train(&TrainingData {
            x: x.view(),
            y: y.view(),
            feature_names: &names,
            feature_set_id: &fs,
        })
        .unwrap()
    };

    if want("decision_tree") {
        let trainer = DecisionTree(TreeParams {
            max_depth: Some(10),
            ..Default::default()
        });
        let (fit, m) = best_of(repeat, || train(&trainer, &xtr, &ytr));
        let acc = accuracy(&m.predict_batch(xte.view()).unwrap(), &yte);
        rows.push(Row {
            what: "decision_tree fit (max_depth=10, 160k×20)".into(),
            ours: fit,
            theirs: sk("decision_tree", "fit_seconds"),
            note: format!(
                "acc ours {acc:.4}, sklearn {:.4}",
                sk("decision_tree", "accuracy")
            ),
        });
        let (pf, _) = best_of(repeat, || m.predict_proba(x.view()).unwrap());
        rows.push(Row {
            what: "decision_tree predict_proba all 200k rows".into(),
            ours: pf,
            theirs: sk("decision_tree", "predict_proba_all_rows_seconds"),
            note: "via Box<dyn Model>::predict_proba → matrix".into(),
        });
        let (ps, _) = best_of(repeat, || m.predict_batch(x.view()).unwrap());
        rows.push(Row {
            what: "decision_tree typed scores all 200k rows".into(),
            ours: ps,
            theirs: sk("decision_tree", "predict_proba_all_rows_seconds"),
            note: "via Box<dyn Model>::predict_batch → Vec<Score>".into(),
        });
        let raw = TreeModel::from_artefact(&m.artefact().unwrap()).unwrap();
        let (pr, _) = best_of(repeat, || {
            let mut out = Array2::<f64>::zeros((x.nrows(), 2));
            Zip::from(out.rows_mut())
                .and(x.rows())
                .par_for_each(|mut o, r| {
                    o.assign(&ArrayView1::from(raw.probabilities(r.as_slice().unwrap())))
                });
            out
        });
        facade_rows(&mut rows, "decision_tree", pf, pr, m.as_ref(), &x, |r| {
            raw.probabilities(r)[1]
        });
    }

    if want("logistic_regression") {
        let mean = xtr.mean_axis(Axis(0)).unwrap();
        let std = xtr.std_axis(Axis(0), 0.0);
        let sc = |a: &Array2<f64>| (a - &mean) / &std;
        let (xs_tr, xs_te, xs_all) = (sc(&xtr), sc(&xte), sc(&x));
        let trainer = LogisticRegression(Default::default());
        let (fit, m) = best_of(repeat, || train(&trainer, &xs_tr, &ytr));
        let acc = accuracy(&m.predict_batch(xs_te.view()).unwrap(), &yte);
        let raw = LogisticModel::from_artefact(&m.artefact().unwrap()).unwrap();
        rows.push(Row {
            what: "logistic_regression fit (standardised, C=1)".into(),
            ours: fit,
            theirs: sk("logistic_regression", "fit_seconds"),
            note: format!(
                "acc ours {acc:.4}, sklearn {:.4}; Newton iterations {}",
                sk("logistic_regression", "accuracy"),
                raw.state().iterations
            ),
        });
        let (pf, _) = best_of(repeat, || m.predict_proba(xs_all.view()).unwrap());
        rows.push(Row {
            what: "logistic_regression predict_proba all 200k rows".into(),
            ours: pf,
            theirs: sk("logistic_regression", "predict_proba_all_rows_seconds"),
            note: "via Box<dyn Model>::predict_proba → matrix".into(),
        });
        let (ps, _) = best_of(repeat, || m.predict_batch(xs_all.view()).unwrap());
        rows.push(Row {
            what: "logistic_regression typed scores all 200k rows".into(),
            ours: ps,
            theirs: sk("logistic_regression", "predict_proba_all_rows_seconds"),
            note: "via Box<dyn Model>::predict_batch → Vec<Score>".into(),
        });
        let w = raw.state().coef[0].clone();
        let b = raw.state().intercept[0];
        let p1 = |r: &[f64]| -> f64 {
            let z = b + w.iter().zip(r).map(|(w, v)| w * v).sum::<f64>();
            1.0 / (1.0 + (-z).exp())
        };
        let (pr, _) = best_of(repeat, || {
            let mut out = Array2::<f64>::zeros((xs_all.nrows(), 2));
            Zip::from(out.rows_mut())
                .and(xs_all.rows())
                .par_for_each(|mut o, r| {
                    let p = p1(r.as_slice().unwrap());
                    o[0] = 1.0 - p;
                    o[1] = p;
                });
            out
        });
        facade_rows(
            &mut rows,
            "logistic_regression",
            pf,
            pr,
            m.as_ref(),
            &xs_all,
            p1,
        );
    }

    if want("kmeans") {
        let trainer = KMeans(KMeansParams {
            k: 8,
            n_init: 1,
            seed: 0,
            ..Default::default()
        });
        let (fit, m) = best_of(repeat, || train(&trainer, &x, &y));
        let learned = m.artefact().unwrap().learned;
        rows.push(Row {
            what: "kmeans fit (k=8, n_init=1, all 200k rows)".into(),
            ours: fit,
            theirs: sk("kmeans", "fit_seconds"),
            note: format!(
                "inertia ours {:.1} ({} it), sklearn {:.1} ({} it)",
                learned["inertia"].as_f64().unwrap_or(f64::NAN),
                learned["n_iter"],
                sk("kmeans", "inertia"),
                peer["kmeans"]["n_iter"]
            ),
        });
    }

    if want("gaussian_nb") {
        let trainer = GaussianNb(Default::default());
        let (fit, m) = best_of(repeat, || train(&trainer, &xtr, &ytr));
        let acc = accuracy(&m.predict_batch(xte.view()).unwrap(), &yte);
        rows.push(Row {
            what: "gaussian_nb fit".into(),
            ours: fit,
            theirs: sk("gaussian_nb", "fit_seconds"),
            note: format!(
                "acc ours {acc:.4}, sklearn {:.4}",
                sk("gaussian_nb", "accuracy")
            ),
        });
    }

    if want("random_forest") {
        let trainer = RandomForest(ForestParams {
            n_estimators: 50,
            max_depth: Some(10),
            ..Default::default()
        });
        let (fit, m) = best_of(1, || train(&trainer, &xtr, &ytr));
        let acc = accuracy(&m.predict_batch(xte.view()).unwrap(), &yte);
        rows.push(Row {
            what: "random_forest fit (50 trees, max_depth=10, sqrt features)".into(),
            ours: fit,
            theirs: sk("random_forest", "fit_seconds"),
            note: format!(
                "acc ours {acc:.4}, sklearn {:.4}; best of 1",
                sk("random_forest", "accuracy")
            ),
        });
    }

    println!(
        "\nmodels_vs_sklearn: {} rows ({} train / {} test), best of {repeat}, threads {}",
        x.nrows(),
        xtr.nrows(),
        xte.nrows(),
        rayon::current_num_threads()
    );
    println!("| what | ours | scikit-learn | ours/sklearn | notes |");
    println!("|---|---|---|---|---|");
    for r in rows {
        let ratio = r.ours / r.theirs;
        let fmt = |s: f64| {
            if s.is_nan() {
                "—".to_string()
            } else if s < 1e-3 {
                format!("{:.0} ns", s * 1e9)
            } else if s < 1.0 {
                format!("{:.1} ms", s * 1e3)
            } else {
                format!("{s:.2} s")
            }
        };
        let ratio = if ratio.is_nan() {
            "—".into()
        } else {
            format!("{ratio:.2}")
        };
        println!(
            "| {} | {} | {} | {ratio} | {} |",
            r.what,
            fmt(r.ours),
            fmt(r.theirs),
            r.note
        );
    }
}

/// Facade overhead: batch (`predict_proba` through `Box<dyn Model>` vs the raw algorithm writing an
/// n × 2 probability matrix) and single row (`predict_row` on `dyn Model` vs the raw call).
fn facade_rows(
    rows: &mut Vec<Row>,
    kind: &str,
    facade_batch: f64,
    raw_batch: f64,
    m: &dyn Model,
    x: &Array2<f64>,
    raw: impl Fn(&[f64]) -> f64 + Sync,
) {
    rows.push(Row {
        what: format!("{kind} batch: facade vs raw algorithm"),
        ours: facade_batch,
        theirs: f64::NAN,
        note: format!(
            "raw {:.2} ms; facade overhead {:+.1}%",
            raw_batch * 1e3,
            (facade_batch / raw_batch - 1.0) * 100.0
        ),
    });
    let n = 20_000.min(x.nrows());
    let sample: Vec<Vec<f64>> = (0..n).map(|i| x.row(i).to_vec()).collect();
    let (tf, _) = best_of(5, || {
        sample
            .iter()
            .map(|r| {
                std::hint::black_box(m.predict_row(std::hint::black_box(r)).unwrap())
                    .probability_of(1)
                    .unwrap_or(0.0)
            })
            .sum::<f64>()
    });
    let (tr, _) = best_of(5, || {
        sample
            .iter()
            .map(|r| std::hint::black_box(raw(std::hint::black_box(r))))
            .sum::<f64>()
    });
    let (tp, _) = best_of(5, || {
        let mut out = [0.0; 2];
        sample
            .iter()
            .map(|r| {
                m.predict_proba_row(std::hint::black_box(r), &mut out)
                    .unwrap();
                std::hint::black_box(out[1])
            })
            .sum::<f64>()
    });
    rows.push(Row {
        what: format!("{kind} single row: facade predict_row (typed Score) vs raw"),
        ours: tf / n as f64,
        theirs: f64::NAN,
        note: format!(
            "raw {:.0} ns/row; facade overhead {:+.0} ns/row",
            tr / n as f64 * 1e9,
            (tf - tr) / n as f64 * 1e9
        ),
    });
    rows.push(Row {
        what: format!("{kind} single row: facade predict_proba_row vs raw"),
        ours: tp / n as f64,
        theirs: f64::NAN,
        note: format!(
            "raw {:.1} ns/row; facade overhead {:+.1}%",
            tr / n as f64 * 1e9,
            (tp / tr - 1.0) * 100.0
        ),
    });
}
