//! Feature benchmarks (issue 4), figures in docs/benchmarks.md:
//!
//! 1. Fit + transform of `standard_scaler` on `bench/data/classification_200k.csv`
//!    (200,000 × 20 f64), rows/s, against scikit-learn's `StandardScaler().fit_transform`
//!    measured in the same run (`bench/peers/sklearn_scaler.py`), and against a plain copy
//!    of the matrix (the memory-bandwidth ceiling).
//! 2. Row path of a 30-column pipeline (28 numeric + 2 categorical raw fields: numeric and
//!    one-hot extraction → mean imputation → standard scaling): median and p99 per row.
//!
//! Run: `cargo bench -p mlpipe-features --bench features_vs_sklearn`
//! (options: `--repeat N`, `--rows N` for the row-path sample).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use arrow_schema::{DataType, Field, Schema};
use mlpipe_core::table::rows_to_batch;
use mlpipe_core::{Row, Value};
use mlpipe_features::*;
use ndarray::Array2;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn load_csv(path: &PathBuf) -> (Vec<String>, Array2<f64>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with `bench/.venv/bin/python bench/gen_data.py`",
            path.display()
        )
    });
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let p = header.len() - 1; // last column is the target
    let mut flat = Vec::new();
    let mut n = 0;
    for l in lines.filter(|l| !l.is_empty()) {
        flat.extend(l.split(',').take(p).map(|v| v.parse::<f64>().unwrap()));
        n += 1;
    }
    (
        header[..p].to_vec(),
        Array2::from_shape_vec((n, p), flat).unwrap(),
    )
}

fn best_of<T>(repeat: usize, mut f: impl FnMut() -> T) -> (f64, Vec<f64>) {
    let mut all = Vec::new();
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        std::hint::black_box(f());
        all.push(t.elapsed().as_secs_f64());
    }
    (all.iter().copied().fold(f64::INFINITY, f64::min), all)
}

fn peer(csv: &PathBuf, repeat: usize) -> Option<serde_json::Value> {
    let py = repo().join("bench/.venv/bin/python");
    let out = Command::new(&py)
        .arg(repo().join("bench/peers/sklearn_scaler.py"))
        .arg(csv)
        .args(["--repeat", &repeat.to_string()])
        .output();
    match out {
        Ok(o) if o.status.success() => serde_json::from_slice(&o.stdout).ok(),
        Ok(o) => {
            eprintln!("peer failed: {}", String::from_utf8_lossy(&o.stderr));
            None
        }
        Err(e) => {
            eprintln!(
                "peer not run ({}: {e}); run bench/setup_venv.sh",
                py.display()
            );
            None
        }
    }
}

fn scaler_bench(repeat: usize) {
    let csv = repo().join("bench/data/classification_200k.csv");
    let (names, x) = load_csv(&csv);
    let (n, p) = x.dim();
    let registry = StepRegistry::builtin();
    let spec = StepSpec::new("standard_scaler");
    let (fit_transform, all) = best_of(repeat, || {
        let t = registry
            .transformer(&spec)
            .unwrap()
            .fit(x.view(), &names, None)
            .unwrap();
        t.transform_batch(x.view()).unwrap()
    });
    let (fit_only, _) = best_of(repeat, || {
        registry
            .transformer(&spec)
            .unwrap()
            .fit(x.view(), &names, None)
            .unwrap()
    });
    let (copy, _) = best_of(repeat, || x.to_owned());
    let rows_s = n as f64 / fit_transform;
    println!(
        "standard_scaler fit+transform {n}x{p}: best {:.2} ms ({:.2} M rows/s); all {:?}",
        fit_transform * 1e3,
        rows_s / 1e6,
        all.iter()
            .map(|s| (s * 1e5).round() / 100.0)
            .collect::<Vec<_>>()
    );
    println!("  of which fit: {:.2} ms", fit_only * 1e3);
    println!(
        "plain copy of the matrix: {:.2} ms ({:.2} M rows/s); fit+transform / copy time = {:.2}x",
        copy * 1e3,
        n as f64 / copy / 1e6,
        fit_transform / copy
    );
    match peer(&csv, repeat) {
        Some(j) => {
            let peer_rows = j["rows_per_s"].as_f64().unwrap_or(f64::NAN);
            let peer_copy = j["copy_rows_per_s"].as_f64().unwrap_or(f64::NAN);
            println!("sklearn StandardScaler().fit_transform: {:.2} ms ({:.2} M rows/s); numpy copy {:.2} M rows/s",
                j["seconds"].as_f64().unwrap_or(f64::NAN) * 1e3, peer_rows / 1e6, peer_copy / 1e6);
            println!(
                "ratio mlpipe / sklearn = {:.1}x (target >= 10x)",
                rows_s / peer_rows
            );
        }
        None => println!("sklearn peer unavailable: no ratio"),
    }
}

