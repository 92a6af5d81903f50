//! The training service: on `features-generated`, asks the segregation API for the
//! training set, trains every configured candidate concurrently (each with a timeout and
//! retries), saves them in the registry with their configuration, learned parameters,
//! training-set metadata and timings, and publishes `model-trained`.

use crate::algorithms::Algorithms;
use crate::error::{ModelError, Result};
use crate::facade::TrainingData;
use async_trait::async_trait;
use mlpipe_core::broker::{Broker, BrokerExt};
use mlpipe_core::events::*;
use mlpipe_core::service::{handler_error, EventHandler, HandlerError, ServiceHandle};
use mlpipe_core::store::*;
use mlpipe_core::{Envelope, EventId, FeatureSetId, ModelId, ModelRef, RunId};
use mlpipe_split::{LabeledSet, SegregationApi};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Consumer group of the training service.
pub const GROUP: &str = "mlpipe-train";

/// One candidate to train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateSpec {
    /// Name, recorded with the version (`candidate` in its training metadata).
    pub name: String,
    /// Model kind, e.g. `logistic_regression`.
    pub kind: String,
    /// Hyper-parameters.
    #[serde(default)]
    pub params: serde_json::Value,
}

/// How the feature set is split for training (any strategy of `mlpipe_split`, by name,
/// with its parameters inline; default random 70/30 with seed 42).
pub type SplitSpec = mlpipe_split::SplitConfig;

/// Training of one dataset.
///
/// Every candidate becomes a new version of one model line, named `model` (default: the
/// dataset's name), so evaluation can compare them and serving can keep several live.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetTraining {
    /// The model line the candidates become versions of (default: the dataset name).
    #[serde(default)]
    pub model: Option<String>,
    /// Candidates, trained concurrently.
    pub candidates: Vec<CandidateSpec>,
    /// The split.
    #[serde(default)]
    pub split: SplitSpec,
    /// Seconds one attempt may take.
    #[serde(default = "timeout")]
    pub timeout_secs: f64,
    /// Attempts per candidate (first try included).
    #[serde(default = "attempts")]
    pub attempts: u32,
    /// Milliseconds before the first retry (doubling after).
    #[serde(default = "backoff")]
    pub backoff_ms: u64,
    /// Also retrain on a schedule (`every 1d`, or a cron expression), on the dataset's
    /// newest feature set, besides on every `features-generated` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

fn timeout() -> f64 {
    600.0
}
fn attempts() -> u32 {
    2
}
fn backoff() -> u64 {
    200
}

/// Training settings (section `[training]`): per dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Dataset → its training.
    #[serde(default)]
    pub datasets: BTreeMap<String, DatasetTraining>,
}

/// What a training run did.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingReport {
    /// The run.
    pub run_id: RunId,
    /// The split used.
    pub split_id: mlpipe_core::SplitId,
    /// Training rows.
    pub rows: usize,
    /// Saved candidates.
    pub candidates: Vec<ModelRef>,
    /// Failed candidates and why.
    pub failed: Vec<(String, String)>,
}

/// Trains candidates.
pub struct TrainingService {
    stores: Stores,
    broker: Arc<dyn Broker>,
    algorithms: Arc<Algorithms>,
    splits: Arc<mlpipe_split::SplitRegistry>,
    config: TrainingConfig,
}

fn permanent(e: &ModelError) -> bool {
    matches!(
        e,
        ModelError::Params { .. }
            | ModelError::Labels { .. }
            | ModelError::OneClass { .. }
            | ModelError::NonFinite { .. }
            | ModelError::NoRows { .. }
            | ModelError::UnknownKind { .. }
            | ModelError::Width { .. }
    )
}

impl TrainingService {
    /// A training service.
    pub fn new(
        stores: Stores,
        broker: Arc<dyn Broker>,
        algorithms: Arc<Algorithms>,
        config: TrainingConfig,
    ) -> Self {
        Self {
            stores,
            broker,
            algorithms,
            splits: Arc::new(mlpipe_split::SplitRegistry::builtin()),
            config,
        }
    }

    /// The split strategies the configured splits are built from (default: the
    /// built-ins).
    pub fn with_splits(mut self, splits: Arc<mlpipe_split::SplitRegistry>) -> Self {
        self.splits = splits;
        self
    }

