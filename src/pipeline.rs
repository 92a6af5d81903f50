//! The whole pipeline in one process: every stage of the [stage table](crate::stages)
//! subscribed to its event, sharing one broker, one set of stores and one set of parts,
//! plus in-process serving (the model router following deployments).

use crate::builder::PipelineBuilder;
use crate::error::Result;
use crate::parts::Parts;
use crate::run::{RunEnd, RunHandle, Runs};
use crate::stages::{start_stages, Services, STAGES};
use mlpipe_core::broker::{Broker, SubscribeOptions};
use mlpipe_core::events::SourceRef;
use mlpipe_core::service::ServiceHandle;
use mlpipe_core::store::Stores;
use mlpipe_core::{Config, Error as CoreError};
use mlpipe_eval::EvaluationConfig;
use mlpipe_features::PrepareConfig;
use mlpipe_ingest::{IngestConfig, IngestionService};
use mlpipe_models::{Algorithms, TrainingConfig};
use mlpipe_monitor::MonitoringService;
use mlpipe_serve::{ModelRouter, ScoringServer, ServeConfig, ServedLog, ServerState};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The configuration sections the stages read (besides `data_dir`, `[backends]`,
/// `[broker]` and `[log]`, which the core reads).
pub const SECTIONS: &[&str] = &["ingest", "features", "training", "evaluation", "serve"];

/// The stage sections of the configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageConfig {
    /// `[ingest]`
    pub ingest: IngestConfig,
    /// `[features]`
    pub features: PrepareConfig,
    /// `[training]`
    pub training: TrainingConfig,
    /// `[evaluation]`
    pub evaluation: EvaluationConfig,
    /// `[serve]`
    pub serve: ServeConfig,
}

impl StageConfig {
    /// Reads the stage sections of `config` (absent sections take their defaults).
    /// An unknown section (a misspelt `[trainig]`) is an error naming the known ones.
    pub fn from_config(config: &Config) -> Result<Self> {
        if let Some(unknown) = config
            .sections
            .keys()
            .find(|k| !SECTIONS.contains(&k.as_str()))
        {
            return Err(CoreError::Config(format!(
                "unknown configuration section `{unknown}` (known: data_dir, backends, broker, log, {})",
                SECTIONS.join(", ")
            ))
            .into());
        }
        let features: PrepareConfig = config.section("features")?.unwrap_or_default();
        features.validate()?;
        Ok(Self {
            ingest: config.section("ingest")?.unwrap_or_default(),
            features,
            training: config.section("training")?.unwrap_or_default(),
            serve: config.section("serve")?.unwrap_or_default(),
            evaluation: {
                let mut e: EvaluationConfig = config.section("evaluation")?.unwrap_or_default();
                // Evaluation reports go under the data directory unless configured.
                if e.reports_dir.is_none() {
                    e.reports_dir = Some(config.data_dir.join("reports"));
                }
                e
            },
        })
    }
}

/// Every stage, running.
pub struct Pipeline {
    /// The stores.
    pub stores: Stores,
    /// The broker.
    pub broker: Arc<dyn Broker>,
    /// Online scoring.
    pub router: Arc<ModelRouter>,
    /// Serving statistics.
    pub monitor: Arc<MonitoringService>,
    /// Direct ingestion (the API trigger).
    pub ingest: Arc<IngestionService>,
    /// Model kinds.
    pub algorithms: Arc<Algorithms>,
    /// Every registry the stages share.
    pub parts: Parts,
    /// The stage configuration the stages run with.
    pub config: StageConfig,
    handles: Vec<ServiceHandle>,
    served: ServedLog,
    runs: tokio::sync::OnceCell<Arc<Runs>>,
}

impl Pipeline {
    /// Opens the backends `config` names and starts every stage with the built-in parts
    /// (`PipelineBuilder::new().start(config)`).
    pub async fn start(config: &Config) -> Result<Self> {
        PipelineBuilder::new().start(config).await
    }

