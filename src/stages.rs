//! The table of stages — name → starter — written once. [`Pipeline`](crate::Pipeline)
//! starts every row, `mlpipe worker <stage>,…` the rows it names; both through
//! [`Services`], which builds each stage's service from the same stores, broker and
//! [`Parts`].

use crate::error::Result;
use crate::parts::Parts;
use crate::pipeline::StageConfig;
use futures::future::BoxFuture;
use mlpipe_core::broker::{Broker, SubscribeOptions};
use mlpipe_core::service::{ServiceHandle, StageExt};
use mlpipe_core::store::Stores;
use mlpipe_eval::EvaluationService;
use mlpipe_features::PreparationService;
use mlpipe_ingest::IngestionService;
use mlpipe_models::TrainingService;
use mlpipe_monitor::MonitoringService;
use mlpipe_serve::{BatchScoringService, Deployer, ModelCache};
use std::sync::Arc;

/// Every stage's service, built from one set of stores, broker and parts (building runs
/// nothing; [`STAGES`] starts them).
pub struct Services {
    /// The stores.
    pub stores: Stores,
    /// The broker.
    pub broker: Arc<dyn Broker>,
    /// The registries.
    pub parts: Parts,
    /// The cache of loaded live models (deployment validation, batch scoring, serving).
    pub cache: ModelCache,
    /// The stage configuration.
    pub config: StageConfig,
    /// Ingestion.
    pub ingest: Arc<IngestionService>,
    /// Feature preparation.
    pub prepare: Arc<PreparationService>,
    /// Training.
    pub train: Arc<TrainingService>,
    /// Evaluation.
    pub evaluate: Arc<EvaluationService>,
    /// Deployment.
    pub deploy: Arc<Deployer>,
    /// Batch scoring.
    pub score: Arc<BatchScoringService>,
    /// Monitoring.
    pub monitor: Arc<MonitoringService>,
}

impl Services {
    /// Builds every service.
    pub fn new(stores: Stores, broker: Arc<dyn Broker>, parts: Parts, config: StageConfig) -> Self {
        let cache = ModelCache::new(
            stores.clone(),
            parts.algorithms.clone(),
            parts.steps.clone(),
        );
        let ingest = Arc::new(IngestionService::new(
            stores.clone(),
            broker.clone(),
            config.ingest.clone(),
        ));
        let prepare = Arc::new(
            PreparationService::new(
                stores.clone(),
                broker.clone(),
                parts.steps.clone(),
                config.features.clone(),
            )
            .with_splits(parts.splits.clone()),
        );
        let train = Arc::new(
            TrainingService::new(
                stores.clone(),
                broker.clone(),
                parts.algorithms.clone(),
                config.training.clone(),
            )
            .with_splits(parts.splits.clone()),
        );
        let evaluate = Arc::new(
            EvaluationService::new(
                stores.clone(),
                broker.clone(),
                parts.algorithms.clone(),
                config.evaluation.clone(),
            )
            .with_evaluators(parts.evaluators.clone())
            .with_splits(parts.splits.clone()),
        );
        let deploy = Arc::new(Deployer::new(stores.clone(), broker.clone(), cache.clone()));
        let score = Arc::new(BatchScoringService::new(
            stores.clone(),
            broker.clone(),
            cache.clone(),
        ));
        let monitor = Arc::new(MonitoringService::new(stores.clone(), broker.clone()));
        Self {
            stores,
            broker,
            parts,
            cache,
            config,
            ingest,
            prepare,
            train,
            evaluate,
            deploy,
            score,
            monitor,
        }
    }
}

/// Starts one stage: subscribes its handlers (and its schedules) and returns their handles.
pub type Starter =
    for<'a> fn(&'a Services, SubscribeOptions) -> BoxFuture<'a, Result<Vec<ServiceHandle>>>;

/// A row of the stage table.
#[derive(Clone, Copy)]
pub struct Stage {
    /// Its name on the command line (`mlpipe worker <name>`).
    pub name: &'static str,
    /// What it does, for `--help`.
    pub about: &'static str,
    /// How it starts.
    pub start: Starter,
}