    /// Trains the candidates of `dataset` on feature set `fs`. `cause` makes the run id
    /// deterministic, so a redelivered event registers no second version.
    /// Trains on the features of `batches` (all batches of the feature set when `None`).
    pub async fn train(
        &self,
        dataset: &str,
        fs: &FeatureSetId,
        batches: Option<&[mlpipe_core::BatchId]>,
        cause: Option<&EventId>,
    ) -> Result<Option<TrainingReport>> {
        let Some(cfg) = self.config.datasets.get(dataset) else {
            tracing::info!(dataset, "no training configured for this dataset; skipping");
            return Ok(None);
        };
        // A feature set fitted on the training part of a split (`fit_split`) is refused
        // by the segregation API under any other split of the rows it was fitted on.
        let seg = SegregationApi::new(self.stores.features.clone(), self.stores.lineage.clone())
            .with_strategies(self.splits.clone());
        let strategy = cfg.split.build_in(&self.splits)?;
        let split = seg
            .split_with(fs, batches, strategy.as_ref(), &cfg.split.columns())
            .await?;
        let train = Arc::new(split.training()?);
        let run_id = match cause {
            Some(c) => RunId::new(format!(
                "train-{}",
                &hex::encode(Sha256::digest(format!("{c}|{dataset}|{fs}").as_bytes()))[..24]
            )),
            None => RunId::generate(),
        };
        let mut tasks = tokio::task::JoinSet::new();
        for (i, cand) in cfg.candidates.iter().enumerate() {
            let cand = cand.clone();
            let train = train.clone();
            let algorithms = self.algorithms.clone();
            let (timeout, attempts, backoff) =
                (cfg.timeout_secs, cfg.attempts.max(1), cfg.backoff_ms);
            tasks.spawn(async move {
                let r =
                    train_with_retries(&algorithms, &cand, train, timeout, attempts, backoff).await;
                (i, cand, r)
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(r) => results.push(r),
                Err(e) => tracing::error!(error = %e, "a training task panicked"),
            }
        }
        results.sort_by_key(|(i, _, _)| *i);
        let mut candidates = Vec::new();
        let mut failed = Vec::new();
        for (_, cand, r) in results {
            match r {
                Ok((artefact, fit_ms, attempt)) => {
                    let model =
                        ModelId::new(cfg.model.clone().unwrap_or_else(|| dataset.to_string()));
                    let m = self
                        .stores
                        .registry
                        .register(NewCandidate {
                            model,
                            kind: cand.kind.clone(),
                            // One version per (run, candidate): a redelivered event finds it.
                            run_id: RunId::new(format!("{run_id}/{}", cand.name)),
                            feature_set_id: fs.clone(),
                            split_id: Some(split.id().clone()),
                            params: artefact.params.clone(),
                            training: serde_json::json!({
                                "rows": train.x.nrows(), "features": train.feature_names.len(),
                                "split_id": split.id(), "feature_set_id": fs, "fit_ms": fit_ms,
                                "attempts": attempt, "candidate": cand.name,
                            }),
                            artefact: artefact.to_bytes()?,
                        })
                        .await?;
                    let node = Node::Model(m.clone());
                    self.stores
                        .lineage
                        .link(LineageLink::new(
                            Node::Split(split.id().clone()),
                            node.clone(),
                            "trained_on",
                        ))
                        .await?;
                    self.stores
                        .lineage
                        .audit(AuditRecord::now(
                            GROUP,
                            "model.registered",
                            &node,
                            serde_json::json!({"run": run_id, "fit_ms": fit_ms}),
                        ))
                        .await?;
                    candidates.push(m);
                }
                Err(e) => {
                    tracing::warn!(candidate = %cand.name, error = %e, "candidate failed");
                    failed.push((cand.name.clone(), e.to_string()));
                }
            }
        }
        let event = Event::ModelTrained(ModelTrained {
            run_id: run_id.clone(),
            dataset: dataset.to_string(),
            feature_set_id: fs.clone(),
            split_id: split.id().clone(),
            candidates: candidates.clone(),
            failed: failed.clone(),
        });
        let env = Envelope::after(event, cause, run_id.as_str());
        self.broker.publish_event(&env).await?;
        Ok(Some(TrainingReport {
            run_id,
            split_id: split.id().clone(),
            rows: train.x.nrows(),
            candidates,
            failed,
        }))
    }

    /// Starts the retraining schedules of the datasets that have one. Each tick trains
    /// on the dataset's newest feature set (all its batches); a tick with no feature set
    /// yet, or a failed run, is logged and the schedule goes on.
    pub fn start_schedules(self: &Arc<Self>) -> Result<Vec<ServiceHandle>> {
        let mut handles = Vec::new();
        for (dataset, cfg) in &self.config.datasets {
            let Some(text) = &cfg.schedule else { continue };
            let schedule =
                mlpipe_core::schedule::Schedule::parse(text).map_err(|e| ModelError::Params {
                    kind: "training schedule".into(),
                    reason: format!("dataset `{dataset}`: {e}"),
                })?;
            let svc = self.clone();
            let dataset = dataset.clone();
            let name = format!("train-schedule-{dataset}");
            handles.push(mlpipe_core::schedule::spawn_scheduled(&name, schedule, move |tick| {
                let svc = svc.clone();
                let dataset = dataset.clone();
                // Named after the tick: workers running the same schedule register one
                // set of versions (the registry is idempotent on the run).
                let cause = mlpipe_core::schedule::tick_id(&format!("train|{dataset}"), tick);
                async move {
                    if let Err(e) = svc.train_latest(&dataset, Some(&cause)).await {
                        tracing::warn!(%dataset, error = %e, "scheduled training failed; will run again at the next tick");
                    }
                }
            }));
        }
        Ok(handles)
    }

    /// Trains `dataset` on its newest feature set; `None` when it has none yet. `cause`
    /// names the run (the same cause registers no second set of versions).
    pub async fn train_latest(
        &self,
        dataset: &str,
        cause: Option<&EventId>,
    ) -> Result<Option<TrainingReport>> {
        let newest = self
            .stores
            .features
            .feature_sets(Some(dataset))
            .await?
            .into_iter()
            .max_by_key(|f| f.created_at);
        match newest {
            Some(fs) => self.train(dataset, &fs.id, None, cause).await,
            None => {
                tracing::info!(dataset, "no feature set yet; nothing to train");
                Ok(None)
            }
        }
    }
}

async fn train_with_retries(
    algorithms: &Arc<Algorithms>,
    cand: &CandidateSpec,
    data: Arc<LabeledSet>,
    timeout_secs: f64,
    attempts: u32,
    backoff_ms: u64,
) -> Result<(crate::facade::ModelArtefact, f64, u32)> {
    let mut last = None;
    // Shared by the attempts: a retry resumes where a timed-out attempt got to.
    let checkpoints = crate::checkpoint::MemoryCheckpoint::default();
    for attempt in 1..=attempts {
        let algorithms = algorithms.clone();
        let cand2 = cand.clone();
        let data2 = data.clone();
        let started = Instant::now();
        let checkpoint = checkpoints.attempt(attempt);
        let job = tokio::task::spawn_blocking(move || -> Result<_> {
            let trainer = algorithms.trainer(&cand2.kind, &cand2.params)?;
            let td = TrainingData {
                x: data2.x.view(),
                y: data2.y.view(),
                feature_names: &data2.feature_names,
                feature_set_id: &data2.feature_set_id,
            };
            trainer.train_resumable(&td, &checkpoint)?.artefact()
        });
        let outcome =
            match tokio::time::timeout(Duration::from_secs_f64(timeout_secs.max(0.001)), job).await
            {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => Err(ModelError::Numeric {
                    kind: cand.kind.clone(),
                    reason: format!("training task failed: {e}"),
                }),
                Err(_) => {
                    // Tell the running fit to stop at its next iteration.
                    checkpoints.cancel_all();
                    Err(ModelError::Timeout {
                        name: cand.name.clone(),
                        seconds: timeout_secs,
                    })
                }
            };
        match outcome {
            Ok(a) => return Ok((a, started.elapsed().as_secs_f64() * 1000.0, attempt)),
            Err(e) if permanent(&e) => return Err(e),
            Err(e) => {
                tracing::warn!(candidate = %cand.name, attempt, error = %e, "training attempt failed");
                last = Some(e);
                if attempt < attempts {
                    tokio::time::sleep(Duration::from_millis(
                        backoff_ms.saturating_mul(1 << (attempt - 1).min(10)),
                    ))
                    .await;
                }
            }
        }
    }
    Err(last.unwrap_or_else(|| ModelError::Numeric {
        kind: cand.kind.clone(),
        reason: "no attempt ran".into(),
    }))
}

/// Consumes `features-generated` under [`GROUP`]; started with
/// [`StageExt::start`](mlpipe_core::service::StageExt::start).
impl mlpipe_core::service::Stage for TrainingService {
    fn group(&self) -> &str {
        GROUP
    }
    fn topics(&self) -> Vec<Topic> {
        vec![Topic::FeaturesGenerated]
    }
    fn broker(&self) -> Arc<dyn Broker> {
        self.broker.clone()
    }
}

#[async_trait]
impl EventHandler for TrainingService {
    async fn handle(&self, env: Envelope, _attempt: u32) -> std::result::Result<(), HandlerError> {
        let Event::FeaturesGenerated(e) = &env.event else {
            return Ok(());
        };
        match self
            .train(
                &e.dataset,
                &e.feature_set_id,
                Some(&e.batch_ids),
                Some(&env.id),
            )
            .await
        {
            Ok(_) => Ok(()),
            // A split refused (bad parameters, or rows the features were fitted on) is
            // refused again on every delivery; a store failure may pass.
            Err(e) => {
                let t = e.is_transient();
                Err(handler_error(e, t))
            }
        }
    }
}
