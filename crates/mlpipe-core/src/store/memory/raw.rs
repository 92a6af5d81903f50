use crate::ids::BatchId;
use crate::store::raw::*;
use crate::{Error, Result};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use async_trait::async_trait;
use chrono::Utc;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone)]
struct Stored {
    info: BatchInfo,
    data: Vec<RecordBatch>,
    quarantine: Vec<QuarantinedRecord>,
}

/// Batches by id, and ids in commit order.
type Catalogue = (HashMap<BatchId, Stored>, Vec<BatchId>);

/// Raw batches in memory.
#[derive(Clone, Default)]
pub struct MemoryRawStore {
    batches: Arc<RwLock<Catalogue>>,
}

#[async_trait]
impl RawStore for MemoryRawStore {
    async fn create(
        &self,
        id: &BatchId,
        meta: BatchMeta,
        schema: SchemaRef,
    ) -> Result<Box<dyn RawBatchWriter>> {
        if self.batches.read().0.contains_key(id) {
            return Err(Error::already_exists(format!("raw batch {id}")));
        }
        Ok(Box::new(MemoryWriter {
            store: self.clone(),
            id: id.clone(),
            meta,
            schema,
            data: Vec::new(),
            quarantine: Vec::new(),
        }))
    }

    async fn info(&self, id: &BatchId) -> Result<BatchInfo> {
        self.batches
            .read()
            .0
            .get(id)
            .map(|s| s.info.clone())
            .ok_or_else(|| Error::not_found(format!("raw batch {id}")))
    }

    async fn read(&self, id: &BatchId) -> Result<Vec<RecordBatch>> {
        self.batches
            .read()
            .0
            .get(id)
            .map(|s| s.data.clone())
            .ok_or_else(|| Error::not_found(format!("raw batch {id}")))
    }

    async fn quarantined(&self, id: &BatchId) -> Result<Vec<QuarantinedRecord>> {
        self.batches
            .read()
            .0
            .get(id)
            .map(|s| s.quarantine.clone())
            .ok_or_else(|| Error::not_found(format!("raw batch {id}")))
    }

    async fn list(&self, dataset: Option<&str>) -> Result<Vec<BatchInfo>> {
        let guard = self.batches.read();
        Ok(guard
            .1
            .iter()
            .filter_map(|id| guard.0.get(id))
            .filter(|s| dataset.is_none_or(|d| s.info.meta.dataset == d))
            .map(|s| s.info.clone())
            .collect())
    }
}

struct MemoryWriter {
    store: MemoryRawStore,
    id: BatchId,
    meta: BatchMeta,
    schema: SchemaRef,
    data: Vec<RecordBatch>,
    quarantine: Vec<QuarantinedRecord>,
}

#[async_trait]
impl RawBatchWriter for MemoryWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.schema().fields() != self.schema.fields() {
            return Err(Error::Schema(format!(
                "batch schema {:?} differs from the declared {:?}",
                batch.schema(),
                self.schema
            )));
        }
        self.data.push(batch);
        Ok(())
    }

    async fn quarantine(&mut self, records: Vec<QuarantinedRecord>) -> Result<()> {
        self.quarantine.extend(records);
        Ok(())
    }

    async fn commit(self: Box<Self>, summary: BatchSummary) -> Result<BatchInfo> {
        let rows = self.data.iter().map(|b| b.num_rows() as u64).sum();
        let stored_bytes = self
            .data
            .iter()
            .map(|b| b.get_array_memory_size() as u64)
            .sum();
        let info = BatchInfo {
            id: self.id.clone(),
            meta: self.meta,
            schema: self.schema,
            rows,
            quarantined: self.quarantine.len() as u64,
            summary,
            stored_bytes,
            created_at: Utc::now(),
        };
        let mut guard = self.store.batches.write();
        if guard.0.contains_key(&self.id) {
            return Err(Error::already_exists(format!("raw batch {}", self.id)));
        }
        guard.0.insert(
            self.id.clone(),
            Stored {
                info: info.clone(),
                data: self.data,
                quarantine: self.quarantine,
            },
        );
        guard.1.push(self.id);
        Ok(info)
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}
