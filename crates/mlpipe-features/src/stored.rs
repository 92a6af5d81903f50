//! What a stored feature set is, for a consumer such as a model server: a fitted pipeline
//! (raw records → features, by the row or batch path) or a combined feature set (features
//! of several datasets joined on a key, which exist only as stored tables and online
//! vectors — there is no raw record to compute them from).

use crate::error::{FeatureError, Result};
use crate::pipeline::FittedPipeline;
use crate::registry::StepRegistry;
use crate::service::pipeline_of;
use mlpipe_core::store::FeatureStore;
use mlpipe_core::{FeatureSetId, Row};

/// A combined (joined) feature set as recorded by the preparation service.
#[derive(Clone, Debug, PartialEq)]
pub struct CombinedFeatureSet {
    /// Its id.
    pub id: FeatureSetId,
    /// Name of the combined set in the configuration.
    pub name: String,
    /// The joined datasets.
    pub sources: Vec<String>,
    /// Feature columns, in table order.
    pub feature_names: Vec<String>,
    /// The key column the sources were joined on.
    pub key: String,
}

/// The features of a stored feature set, ready to use.
#[derive(Debug)]
pub enum StoredFeatures {
    /// A fitted pipeline.
    Pipeline(Box<FittedPipeline>),
    /// A combined feature set: read its vectors by key (online store) or its tables.
    Combined(CombinedFeatureSet),
}

impl StoredFeatures {
    /// The feature set's id.
    pub fn id(&self) -> &FeatureSetId {
        match self {
            StoredFeatures::Pipeline(p) => p.id(),
            StoredFeatures::Combined(c) => &c.id,
        }
    }

    /// Feature columns, in order.
    pub fn feature_names(&self) -> &[String] {
        match self {
            StoredFeatures::Pipeline(p) => p.feature_names(),
            StoredFeatures::Combined(c) => &c.feature_names,
        }
    }

    /// The entity key column of the stored tables.
    pub fn key_column(&self) -> String {
        match self {
            StoredFeatures::Pipeline(p) => p.key_column(),
            StoredFeatures::Combined(c) => c.key.clone(),
        }
    }

    /// The features of one raw record (the row path); a combined set refuses with a
    /// typed error that says to score it by key.
    pub fn transform_row(&self, row: &Row) -> Result<Vec<f64>> {
        match self {
            StoredFeatures::Pipeline(p) => p.transform_row(row),
            StoredFeatures::Combined(c) => Err(FeatureError::Definition(format!(
                "feature set {} is the combined set `{}` (datasets {} joined on `{}`): its features exist only by entity key, so send the key (read from the online store) instead of a raw record",
                c.id,
                c.name,
                c.sources.join(", "),
                c.key
            ))),
        }
    }

    /// The fitted pipeline, when this is one.
    pub fn pipeline(&self) -> Option<&FittedPipeline> {
        match self {
            StoredFeatures::Pipeline(p) => Some(p),
            StoredFeatures::Combined(_) => None,
        }
    }
}

/// Loads a stored feature set of either kind (see [`load_pipeline`](crate::load_pipeline)
/// for pipelines alone).
pub async fn load_features(
    features: &dyn FeatureStore,
    registry: &StepRegistry,
    id: &FeatureSetId,
) -> Result<StoredFeatures> {
    let rec = features.feature_set(id).await?;
    if let Some(name) = rec.pipeline.get("combined").and_then(|v| v.as_str()) {
        let sources = rec
            .pipeline
            .get("sources")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.get("dataset").and_then(|d| d.as_str()))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let key = rec.key.clone().ok_or_else(|| {
            FeatureError::Definition(format!("combined feature set {id} has no key recorded"))
        })?;
        return Ok(StoredFeatures::Combined(CombinedFeatureSet {
            id: rec.id.clone(),
            name: name.to_string(),
            sources,
            feature_names: rec.feature_names.clone(),
            key,
        }));
    }
    Ok(StoredFeatures::Pipeline(Box::new(pipeline_of(
        &rec, registry,
    )?)))
}
