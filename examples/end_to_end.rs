//! The whole pipeline on the breast-cancer data, on the embedded default backends
//! (Parquet + SQLite under `mlpipe-data/`, in-process broker), driven only by events:
//!
//! source-data-available → ingest → prepare → split + train → evaluate → deploy →
//! batch score, followed through `Pipeline::follow` (each stage's outcome as it happens);
//! then online scoring through the model router and a monitoring summary.
//!
//! Run it with `cargo run --release --example end_to_end`; run it again and it ingests a
//! new batch next to the first one.

use mlpipe::core::broker::{Broker, BrokerExt, SubscribeOptions, Subscription};
use mlpipe::core::events::{Event, SourceRef, Topic};
use mlpipe::core::store::ModelRegistryExt;
use mlpipe::core::{Config, Envelope, Row};
use mlpipe::serve::ScoreRequest;
use mlpipe::{Pipeline, RunEnd, StageOutcome};
use std::path::{Path, PathBuf};
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const DATASET: &str = "breast-cancer";

/// Listens to every topic under its own consumer group, so it sees what the stages do.
struct Observer {
    subs: Vec<(Topic, Box<dyn Subscription>)>,
}

impl Observer {
    async fn new(broker: &dyn Broker) -> Result<Self, BoxError> {
        let mut subs = Vec::new();
        for t in Topic::ALL {
            subs.push((
                t,
                broker
                    .subscribe_topic(t, "example-observer", SubscribeOptions::default())
                    .await?,
            ));
        }
        Ok(Self { subs })
    }

    /// The next event on `topic` within `wait`.
    async fn next(&mut self, topic: Topic, wait: Duration) -> Result<Option<Envelope>, BoxError> {
        let sub = &mut self
            .subs
            .iter_mut()
            .find(|(t, _)| *t == topic)
            .ok_or("unknown topic")?
            .1;
        match tokio::time::timeout(wait, sub.next()).await {
            Err(_) => Ok(None),
            Ok(d) => {
                let d = d?.ok_or("broker closed")?;
                let env = d.message.envelope()?;
                d.ack().await?;
                Ok(Some(env))
            }
        }
    }

    async fn expect(&mut self, topic: Topic) -> Result<Envelope, BoxError> {
        self.next(topic, Duration::from_secs(120))
            .await?
            .ok_or_else(|| format!("no {topic} event within two minutes").into())
    }
}

/// Runs the example with the configuration in `config_path`, data under `data_dir`, the
/// Draws the ingestion's progress (a bar over the source's bytes when the source knows
/// its size, rows, bad rows, rows/s) on one terminal line until the batch is done.
async fn progress_line(mut rx: tokio::sync::watch::Receiver<mlpipe::ingest::IngestProgress>) {
    use std::io::Write;
    while rx.changed().await.is_ok() {
        let p = rx.borrow_and_update().clone();
        let bar = match p.source_position {
            Some((read, Some(total))) if total > 0 => {
                let filled = (20 * read.min(total) / total) as usize;
                format!(
                    "[{}{}] {:>3}% ",
                    "#".repeat(filled),
                    "-".repeat(20 - filled),
                    100 * read.min(total) / total
                )
            }
            _ => String::new(),
        };
        eprint!(
            "\r[ingest]    {bar}{} rows, {} bad, {:.0} rows/s, {:.1} MB",
            p.rows,
            p.bad_rows,
            p.rows_per_sec,
            p.bytes as f64 / 1e6
        );
        let _ = std::io::stderr().flush();
        if p.done {
            eprintln!(" — done");
            return;
        }
    }
}

