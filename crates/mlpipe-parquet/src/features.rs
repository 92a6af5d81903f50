//! [`FeatureStore`] on Parquet files.

use crate::parts::*;
use crate::raw::uuid_like;
use crate::ParquetStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use mlpipe_core::store::*;
use mlpipe_core::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct FeatureManifest {
    batch: BatchId,
    writer: String,
    parts: Vec<String>,
    rows: u64,
    written_at: DateTime<Utc>,
}

impl ParquetStore {
    fn fs_dir(&self, id: &FeatureSetId) -> object_store::path::Path {
        self.path(&format!("features/{id}"))
    }

    async fn feature_manifest(
        &self,
        id: &FeatureSetId,
        batch: &BatchId,
    ) -> Result<Option<FeatureManifest>> {
        let path = self
            .fs_dir(id)
            .join("batches")
            .join(batch.as_str())
            .join("_manifest.json");
        read_json(&self.store, &path, "feature manifest").await
    }
}

#[async_trait]
impl FeatureStore for ParquetStore {
    async fn put_feature_set(&self, record: FeatureSetRecord) -> Result<()> {
        let path = self.fs_dir(&record.id).join("_featureset.json");
        match create_json(&self.store, &path, &record, "feature set").await {
            Ok(()) => Ok(()),
            Err(Error::AlreadyExists { .. }) => {
                let existing = self.feature_set(&record.id).await?;
                if existing.same_content(&record) {
                    Ok(())
                } else {
                    Err(Error::already_exists(format!(
                        "feature set {} with different content",
                        record.id
                    )))
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn feature_set(&self, id: &FeatureSetId) -> Result<FeatureSetRecord> {
        let path = self.fs_dir(id).join("_featureset.json");
        read_json(&self.store, &path, "feature set")
            .await?
            .ok_or_else(|| Error::not_found(format!("feature set {id}")))
    }

    async fn feature_sets(&self, dataset: Option<&str>) -> Result<Vec<FeatureSetRecord>> {
        let ids = list_dirs(&self.store, &self.path("features")).await?;
        let mut sets: Vec<FeatureSetRecord> = stream::iter(ids)
            .map(|id| async move {
                let path = self.path(&format!("features/{id}/_featureset.json"));
                read_json::<FeatureSetRecord>(&self.store, &path, "feature set").await
            })
            .buffer_unordered(16)
            .try_filter_map(|r| async move { Ok(r) })
            .try_collect()
            .await?;
        sets.retain(|s| dataset.is_none_or(|d| s.dataset == d));
        sets.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(sets)
    }

    async fn write(
        &self,
        id: &FeatureSetId,
        batch: &BatchId,
        data: Vec<RecordBatch>,
    ) -> Result<()> {
        self.feature_set(id).await?;
        if self.feature_manifest(id, batch).await?.is_some() {
            return Err(Error::already_exists(format!(
                "features of batch {batch} under feature set {id}"
            )));
        }
        let writer = uuid_like();
        let bdir = self.fs_dir(id).join("batches").join(batch.as_str());
        let mut parts = PartWriter::new(
            self.store.clone(),
            bdir.clone().join(writer.as_str()),
            self.parts,
        );
        let result = async {
            for b in data {
                parts.write(b).await?;
            }
            parts.flush().await?;
            let manifest = FeatureManifest {
                batch: batch.clone(),
                writer: writer.clone(),
                parts: parts.parts.clone(),
                rows: parts.rows,
                written_at: Utc::now(),
            };
            create_json(
                &self.store,
                &bdir.clone().join("_manifest.json"),
                &manifest,
                "feature manifest",
            )
            .await
            .map_err(|e| match e {
                Error::AlreadyExists { .. } => Error::already_exists(format!(
                    "features of batch {batch} under feature set {id}"
                )),
                e => e,
            })
        }
        .await;
        if result.is_err() {
            parts.discard().await;
        }
        result
    }

    async fn batches(&self, id: &FeatureSetId) -> Result<Vec<BatchId>> {
        let dirs = list_dirs(&self.store, &self.fs_dir(id).join("batches")).await?;
        let mut manifests: Vec<FeatureManifest> = stream::iter(dirs)
            .map(|b| async move { self.feature_manifest(id, &BatchId::new(b)).await })
            .buffer_unordered(16)
            .try_filter_map(|m| async move { Ok(m) })
            .try_collect()
            .await?;
        manifests.sort_by(|a, b| (a.written_at, &a.batch).cmp(&(b.written_at, &b.batch)));
        Ok(manifests.into_iter().map(|m| m.batch).collect())
    }

    async fn read(
        &self,
        id: &FeatureSetId,
        batches: Option<&[BatchId]>,
    ) -> Result<Vec<RecordBatch>> {
        self.feature_set(id).await?;
        let wanted = match batches {
            Some(b) => b.to_vec(),
            None => self.batches(id).await?,
        };
        let mut out = Vec::new();
        for b in &wanted {
            let m = self.feature_manifest(id, b).await?.ok_or_else(|| {
                Error::not_found(format!("features of batch {b} under feature set {id}"))
            })?;
            let dir = self
                .fs_dir(id)
                .join("batches")
                .join(b.as_str())
                .join(m.writer.as_str());
            out.extend(read_parts(&self.store, &dir, &m.parts).await?);
        }
        Ok(out)
    }
}
