//! CSV ingestion throughput: into the durable raw store (Parquet files + SQLite
//! catalogue), against merely parsing the CSV into Arrow in memory (the ceiling), and
//! against pandas `read_csv` of the same file measured in the same run.
//!
//! ```text
//! bash bench/setup_venv.sh && bench/.venv/bin/python bench/gen_data.py
//! cargo bench -p mlpipe-ingest --bench ingest_vs_pandas            # 200k × 20
//! cargo bench -p mlpipe-ingest --bench ingest_vs_pandas -- --big   # the 20× file: peak RSS
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mlpipe_core::broker::InProcessBroker;
use mlpipe_core::store::memory::*;
use mlpipe_core::store::Stores;
use mlpipe_ingest::{CsvOptions, CsvSource, IngestConfig, IngestionService, Source};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

async fn parse_only(path: &Path) -> (u64, f64) {
    let t = Instant::now();
    let mut src = CsvSource::new(path, CsvOptions::default());
    src.schema().await.unwrap();
    let mut rows = 0u64;
    while let Some(c) = src.next_chunk().await.unwrap() {
        rows += c.batch.num_rows() as u64;
    }
    (rows, t.elapsed().as_secs_f64())
}

async fn durable(path: &Path) -> (u64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let sql = mlpipe_sql::SqlStore::open(&format!(
        "sqlite://{}",
        dir.path().join("mlpipe.db").display()
    ))
    .await
    .unwrap();
    let parquet = mlpipe_parquet::ParquetStore::local(dir.path().join("data")).unwrap();
    let stores = Stores {
        raw: Arc::new(parquet.clone()),
        features: Arc::new(parquet),
        online: Arc::new(MemoryOnlineStore::default()),
        registry: Arc::new(sql.clone()),
        scores: Arc::new(sql.clone()),
        lineage: Arc::new(sql),
    };
    let svc = IngestionService::new(
        stores,
        Arc::new(InProcessBroker::new()),
        IngestConfig::default(),
    );
    let t = Instant::now();
    let mut src = CsvSource::new(path, CsvOptions::default());
    let report = svc.ingest("bench", &mut src, None).await.unwrap();
    (report.batch.rows, t.elapsed().as_secs_f64())
}

fn pandas(path: &Path) -> Option<serde_json::Value> {
    let py = root().join("bench/.venv/bin/python");
    let out = std::process::Command::new(py)
        .arg(root().join("bench/peers/pandas_read_csv.py"))
        .arg(path)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "pandas peer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// Nanoseconds per field of parsing every number of the file on one thread with
/// `fast-float2` (correctly rounded, the fastest such parser in safe Rust we know of):
/// the fields are split out beforehand, so this is the number parse alone.
fn float_parse_ns_per_field(path: &Path) -> (usize, f64) {
    let data = std::fs::read(path).unwrap();
    let body = data.splitn(2, |&c| c == b'\n').nth(1).unwrap_or_default();
    let fields: Vec<&[u8]> = body
        .split(|&c| c == b',' || c == b'\n')
        .filter(|f| !f.is_empty())
        .collect();
    let (_, s) = best(5, || {
        let t = Instant::now();
        let mut sum = 0.0f64;
        for f in &fields {
            sum += fast_float2::parse::<f64, _>(f).unwrap_or(0.0);
        }
        std::hint::black_box(sum);
        (0, t.elapsed().as_secs_f64())
    });
    (fields.len(), s * 1e9 / fields.len() as f64)
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`, in
/// clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (tick(11) + tick(12)) / 100.0
}

fn best<F: FnMut() -> (u64, f64)>(repeat: usize, mut f: F) -> (u64, f64) {
    (0..repeat)
        .map(|_| f())
        .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a })
}

fn main() {
    let big = std::env::args().any(|a| a == "--big");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let file = if big {
        "classification_4m.csv"
    } else {
        "classification_200k.csv"
    };
    let path = root().join("bench/data").join(file);
    if !path.exists() {
        eprintln!(
            "{} is missing: run `bash bench/setup_venv.sh && bench/.venv/bin/python bench/gen_data.py{}`",
            path.display(),
            if big { " --big" } else { "" }
        );
        std::process::exit(2);
    }
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if big {
        let (rows, s) = rt.block_on(durable(&path));
        println!(
            "durable ingest of {file}: {rows} rows, {:.2} s, {:.0} rows/s, {:.0} MB/s, peak RSS {:.0} MiB",
            s,
            rows as f64 / s,
            bytes as f64 / 1e6 / s,
            peak_rss_mib()
        );
        return;
    }
    let repeat = 3;
    let c0 = cpu_seconds();
    let (rows, parse_s) = best(repeat, || rt.block_on(parse_only(&path)));
    let c1 = cpu_seconds();
    let (_, durable_s) = best(repeat, || rt.block_on(durable(&path)));
    let c2 = cpu_seconds();
    let parse_rate = rows as f64 / parse_s;
    let durable_rate = rows as f64 / durable_s;
    println!(
        "file: {} ({rows} rows, {:.1} MB)",
        path.display(),
        bytes as f64 / 1e6
    );
    println!("parse CSV → Arrow in memory (ceiling): {parse_s:.3} s, {parse_rate:.0} rows/s");
    println!(
        "CSV → durable raw store (Parquet + SQLite): {durable_s:.3} s, {durable_rate:.0} rows/s"
    );
    println!("durable / ceiling: {:.2}", durable_rate / parse_rate);
    println!(
        "CPU per run (both cores): parse-only {:.3} s, durable {:.3} s",
        (c1 - c0) / repeat as f64,
        (c2 - c1) / repeat as f64
    );
    println!("peak RSS of this process: {:.0} MiB", peak_rss_mib());
    match pandas(&path) {
        Some(p) => {
            let pr = p["rows_per_s"].as_f64().unwrap_or(f64::NAN);
            println!(
                "pandas.read_csv: {:.3} s, {pr:.0} rows/s",
                p["seconds"].as_f64().unwrap_or(f64::NAN)
            );
            println!("durable / pandas: {:.2}x", durable_rate / pr);
            // What a 3× target leaves per field, against the number parse alone.
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let (fields, parse_ns) = float_parse_ns_per_field(&path);
            let pandas_ns = p["seconds"].as_f64().unwrap_or(f64::NAN) * 1e9 / fields as f64;
            println!(
                "per field ({fields} fields): pandas {pandas_ns:.1} ns on 1 core; 3x pandas on \
                 {cores} cores leaves {:.1} ns of CPU for everything; a correctly rounded \
                 float parse alone (fast-float2, 1 thread) takes {parse_ns:.1} ns",
                pandas_ns / 3.0 * cores as f64
            );
        }
        None => println!("pandas peer not available (run bash bench/setup_venv.sh)"),
    }
}
