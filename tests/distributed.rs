//! Distributed mode end to end: workers as separate processes (`mlpipe worker …`) against
//! PostgreSQL, Redis and NATS JetStream on loopback. Several datasets go through the whole
//! pipeline while one of two ingest+prepare workers is killed with SIGKILL and restarted;
//! the stores then show every batch processed exactly once in effect (one raw batch and one
//! feature batch per dataset, no duplicate rows, one model version per candidate, a live
//! deployment, batch scores), and the dead-letter topics hold only the message made to
//! fail on purpose. Without the MLPIPE_TEST_*_URL variables it says so and passes.
//! `examples/distributed/run.sh` runs it with the servers of `.ci/run`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Says loudly that a test did not run: straight to the process's stderr, which the test
/// harness does not capture (it captures `eprintln!`).
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use mlpipe::core::broker::{dead_letter_topic, Message, SubscribeOptions};
use mlpipe::core::events::{SourceRef, Topic};
use mlpipe::core::store::{ModelRegistryExt, Stores};
use mlpipe::core::{testkit, Config, ModelId};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// (dataset, csv file, rows, candidates)
const DATASETS: &[(&str, &str, usize, usize)] = &[
    ("breast-cancer", "breast_cancer.csv", 569, 2),
    ("iris", "iris.csv", 150, 1),
    ("wine", "wine.csv", 178, 1),
];

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn config_text(data_dir: &Path, metadata: &str, online: &str, broker: &str) -> String {
    format!(
        r#"
data_dir = "{data_dir}"

[backends]
metadata_url = "{metadata}"
online_url = "{online}"
broker_url = "{broker}"

[broker]
max_deliveries = 5
ack_wait_ms = 10000
backoff_ms = [200, 500]

[log]
filter = "warn"

[features.datasets.breast-cancer]
label = "target"
transform = [{{ kind = "standard_scaler" }}]

[features.datasets.iris]
label = "target"

[features.datasets.wine]
label = "target"
transform = [{{ kind = "standard_scaler" }}]

[training.datasets.breast-cancer]
split = {{ strategy = "random", train_ratio = 0.7, seed = 42 }}
candidates = [
    {{ name = "logistic", kind = "logistic_regression", params = {{ C = 1.0 }} }},
    {{ name = "tree", kind = "decision_tree", params = {{ max_depth = 5 }} }},
]

[training.datasets.iris]
split = {{ strategy = "random", train_ratio = 0.7, seed = 42 }}
candidates = [{{ name = "tree", kind = "decision_tree", params = {{ max_depth = 4 }} }}]

[training.datasets.wine]
split = {{ strategy = "random", train_ratio = 0.7, seed = 42 }}
candidates = [{{ name = "tree", kind = "decision_tree", params = {{ max_depth = 4 }} }}]

[evaluation]
metrics = ["accuracy"]

[evaluation.selection]
metric = "accuracy"
"#,
        data_dir = data_dir.display()
    )
}

/// Worker processes, killed when dropped (also when the test fails).
struct Workers {
    config: PathBuf,
    logs: PathBuf,
    children: Vec<(String, Child)>,
}

impl Workers {
    fn spawn(&mut self, name: &str, stages: &str) {
        let log = std::fs::File::create(self.logs.join(format!("{name}.log"))).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mlpipe"))
            .args(["worker", stages, "--config"])
            .arg(&self.config)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("ready") {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            let log = std::fs::read_to_string(self.logs.join(format!("{name}.log")));
            panic!("worker {name} did not become ready: {log:?}");
        }
        self.children.push((name.to_string(), child));
    }