impl std::fmt::Debug for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

fn ingest(s: &Services, o: SubscribeOptions) -> BoxFuture<'_, Result<Vec<ServiceHandle>>> {
    Box::pin(async move {
        // Scheduled announcements carry ids named after their tick, so every ingest
        // worker may run them without ingesting a tick twice.
        let mut h = mlpipe_ingest::start_schedules(s.broker.clone(), &s.config.ingest.schedules)?;
        h.push(s.ingest.clone().start(o).await?);
        Ok(h)
    })
}

fn prepare(s: &Services, o: SubscribeOptions) -> BoxFuture<'_, Result<Vec<ServiceHandle>>> {
    Box::pin(async move { Ok(vec![s.prepare.clone().start(o).await?]) })
}

fn train(s: &Services, o: SubscribeOptions) -> BoxFuture<'_, Result<Vec<ServiceHandle>>> {
    Box::pin(async move {
        let mut h = s.train.clone().start_schedules()?;
        h.push(s.train.clone().start(o).await?);
        Ok(h)
    })
}

fn evaluate(s: &Services, o: SubscribeOptions) -> BoxFuture<'_, Result<Vec<ServiceHandle>>> {
    Box::pin(async move { Ok(vec![s.evaluate.clone().start(o).await?]) })
}

fn deploy(s: &Services, o: SubscribeOptions) -> BoxFuture<'_, Result<Vec<ServiceHandle>>> {
    Box::pin(async move { Ok(vec![s.deploy.clone().start(o).await?]) })
}

fn score(s: &Services, o: SubscribeOptions) -> BoxFuture<'_, Result<Vec<ServiceHandle>>> {
    Box::pin(async move { Ok(vec![s.score.clone().start(o).await?]) })
}

fn monitor(s: &Services, o: SubscribeOptions) -> BoxFuture<'_, Result<Vec<ServiceHandle>>> {
    Box::pin(async move { Ok(vec![s.monitor.clone().start(o).await?]) })
}

/// Every stage, in pipeline order. Schedules start with their stage (ingest, train), and
/// being first they are stopped first at shutdown.
pub const STAGES: &[Stage] = &[
    Stage {
        name: "ingest",
        about: "source-data-available → raw batch → raw-data-extracted (and ingest schedules)",
        start: ingest,
    },
    Stage {
        name: "prepare",
        about: "raw-data-extracted → feature set → features-generated",
        start: prepare,
    },
    Stage {
        name: "train",
        about: "features-generated → candidates → model-trained (and training schedules)",
        start: train,
    },
    Stage {
        name: "evaluate",
        about: "model-trained → metrics and selection → model-ready",
        start: evaluate,
    },
    Stage {
        name: "deploy",
        about: "model-ready → validation gate → live version → model-deployed",
        start: deploy,
    },
    Stage {
        name: "score",
        about: "model-deployed → batch scores → scores-generated",
        start: score,
    },
    Stage {
        name: "monitor",
        about: "prediction-served → serving statistics",
        start: monitor,
    },
];

/// The stage called `name`.
pub fn stage(name: &str) -> Option<&'static Stage> {
    STAGES.iter().find(|s| s.name == name)
}

/// Starts `stages` in table order (each once), and beside them the audit of dead letters
/// ([`crate::dead_letters`]); stops those already started if one fails to start.
pub async fn start_stages(
    services: &Services,
    stages: &[&'static Stage],
    options: &SubscribeOptions,
) -> Result<Vec<ServiceHandle>> {
    let mut handles = vec![
        crate::dead_letters::start(
            services.broker.clone(),
            services.stores.lineage.clone(),
            options.clone(),
        )
        .await?,
    ];
    for row in STAGES {
        if !stages.iter().any(|s| s.name == row.name) {
            continue;
        }
        match (row.start)(services, options.clone()).await {
            Ok(h) => handles.extend(h),
            Err(e) => {
                for h in handles {
                    h.shutdown().await;
                }
                return Err(e);
            }
        }
    }
    Ok(handles)
}
