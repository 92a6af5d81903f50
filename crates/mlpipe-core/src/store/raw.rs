//! The raw data store: source data persisted unchanged, in immutable batches.

use crate::ids::{BatchId, EventId};
use crate::Result;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the caller knows about a batch before writing it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct BatchMeta {
    /// Logical dataset, e.g. `breast-cancer`.
    pub dataset: String,
    /// Where the data came from (a path or URI).
    pub source: String,
    /// Source format (`csv`, `jsonl`, `parquet`, `rows`, `stream`).
    pub format: String,
    /// The event that asked for this batch, for lineage.
    pub parent_event: Option<EventId>,
    /// A key that identifies the ingested content (source identity + checksum); ingestion
    /// looks it up to ingest the same thing once.
    pub idempotency_key: Option<String>,
}

/// Facts known once the batch is complete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BatchSummary {
    /// Checksum of the source bytes (hex SHA-256).
    pub checksum: String,
    /// Size of the source in bytes.
    pub source_bytes: u64,
    /// What ingestion noticed and stored anyway (a text column of mostly numbers, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A persisted batch, as listed in the catalogue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchInfo {
    /// The batch.
    pub id: BatchId,
    /// What the writer said about it.
    pub meta: BatchMeta,
    /// Schema of the stored data.
    pub schema: SchemaRef,
    /// Rows stored.
    pub rows: u64,
    /// Rows quarantined instead of stored.
    pub quarantined: u64,
    /// Checksum and size of the source.
    pub summary: BatchSummary,
    /// Bytes the store uses for the data.
    pub stored_bytes: u64,
    /// When the batch was committed.
    pub created_at: DateTime<Utc>,
}

/// A record that could not be stored, with why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantinedRecord {
    /// Row number in the source (1-based, counting data rows; header excluded).
    pub row: u64,
    /// The raw text of the record as read.
    pub raw: String,
    /// Why it was refused.
    pub reason: String,
}

/// Writes one batch; nothing is visible until [`RawBatchWriter::commit`].
#[async_trait]
pub trait RawBatchWriter: Send {
    /// Appends data (must match the schema given to [`RawStore::create`]).
    async fn write(&mut self, batch: RecordBatch) -> Result<()>;
    /// Records refused rows for this batch.
    async fn quarantine(&mut self, records: Vec<QuarantinedRecord>) -> Result<()>;
    /// Makes the batch visible. Fails with `AlreadyExists` if another writer committed the
    /// same id first; the store is then unchanged.
    async fn commit(self: Box<Self>, summary: BatchSummary) -> Result<BatchInfo>;
    /// Discards everything written.
    async fn abort(self: Box<Self>) -> Result<()>;
}

/// The immutable raw data store.
///
/// # Contract
/// - Append only: a committed batch id is never written again. `create` of a committed id,
///   or a [`RawBatchWriter::commit`] that loses a race for the id, is `AlreadyExists` and
///   leaves the stored batch unchanged; of writers racing for one id exactly one wins.
/// - A batch becomes visible atomically at commit; an aborted or crashed writer leaves
///   nothing visible and its id free. Writers of different ids run concurrently.
/// - `read` returns the data exactly as written (schema and values), in write order;
///   `info` the meta, summary and row and quarantine counts; `quarantined` the refused
///   records as given. `read` and `info` of an unknown id are `NotFound`.
/// - `list` is oldest (first committed) first, of one dataset when asked.
/// - Failures are [`Error`](crate::Error) variants by meaning; a backend failure that may
///   pass (connection lost, busy, timed out) is `Error::Backend { transient: true, .. }`
///   ([`Error::transient`](crate::Error::transient)) or `Error::Timeout`, so retry layers
///   retry it, and a permanent one `transient: false`.
///
/// A backend proves all this by running `mlpipe_core::testkit::raw::conformance(store)`
/// (feature `testkit`) from its own tests; durable backends also run
/// `testkit::durability::survives_reopen`.
///
/// # Example
/// ```
/// use mlpipe_core::store::{memory::MemoryRawStore, BatchMeta, BatchSummary, RawStore, RawStoreExt};
/// use mlpipe_core::{table::from_matrix, BatchId, Error};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = MemoryRawStore::default();
/// let data = from_matrix(&["x".to_string()], &ndarray::array![[1.0], [2.0]])?;
/// let meta = BatchMeta { dataset: "demo".into(), ..Default::default() };
/// let id = BatchId::generate();
/// let info = store.put(&id, meta.clone(), vec![data.clone()], BatchSummary::default()).await?;
/// assert_eq!(info.rows, 2);
/// assert_eq!(store.read(&id).await?, vec![data.clone()]);
/// let again = store.put(&id, meta, vec![data], BatchSummary::default()).await;
/// assert!(matches!(again, Err(Error::AlreadyExists { .. })));
/// # Ok::<(), mlpipe_core::Error>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait RawStore: Send + Sync {
    /// Starts a new batch. Fails with `AlreadyExists` if `id` is committed.
    async fn create(
        &self,
        id: &BatchId,
        meta: BatchMeta,
        schema: SchemaRef,
    ) -> Result<Box<dyn RawBatchWriter>>;
    /// The catalogue entry of a batch.
    async fn info(&self, id: &BatchId) -> Result<BatchInfo>;
    /// The batch's data.
    async fn read(&self, id: &BatchId) -> Result<Vec<RecordBatch>>;
    /// The quarantined records of a batch.
    async fn quarantined(&self, id: &BatchId) -> Result<Vec<QuarantinedRecord>>;
    /// Catalogue entries, oldest first, optionally of one dataset.
    async fn list(&self, dataset: Option<&str>) -> Result<Vec<BatchInfo>>;
}

/// Conveniences over any [`RawStore`].
#[async_trait]
pub trait RawStoreExt: RawStore {
    /// Writes a whole batch in one call.
    async fn put(
        &self,
        id: &BatchId,
        meta: BatchMeta,
        data: Vec<RecordBatch>,
        summary: BatchSummary,
    ) -> Result<BatchInfo> {
        let schema = data
            .first()
            .map(|b| b.schema())
            .ok_or_else(|| crate::Error::invalid("a raw batch needs at least one record batch"))?;
        let mut w = self.create(id, meta, schema).await?;
        for b in data {
            w.write(b).await?;
        }
        w.commit(summary).await
    }

    /// The committed batch with this idempotency key, if any.
    async fn find_by_key(&self, key: &str) -> Result<Option<BatchInfo>> {
        Ok(self
            .list(None)
            .await?
            .into_iter()
            .find(|b| b.meta.idempotency_key.as_deref() == Some(key)))
    }
}

impl<S: RawStore + ?Sized> RawStoreExt for S {}
