//! The join/sync step of the preparation service: a combined feature set waits until
//! every source dataset has features, then joins their latest feature tables on the key,
//! stores the result as a feature set of its own and publishes `features-generated`.

use crate::error::{FeatureError, Result};
use crate::join::{inner_join, JoinSource};
use crate::service::{check_combined_source, CombinedFeatures, PreparationService, GROUP};
use mlpipe_core::broker::BrokerExt;
use mlpipe_core::events::{Event, FeaturesGenerated};
use mlpipe_core::store::{AuditRecord, FeatureSetRecord, LineageLink, Node};
use mlpipe_core::{BatchId, Envelope, EventId, FeatureSetId};
use sha2::{Digest, Sha256};

impl PreparationService {
    /// Builds every combined feature set that has `dataset` among its sources and whose
    /// sources all have features; returns the ids built. `subject` (the feature set just
    /// written for `dataset`) is what a failure is audited against.
    ///
    /// `dataset`'s own features are stored by then, so a combined set that cannot be built
    /// (a definition or data problem) is logged and audited as `combined.failed` and the
    /// others are still built; only a transient failure is returned, for the event to be
    /// retried (which rebuilds the same sets and republishes the same event ids).
    pub(crate) async fn combine_ready(
        &self,
        dataset: &str,
        subject: &Node,
        cause: Option<&EventId>,
    ) -> Result<Vec<FeatureSetId>> {
        let mut built = Vec::new();
        let mut transient = None;
        for (name, c) in &self.config.combined {
            if !c.sources.iter().any(|s| s == dataset) {
                continue;
            }
            match self.combine(name, c, cause).await {
                Ok(Some(id)) => built.push(id),
                Ok(None) => {}
                Err(e) if e.is_transient() => {
                    transient.get_or_insert(e);
                }
                Err(e) => {
                    tracing::error!(combined = %name, dataset, error = %e, "combined feature set not built");
                    self.stores
                        .lineage
                        .audit(AuditRecord::now(
                            GROUP,
                            "combined.failed",
                            subject,
                            serde_json::json!({"combined": name, "dataset": dataset, "error": e.to_string()}),
                        ))
                        .await?;
                }
            }
        }
        match transient {
            Some(e) => Err(e),
            None => Ok(built),
        }
    }

    /// Joins the latest features of every source of `c`; `None` while a source has none.
    pub async fn combine(
        &self,
        name: &str,
        c: &CombinedFeatures,
        cause: Option<&EventId>,
    ) -> Result<Option<FeatureSetId>> {
        let mut sources = Vec::new();
        let mut parts = Vec::new();
        for src in &c.sources {
            let Some(rec) = self.stores.features.feature_sets(Some(src)).await?.pop() else {
                tracing::info!(combined = name, waiting_for = %src, "combined features wait for a source");
                return Ok(None);
            };
            let Some(batch) = self.stores.features.batches(&rec.id).await?.pop() else {
                return Ok(None);
            };
            let fitted_on_split = mlpipe_split::SplitConfig::fitted_on(&rec)
                .map_err(|e| FeatureError::Definition(e.to_string()))?
                .is_some();
            // A source without `key` is stored keyed by row number (`ROW_KEY`).
            let key = rec.key.clone().filter(|k| k != crate::ROW_KEY);
            let key = check_combined_source(name, src, key, fitted_on_split)?;
            let tables = self
                .stores
                .features
                .read(&rec.id, Some(std::slice::from_ref(&batch)))
                .await?;
            let table = mlpipe_core::table::concat(&tables)?;
            parts.push(serde_json::json!({"dataset": src, "feature_set": rec.id, "batch": batch}));
            sources.push((
                JoinSource {
                    name: src.clone(),
                    table,
                    key,
                    label: rec.label.clone(),
                },
                rec.id,
                batch,
            ));
        }
        let spec = serde_json::json!({"combined": name, "key": c.key, "sources": parts});
        let digest = hex::encode(Sha256::digest(spec.to_string().as_bytes()));
        let id = FeatureSetId::new(format!("fs-{}", &digest[..32]));
        let out_batch = BatchId::new(format!("combined-{}", &digest[..32]));
        let join: Vec<JoinSource> = sources.iter().map(|s| s.0.clone()).collect();
        let table = inner_join(&join, &c.key)?;
        let label = join.iter().find_map(|s| s.label.clone());
        let feature_names: Vec<String> = table
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| n != &c.key && Some(n) != label.as_ref())
            .collect();
        self.stores
            .features
            .put_feature_set(FeatureSetRecord {
                id: id.clone(),
                dataset: name.to_string(),
                feature_names: feature_names.clone(),
                label,
                key: Some(c.key.clone()),
                pipeline: spec,
                fitted_on: sources.iter().map(|s| s.2.clone()).collect(),
                created_at: chrono::Utc::now(),
            })
            .await?;
        let rows = table.num_rows() as u64;
        match self
            .stores
            .features
            .write(&id, &out_batch, vec![table.clone()])
            .await
        {
            Ok(()) | Err(mlpipe_core::Error::AlreadyExists { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        if c.replicate_online && rows > 0 {
            let x = mlpipe_core::table::to_matrix(std::slice::from_ref(&table), &feature_names)?;
            let keys = table
                .column_by_name(&c.key)
                .and_then(|k| k.as_any().downcast_ref::<arrow_array::StringArray>())
                .ok_or_else(|| FeatureError::Shape("combined table lost its key".into()))?;
            let entries = x
                .rows()
                .into_iter()
                .enumerate()
                .map(|(i, r)| (keys.value(i).to_string(), r.to_vec()))
                .collect();
            self.stores.online.put(id.as_str(), entries).await?;
        }
        let node = Node::FeatureSet(id.clone());
        for s in &sources {
            self.stores
                .lineage
                .link(LineageLink::new(
                    Node::FeatureSet(s.1.clone()),
                    node.clone(),
                    "joined_into",
                ))
                .await?;
        }
        self.stores
            .lineage
            .audit(AuditRecord::now(
                GROUP,
                "feature_set.combined",
                &node,
                serde_json::json!({"combined": name, "rows": rows, "sources": c.sources}),
            ))
            .await?;
        // The combined rows are stored under their own batch: that is what a consumer
        // (training) reads.
        let event = Event::FeaturesGenerated(FeaturesGenerated {
            dataset: name.to_string(),
            feature_set_id: id.clone(),
            batch_ids: vec![out_batch.clone()],
            rows,
        });
        let env = Envelope::after(event, cause, &format!("{id}|{out_batch}"));
        self.broker.publish_event(&env).await?;
        tracing::info!(combined = name, feature_set = %id, rows, "combined features generated");
        Ok(Some(id))
    }
}