    /// Starts every stage with the built-in parts on the given stores and broker.
    pub async fn start_with(
        stores: Stores,
        broker: Arc<dyn Broker>,
        stages: StageConfig,
        options: SubscribeOptions,
    ) -> Result<Self> {
        PipelineBuilder::new()
            .start_on(stores, broker, stages, options)
            .await
    }

    /// Starts every row of the stage table on `services`, and in-process serving.
    pub(crate) async fn start_services(
        services: Services,
        options: SubscribeOptions,
    ) -> Result<Self> {
        let all: Vec<_> = STAGES.iter().collect();
        let mut handles = start_stages(&services, &all, &options).await?;
        let Services {
            stores,
            broker,
            parts,
            cache,
            ingest,
            monitor,
            config,
            ..
        } = services;
        let log = ServedLog::start(stores.clone(), broker.clone());
        let router = Arc::new(ModelRouter::new(stores.clone(), cache, Some(log.clone())));
        handles.push(
            router
                .clone()
                .follow_deployments(broker.clone(), &router_group(), options)
                .await?,
        );
        Ok(Self {
            stores,
            broker,
            router,
            monitor,
            ingest,
            algorithms: parts.algorithms.clone(),
            parts,
            config,
            handles,
            served: log,
            runs: tokio::sync::OnceCell::new(),
        })
    }

    /// Serves the Open Inference Protocol v2 over HTTP on `config.addr` (port 0 picks a
    /// free port; [`ScoringServer::local_addr`] says which), through this pipeline's
    /// router: the versions it deploys are answered without a restart.
    pub async fn serve(&self, config: &ServeConfig) -> Result<ScoringServer> {
        let state = ServerState::new(self.router.clone(), self.stores.clone());
        Ok(ScoringServer::start(state, config).await?)
    }

    async fn runs(&self) -> Result<&Arc<Runs>> {
        self.runs
            .get_or_try_init(|| Runs::start(self.broker.clone()))
            .await
    }

    /// Announces `source` for `dataset` and follows the run it starts: each stage's
    /// outcome as it happens ([`RunHandle::next`]) and how it ended
    /// ([`RunHandle::outcome`]). Works on any broker, whatever process runs the stages.
    pub async fn follow(&self, dataset: &str, source: SourceRef) -> Result<RunHandle> {
        self.runs()
            .await?
            .announce(&self.config, dataset, source)
            .await
    }

    /// Announces `source` for `dataset` and waits for the end of the run: the version it
    /// deployed (or why none), or [`Error::Stage`](crate::Error::Stage) naming the stage
    /// that failed and its error.
    ///
    /// ```no_run
    /// # async fn f(pipeline: mlpipe::Pipeline) -> mlpipe::Result<()> {
    /// use mlpipe::core::events::SourceRef;
    /// let source = SourceRef { uri: "data/iris.csv".into(), format: "csv".into(), options: Default::default() };
    /// match pipeline.run("iris", source).await? {
    ///     mlpipe::RunEnd::Deployed(d) => println!("{} is live", d.model),
    ///     other => println!("nothing deployed: {other:?}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn run(&self, dataset: &str, source: SourceRef) -> Result<RunEnd> {
        self.follow(dataset, source).await?.outcome().await
    }

    /// Waits until every answer served so far is in the score store and announced.
    pub async fn flush_served(&self) {
        self.served.flush().await;
    }

    /// Flushes served-score records, then stops every stage after the work in progress.
    pub async fn shutdown(self) {
        self.served.flush().await;
        if let Some(r) = self.runs.get() {
            r.shutdown().await;
        }
        for h in self.handles {
            h.shutdown().await;
        }
    }
}

/// The consumer group a serving process follows `model-deployed` with: its own, so every
/// serving process (and every pipeline) swaps models when a version goes live, instead of
/// one of them taking each event from a shared group.
pub(crate) fn router_group() -> String {
    format!("mlpipe-router-{}", mlpipe_core::EventId::generate())
}
