//! Lineage (which artefact came from which), audit (who changed what, when) and recorded
//! splits.

use crate::ids::*;
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};

/// Anything lineage can point at.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Node {
    Source(String),
    Event(EventId),
    RawBatch(BatchId),
    FeatureSet(FeatureSetId),
    Split(SplitId),
    TrainingRun(RunId),
    Model(ModelRef),
    Evaluation(RunId),
    ScoreRun(RunId),
    Request(RequestId),
}

impl Node {
    /// A stable text key, e.g. `raw_batch:0193…`, used by stores as the node's identity.
    pub fn key(&self) -> String {
        match self {
            Node::Source(s) => format!("source:{s}"),
            Node::Event(e) => format!("event:{e}"),
            Node::RawBatch(b) => format!("raw_batch:{b}"),
            Node::FeatureSet(f) => format!("feature_set:{f}"),
            Node::Split(s) => format!("split:{s}"),
            Node::TrainingRun(r) => format!("training_run:{r}"),
            Node::Model(m) => format!("model:{m}"),
            Node::Evaluation(r) => format!("evaluation:{r}"),
            Node::ScoreRun(r) => format!("score_run:{r}"),
            Node::Request(r) => format!("request:{r}"),
        }
    }
}

/// `to` was derived from `from`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageLink {
    /// The upstream node.
    pub from: Node,
    /// The downstream node.
    pub to: Node,
    /// How, e.g. `ingested_from`, `fitted_on`, `trained_on`.
    pub relation: String,
}

impl LineageLink {
    /// Builds a link.
    pub fn new(from: Node, to: Node, relation: impl Into<String>) -> Self {
        Self {
            from,
            to,
            relation: relation.into(),
        }
    }
}

/// One state change, for the audit trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Who or what did it (a service name, a user).
    pub actor: String,
    /// What was done, e.g. `raw_batch.created`.
    pub action: String,
    /// What it was done to (a node key).
    pub subject: String,
    /// Details.
    pub detail: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

impl AuditRecord {
    /// An audit record stamped now.
    pub fn now(
        actor: impl Into<String>,
        action: impl Into<String>,
        subject: &Node,
        detail: serde_json::Value,
    ) -> Self {
        Self {
            actor: actor.into(),
            action: action.into(),
            subject: subject.key(),
            detail,
            at: Utc::now(),
        }
    }
}

/// A recorded train/evaluation split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitRecord {
    /// Deterministic id of (feature set, batches, strategy, parameters).
    pub id: SplitId,
    /// Features split.
    pub feature_set_id: FeatureSetId,
    /// Raw batches whose features were split.
    pub batch_ids: Vec<BatchId>,
    /// Strategy name.
    pub strategy: String,
    /// Strategy parameters (ratio, seed, …).
    pub params: serde_json::Value,
    /// Row indices of the training subset (into the concatenated features).
    pub train: Vec<u32>,
    /// Row indices of the evaluation subset.
    pub test: Vec<u32>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// The lineage and audit store.
///
/// # Contract
/// - Links are idempotent: writing the same link again changes nothing. `upstream` and
///   `downstream` return a node's direct links, so [`LineageStoreExt::trace`] walks from a
///   score back to its source.
/// - The audit trail is append-only; `audit_trail` lists oldest first, about one subject
///   (node key) when asked.
/// - Splits are idempotent too: the same record again changes nothing, a different record
///   under a stored id is `AlreadyExists`; `split` of an unknown id is `NotFound`.
/// - Failures are [`Error`](crate::Error) variants by meaning; a backend failure that may
///   pass (connection lost, busy, timed out) is `Error::Backend { transient: true, .. }`
///   ([`Error::transient`](crate::Error::transient)) or `Error::Timeout`, so retry layers
///   retry it, and a permanent one `transient: false`.
///
/// A backend proves all this by running `mlpipe_core::testkit::lineage::conformance(store)`
/// (feature `testkit`) from its own tests.
///
/// # Example
/// ```
/// use mlpipe_core::store::{memory::MemoryLineageStore, LineageLink, LineageStore, LineageStoreExt, Node};
/// use mlpipe_core::{BatchId, FeatureSetId};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = MemoryLineageStore::default();
/// let (source, batch) = (Node::Source("file.csv".into()), Node::RawBatch(BatchId::generate()));
/// let fs = Node::FeatureSet(FeatureSetId::new("fs-demo"));
/// store.link(LineageLink::new(source.clone(), batch.clone(), "ingested_from")).await?;
/// store.link(LineageLink::new(batch.clone(), fs.clone(), "features_of")).await?;
/// store.link(LineageLink::new(batch.clone(), fs.clone(), "features_of")).await?; // no-op
/// assert_eq!(store.upstream(&fs).await?.len(), 1);
/// let trace = store.trace(&fs).await?;
/// assert_eq!(trace.last().map(|l| &l.from), Some(&source));
/// # Ok::<(), mlpipe_core::Error>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait LineageStore: Send + Sync {
    /// Records that `to` was derived from `from`.
    async fn link(&self, link: LineageLink) -> Result<()>;
    /// Direct upstream links of a node.
    async fn upstream(&self, node: &Node) -> Result<Vec<LineageLink>>;
    /// Direct downstream links of a node.
    async fn downstream(&self, node: &Node) -> Result<Vec<LineageLink>>;
    /// Appends to the audit trail.
    async fn audit(&self, record: AuditRecord) -> Result<()>;
    /// Audit records, oldest first, optionally about one subject (node key).
    async fn audit_trail(&self, subject: Option<&str>) -> Result<Vec<AuditRecord>>;
    /// Records a split.
    async fn put_split(&self, split: SplitRecord) -> Result<()>;
    /// A recorded split.
    async fn split(&self, id: &SplitId) -> Result<SplitRecord>;
}

/// Conveniences over any [`LineageStore`].
#[async_trait]
pub trait LineageStoreExt: LineageStore {
    /// Every node upstream of `node` (breadth first, each once): from a score back to the
    /// raw batch and source it came from.
    async fn trace(&self, node: &Node) -> Result<Vec<LineageLink>> {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([node.clone()]);
        let mut out = Vec::new();
        while let Some(n) = queue.pop_front() {
            for link in self.upstream(&n).await? {
                if seen.insert(link.from.clone()) {
                    queue.push_back(link.from.clone());
                }
                out.push(link);
            }
        }
        Ok(out)
    }
}

impl<S: LineageStore + ?Sized> LineageStoreExt for S {}
