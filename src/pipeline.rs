//! The whole pipeline in one process: every stage subscribed to its event, sharing one
//! broker and one set of stores.

use crate::backends::{open_broker, open_stores};
use crate::error::Result;
use mlpipe_core::broker::{Broker, SubscribeOptions};
use mlpipe_core::service::ServiceHandle;
use mlpipe_core::store::Stores;
use mlpipe_core::Config;
use mlpipe_eval::{EvaluationConfig, EvaluationService};
use mlpipe_features::{PreparationService, PrepareConfig, StepRegistry};
use mlpipe_ingest::{IngestConfig, IngestionService};
use mlpipe_models::{Algorithms, TrainingConfig, TrainingService};
use mlpipe_monitor::MonitoringService;
use mlpipe_serve::{BatchScoringService, Deployer, ModelCache, ModelRouter, ServedLog};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The stage sections of the configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StageConfig {
    /// `[ingest]`
    pub ingest: IngestConfig,
    /// `[features]`
    pub features: PrepareConfig,
    /// `[training]`
    pub training: TrainingConfig,
    /// `[evaluation]`
    pub evaluation: EvaluationConfig,
}

impl StageConfig {
    /// Reads the stage sections of `config` (absent sections take their defaults).
    pub fn from_config(config: &Config) -> Result<Self> {
        let features: PrepareConfig = config.section("features")?.unwrap_or_default();
        features.validate()?;
        Ok(Self {
            ingest: config.section("ingest")?.unwrap_or_default(),
            features,
            training: config.section("training")?.unwrap_or_default(),
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
    handles: Vec<ServiceHandle>,
    served: ServedLog,
}

impl Pipeline {
    /// Opens the backends `config` names and starts every stage.
    pub async fn start(config: &Config) -> Result<Self> {
        let stages = StageConfig::from_config(config)?;
        let stores = open_stores(config).await?;
        let broker = open_broker(config).await?;
        Self::start_with(stores, broker, stages, config.broker.subscribe_options()).await
    }

    /// Starts every stage on the given stores and broker.
    pub async fn start_with(
        stores: Stores,
        broker: Arc<dyn Broker>,
        stages: StageConfig,
        options: SubscribeOptions,
    ) -> Result<Self> {
        let algorithms = Arc::new(Algorithms::builtin());
        let steps = Arc::new(StepRegistry::builtin());
        let cache = ModelCache::new(stores.clone(), algorithms.clone(), steps.clone());
        let mut handles = Vec::new();

        // Schedules first, so they are the first handles stopped at shutdown.
        handles.extend(mlpipe_ingest::start_schedules(
            broker.clone(),
            &stages.ingest.schedules,
        )?);
        let ingest = Arc::new(IngestionService::new(
            stores.clone(),
            broker.clone(),
            stages.ingest,
        ));
        handles.push(ingest.clone().start(options.clone()).await?);
        let prepare = Arc::new(PreparationService::new(
            stores.clone(),
            broker.clone(),
            steps.clone(),
            stages.features,
        ));
        handles.push(prepare.start(options.clone()).await?);
        let train = Arc::new(TrainingService::new(
            stores.clone(),
            broker.clone(),
            algorithms.clone(),
            stages.training,
        ));
        handles.extend(train.start_schedules()?);
        handles.push(train.start(options.clone()).await?);
        let evaluate = Arc::new(EvaluationService::new(
            stores.clone(),
            broker.clone(),
            algorithms.clone(),
            stages.evaluation,
        ));
        handles.push(evaluate.start(options.clone()).await?);
        let deployer = Arc::new(Deployer::new(stores.clone(), broker.clone(), cache.clone()));
        handles.push(deployer.start(options.clone()).await?);
        let batch = Arc::new(BatchScoringService::new(
            stores.clone(),
            broker.clone(),
            cache.clone(),
        ));
        handles.push(batch.start(options.clone()).await?);
        let log = ServedLog::start(stores.clone(), broker.clone());
        let router = Arc::new(ModelRouter::new(stores.clone(), cache, Some(log.clone())));
        handles.push(
            router
                .clone()
                .follow_deployments(broker.clone(), "mlpipe-router", options.clone())
                .await?,
        );
        let monitor = Arc::new(MonitoringService::new(stores.clone(), broker.clone()));
        handles.extend(monitor.clone().start(options).await?);
        Ok(Self {
            stores,
            broker,
            router,
            monitor,
            ingest,
            algorithms,
            handles,
            served: log,
        })
    }

    /// Waits until every answer served so far is in the score store and announced.
    pub async fn flush_served(&self) {
        self.served.flush().await;
    }

    /// Flushes served-score records, then stops every stage after the work in progress.
    pub async fn shutdown(self) {
        self.served.flush().await;
        for h in self.handles {
            h.shutdown().await;
        }
    }
}
