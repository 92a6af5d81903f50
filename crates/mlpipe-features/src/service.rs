//! The preparation service: on `raw-data-extracted`, fits (or reuses) the dataset's
//! feature pipeline, writes the features to the offline store under the feature-set id,
//! replicates the latest vector per entity to the online store, records lineage and
//! publishes `features-generated`.
//!
//! Before fitting it computes the [data quality report](crate::quality), records it in
//! the audit trail and, when the dataset sets `quality` thresholds, refuses data that
//! crosses them. After each dataset it builds every combined feature set
//! (`[features.combined.<name>]`) whose sources all have features: their latest feature
//! tables inner-joined on the key (see [`crate::join`]).

use crate::error::{FeatureError, Result};
use crate::pipeline::{FeaturePipeline, FittedPipeline, PipelineDef};
use crate::quality::{quality_report, QualityReport, QualityThresholds};
use crate::registry::StepRegistry;
use async_trait::async_trait;
use mlpipe_core::broker::{Broker, BrokerExt};
use mlpipe_core::events::*;
use mlpipe_core::service::{handler_error, EventHandler, HandlerError};
use mlpipe_core::store::*;
use mlpipe_core::table::concat;
use mlpipe_core::{BatchId, Envelope, EventId, FeatureSetId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Consumer group of the preparation service.
pub const GROUP: &str = "mlpipe-prepare";

/// How a dataset's features are prepared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetFeatures {
    /// The pipeline.
    #[serde(flatten)]
    pub pipeline: PipelineDef,
    /// Fit a new feature set on every raw batch (default), or reuse the dataset's latest
    /// feature set so new batches get the features models were trained on.
    #[serde(default = "yes")]
    pub refit: bool,
    /// Copy the latest vector of every entity to the online store (default true).
    #[serde(default = "yes")]
    pub replicate_online: bool,
    /// Data quality limits that stop the preparation (none by default; the report is
    /// always computed and audited).
    #[serde(default)]
    pub quality: Option<QualityThresholds>,
}

/// A feature set joined from several datasets' features on an entity key.
///
/// ```toml
/// [features.combined.customer-360]
/// sources = ["customers", "orders"]
/// key = "customer_id"
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CombinedFeatures {
    /// Datasets whose features are joined (each must define `key`).
    pub sources: Vec<String>,
    /// Key column of the combined table (the sources' keys are matched as text).
    pub key: String,
    /// Copy the combined vectors to the online store (default true).
    #[serde(default = "yes")]
    pub replicate_online: bool,
}

fn yes() -> bool {
    true
}

/// Preparation settings (section `[features]`): one entry per dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PrepareConfig {
    /// Dataset name → its features.
    #[serde(default)]
    pub datasets: BTreeMap<String, DatasetFeatures>,
    /// Combined feature set name → its sources.
    #[serde(default)]
    pub combined: BTreeMap<String, CombinedFeatures>,
}

impl PrepareConfig {
    /// Refuses settings that could only fail later, batch after batch: `fit_split`
    /// without `refit`, and combined feature sets whose sources are not configured, have
    /// no key, or are fitted with `fit_split`.
    pub fn validate(&self) -> Result<()> {
        for (name, d) in &self.datasets {
            d.check_fit_split(name)?;
        }
        for (name, c) in &self.combined {
            for src in &c.sources {
                let Some(d) = self.datasets.get(src) else {
                    return Err(FeatureError::Definition(format!(
                        "combined feature set `{name}`: source `{src}` has no feature definition"
                    )));
                };
                check_combined_source(
                    name,
                    src,
                    d.pipeline.key.as_ref(),
                    d.pipeline.fit_split.is_some(),
                )?;
            }
        }
        Ok(())
    }
}

impl DatasetFeatures {
    /// `fit_split` needs `refit`: checked with the configuration and again per batch.
    pub(crate) fn check_fit_split(&self, dataset: &str) -> Result<()> {
        if self.pipeline.fit_split.is_some() && !self.refit {
            return Err(FeatureError::Definition(format!(
                "dataset `{dataset}`: `fit_split` needs `refit = true`: a reused feature set \
                 grows by batches its steps never saw, and a split over all of them would put \
                 fitted rows into evaluation"
            )));
        }
        Ok(())
    }
}