/// CSV at `csv`. Returns the accuracy of the logistic candidate on the held-out rows.
pub async fn run(config_path: &Path, data_dir: &Path, csv: &Path) -> Result<f64, BoxError> {
    let mut config = Config::load(config_path)?;
    config.data_dir = data_dir.to_path_buf();
    println!("mlpipe end-to-end example — data in {}", data_dir.display());

    let pipeline = Pipeline::start(&config).await?;
    let mut obs = Observer::new(pipeline.broker.as_ref()).await?;

    // 1. A producer announces the file; everything after happens on events.
    let source = SourceRef {
        uri: csv.display().to_string(),
        format: "csv".into(),
        options: Default::default(),
    };
    let progress = tokio::spawn(progress_line(pipeline.ingest.progress()));
    // `follow` announces the source and reports what each stage did for this run, in
    // order, until a version is live (or evaluation keeps the one deployed, or a stage
    // fails: then `outcome` is that stage's error).
    let mut run = pipeline.follow(DATASET, source).await?;
    let mut candidates = Vec::new();
    let mut logistic_accuracy = f64::NAN;
    while let Some(outcome) = run.next().await {
        let event = match outcome {
            StageOutcome::Completed { event, .. } => event.event,
            StageOutcome::Failed { stage, reason, .. } => {
                println!("[{stage}]  failed: {reason}");
                continue;
            }
        };
        match event {
            Event::RawDataExtracted(raw) => {
                println!(
                    "[ingest]    batch {} — {} rows stored, {} quarantined",
                    raw.batch_id, raw.rows, raw.quarantined
                );
                let batches = pipeline.stores.raw.list(Some(DATASET)).await?;
                println!(
                    "            {} raw batch(es) of {DATASET} in the store",
                    batches.len()
                );
            }
            Event::FeaturesGenerated(f) => {
                let fs = pipeline
                    .stores
                    .features
                    .feature_set(&f.feature_set_id)
                    .await?;
                println!(
                    "[prepare]   feature set {} — {} rows × {} features (label `{}`)",
                    f.feature_set_id,
                    f.rows,
                    fs.feature_names.len(),
                    fs.label.unwrap_or_default()
                );
            }
            Event::ModelTrained(t) => {
                let split = pipeline.stores.lineage.split(&t.split_id).await?;
                println!(
                    "[split]     {} ({} {}) — {} training rows, {} evaluation rows",
                    split.id,
                    split.strategy,
                    split.params,
                    split.train.len(),
                    split.test.len()
                );
                for m in &t.candidates {
                    let rec = pipeline.stores.registry.get(m).await?;
                    println!(
                        "[train]     {m} — {} in {:.1} ms",
                        rec.kind,
                        rec.training["fit_ms"].as_f64().unwrap_or(f64::NAN)
                    );
                }
                for (name, why) in &t.failed {
                    println!("[train]     candidate {name} failed: {why}");
                }
                candidates = t.candidates;
            }
            Event::ModelReady(_) | Event::ModelRejected(_) => {
                logistic_accuracy = print_evaluation(&pipeline, &candidates).await?;
                match event {
                    Event::ModelReady(r) => println!(
                        "[evaluate]  chosen: {} ({} {:.4})",
                        r.model, r.metric, r.value
                    ),
                    Event::ModelRejected(r) => println!(
                        "[evaluate]  no candidate replaces the deployed model: {}",
                        r.reasons.join("; ")
                    ),
                    _ => {}
                }
            }
            Event::ModelDeployed(d) => {
                let live = pipeline
                    .stores
                    .registry
                    .live(&d.model.model)
                    .await?
                    .ok_or("no live set")?;
                let live: Vec<String> = live.live.iter().map(|v| v.to_string()).collect();
                println!(
                    "[deploy]    {} is live as default (live versions: {})",
                    d.model,
                    live.join(", ")
                );
            }
            _ => {}
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), progress).await;
    if let RunEnd::Deployed(_) = run.outcome().await? {
        let Event::ScoresGenerated(s) = obs.expect(Topic::ScoresGenerated).await?.event else {
            return Err("unexpected event".into());
        };
        let stored = pipeline.stores.scores.count_run(&s.run_id).await?;
        println!(
            "[score]     batch run {} — {} rows scored, {} in the score store",
            s.run_id, s.rows, stored
        );
    }

    // 2. Online scoring: raw records in, scores out, through the live chain.
    let model = mlpipe::core::ModelId::new(DATASET);
    let live = pipeline.router.live_versions(&model).await?;
    println!(
        "[serve]     router chain: {}",
        live.iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join(" → ")
    );
    let rows = sample_rows(csv, 5).await?;
    for (i, (row, truth)) in rows.into_iter().enumerate() {
        let resp = pipeline
            .router
            .score(ScoreRequest {
                request_id: None,
                model: model.clone(),
                version: None,
                features: row,
                entity_key: Some(format!("row-{i}")),
            })
            .await?;
        println!(
            "[serve]     request {} → {} class {:?} (p₁ = {:.4}, truth {truth}) in {} µs",
            i,
            resp.model,
            resp.score.class(),
            resp.score.probability_of(1).unwrap_or(f64::NAN),
            resp.latency_us
        );
    }
    // By entity key: the features come from the online store.
    let by_key = pipeline
        .router
        .score(ScoreRequest {
            request_id: None,
            model: model.clone(),
            version: None,
            features: Row::new(),
            entity_key: Some("row-7".into()),
        })
        .await?;
    println!(
        "[serve]     entity row-7 from the online store → class {:?} in {} µs",
        by_key.score.class(),
        by_key.latency_us
    );

    // 3. Monitoring sees every answer.
    pipeline.flush_served().await;
    for _ in 0..6 {
        let _ = obs
            .next(Topic::PredictionServed, Duration::from_secs(5))
            .await?;
    }
    for s in pipeline.monitor.summary() {
        println!(
            "[monitor]   {} — deployed {}, served {}, latency min {} / mean {:.1} / max {} µs, p99 ≈ {:.0} µs",
            s.model,
            s.deployed_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "earlier".into()),
            s.served,
            s.latency.min_us,
            s.latency.mean_us,
            s.latency.max_us,
            s.latency.p99_us
        );
    }
    pipeline.shutdown().await;
    Ok(logistic_accuracy)
}

