use crate::ids::{BatchId, FeatureSetId};
use crate::store::features::*;
use crate::{Error, Result};
use arrow_array::RecordBatch;
use async_trait::async_trait;
use chrono::Utc;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
struct Inner {
    sets: HashMap<FeatureSetId, FeatureSetRecord>,
    set_order: Vec<FeatureSetId>,
    data: HashMap<FeatureSetId, Vec<(BatchId, Vec<RecordBatch>)>>,
}

/// Offline features in memory.
#[derive(Clone, Default)]
pub struct MemoryFeatureStore {
    inner: Arc<RwLock<Inner>>,
}

#[async_trait]
impl FeatureStore for MemoryFeatureStore {
    async fn put_feature_set(&self, record: FeatureSetRecord) -> Result<()> {
        let mut g = self.inner.write();
        if let Some(existing) = g.sets.get(&record.id) {
            return if existing.same_content(&record) {
                Ok(())
            } else {
                Err(Error::already_exists(format!(
                    "feature set {} with different content",
                    record.id
                )))
            };
        }
        g.set_order.push(record.id.clone());
        g.sets.insert(record.id.clone(), record);
        Ok(())
    }

    async fn feature_set(&self, id: &FeatureSetId) -> Result<FeatureSetRecord> {
        self.inner
            .read()
            .sets
            .get(id)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("feature set {id}")))
    }

    async fn feature_sets(&self, dataset: Option<&str>) -> Result<Vec<FeatureSetRecord>> {
        let g = self.inner.read();
        Ok(g.set_order
            .iter()
            .filter_map(|id| g.sets.get(id))
            .filter(|r| dataset.is_none_or(|d| r.dataset == d))
            .cloned()
            .collect())
    }

    async fn write(
        &self,
        id: &FeatureSetId,
        batch: &BatchId,
        data: Vec<RecordBatch>,
    ) -> Result<()> {
        let mut g = self.inner.write();
        if !g.sets.contains_key(id) {
            return Err(Error::not_found(format!("feature set {id}")));
        }
        let entry = g.data.entry(id.clone()).or_default();
        if entry.iter().any(|(b, _)| b == batch) {
            return Err(Error::already_exists(format!(
                "features of batch {batch} under feature set {id}"
            )));
        }
        entry.push((batch.clone(), data));
        Ok(())
    }

    async fn batches(&self, id: &FeatureSetId) -> Result<Vec<BatchId>> {
        Ok(self
            .inner
            .read()
            .data
            .get(id)
            .map(|v| v.iter().map(|(b, _)| b.clone()).collect())
            .unwrap_or_default())
    }

    async fn read(
        &self,
        id: &FeatureSetId,
        batches: Option<&[BatchId]>,
    ) -> Result<Vec<RecordBatch>> {
        let g = self.inner.read();
        if !g.sets.contains_key(id) {
            return Err(Error::not_found(format!("feature set {id}")));
        }
        let stored = g.data.get(id).cloned().unwrap_or_default();
        match batches {
            None => Ok(stored.into_iter().flat_map(|(_, d)| d).collect()),
            Some(wanted) => {
                let mut out = Vec::new();
                for b in wanted {
                    let (_, d) = stored.iter().find(|(x, _)| x == b).ok_or_else(|| {
                        Error::not_found(format!("features of batch {b} under feature set {id}"))
                    })?;
                    out.extend(d.iter().cloned());
                }
                Ok(out)
            }
        }
    }
}

/// Online features in a concurrent map.
#[derive(Clone, Default)]
pub struct MemoryOnlineStore {
    inner: Arc<RwLock<HashMap<String, HashMap<String, FeatureVector>>>>,
}

#[async_trait]
impl OnlineFeatureStore for MemoryOnlineStore {
    async fn put(&self, namespace: &str, entries: Vec<(String, Vec<f64>)>) -> Result<()> {
        let now = Utc::now();
        let mut g = self.inner.write();
        let ns = g.entry(namespace.to_string()).or_default();
        for (k, values) in entries {
            ns.insert(
                k,
                FeatureVector {
                    values,
                    updated_at: now,
                },
            );
        }
        Ok(())
    }

    async fn get_many(
        &self,
        namespace: &str,
        keys: &[String],
    ) -> Result<Vec<Option<FeatureVector>>> {
        let g = self.inner.read();
        let ns = g.get(namespace);
        Ok(keys
            .iter()
            .map(|k| ns.and_then(|n| n.get(k)).cloned())
            .collect())
    }

    async fn count(&self, namespace: &str) -> Result<u64> {
        Ok(self
            .inner
            .read()
            .get(namespace)
            .map(|n| n.len() as u64)
            .unwrap_or(0))
    }
}
