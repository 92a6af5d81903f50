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
/// - Feature sets are immutable: storing the same id again with the same content is a
///   no-op, with different content `AlreadyExists`.
/// - Features of one (feature set, raw batch) pair are written once (`AlreadyExists`
///   after) and read back exactly.
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
/// - `put` replaces the vector of each key; `get_many` returns one entry per key asked, in
///   order, `None` for unknown keys.
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