/// The key of source `src` of combined feature set `name`, if the source can be joined:
/// checked with the configuration and again, on the stored feature set, when the join is
/// built.
pub(crate) fn check_combined_source<K>(
    name: &str,
    src: &str,
    key: Option<K>,
    fitted_on_split: bool,
) -> Result<K> {
    // A source without a key is stored keyed by row number: joining on that would pair
    // unrelated rows.
    let Some(key) = key else {
        return Err(FeatureError::Definition(format!(
            "combined feature set `{name}`: source `{src}` has no key column; set `key` in \
             its feature definition"
        )));
    };
    // Each source was fitted on the training rows of its own split; the joined rows
    // match neither, so no split of the join could keep fitted rows out of evaluation.
    if fitted_on_split {
        return Err(FeatureError::Definition(format!(
            "combined feature set `{name}`: source `{src}` is fitted with `fit_split`; a join \
             of such sources cannot be split without leaking fitted rows into evaluation: \
             fit the sources on all rows"
        )));
    }
    Ok(key)
}

/// What one preparation did.
#[derive(Clone, Debug, PartialEq)]
pub struct PrepareReport {
    /// The feature set written to.
    pub feature_set_id: FeatureSetId,
    /// Rows written.
    pub rows: u64,
    /// Feature names.
    pub features: Vec<String>,
    /// Whether the feature set was fitted now (false: reused).
    pub fitted: bool,
    /// The data quality report of the raw batch.
    pub quality: QualityReport,
    /// Combined feature sets built after this preparation.
    pub combined: Vec<FeatureSetId>,
}

/// Turns raw batches into stored features.
pub struct PreparationService {
    pub(crate) stores: Stores,
    pub(crate) broker: Arc<dyn Broker>,
    registry: Arc<StepRegistry>,
    splits: Arc<mlpipe_split::SplitRegistry>,
    pub(crate) config: PrepareConfig,
}

/// Loads the fitted pipeline of a stored feature set; a combined feature set has none
/// (see [`load_features`](crate::load_features), which loads either kind).
pub async fn load_pipeline(
    features: &dyn FeatureStore,
    registry: &StepRegistry,
    id: &FeatureSetId,
) -> Result<FittedPipeline> {
    pipeline_of(&features.feature_set(id).await?, registry)
}

/// The fitted pipeline of a stored feature set's record.
pub(crate) fn pipeline_of(
    rec: &FeatureSetRecord,
    registry: &StepRegistry,
) -> Result<FittedPipeline> {
    let id = &rec.id;
    if rec.pipeline.get("combined").is_some() {
        return Err(FeatureError::Definition(format!(
            "feature set {id} is a combined (joined) feature set and has no pipeline of its own; load it with `load_features`"
        )));
    }
    let p = FittedPipeline::from_json(&rec.pipeline, registry)?;
    if p.id() != id {
        return Err(FeatureError::Definition(format!(
            "stored feature set {id} rebuilds as {}: its steps changed meaning; refit it",
            p.id()
        )));
    }
    Ok(p)
}

impl PreparationService {
    /// A service writing to `stores`.
    pub fn new(
        stores: Stores,
        broker: Arc<dyn Broker>,
        registry: Arc<StepRegistry>,
        config: PrepareConfig,
    ) -> Self {
        Self {
            stores,
            broker,
            registry,
            splits: Arc::new(mlpipe_split::SplitRegistry::builtin()),
            config,
        }
    }

    /// The split strategies a `fit_split` is built from (default: the built-ins).
    pub fn with_splits(mut self, splits: Arc<mlpipe_split::SplitRegistry>) -> Self {
        self.splits = splits;
        self
    }

