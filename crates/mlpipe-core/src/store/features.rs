//! Feature stores: offline (features by feature set and raw batch, for training and batch
//! scoring) and online (latest feature vector per entity key, for serving).

use crate::ids::{BatchId, FeatureSetId};
use crate::Result;
use arrow_array::RecordBatch;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A fitted feature set: everything needed to recompute its features anywhere.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureSetRecord {
    /// Content hash of definition and fitted state.
    pub id: FeatureSetId,
    /// Dataset it was fitted on.
    pub dataset: String,
    /// Names of the feature columns, in order.
    pub feature_names: Vec<String>,
    /// The label column kept beside the features, if any.
    pub label: Option<String>,
    /// The entity key column, if any.
    pub key: Option<String>,
    /// The fitted pipeline (its serialised form, as the features crate writes it).
    pub pipeline: serde_json::Value,
    /// Raw batches it was fitted on.
    pub fitted_on: Vec<BatchId>,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
}

impl FeatureSetRecord {
    /// Whether two records describe the same feature set (creation time and the batches it
    /// was first fitted on aside).
    pub fn same_content(&self, other: &FeatureSetRecord) -> bool {
        self.id == other.id
            && self.dataset == other.dataset
            && self.feature_names == other.feature_names
            && self.label == other.label
            && self.key == other.key
            && self.pipeline == other.pipeline
    }
}

/// The offline feature store.
///
/// # Contract
/// - Feature sets are immutable: storing the same id again with the same content
///   ([`FeatureSetRecord::same_content`]) is a no-op, with different content
///   `AlreadyExists`. `feature_set` of an unknown id is `NotFound`; `feature_sets` lists
///   oldest first, of one dataset when asked.
/// - Features of one (feature set, raw batch) pair are written once (`AlreadyExists`
///   after); writing under a feature set that is not stored is an error.
/// - `batches` lists the raw batches in write order. `read` returns the rows exactly as
///   written: all batches in write order for `None`, else in the order of the batches
///   asked; a batch without features is `NotFound`.
/// - Failures are [`Error`](crate::Error) variants by meaning; a backend failure that may
///   pass (connection lost, busy, timed out) is `Error::Backend { transient: true, .. }`
///   ([`Error::transient`](crate::Error::transient)) or `Error::Timeout`, so retry layers
///   retry it, and a permanent one `transient: false`.
///
/// A backend proves all this by running `mlpipe_core::testkit::features::conformance(store)`
/// (feature `testkit`) from its own tests.
///
/// # Example
/// ```
/// use mlpipe_core::store::{memory::MemoryFeatureStore, FeatureSetRecord, FeatureStore};
/// use mlpipe_core::{table::from_matrix, BatchId, Error, FeatureSetId};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = MemoryFeatureStore::default();
/// let record = FeatureSetRecord {
///     id: FeatureSetId::new("fs-demo"), dataset: "demo".into(), feature_names: vec!["x".into()],
///     label: None, key: None, pipeline: serde_json::json!({}), fitted_on: vec![],
///     created_at: chrono::Utc::now(),
/// };
/// store.put_feature_set(record.clone()).await?;
/// store.put_feature_set(record.clone()).await?; // the same content: a no-op
/// let batch = BatchId::generate();
/// let x = from_matrix(&["x".to_string()], &ndarray::array![[0.5], [1.5]])?;
/// store.write(&record.id, &batch, vec![x.clone()]).await?;
/// assert_eq!(store.read(&record.id, None).await?, vec![x.clone()]);
/// let twice = store.write(&record.id, &batch, vec![x]).await;
/// assert!(matches!(twice, Err(Error::AlreadyExists { .. })));
/// # Ok::<(), mlpipe_core::Error>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait FeatureStore: Send + Sync {
    /// Stores a feature set definition.
    async fn put_feature_set(&self, record: FeatureSetRecord) -> Result<()>;
    /// A feature set by id.
    async fn feature_set(&self, id: &FeatureSetId) -> Result<FeatureSetRecord>;
    /// Feature sets, oldest first, optionally of one dataset.
    async fn feature_sets(&self, dataset: Option<&str>) -> Result<Vec<FeatureSetRecord>>;
    /// Writes the features computed from one raw batch.
    async fn write(&self, id: &FeatureSetId, batch: &BatchId, data: Vec<RecordBatch>)
        -> Result<()>;
    /// Raw batches that have features under this feature set, in write order.
    async fn batches(&self, id: &FeatureSetId) -> Result<Vec<BatchId>>;
    /// Features of the given raw batches (all when `None`), in batch then row order.
    async fn read(
        &self,
        id: &FeatureSetId,
        batches: Option<&[BatchId]>,
    ) -> Result<Vec<RecordBatch>>;
}

/// One entity's latest feature vector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureVector {
    /// Values in the feature set's column order.
    pub values: Vec<f64>,
    /// When it was written.
    pub updated_at: DateTime<Utc>,
}

/// The online feature store: entity key → latest feature vector, per namespace (usually a
/// feature set id).
///
/// # Contract
/// - `put` replaces the whole vector of each key (the last write wins); concurrent writers
///   of different keys all land.
/// - `get_many` returns one entry per key asked, in order, `None` for unknown keys; the
///   values come back bit-exact, as written.
/// - Namespaces are separate: a key in one is never seen in another; `count` of an
///   unknown namespace is 0.
/// - Failures are [`Error`](crate::Error) variants by meaning; a backend failure that may
///   pass (connection lost, busy, timed out) is `Error::Backend { transient: true, .. }`
///   ([`Error::transient`](crate::Error::transient)) or `Error::Timeout`, so retry layers
///   retry it, and a permanent one `transient: false`.
///
/// A backend proves all this by running
/// `mlpipe_core::testkit::features::online_conformance(store)` (feature `testkit`) from
/// its own tests.
///
/// # Example
/// ```
/// use mlpipe_core::store::{memory::MemoryOnlineStore, OnlineFeatureStore, OnlineFeatureStoreExt};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = MemoryOnlineStore::default();
/// store.put("fs-demo", vec![("user-1".into(), vec![0.1 + 0.2, -1.0])]).await?;
/// store.put("fs-demo", vec![("user-1".into(), vec![3.0, 4.0])]).await?; // replaces
/// let v = store.get("fs-demo", "user-1").await?.map(|v| v.values);
/// assert_eq!(v, Some(vec![3.0, 4.0]));
/// let many = store.get_many("fs-demo", &["nobody".into(), "user-1".into()]).await?;
/// assert!(many[0].is_none() && many[1].is_some());
/// assert_eq!(store.count("other-namespace").await?, 0);
/// # Ok::<(), mlpipe_core::Error>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait OnlineFeatureStore: Send + Sync {
    /// Writes (replaces) vectors.
    async fn put(&self, namespace: &str, entries: Vec<(String, Vec<f64>)>) -> Result<()>;
    /// Reads vectors for several keys at once.
    async fn get_many(
        &self,
        namespace: &str,
        keys: &[String],
    ) -> Result<Vec<Option<FeatureVector>>>;
    /// Number of keys in a namespace.
    async fn count(&self, namespace: &str) -> Result<u64>;
}

/// Conveniences over any [`OnlineFeatureStore`].
#[async_trait]
pub trait OnlineFeatureStoreExt: OnlineFeatureStore {
    /// Reads one key.
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<FeatureVector>> {
        Ok(self
            .get_many(namespace, &[key.to_string()])
            .await?
            .into_iter()
            .next()
            .flatten())
    }
}

impl<S: OnlineFeatureStore + ?Sized> OnlineFeatureStoreExt for S {}
