//! Models ready to serve: the model with the fitted feature pipeline it was trained on,
//! and an in-memory cache of them.

use crate::error::{Result, ServeError};
use mlpipe_core::store::Stores;
use mlpipe_core::{ModelRef, Row, Score};
use mlpipe_features::{load_features, StepRegistry, StoredFeatures};
use mlpipe_models::{Algorithms, Model, ModelArtefact};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

/// A deployed version in memory.
#[derive(Debug)]
pub struct LoadedModel {
    /// Which version.
    pub model_ref: ModelRef,
    /// Its artefact.
    pub artefact: ModelArtefact,
    /// The model.
    pub model: Box<dyn Model>,
    /// The features it consumes: a fitted pipeline, or a combined feature set (scored by
    /// key only).
    pub features: Arc<StoredFeatures>,
}

impl LoadedModel {
    /// Scores a raw record: the pipeline's row path, then the model's row path. A model
    /// on a combined feature set refuses (a client error): it is scored by key.
    pub fn score_row(&self, row: &Row) -> Result<Score> {
        let x = self.features.transform_row(row)?;
        Ok(self.model.predict_row(&x)?)
    }

    /// Scores an already prepared feature vector (from the online store).
    pub fn score_features(&self, x: &[f64]) -> Result<Score> {
        Ok(self.model.predict_row(x)?)
    }
}

/// Loads versions from the registry and keeps them in memory.
#[derive(Clone)]
pub struct ModelCache {
    stores: Stores,
    algorithms: Arc<Algorithms>,
    steps: Arc<StepRegistry>,
    loaded: Arc<RwLock<HashMap<ModelRef, Arc<LoadedModel>>>>,
}

impl ModelCache {
    /// A cache over the registry and feature store in `stores`.
    pub fn new(stores: Stores, algorithms: Arc<Algorithms>, steps: Arc<StepRegistry>) -> Self {
        Self {
            stores,
            algorithms,
            steps,
            loaded: Arc::default(),
        }
    }

    /// The loaded version, loading it on first use.
    pub async fn get(&self, m: &ModelRef) -> Result<Arc<LoadedModel>> {
        if let Some(l) = self.loaded.read().get(m) {
            return Ok(l.clone());
        }
        let l = Arc::new(self.load(m).await?);
        self.loaded.write().insert(m.clone(), l.clone());
        Ok(l)
    }

    /// Loads a version without caching it (used by validation).
    pub async fn load(&self, m: &ModelRef) -> Result<LoadedModel> {
        let bytes = self.stores.registry.artefact(m).await?;
        let (artefact, model) = self.algorithms.load_bytes(&bytes)?;
        let features = load_features(
            self.stores.features.as_ref(),
            &self.steps,
            &artefact.feature_set_id,
        )
        .await?;
        if features.feature_names() != artefact.input_schema.as_slice() {
            return Err(ServeError::Validation {
                model: m.clone(),
                reason: format!(
                    "the model expects features {:?} but feature set {} gives {:?}",
                    artefact.input_schema,
                    artefact.feature_set_id,
                    features.feature_names()
                ),
            });
        }
        Ok(LoadedModel {
            model_ref: m.clone(),
            artefact,
            model,
            features: Arc::new(features),
        })
    }

    /// Puts an already loaded version in the cache.
    pub fn insert(&self, l: Arc<LoadedModel>) {
        self.loaded.write().insert(l.model_ref.clone(), l);
    }

    /// Drops a version from memory.
    pub fn evict(&self, m: &ModelRef) {
        self.loaded.write().remove(m);
    }
}