fn row_bench(rows_n: usize) {
    const NUMERIC: usize = 28;
    let cats_a = ["red", "green", "blue"];
    let cats_b = ["small", "medium", "large", "huge"];
    let mut fields: Vec<Field> = (0..NUMERIC)
        .map(|j| Field::new(format!("n{j:02}"), DataType::Float64, true))
        .collect();
    fields.push(Field::new("colour", DataType::Utf8, true));
    fields.push(Field::new("size", DataType::Utf8, true));
    fields.push(Field::new("label", DataType::Int64, true));
    let schema = Arc::new(Schema::new(fields));
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let rows: Vec<Row> = (0..2000)
        .map(|i| {
            let mut r = Row::new();
            for j in 0..NUMERIC {
                let v = rnd();
                r.insert(
                    format!("n{j:02}"),
                    if v < 0.05 {
                        Value::Null
                    } else {
                        Value::Float(v * 100.0 - 50.0)
                    },
                );
            }
            r.insert("colour", cats_a[i % 3]);
            r.insert("size", cats_b[(i / 3) % 4]);
            r.insert("label", (i % 2) as i64);
            r
        })
        .collect();
    let batch = rows_to_batch(&rows, schema).unwrap();
    let numeric: Vec<String> = (0..NUMERIC).map(|j| format!("n{j:02}")).collect();
    let def = PipelineDef {
        label: Some("label".into()),
        key: None,
        extract: vec![
            StepSpec::new("numeric").with("columns", &numeric),
            StepSpec::new("one_hot")
                .with("columns", ["colour", "size"])
                .with("handle_unknown", "ignore"),
        ],
        transform: vec![StepSpec::new("imputer"), StepSpec::new("standard_scaler")],
        select: None,
        fit_split: None,
    };
    let fitted = FeaturePipeline::new(def, Arc::new(StepRegistry::builtin()))
        .fit(std::slice::from_ref(&batch))
        .unwrap();
    let width = fitted.feature_names().len();
    for r in rows.iter().take(1000) {
        std::hint::black_box(fitted.transform_row(r).unwrap());
    }
    // Cold: cycling through 2,000 stored rows, each a map of heap-allocated names, so a row
    // is usually out of cache when it is transformed. Hot: the row was just made (as a
    // server's request row is, fresh from its JSON), cloned outside the timed call.
    for hot in [false, true] {
        let mut times = Vec::with_capacity(rows_n);
        for i in 0..rows_n {
            let stored = &rows[i % rows.len()];
            let fresh = hot.then(|| stored.clone());
            let r = fresh.as_ref().unwrap_or(stored);
            let t = Instant::now();
            let v = fitted.transform_row(r).unwrap();
            let d = t.elapsed();
            std::hint::black_box(v);
            times.push(d.as_nanos() as f64);
        }
        times.sort_by(f64::total_cmp);
        let q = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
        println!(
            "row path ({}), 30 raw fields -> {width} features (numeric + one-hot of 2 categoricals -> impute -> scale), {rows_n} rows: median {:.2} us, p99 {:.2} us, max {:.2} us (target median < 2 us)",
            if hot { "row just made" } else { "2,000 stored rows in turn" },
            q(0.5) / 1e3,
            q(0.99) / 1e3,
            q(1.0) / 1e3
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; ignore it.
    let repeat = arg("--repeat", 7);
    let rows = arg("--rows", 200_000);
    scaler_bench(repeat);
    row_bench(rows);
}