/// Prints each candidate's stored metrics and the report's path; returns the accuracy of
/// the logistic candidate.
async fn print_evaluation(
    pipeline: &Pipeline,
    candidates: &[mlpipe::core::ModelRef],
) -> Result<f64, BoxError> {
    let mut logistic_accuracy = f64::NAN;
    let (mut table, mut report) = (Vec::new(), None);
    for m in candidates {
        let evals = pipeline.stores.registry.evaluations(m).await?;
        if let Some(e) = evals.last() {
            let metrics: Vec<String> = e
                .metrics
                .iter()
                .map(|(k, v)| format!("{k} {v:.4}"))
                .collect();
            println!("[evaluate]  {m} — {}", metrics.join(", "));
            if pipeline.stores.registry.get(m).await?.kind == "logistic_regression" {
                logistic_accuracy = e.metrics.get("accuracy").copied().unwrap_or(f64::NAN);
            }
            table.push((m.to_string(), e.metrics.clone()));
            report = e.details["report"].as_str().map(String::from);
        }
    }
    print!("{}", mlpipe::eval::text_table(&table, None));
    if let Some(path) = &report {
        println!("[evaluate]  report with ROC, PR, calibration and confusion plots: {path}");
    }
    Ok(logistic_accuracy)
}

/// The first `n` records of the CSV as raw rows (label removed) with their label.
async fn sample_rows(csv: &Path, n: usize) -> Result<Vec<(Row, i64)>, BoxError> {
    use mlpipe::ingest::{CsvOptions, CsvSource, Source};
    let mut src = CsvSource::new(
        csv,
        CsvOptions {
            chunk_rows: n,
            ..Default::default()
        },
    );
    let chunk = src.next_chunk().await?.ok_or("empty CSV")?;
    let mut out = Vec::new();
    for mut row in mlpipe::core::table::rows_of(&chunk.batch)?
        .into_iter()
        .take(n)
    {
        let truth = row
            .remove("target")
            .and_then(|v| v.as_f64())
            .unwrap_or(f64::NAN) as i64;
        out.push((row, truth));
    }
    Ok(out)
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    mlpipe::telemetry::init_tracing(&mlpipe::core::config::LogConfig {
        filter: "warn".into(),
        json: false,
    });
    let data_dir = std::env::var("MLPIPE__DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_path("mlpipe-data"));
    let acc = run(
        &repo_path("examples/end_to_end.toml"),
        &data_dir,
        &repo_path("data/breast_cancer.csv"),
    )
    .await?;
    println!("done — logistic regression accuracy on the held-out 30%: {acc:.4}");
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The example itself, run by `cargo test` twice on one data directory.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn example_runs_twice_on_one_data_directory() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let config = super::repo_path("examples/end_to_end.toml");
        let csv = super::repo_path("data/breast_cancer.csv");
        let acc = super::run(&config, dir.path(), &csv)
            .await
            .unwrap_or_else(|e| panic!("first run: {e}"));
        assert!(acc > 0.93, "logistic accuracy on the held-out 30%: {acc}");
        super::run(&config, dir.path(), &csv)
            .await
            .unwrap_or_else(|e| panic!("second run: {e}"));
    }
}