    /// Prepares the features of one raw batch of `dataset`; `Ok(None)` when the dataset has
    /// no feature definition.
    pub async fn prepare(
        &self,
        dataset: &str,
        batch: &BatchId,
        cause: Option<&EventId>,
    ) -> Result<Option<PrepareReport>> {
        let Some(cfg) = self.config.datasets.get(dataset) else {
            tracing::info!(dataset, "no feature definition for this dataset; skipping");
            return Ok(None);
        };
        cfg.check_fit_split(dataset)?;
        let raw = self.stores.raw.read(batch).await?;
        if raw.is_empty() {
            return Err(FeatureError::EmptyData {
                step: format!("features of batch {batch}"),
            });
        }
        let data = concat(&raw)?;
        let quality = quality_report(&data, cfg.pipeline.label.as_deref());
        for w in &quality.warnings {
            tracing::warn!(dataset, batch = %batch, "{w}");
        }
        let raw_node = Node::RawBatch(batch.clone());
        let problems = cfg
            .quality
            .as_ref()
            .map(|t| quality.problems(t))
            .unwrap_or_default();
        self.stores
            .lineage
            .audit(AuditRecord::now(
                GROUP,
                if problems.is_empty() {
                    "quality.passed"
                } else {
                    "quality.failed"
                },
                &raw_node,
                serde_json::json!({"dataset": dataset, "report": &quality, "problems": &problems}),
            ))
            .await?;
        if let Some(t) = &cfg.quality {
            quality.check(t)?;
        }
        let reuse = if cfg.refit {
            None
        } else {
            match self
                .stores
                .features
                .feature_sets(Some(dataset))
                .await?
                .pop()
            {
                Some(rec) => Some(
                    load_pipeline(self.stores.features.as_ref(), &self.registry, &rec.id).await?,
                ),
                None => None,
            }
        };
        let fitted_now = reuse.is_none();
        let (pipeline, table) = {
            let registry = self.registry.clone();
            let splits = self.splits.clone();
            let def = cfg.pipeline.clone();
            let data = data.clone();
            tokio::task::spawn_blocking(move || -> Result<_> {
                let p = match reuse {
                    Some(p) => p,
                    None => FeaturePipeline::new(def, registry)
                        .with_splits(splits)
                        .fit(std::slice::from_ref(&data))?,
                };
                let table = p.feature_table(&data)?;
                Ok((p, table))
            })
            .await
            .map_err(|e| {
                if e.is_cancelled() {
                    // Shutting down: another delivery will do it.
                    FeatureError::Core(mlpipe_core::Error::transient(
                        "prepare",
                        "the feature task was cancelled",
                    ))
                } else {
                    FeatureError::Shape(format!("feature task failed: {e}"))
                }
            })??
        };
        let fs = pipeline.id().clone();
        self.stores
            .features
            .put_feature_set(FeatureSetRecord {
                id: fs.clone(),
                dataset: dataset.to_string(),
                feature_names: pipeline.feature_names().to_vec(),
                label: pipeline.definition().label.clone(),
                key: Some(pipeline.key_column()),
                pipeline: pipeline.to_json().clone(),
                fitted_on: vec![batch.clone()],
                created_at: chrono::Utc::now(),
            })
            .await?;
        let rows = table.num_rows() as u64;
        match self
            .stores
            .features
            .write(&fs, batch, vec![table.clone()])
            .await
        {
            Ok(()) | Err(mlpipe_core::Error::AlreadyExists { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        if cfg.replicate_online {
            let keys = pipeline.keys(&data)?;
            let x = mlpipe_core::table::to_matrix(&[table], pipeline.feature_names())?;
            let entries = keys
                .into_iter()
                .zip(x.rows())
                .map(|(k, r)| (k, r.to_vec()))
                .collect();
            self.stores.online.put(fs.as_str(), entries).await?;
        }
        let node = Node::FeatureSet(fs.clone());
        self.stores
            .lineage
            .link(LineageLink::new(
                Node::RawBatch(batch.clone()),
                node.clone(),
                "features_of",
            ))
            .await?;
        self.stores
            .lineage
            .audit(AuditRecord::now(
                GROUP,
                if fitted_now {
                    "feature_set.fitted"
                } else {
                    "feature_set.reused"
                },
                &node,
                serde_json::json!({"dataset": dataset, "batch": batch, "rows": rows}),
            ))
            .await?;
        let event = Event::FeaturesGenerated(FeaturesGenerated {
            dataset: dataset.to_string(),
            feature_set_id: fs.clone(),
            batch_ids: vec![batch.clone()],
            rows,
        });
        // A redelivered raw-data-extracted publishes the same event id again.
        let env = Envelope::after(event, cause, &format!("{fs}|{batch}"));
        self.broker.publish_event(&env).await?;
        tracing::info!(dataset, batch = %batch, feature_set = %fs, rows, "features generated");
        let combined = self.combine_ready(dataset, &node, cause).await?;
        Ok(Some(PrepareReport {
            feature_set_id: fs,
            rows,
            features: pipeline.feature_names().to_vec(),
            fitted: fitted_now,
            quality,
            combined,
        }))
    }
}

/// Consumes `raw-data-extracted` under [`GROUP`]; started with
/// [`StageExt::start`](mlpipe_core::service::StageExt::start).
impl mlpipe_core::service::Stage for PreparationService {
    fn group(&self) -> &str {
        GROUP
    }
    fn topics(&self) -> Vec<Topic> {
        vec![Topic::RawDataExtracted]
    }
    fn broker(&self) -> Arc<dyn Broker> {
        self.broker.clone()
    }
}

#[async_trait]
impl EventHandler for PreparationService {
    async fn handle(&self, env: Envelope, _attempt: u32) -> std::result::Result<(), HandlerError> {
        let Event::RawDataExtracted(e) = &env.event else {
            return Ok(());
        };
        match self.prepare(&e.dataset, &e.batch_id, Some(&env.id)).await {
            Ok(_) => Ok(()),
            // Bad data or a bad definition fails the same way on every delivery.
            Err(e) => {
                let t = e.is_transient();
                Err(handler_error(e, t))
            }
        }
    }
}
