//! JSON-lines ingestion and online ingestion throughput.
//!
//! - JSON lines → Arrow in memory (parse only) and → the durable raw store (Parquet files +
//!   SQLite catalogue), against pandas `read_json(lines=True)` of the same file measured in
//!   the same run. The file is the 200k × 20 benchmark CSV written as JSON lines
//!   (`bench/data/classification_200k.jsonl`, made on first run).
//! - Online: 200k single-record pushes into the durable store, flushed every 65,536 rows,
//!   with the latency of `push`.
//!
//! ```text
//! bash bench/setup_venv.sh && bench/.venv/bin/python bench/gen_data.py
//! cargo bench -p mlpipe-ingest --bench jsonl_online
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use arrow_schema::{DataType, Field, Schema};
use mlpipe_core::broker::InProcessBroker;
use mlpipe_core::store::memory::MemoryOnlineStore;
use mlpipe_core::store::Stores;
use mlpipe_core::Row;
use mlpipe_ingest::{
    IngestConfig, IngestionService, JsonlOptions, JsonlSource, OnlineConfig, OnlineIngestion,
    Source,
};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn durable_stores(dir: &Path) -> Stores {
    let sql = mlpipe_sql::SqlStore::open(&format!("sqlite://{}", dir.join("mlpipe.db").display()))
        .await
        .unwrap();
    let parquet = mlpipe_parquet::ParquetStore::local(dir.join("data")).unwrap();
    Stores {
        raw: Arc::new(parquet.clone()),
        features: Arc::new(parquet),
        online: Arc::new(MemoryOnlineStore::default()),
        registry: Arc::new(sql.clone()),
        scores: Arc::new(sql.clone()),
        lineage: Arc::new(sql),
    }
}

/// The CSV's rows as `Row`s (numbers as floats, the target as an integer).
fn csv_rows(csv: &Path) -> (Vec<String>, Vec<Row>) {
    let f = std::io::BufReader::new(std::fs::File::open(csv).unwrap());
    let mut lines = f.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| {
            let l = l.unwrap();
            header
                .iter()
                .zip(l.split(','))
                .map(|(k, v)| {
                    let value = if k == "target" {
                        mlpipe_core::Value::Int(v.parse().unwrap())
                    } else {
                        mlpipe_core::Value::Float(v.parse().unwrap())
                    };
                    (k.clone(), value)
                })
                .collect()
        })
        .collect();
    (header, rows)
}

fn write_jsonl(rows: &[Row], path: &Path) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for r in rows {
        serde_json::to_writer(&mut w, r).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
}

async fn parse_only(path: &Path) -> (u64, f64) {
    let t = Instant::now();
    let mut src = JsonlSource::new(path, JsonlOptions::default());
    src.schema().await.unwrap();
    let mut rows = 0u64;
    while let Some(c) = src.next_chunk().await.unwrap() {
        rows += c.batch.num_rows() as u64;
    }
    (rows, t.elapsed().as_secs_f64())
}

async fn durable(path: &Path) -> (u64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let stores = durable_stores(dir.path()).await;
    let svc = IngestionService::new(
        stores,
        Arc::new(InProcessBroker::new()),
        IngestConfig::default(),
    );
    let t = Instant::now();
    let mut src = JsonlSource::new(path, JsonlOptions::default());
    let report = svc.ingest("bench", &mut src, None).await.unwrap();
    (report.batch.rows, t.elapsed().as_secs_f64())
}

async fn online(header: &[String], rows: &[Row]) -> (u64, usize, f64, Vec<Duration>) {
    let dir = tempfile::tempdir().unwrap();
    let stores = durable_stores(dir.path()).await;
    let fields: Vec<Field> = header
        .iter()
        .map(|h| {
            let t = if h == "target" {
                DataType::Int64
            } else {
                DataType::Float64
            };
            Field::new(h, t, true)
        })
        .collect();
    let mut config = OnlineConfig::new("bench", Arc::new(Schema::new(fields)));
    config.max_rows = 64 * 1024;
    config.max_age = Duration::from_secs(60);
    let (ingestor, task) =
        OnlineIngestion::start(stores, Arc::new(InProcessBroker::new()), config).unwrap();
    let mut latencies = Vec::with_capacity(rows.len());
    let t = Instant::now();
    for r in rows {
        let t0 = Instant::now();
        ingestor.push(r.clone()).await.unwrap();
        latencies.push(t0.elapsed());
    }
    drop(ingestor);
    let written = task.wait().await.unwrap();
    (
        written.rows,
        written.batches.len(),
        t.elapsed().as_secs_f64(),
        latencies,
    )
}

fn pandas(path: &Path) -> Option<serde_json::Value> {
    let py = root().join("bench/.venv/bin/python");
    let out = std::process::Command::new(py)
        .arg(root().join("bench/peers/pandas_read_jsonl.py"))
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

fn best<F: FnMut() -> (u64, f64)>(repeat: usize, mut f: F) -> (u64, f64) {
    (0..repeat)
        .map(|_| f())
        .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a })
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let csv = root().join("bench/data/classification_200k.csv");
    if !csv.exists() {
        eprintln!(
            "{} is missing: run `bash bench/setup_venv.sh && bench/.venv/bin/python bench/gen_data.py`",
            csv.display()
        );
        std::process::exit(2);
    }
    let (header, rows) = csv_rows(&csv);
    let path = root().join("bench/data/classification_200k.jsonl");
    if !path.exists() {
        write_jsonl(&rows, &path);
    }
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let repeat = 3;
    let (n, parse_s) = best(repeat, || rt.block_on(parse_only(&path)));
    let (_, durable_s) = best(repeat, || rt.block_on(durable(&path)));
    let (parse_rate, durable_rate) = (n as f64 / parse_s, n as f64 / durable_s);
    println!(
        "file: {} ({n} rows, {:.1} MB)",
        path.display(),
        bytes as f64 / 1e6
    );
    println!("parse JSON lines → Arrow in memory: {parse_s:.3} s, {parse_rate:.0} rows/s");
    println!(
        "JSON lines → durable raw store (Parquet + SQLite): {durable_s:.3} s, {durable_rate:.0} rows/s"
    );
    match pandas(&path) {
        Some(p) => {
            let pr = p["rows_per_s"].as_f64().unwrap_or(f64::NAN);
            println!(
                "pandas.read_json(lines=True): {:.3} s, {pr:.0} rows/s",
                p["seconds"].as_f64().unwrap_or(f64::NAN)
            );
            println!("durable / pandas: {:.2}x", durable_rate / pr);
        }
        None => println!("pandas peer not available (run bash bench/setup_venv.sh)"),
    }
    let (stored, batches, online_s, mut lat) = rt.block_on(online(&header, &rows));
    lat.sort();
    let q = |p: f64| lat[((lat.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1e6;
    println!(
        "online: {stored} rows pushed one at a time into {batches} durable batches: {online_s:.3} s, {:.0} rows/s; push latency p50 {:.1} µs, p99 {:.1} µs, max {:.0} µs",
        stored as f64 / online_s,
        q(0.5),
        q(0.99),
        q(1.0)
    );
}
