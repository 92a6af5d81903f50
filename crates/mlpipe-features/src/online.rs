//! Online preparation: streamed records become features in the online store with the
//! same fitted pipeline (the row path), and are kept for future training as offline
//! feature batches; and pre-warming the online store from the offline store.

use crate::error::{FeatureError, Result};
use crate::pipeline::FittedPipeline;
use mlpipe_core::store::{FeatureStore, OnlineFeatureStore};
use mlpipe_core::table::{rows_to_batch, to_matrix};
use mlpipe_core::{BatchId, FeatureSetId, Row, SchemaRef};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// Turns streamed records into features with one fitted pipeline.
///
/// Each [`OnlinePreparer::prepare`] computes the record's features with the row path,
/// writes them to the online store under the feature-set id, and keeps the record;
/// [`OnlinePreparer::flush`] writes the kept records to the offline store as one feature
/// batch computed by the batch path, which gives the same bits as the row path. A flush
/// also happens every [`OnlinePreparer::with_max_pending`] records, and
/// `mlpipe::online::PrepareOnline` flushes when its online ingestion stops.
pub struct OnlinePreparer {
    pipeline: Arc<FittedPipeline>,
    raw_schema: SchemaRef,
    online: Arc<dyn OnlineFeatureStore>,
    offline: Arc<dyn FeatureStore>,
    pending: Mutex<Vec<Row>>,
    /// Kept records that trigger a flush from `prepare`.
    max_pending: usize,
}

/// Default of [`OnlinePreparer::with_max_pending`].
pub const DEFAULT_MAX_PENDING: usize = 64 * 1024;

impl OnlinePreparer {
    /// A preparer for records of `raw_schema` (the raw data's schema: it types the
    /// persisted batches like the offline ones).
    pub fn new(
        pipeline: Arc<FittedPipeline>,
        raw_schema: SchemaRef,
        online: Arc<dyn OnlineFeatureStore>,
        offline: Arc<dyn FeatureStore>,
    ) -> Self {
        Self {
            pipeline,
            raw_schema,
            online,
            offline,
            pending: Mutex::new(Vec::new()),
            max_pending: DEFAULT_MAX_PENDING,
        }
    }

    /// Flushes from [`OnlinePreparer::prepare`] whenever this many records are kept
    /// (default [`DEFAULT_MAX_PENDING`]), so memory stays bounded without a caller that
    /// flushes. If that flush fails, the records are kept, a warning is logged and the
    /// next flush is tried after as many records again (the online write already
    /// happened; the raw records are persisted by online ingestion either way).
    pub fn with_max_pending(mut self, rows: usize) -> Self {
        self.max_pending = rows.max(1);
        self
    }

    /// The feature set written to.
    pub fn feature_set_id(&self) -> &FeatureSetId {
        self.pipeline.id()
    }

    /// Computes the features of one record, writes them to the online store and keeps the
    /// record for [`OnlinePreparer::flush`]. The record must carry the pipeline's key.
    pub async fn prepare(&self, row: &Row) -> Result<(String, Vec<f64>)> {
        let key = self.pipeline.row_key(row).ok_or_else(|| {
            FeatureError::Shape(format!(
                "online record has no key field `{}`; the feature definition needs `key` for online preparation",
                self.pipeline.key_column()
            ))
        })?;
        let x = self.pipeline.transform_row(row)?;
        self.online
            .put(self.pipeline.id().as_str(), vec![(key.clone(), x.clone())])
            .await?;
        let kept = {
            let mut p = self.pending.lock();
            p.push(row.clone());
            p.len()
        };
        if kept % self.max_pending == 0 {
            if let Err(e) = self.flush().await {
                tracing::warn!(feature_set = %self.pipeline.id(), kept, error = %e,
                    "online preparation could not write its kept records offline; they are kept and tried again");
            }
        }
        Ok((key, x))
    }

    /// Records prepared since the last flush.
    pub fn pending(&self) -> usize {
        self.pending.lock().len()
    }

    /// Writes the kept records to the offline store as one new feature batch; `None` when
    /// there was nothing to write.
    pub async fn flush(&self) -> Result<Option<BatchId>> {
        let rows = std::mem::take(&mut *self.pending.lock());
        if rows.is_empty() {
            return Ok(None);
        }
        let result = async {
            let raw = rows_to_batch(&rows, self.raw_schema.clone())?;
            let table = self.pipeline.feature_table(&raw)?;
            let batch = BatchId::new(format!("online-{}", BatchId::generate()));
            self.offline
                .write(self.pipeline.id(), &batch, vec![table])
                .await?;
            Ok::<_, FeatureError>(batch)
        }
        .await;
        match result {
            Ok(b) => Ok(Some(b)),
            Err(e) => {
                // Keep the records for the next attempt.
                let mut p = self.pending.lock();
                let newer = std::mem::take(&mut *p);
                *p = rows;
                p.extend(newer);
                Err(e)
            }
        }
    }
}

/// Copies the latest feature vector of every entity of a stored feature set (the last row
/// per key, in batch write order) to the online store; returns the number of keys written.
pub async fn prewarm_online(
    offline: &dyn FeatureStore,
    online: &dyn OnlineFeatureStore,
    id: &FeatureSetId,
) -> Result<u64> {
    let rec = offline.feature_set(id).await?;
    let key = rec
        .key
        .clone()
        .unwrap_or_else(|| crate::ROW_KEY.to_string());
    let tables = offline.read(id, None).await?;
    let mut latest: HashMap<String, Vec<f64>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for t in &tables {
        let x = to_matrix(std::slice::from_ref(t), &rec.feature_names)?;
        let col = t
            .column_by_name(&key)
            .ok_or_else(|| FeatureError::MissingColumn {
                column: key.clone(),
                available: mlpipe_core::table::column_names(t).join(", "),
            })?;
        for (i, r) in x.rows().into_iter().enumerate() {
            let v = mlpipe_core::table::value_at(col.as_ref(), i)?;
            let k = crate::builtin::categorical::category_text(&v)
                .map(|t| t.into_owned())
                .unwrap_or_default();
            if latest.insert(k.clone(), r.to_vec()).is_none() {
                order.push(k);
            }
        }
    }
    let entries: Vec<(String, Vec<f64>)> = order
        .into_iter()
        .filter_map(|k| latest.remove(&k).map(|v| (k, v)))
        .collect();
    let n = entries.len() as u64;
    if n > 0 {
        online.put(id.as_str(), entries).await?;
    }
    Ok(n)
}
