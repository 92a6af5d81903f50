//! The score store: every score served online or computed in batch, and the observed
//! outcomes that arrive later.

use crate::ids::*;
use crate::score::Score;
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One stored score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreRecord {
    /// Request id (online) or a per-row id (batch).
    pub request_id: RequestId,
    /// Batch-scoring run, for batch scores.
    pub run_id: Option<RunId>,
    /// The version that scored.
    pub model: ModelRef,
    /// The entity scored, when known (used by polling and the precomputed cache).
    pub entity_key: Option<String>,
    /// The score.
    pub score: Score,
    /// Serving time in microseconds (online).
    pub latency_us: Option<u64>,
    /// When it was scored.
    pub created_at: DateTime<Utc>,
}

/// A stored score with its observed outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredOutcome {
    /// The score.
    pub record: ScoreRecord,
    /// What actually happened (label or value).
    pub observed: f64,
}

/// The score store.
///
/// # Contract
/// - Writing a record whose request id exists is a no-op (idempotent redelivery). Every
///   [`Score`] kind reads back exactly as written; `get` of an unknown request is `None`.
/// - `by_run` pages a batch run's scores in insertion order (`limit` from `offset`), and
///   `count_run` counts them once each.
/// - `latest_for_key` is the newest score (by `created_at`) of the entity by that model,
///   `None` when there is none.
/// - An outcome can be recorded once per request id (`AlreadyExists` after) and only for a
///   stored score (`NotFound`); `outcomes` lists a version's scored outcomes in the order
///   they were recorded.
/// - Failures are [`Error`](crate::Error) variants by meaning; a backend failure that may
///   pass (connection lost, busy, timed out) is `Error::Backend { transient: true, .. }`
///   ([`Error::transient`](crate::Error::transient)) or `Error::Timeout`, so retry layers
///   retry it, and a permanent one `transient: false`.
///
/// A backend proves all this by running `mlpipe_core::testkit::scores::conformance(store)`
/// (feature `testkit`) from its own tests.
///
/// # Example
/// ```
/// use mlpipe_core::store::{memory::MemoryScoreStore, ScoreRecord, ScoreStore};
/// use mlpipe_core::{Error, ModelRef, RequestId, Score};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = MemoryScoreStore::default();
/// let record = ScoreRecord {
///     request_id: RequestId::generate(), run_id: None, model: ModelRef::new("churn", 1),
///     entity_key: Some("user-1".into()), score: Score::Value { value: 0.25 },
///     latency_us: Some(80), created_at: chrono::Utc::now(),
/// };
/// store.put(vec![record.clone()]).await?;
/// store.put(vec![record.clone()]).await?; // redelivered: still one score
/// assert_eq!(store.get(&record.request_id).await?, Some(record.clone()));
/// store.put_outcome(&record.request_id, 1.0).await?;
/// let twice = store.put_outcome(&record.request_id, 0.0).await;
/// assert!(matches!(twice, Err(Error::AlreadyExists { .. })));
/// assert_eq!(store.outcomes(&record.model).await?.len(), 1);
/// # Ok::<(), mlpipe_core::Error>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait ScoreStore: Send + Sync {
    /// Stores scores.
    async fn put(&self, records: Vec<ScoreRecord>) -> Result<()>;
    /// A score by request id.
    async fn get(&self, request: &RequestId) -> Result<Option<ScoreRecord>>;
    /// Scores of a batch run, in insertion order, `limit` from `offset`.
    async fn by_run(&self, run: &RunId, offset: u64, limit: u64) -> Result<Vec<ScoreRecord>>;
    /// Number of scores of a batch run.
    async fn count_run(&self, run: &RunId) -> Result<u64>;
    /// The newest score of an entity by a model (for polling and precomputed answers).
    async fn latest_for_key(&self, model: &ModelId, key: &str) -> Result<Option<ScoreRecord>>;
    /// Records the observed outcome of a scored request.
    async fn put_outcome(&self, request: &RequestId, observed: f64) -> Result<()>;
    /// Scores of a version that have an outcome, oldest first.
    async fn outcomes(&self, model: &ModelRef) -> Result<Vec<ScoredOutcome>>;
}
