//! The `mlpipe` command: `mlpipe worker <stage>[,<stage>…] [--config FILE]` runs pipeline
//! stages as their own process against the backends the configuration names.
//!
//! Every worker of a stage joins that stage's consumer group (`mlpipe-ingest`,
//! `mlpipe-prepare`, …), so several workers of one stage — on one machine or many — share
//! its events (with NATS, a durable JetStream consumer per group). Any number of stages can
//! run in one process. Stages: `ingest`, `prepare`, `train`, `evaluate`, `deploy`, `score`,
//! `monitor`, or `all`.
//!
//! The worker prints `ready <stages>` once subscribed, and on SIGTERM or Ctrl-C stops
//! taking events, finishes those in progress and exits.

#![forbid(unsafe_code)]

use mlpipe::core::broker::Broker;
use mlpipe::core::service::ServiceHandle;
use mlpipe::core::store::Stores;
use mlpipe::core::Config;
use mlpipe::eval::EvaluationService;
use mlpipe::features::{PreparationService, StepRegistry};
use mlpipe::ingest::IngestionService;
use mlpipe::models::{Algorithms, TrainingService};
use mlpipe::monitor::MonitoringService;
use mlpipe::serve::{BatchScoringService, Deployer, ModelCache};
use mlpipe::StageConfig;
use std::path::PathBuf;
use std::sync::Arc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const STAGES: &[&str] = &[
    "ingest", "prepare", "train", "evaluate", "deploy", "score", "monitor",
];

const USAGE: &str = "usage: mlpipe worker <stage>[,<stage>...] [--config FILE]
stages: ingest, prepare, train, evaluate, deploy, score, monitor, all
The configuration (default mlpipe.toml, or MLPIPE_CONFIG) names the backends:
  [backends] metadata_url = \"postgres://...\", online_url = \"redis://...\", broker_url = \"nats://...\"";

/// What the command line asked for.
struct Args {
    stages: Vec<String>,
    config: PathBuf,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("worker") => {}
        Some("--help") | Some("-h") | None => return Err(USAGE.into()),
        Some(other) => return Err(format!("unknown command `{other}`\n{USAGE}")),
    }
    let mut stages = Vec::new();
    let mut config = std::env::var("MLPIPE_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("mlpipe.toml"));
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" | "-c" => {
                config = it
                    .next()
                    .map(PathBuf::from)
                    .ok_or_else(|| format!("--config needs a file\n{USAGE}"))?;
            }
            list => {
                for s in list.split(',').filter(|s| !s.is_empty()) {
                    if s == "all" {
                        stages.extend(STAGES.iter().map(|s| s.to_string()));
                    } else if STAGES.contains(&s) {
                        stages.push(s.to_string());
                    } else {
                        return Err(format!("unknown stage `{s}`\n{USAGE}"));
                    }
                }
            }
        }
    }
    stages.dedup();
    if stages.is_empty() {
        return Err(format!("name at least one stage\n{USAGE}"));
    }
    Ok(Args { stages, config })
}

/// Starts `stages` on the given backends.
async fn start(
    stages: &[String],
    config: &Config,
    stores: Stores,
    broker: Arc<dyn Broker>,
) -> Result<Vec<ServiceHandle>, BoxError> {
    let stage_config = StageConfig::from_config(config)?;
    let options = config.broker.subscribe_options();
    let algorithms = Arc::new(Algorithms::builtin());
    let steps = Arc::new(StepRegistry::builtin());
    let cache = ModelCache::new(stores.clone(), algorithms.clone(), steps.clone());
    let mut handles = Vec::new();
    for stage in stages {
        let o = options.clone();
        match stage.as_str() {
            "ingest" => {
                // Scheduled announcements carry ids named after their tick, so every
                // ingest worker may run them without ingesting a tick twice.
                handles.extend(mlpipe::ingest::start_schedules(
                    broker.clone(),
                    &stage_config.ingest.schedules,
                )?);
                handles.push(
                    Arc::new(IngestionService::new(
                        stores.clone(),
                        broker.clone(),
                        stage_config.ingest.clone(),
                    ))
                    .start(o)
                    .await?,
                )
            }
            "prepare" => handles.push(
                Arc::new(PreparationService::new(
                    stores.clone(),
                    broker.clone(),
                    steps.clone(),
                    stage_config.features.clone(),
                ))
                .start(o)
                .await?,
            ),
            "train" => {
                let train = Arc::new(TrainingService::new(
                    stores.clone(),
                    broker.clone(),
                    algorithms.clone(),
                    stage_config.training.clone(),
                ));
                handles.extend(train.start_schedules()?);
                handles.push(train.start(o).await?);
            }
            "evaluate" => handles.push(
                Arc::new(EvaluationService::new(
                    stores.clone(),
                    broker.clone(),
                    algorithms.clone(),
                    stage_config.evaluation.clone(),
                ))
                .start(o)
                .await?,
            ),
            "deploy" => handles.push(
                Arc::new(Deployer::new(stores.clone(), broker.clone(), cache.clone()))
                    .start(o)
                    .await?,
            ),
            "score" => handles.push(
                Arc::new(BatchScoringService::new(
                    stores.clone(),
                    broker.clone(),
                    cache.clone(),
                ))
                .start(o)
                .await?,
            ),
            "monitor" => handles.extend(
                Arc::new(MonitoringService::new(stores.clone(), broker.clone()))
                    .start(o)
                    .await?,
            ),
            other => return Err(format!("unknown stage `{other}`").into()),
        }
    }
    Ok(handles)
}

async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn run(args: Args) -> Result<(), BoxError> {
    let config = Config::load(&args.config)?;
    mlpipe::core::telemetry::init_tracing(&config.log);
    let stores = mlpipe::open_stores(&config).await?;
    let broker = mlpipe::open_broker(&config).await?;
    let handles = start(&args.stages, &config, stores, broker).await?;
    println!("ready {}", args.stages.join(","));
    stopped().await;
    tracing::info!("stopping: finishing the events in progress");
    for h in handles {
        h.shutdown().await;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&argv) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mlpipe worker: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_args;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn stages_and_config_are_read() {
        let a = parse_args(&args("worker ingest,prepare train --config x.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.stages, vec!["ingest", "prepare", "train"]);
        assert_eq!(a.config.to_str(), Some("x.toml"));
        assert_eq!(
            parse_args(&args("worker all")).map(|a| a.stages.len()).ok(),
            Some(7)
        );
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(parse_args(&args("worker")).is_err());
        assert!(parse_args(&args("worker bake")).is_err());
        assert!(parse_args(&args("serve")).is_err());
        assert!(parse_args(&args("worker ingest --config")).is_err());
    }
}
