//! [`RawStore`] on Parquet files.

use crate::parts::*;
use crate::ParquetStore;
use async_trait::async_trait;
use chrono::Utc;
use futures::stream::{self, StreamExt, TryStreamExt};
use mlpipe_core::store::*;
use mlpipe_core::*;
use serde::{Deserialize, Serialize};

/// The commit marker of a raw batch.
#[derive(Serialize, Deserialize)]
struct Manifest {
    info: BatchInfo,
    writer: String,
    parts: Vec<String>,
    quarantine: bool,
}

impl ParquetStore {
    fn raw_dir(&self, id: &BatchId) -> object_store::path::Path {
        self.path(&format!("raw/{id}"))
    }

    async fn raw_manifest(&self, id: &BatchId) -> Result<Manifest> {
        let path = self.raw_dir(id).join("_manifest.json");
        read_json(&self.store, &path, "raw batch manifest")
            .await?
            .ok_or_else(|| Error::not_found(format!("raw batch {id}")))
    }
}

#[async_trait]
impl RawStore for ParquetStore {
    async fn create(
        &self,
        id: &BatchId,
        meta: BatchMeta,
        schema: SchemaRef,
    ) -> Result<Box<dyn RawBatchWriter>> {
        if self.raw_manifest(id).await.is_ok() {
            return Err(Error::already_exists(format!("raw batch {id}")));
        }
        let writer = uuid_like();
        let dir = self.raw_dir(id).join(writer.as_str());
        Ok(Box::new(ParquetRawWriter {
            store: self.clone(),
            id: id.clone(),
            meta,
            schema,
            parts: PartWriter::new(self.store.clone(), dir, self.parts),
            writer,
            quarantine: Vec::new(),
        }))
    }

    async fn info(&self, id: &BatchId) -> Result<BatchInfo> {
        Ok(self.raw_manifest(id).await?.info)
    }

    async fn read(&self, id: &BatchId) -> Result<Vec<RecordBatch>> {
        let m = self.raw_manifest(id).await?;
        let dir = self.raw_dir(id).join(m.writer.as_str());
        read_parts(&self.store, &dir, &m.parts).await
    }

    async fn quarantined(&self, id: &BatchId) -> Result<Vec<QuarantinedRecord>> {
        let m = self.raw_manifest(id).await?;
        if !m.quarantine {
            return Ok(Vec::new());
        }
        let path = self
            .raw_dir(id)
            .join(m.writer.as_str())
            .join("quarantine.json");
        Ok(read_json(&self.store, &path, "quarantine")
            .await?
            .unwrap_or_default())
    }

    async fn list(&self, dataset: Option<&str>) -> Result<Vec<BatchInfo>> {
        let ids = list_dirs(&self.store, &self.path("raw")).await?;
        let mut infos: Vec<BatchInfo> = stream::iter(ids)
            .map(|id| async move {
                let path = self.path(&format!("raw/{id}/_manifest.json"));
                read_json::<Manifest>(&self.store, &path, "raw batch manifest").await
            })
            .buffer_unordered(16)
            .try_filter_map(|m| async move { Ok(m.map(|m| m.info)) })
            .try_collect()
            .await?;
        infos.retain(|i| dataset.is_none_or(|d| i.meta.dataset == d));
        infos.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(infos)
    }
}

/// A fresh writer id (also a UUIDv7, so directories sort by time).
pub(crate) fn uuid_like() -> String {
    EventId::generate().to_string()
}

struct ParquetRawWriter {
    store: ParquetStore,
    id: BatchId,
    meta: BatchMeta,
    schema: SchemaRef,
    parts: PartWriter,
    writer: String,
    quarantine: Vec<QuarantinedRecord>,
}

#[async_trait]
impl RawBatchWriter for ParquetRawWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.schema().fields() != self.schema.fields() {
            return Err(Error::Schema(format!(
                "batch schema {:?} differs from the declared {:?}",
                batch.schema(),
                self.schema
            )));
        }
        self.parts.write(batch).await
    }

    async fn quarantine(&mut self, records: Vec<QuarantinedRecord>) -> Result<()> {
        self.quarantine.extend(records);
        Ok(())
    }

    async fn commit(mut self: Box<Self>, summary: BatchSummary) -> Result<BatchInfo> {
        let result = async {
            self.parts.flush().await?;
            let dir = self.store.raw_dir(&self.id).join(self.writer.as_str());
            let has_quarantine = !self.quarantine.is_empty();
            if has_quarantine {
                create_json(
                    &self.store.store,
                    &dir.clone().join("quarantine.json"),
                    &self.quarantine,
                    "quarantine",
                )
                .await?;
            }
            let info = BatchInfo {
                id: self.id.clone(),
                meta: self.meta.clone(),
                schema: self.schema.clone(),
                rows: self.parts.rows,
                quarantined: self.quarantine.len() as u64,
                summary,
                stored_bytes: self.parts.bytes,
                created_at: Utc::now(),
            };
            let manifest = Manifest {
                info: info.clone(),
                writer: self.writer.clone(),
                parts: self.parts.parts.clone(),
                quarantine: has_quarantine,
            };
            let path = self.store.raw_dir(&self.id).join("_manifest.json");
            create_json(&self.store.store, &path, &manifest, "raw batch manifest")
                .await
                .map_err(|e| match e {
                    Error::AlreadyExists { .. } => {
                        Error::already_exists(format!("raw batch {}", self.id))
                    }
                    e => e,
                })?;
            Ok(info)
        }
        .await;
        if result.is_err() {
            self.discard().await;
        }
        result
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        self.discard().await;
        Ok(())
    }
}

impl ParquetRawWriter {
    async fn discard(&self) {
        self.parts.discard().await;
        let q = self
            .store
            .raw_dir(&self.id)
            .join(self.writer.as_str())
            .join("quarantine.json");
        let _ = object_store::ObjectStoreExt::delete(self.store.store.as_ref(), &q).await;
    }
}