    /// SIGKILL (no clean-up, no acks) for the worker named `name`.
    fn kill(&mut self, name: &str) {
        let i = self.children.iter().position(|(n, _)| n == name).unwrap();
        let (_, mut child) = self.children.remove(i);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for (n, _) in &self.children {
            let text =
                std::fs::read_to_string(self.logs.join(format!("{n}.log"))).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            out.push_str(&format!(
                "--- {n}\n{}\n",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        out
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Polls until every dataset has a live model and batch scores, or `limit` passes.
async fn wait_done(stores: &Stores, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        let mut done = true;
        for (ds, ..) in DATASETS {
            let live = stores
                .registry
                .live(&ModelId::new(*ds))
                .await
                .ok()
                .flatten();
            done &= live.is_some();
        }
        if done {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_survive_a_sigkill_and_process_every_batch_once() {
    let get = |v: &str| std::env::var(v).ok();
    let (Some(pg), Some(redis), Some(nats)) = (
        get("MLPIPE_TEST_POSTGRES_URL"),
        get("MLPIPE_TEST_REDIS_URL"),
        get("MLPIPE_TEST_NATS_URL"),
    ) else {
        skipped!("SKIPPED: distributed workers: set MLPIPE_TEST_POSTGRES_URL, MLPIPE_TEST_REDIS_URL and MLPIPE_TEST_NATS_URL");
        return;
    };
    let schema = testkit::unique("dist").replace('-', "_");
    let prefix = testkit::unique("dist");
    let metadata = mlpipe::sql::create_pg_schema(&pg, &schema).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("mlpipe.toml");
    let text = config_text(
        &dir.path().join("data"),
        &metadata,
        &format!("{redis}?prefix={prefix}"),
        &format!("{nats}?prefix={prefix}"),
    );
    std::fs::write(&config_path, &text).unwrap();
    let config = Config::from_toml_str(&text, std::iter::empty()).unwrap();
    let stores = mlpipe::open_stores(&config).await.unwrap();
    let broker = mlpipe::open_broker(&config).await.unwrap();

    let mut workers = Workers {
        config: config_path,
        logs: dir.path().to_path_buf(),
        children: Vec::new(),
    };
    // One front worker at first, so it is the one holding work when it is killed.
    workers.spawn("front-a", "ingest,prepare");
    workers.spawn("back", "train,evaluate,deploy,score,monitor");

    // Dead-letter inspectors exist from the start (dead letters are kept regardless).
    let mut inspectors = Vec::new();
    for t in Topic::ALL {
        inspectors.push(
            broker
                .subscribe(
                    &dead_letter_topic(t.as_str()),
                    "verify",
                    SubscribeOptions::default(),
                )
                .await
                .unwrap(),
        );
    }

    // A message made to fail on purpose: not an event.
    let poison = Message::new(Topic::SourceDataAvailable.as_str(), "this is not an event");
    broker.publish(poison.clone()).await.unwrap();
    for (ds, csv, ..) in DATASETS {
        let source = SourceRef {
            uri: repo(&format!("data/{csv}")).display().to_string(),
            format: "csv".into(),
            options: Default::default(),
        };
        mlpipe::ingest::announce_source(broker.as_ref(), ds, source)
            .await
            .unwrap();
    }
    // Kill the front worker as soon as its first raw batch is stored: it is then in the
    // middle of the work (preparing that batch's features, or ingesting the next dataset).
    let started = Instant::now();
    while stores.raw.list(None).await.unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no batch ingested:\n{}",
            workers.logs()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    workers.kill("front-a");
    let raw_at_kill = stores.raw.list(None).await.unwrap().len();
    let mut features_at_kill = 0;
    for (ds, ..) in DATASETS {
        features_at_kill += stores.features.feature_sets(Some(ds)).await.unwrap().len();
    }
    eprintln!(
        "killed front-a (SIGKILL) with {raw_at_kill} of {} raw batches and {features_at_kill} feature sets stored",
        DATASETS.len()
    );
    assert!(
        raw_at_kill < DATASETS.len() || features_at_kill < DATASETS.len(),
        "the worker was killed after all the work was done"
    );
    // Two front workers share the rest, the restarted one and a new one.
    workers.spawn("front-a2", "ingest,prepare");
    workers.spawn("front-b", "ingest,prepare");

    let done = wait_done(&stores, Duration::from_secs(240)).await;
    assert!(
        done,
        "not every dataset got a live model; worker logs:\n{}",
        workers.logs()
    );
    // Let redeliveries of anything the killed worker held run out.
    tokio::time::sleep(Duration::from_secs(12)).await;

    for (ds, _, rows, candidates) in DATASETS {
        let raws = stores.raw.list(Some(ds)).await.unwrap();
        assert_eq!(
            raws.len(),
            1,
            "{ds}: one raw batch, not lost, not duplicated"
        );
        let batch = &raws[0].id;
        let raw_rows: usize = stores
            .raw
            .read(batch)
            .await
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert_eq!(raw_rows, *rows, "{ds}: no duplicate or missing raw rows");
        let sets = stores.features.feature_sets(Some(ds)).await.unwrap();
        assert_eq!(sets.len(), 1, "{ds}: one feature set");
        assert_eq!(
            stores.features.batches(&sets[0].id).await.unwrap(),
            vec![batch.clone()]
        );
        let feature_rows: usize = stores
            .features
            .read(&sets[0].id, None)
            .await
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert_eq!(feature_rows, *rows, "{ds}: no duplicate feature rows");
        let versions = stores.registry.versions(&ModelId::new(*ds)).await.unwrap();
        assert_eq!(
            versions.len(),
            *candidates,
            "{ds}: one model version per candidate"
        );
        let live = stores
            .registry
            .live(&ModelId::new(*ds))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            live.live.len(),
            1,
            "{ds}: first deployment has one live version"
        );
    }

    // Only the poison message is dead.
    let mut dead = Vec::new();
    for sub in &mut inspectors {
        while let Some(d) = testkit::broker::next_within(sub, Duration::from_millis(700)).await {
            dead.push(d.message.clone());
            d.ack().await.unwrap();
        }
    }
    assert_eq!(dead.len(), 1, "dead letters: {dead:?}");
    assert_eq!(dead[0].id, poison.id);
    assert_eq!(
        dead[0].headers.get("mlpipe-attempts").map(String::as_str),
        Some("1")
    );

    drop(workers);
    mlpipe::sql::drop_pg_schema(&pg, &schema).await.unwrap();
    mlpipe::redis::Redis::connect_url(&format!("{redis}?prefix={prefix}"))
        .await
        .unwrap()
        .delete_prefix()
        .await
        .unwrap();
    mlpipe::nats::NatsBroker::connect_url(&format!("{nats}?prefix={prefix}"))
        .await
        .unwrap()
        .delete_streams()
        .await
        .unwrap();
}

#[test]
fn a_worker_whose_broker_is_unreachable_exits_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mlpipe.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n[backends]\nmetadata_url = \"memory://\"\ndata_url = \"memory://\"\nonline_url = \"memory://\"\nbroker_url = \"nats://127.0.0.1:1\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mlpipe"))
        .args(["worker", "ingest", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nats") && stderr.contains("127.0.0.1:1"),
        "the error names the broker: {stderr}"
    );
    let usage = Command::new(env!("CARGO_BIN_EXE_mlpipe"))
        .args(["worker", "bake"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("unknown stage `bake`"));
}
