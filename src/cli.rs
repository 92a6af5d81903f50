//! The `mlpipe` command line as a library function: an application's own binary calls
//! [`main`] with its [`PipelineBuilder`] and gets every subcommand with its own parts.
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     let mut builder = mlpipe::PipelineBuilder::new();
//!     // builder.steps().register_transformer("my_step", …); builder.algorithms().register(…);
//!     mlpipe::cli::main(builder)
//! }
//! ```
//!
//! The stock `mlpipe` binary is exactly that call with the built-ins.
//!
//! # Exit codes
//! | code | meaning |
//! |---|---|
//! | 0 | done (a worker stopped by SIGTERM or Ctrl-C after finishing its events) |
//! | 1 | the command failed: configuration, a backend, a stage (the message says which) |
//! | 2 | the command line is wrong (unknown subcommand, stage or option) |

use crate::builder::PipelineBuilder;
use crate::stages::{stage, Stage, STAGES};
use clap::{Args, Parser, Subcommand};
use mlpipe_core::Config;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

/// mlpipe: production machine-learning pipelines — ingest, prepare, split, train,
/// evaluate, deploy, score, monitor.
#[derive(Debug, Parser)]
#[command(name = "mlpipe", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run pipeline stages as this process, against the backends the configuration names.
    ///
    /// Every worker of a stage joins that stage's consumer group (`mlpipe-ingest`,
    /// `mlpipe-prepare`, …), so several workers of one stage — on one machine or many —
    /// share its events (with NATS, a durable JetStream consumer per group). Prints
    /// `ready <stages>` once subscribed; on SIGTERM or Ctrl-C stops taking events,
    /// finishes those in progress and exits 0.
    Worker(WorkerArgs),
    /// Serve the models the pipeline deployed over HTTP (Open Inference Protocol v2).
    ///
    /// Reads the registry and stores the configuration names (the embedded default: what
    /// the pipeline wrote under `data_dir`), follows `model-deployed` with a subscription
    /// of its own so new versions go live without a restart, and writes every served
    /// score to the score store. Prints `serving http://ADDR` once listening; on SIGTERM or
    /// Ctrl-C finishes the requests in flight and exits 0.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on (default: `[serve] addr`, else 127.0.0.1:8080).
    #[arg(long)]
    addr: Option<std::net::SocketAddr>,
    #[command(flatten)]
    config: ConfigArg,
}

/// The configuration file every subcommand reads.
#[derive(Debug, Args)]
struct ConfigArg {
    /// Configuration file (TOML); `MLPIPE__SECTION__KEY` variables override its values.
    #[arg(short, long, env = "MLPIPE_CONFIG", default_value = "mlpipe.toml")]
    config: PathBuf,
}

#[derive(Debug, Args)]
struct WorkerArgs {
    /// Stages to run, comma- or space-separated: ingest, prepare, train, evaluate,
    /// deploy, score, monitor, or all.
    #[arg(required = true, value_delimiter = ',', num_args = 1.., value_parser = parse_stage)]
    stages: Vec<StageChoice>,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Clone, Debug)]
enum StageChoice {
    All,
    One(&'static Stage),
}

fn parse_stage(s: &str) -> Result<StageChoice, String> {
    if s == "all" {
        return Ok(StageChoice::All);
    }
    stage(s).map(StageChoice::One).ok_or_else(|| {
        let names: Vec<&str> = STAGES.iter().map(|s| s.name).collect();
        format!("unknown stage `{s}` (stages: {}, all)", names.join(", "))
    })
}

fn chosen(choices: &[StageChoice]) -> Vec<&'static Stage> {
    let mut out: Vec<&'static Stage> = Vec::new();
    for c in choices {
        let add: Vec<&'static Stage> = match c {
            StageChoice::All => STAGES.iter().collect(),
            StageChoice::One(s) => vec![*s],
        };
        for s in add {
            if !out.iter().any(|o| o.name == s.name) {
                out.push(s);
            }
        }
    }
    out
}

/// Runs the command line of this process with `builder`'s parts; returns the exit code.
pub fn main(builder: PipelineBuilder) -> ExitCode {
    main_from(builder, std::env::args_os())
}

/// Runs the command line `args` (the program name first) with `builder`'s parts.
pub fn main_from(
    builder: PipelineBuilder,
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mlpipe: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(builder, cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mlpipe: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(builder: PipelineBuilder, cli: Cli) -> crate::Result<()> {
    match cli.command {
        Command::Worker(args) => worker(builder, args).await,
        Command::Serve(args) => serve(builder, args).await,
    }
}

async fn worker(builder: PipelineBuilder, args: WorkerArgs) -> crate::Result<()> {
    let config = Config::load(&args.config.config)?;
    crate::telemetry::init_tracing(&config.log);
    let stages = chosen(&args.stages);
    let (_services, handles) = builder.start_worker(&config, &stages).await?;
    let names: Vec<&str> = stages.iter().map(|s| s.name).collect();
    println!("ready {}", names.join(","));
    stopped().await;
    tracing::info!("stopping: finishing the events in progress");
    for h in handles {
        h.shutdown().await;
    }
    Ok(())
}

async fn serve(builder: PipelineBuilder, args: ServeArgs) -> crate::Result<()> {
    let config = Config::load(&args.config.config)?;
    crate::telemetry::init_tracing(&config.log);
    let services = builder.assemble(&config).await?;
    let log = mlpipe_serve::ServedLog::start(services.stores.clone(), services.broker.clone());
    let router = std::sync::Arc::new(mlpipe_serve::ModelRouter::new(
        services.stores.clone(),
        services.cache.clone(),
        Some(log.clone()),
    ));
    let follow = router
        .clone()
        .follow_deployments(
            services.broker.clone(),
            &crate::pipeline::router_group(),
            config.broker.subscribe_options(),
        )
        .await?;
    let mut serve_config = services.config.serve.clone();
    if let Some(a) = args.addr {
        serve_config.addr = a;
    }
    let state = mlpipe_serve::ServerState::new(router, services.stores.clone());
    let server = mlpipe_serve::ScoringServer::start(state, &serve_config).await?;
    println!("serving http://{}", server.local_addr());
    stopped().await;
    tracing::info!("stopping: finishing the requests in flight");
    server.shutdown().await;
    follow.shutdown().await;
    log.flush().await;
    Ok(())
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("mlpipe").chain(s.split_whitespace()))
    }

    #[test]
    fn stages_and_config_are_read() {
        let Command::Worker(a) = parse("worker ingest,prepare train --config x.toml")
            .unwrap()
            .command
        else {
            panic!("not the worker")
        };
        let names: Vec<&str> = chosen(&a.stages).iter().map(|s| s.name).collect();
        assert_eq!(names, ["ingest", "prepare", "train"]);
        assert_eq!(a.config.config.to_str(), Some("x.toml"));
        let Command::Worker(a) = parse("worker all,ingest").unwrap().command else {
            panic!("not the worker")
        };
        let Command::Serve(s) = parse("serve --addr 127.0.0.1:9000").unwrap().command else {
            panic!("not serve")
        };
        assert_eq!(s.addr.map(|a| a.port()), Some(9000));
        assert_eq!(chosen(&a.stages).len(), STAGES.len());
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(parse("worker").is_err());
        let e = parse("worker bake").unwrap_err().to_string();
        assert!(
            e.contains("unknown stage `bake`") && e.contains("prepare"),
            "{e}"
        );
        assert!(parse("serve --addr nowhere").is_err());
        assert!(parse("serve").is_ok());
        assert!(parse("worker ingest --config").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
