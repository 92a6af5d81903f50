//! Horizontal scaling of the ingest+prepare stages: the same work (8 datasets of 20 000
//! rows × 20 features, cut from bench/data/classification_200k.csv) with 1 and then 2
//! `mlpipe worker ingest,prepare` processes on PostgreSQL + Redis + NATS JetStream; time
//! from the first announcement until every feature batch is stored, and the ratio.
//!
//! `MLPIPE_TEST_POSTGRES_URL=… MLPIPE_TEST_REDIS_URL=… MLPIPE_TEST_NATS_URL=… cargo bench -p mlpipe --bench worker_scaling`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mlpipe::core::events::SourceRef;
use mlpipe::core::{testkit, Config};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DATASETS: usize = 8;
const ROWS: usize = 20_000;

struct Urls {
    pg: String,
    redis: String,
    nats: String,
}

/// One CSV per dataset: disjoint slices of the 200k file (identical data would be one
/// content-addressed feature set shared by every dataset).
fn cut_csvs(dir: &Path) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/data/classification_200k.csv");
    let f = std::fs::File::open(&src)
        .unwrap_or_else(|e| panic!("{}: {e}; run bench/gen_data.py", src.display()));
    let mut lines = BufReader::new(f).lines().map(|l| l.unwrap());
    let header = lines.next().unwrap();
    (0..DATASETS)
        .map(|i| {
            let out = dir.join(format!("rows-{i}.csv"));
            let mut w = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
            writeln!(w, "{header}").unwrap();
            for line in lines.by_ref().take(ROWS) {
                writeln!(w, "{line}").unwrap();
            }
            out
        })
        .collect()
}

fn config_text(data_dir: &Path, metadata: &str, online: &str, broker: &str) -> String {
    let mut s = format!(
        "data_dir = \"{}\"\n[backends]\nmetadata_url = \"{metadata}\"\nonline_url = \"{online}\"\nbroker_url = \"{broker}\"\n[log]\nfilter = \"error\"\n",
        data_dir.display()
    );
    for i in 0..DATASETS {
        s.push_str(&format!(
            "[features.datasets.scale-{i}]\nlabel = \"target\"\ntransform = [{{ kind = \"standard_scaler\" }}]\n"
        ));
    }
    s
}

fn spawn(config: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlpipe"))
        .args(["worker", "ingest,prepare", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("ready"), "worker said {line:?}");
    child
}

async fn run(urls: &Urls, csvs: &[PathBuf], workers: usize) -> Duration {
    let schema = testkit::unique("scale").replace('-', "_");
    let prefix = testkit::unique("scale");
    let metadata = mlpipe::sql::create_pg_schema(&urls.pg, &schema)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &dir.path().join("data"),
        &metadata,
        &format!("{}?prefix={prefix}", urls.redis),
        &format!("{}?prefix={prefix}", urls.nats),
    );
    let path = dir.path().join("mlpipe.toml");
    std::fs::write(&path, &text).unwrap();
    let config = Config::from_toml_str(&text, std::iter::empty()).unwrap();
    let stores = mlpipe::open_stores(&config).await.unwrap();
    let broker = mlpipe::open_broker(&config).await.unwrap();
    let mut children: Vec<Child> = (0..workers).map(|_| spawn(&path)).collect();
    let started = Instant::now();
    for (i, csv) in csvs.iter().enumerate() {
        let source = SourceRef {
            uri: csv.display().to_string(),
            format: "csv".into(),
            options: Default::default(),
        };
        mlpipe::ingest::announce_source(broker.as_ref(), &format!("scale-{i}"), source)
            .await
            .unwrap();
    }
    loop {
        let mut done = 0;
        for i in 0..DATASETS {
            for fs in stores
                .features
                .feature_sets(Some(&format!("scale-{i}")))
                .await
                .unwrap()
            {
                done += stores.features.batches(&fs.id).await.unwrap().len();
            }
        }
        if done >= DATASETS {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "timed out with {done} of {DATASETS} feature batches"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    for c in &mut children {
        let _ = c.kill();
        let _ = c.wait();
    }
    mlpipe::sql::drop_pg_schema(&urls.pg, &schema)
        .await
        .unwrap();
    mlpipe::redis::Redis::connect_url(&format!("{}?prefix={prefix}", urls.redis))
        .await
        .unwrap()
        .delete_prefix()
        .await
        .unwrap();
    mlpipe::nats::NatsBroker::connect_url(&format!("{}?prefix={prefix}", urls.nats))
        .await
        .unwrap()
        .delete_streams()
        .await
        .unwrap();
    took
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let get = |v: &str| std::env::var(v).ok();
    let (Some(pg), Some(redis), Some(nats)) = (
        get("MLPIPE_TEST_POSTGRES_URL"),
        get("MLPIPE_TEST_REDIS_URL"),
        get("MLPIPE_TEST_NATS_URL"),
    ) else {
        eprintln!(
            "SKIPPED: set MLPIPE_TEST_POSTGRES_URL, MLPIPE_TEST_REDIS_URL and MLPIPE_TEST_NATS_URL"
        );
        return;
    };
    let urls = Urls { pg, redis, nats };
    let tmp = tempfile::tempdir().unwrap();
    let csvs = cut_csvs(tmp.path());
    let rows = (DATASETS * ROWS) as f64;
    let one = run(&urls, &csvs, 1).await;
    let two = run(&urls, &csvs, 2).await;
    println!(
        "{{\"stages\":\"ingest+prepare\",\"datasets\":{DATASETS},\"rows_each\":{ROWS},\"one_worker_s\":{:.2},\"two_workers_s\":{:.2},\"one_rows_per_s\":{:.0},\"two_rows_per_s\":{:.0},\"speed_up\":{:.2}}}",
        one.as_secs_f64(),
        two.as_secs_f64(),
        rows / one.as_secs_f64(),
        rows / two.as_secs_f64(),
        one.as_secs_f64() / two.as_secs_f64()
    );
}
