//! The model registry: candidates with their artefacts, evaluations, the ready mark,
//! deployments and the live versions.

use crate::ids::*;
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A trained model to register as a new version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewCandidate {
    /// The model line to add a version to.
    pub model: ModelId,
    /// Model kind, e.g. `logistic_regression`.
    pub kind: String,
    /// The training run that produced it; registering the same (model, run) twice returns
    /// the first version instead of adding another.
    pub run_id: RunId,
    /// Features it consumes.
    pub feature_set_id: FeatureSetId,
    /// The split it learned from.
    pub split_id: Option<SplitId>,
    /// Hyper-parameters.
    pub params: serde_json::Value,
    /// Training metadata (rows, timings, attempts…).
    pub training: serde_json::Value,
    /// The serialised model.
    pub artefact: Vec<u8>,
}

/// Where a version stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    /// Trained, not chosen.
    Candidate,
    /// Chosen by evaluation, waiting for deployment.
    Ready,
}

/// A registered version (without its artefact bytes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// Model and version.
    pub model: ModelRef,
    /// Model kind.
    pub kind: String,
    /// Training run.
    pub run_id: RunId,
    /// Features it consumes.
    pub feature_set_id: FeatureSetId,
    /// Split it learned from.
    pub split_id: Option<SplitId>,
    /// Hyper-parameters.
    pub params: serde_json::Value,
    /// Training metadata.
    pub training: serde_json::Value,
    /// Size of the artefact in bytes.
    pub artefact_bytes: u64,
    /// Candidate or ready.
    pub status: ModelStatus,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// Metrics of one version from one evaluation run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvaluationRecord {
    /// The evaluation run.
    pub run_id: RunId,
    /// The evaluated version.
    pub model: ModelRef,
    /// The split whose evaluation subset was used.
    pub split_id: Option<SplitId>,
    /// Metric name → value.
    pub metrics: BTreeMap<String, f64>,
    /// Curves, matrices and other details.
    pub details: serde_json::Value,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// One change to what is live for a model line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    /// Model line.
    pub model: ModelId,
    /// Versions live after this change (the default included).
    pub live: Vec<ModelVersion>,
    /// The version requests go to when they do not name one.
    pub default: ModelVersion,
    /// `deploy`, `rollback`, `promote`, `revert`…
    pub action: String,
    /// Who or what made the change.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The model registry.
///
/// # Contract
/// - Versions of a model count up from 1 without gaps or duplicates, also under concurrent
///   registration.
/// - Registering the same (model, run id) again returns the existing version and adds
///   none. `artefact` returns the bytes exactly as registered; `get` and `artefact` of an
///   unknown version are `NotFound`. `versions` lists oldest first.
/// - `put_evaluation` keeps one evaluation per (run, version), saving again replaces it;
///   `mark_ready` marks that version only. Both refuse a version that is not registered.
/// - Deployments are an append-only history; the live set is the latest one
///   ([`ModelRegistryExt::live`]). A deployment whose default is not among its live
///   versions, or that names a version not registered, is refused and not recorded.
/// - Failures are [`Error`](crate::Error) variants by meaning; a backend failure that may
///   pass (connection lost, busy, timed out) is `Error::Backend { transient: true, .. }`
///   ([`Error::transient`](crate::Error::transient)) or `Error::Timeout`, so retry layers
///   retry it, and a permanent one `transient: false`.
///
/// A backend proves all this by running `mlpipe_core::testkit::registry::conformance(registry)`
/// (feature `testkit`) from its own tests.
///
/// # Example
/// ```
/// use mlpipe_core::store::{memory::MemoryRegistry, ModelRegistry, ModelStatus, NewCandidate};
/// use mlpipe_core::{FeatureSetId, ModelId, ModelVersion, RunId};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let registry = MemoryRegistry::default();
/// let candidate = |run: &str| NewCandidate {
///     model: ModelId::new("churn"), kind: "logistic_regression".into(), run_id: RunId::new(run),
///     feature_set_id: FeatureSetId::new("fs-demo"), split_id: None,
///     params: serde_json::json!({}), training: serde_json::json!({}), artefact: b"{}".to_vec(),
/// };
/// let v1 = registry.register(candidate("run-1")).await?;
/// let v2 = registry.register(candidate("run-2")).await?;
/// assert_eq!((v1.version, v2.version), (ModelVersion(1), ModelVersion(2)));
/// assert_eq!(registry.register(candidate("run-1")).await?, v1); // redelivered: no new version
/// registry.mark_ready(&v2).await?;
/// assert_eq!(registry.get(&v2).await?.status, ModelStatus::Ready);
/// # Ok::<(), mlpipe_core::Error>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait ModelRegistry: Send + Sync {
    /// Adds a version.
    async fn register(&self, candidate: NewCandidate) -> Result<ModelRef>;
    /// A version's record.
    async fn get(&self, model: &ModelRef) -> Result<ModelRecord>;
    /// A version's artefact.
    async fn artefact(&self, model: &ModelRef) -> Result<Vec<u8>>;
    /// All versions of a model, oldest first.
    async fn versions(&self, model: &ModelId) -> Result<Vec<ModelRecord>>;
    /// All model lines.
    async fn models(&self) -> Result<Vec<ModelId>>;
    /// Saves an evaluation (one per run and version; saving again replaces it).
    async fn put_evaluation(&self, evaluation: EvaluationRecord) -> Result<()>;
    /// Evaluations of a version, oldest first.
    async fn evaluations(&self, model: &ModelRef) -> Result<Vec<EvaluationRecord>>;
    /// Marks a version ready for deployment.
    async fn mark_ready(&self, model: &ModelRef) -> Result<()>;
    /// Appends a deployment record.
    async fn record_deployment(&self, deployment: DeploymentRecord) -> Result<()>;
    /// Deployment history of a model, oldest first.
    async fn deployments(&self, model: &ModelId) -> Result<Vec<DeploymentRecord>>;
}

/// Conveniences over any [`ModelRegistry`].
#[async_trait]
pub trait ModelRegistryExt: ModelRegistry {
    /// The current live set of a model (its latest deployment), if it was ever deployed.
    async fn live(&self, model: &ModelId) -> Result<Option<DeploymentRecord>> {
        Ok(self.deployments(model).await?.pop())
    }
}

impl<S: ModelRegistry + ?Sized> ModelRegistryExt for S {}
