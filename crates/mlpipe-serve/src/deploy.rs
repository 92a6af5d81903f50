//! Deployment: a ready model is validated (it loads, its features match, batch and row
//! paths agree and give finite scores on real rows), then goes live as the new default
//! while the previous default stays live behind it. A model that fails validation never
//! serves.

use crate::error::{Result, ServeError};
use crate::loaded::{LoadedModel, ModelCache};
use async_trait::async_trait;
use mlpipe_core::broker::{Broker, BrokerExt};
use mlpipe_core::events::*;
use mlpipe_core::service::{handler_error, EventHandler, HandlerError};
use mlpipe_core::store::*;
use mlpipe_core::table::to_matrix;
use mlpipe_core::{Envelope, EventId, ModelRef, Score};
use std::sync::Arc;

/// Consumer group of the deployer.
pub const GROUP: &str = "mlpipe-deploy";

/// Rows used to validate a model before it goes live.
pub const VALIDATION_ROWS: usize = 32;

/// Validates and deploys models.
pub struct Deployer {
    stores: Stores,
    broker: Arc<dyn Broker>,
    cache: ModelCache,
    /// How many versions stay live (the newest first).
    pub keep_live: usize,
}

fn finite(s: &Score) -> bool {
    match s {
        Score::Probabilities { probabilities, .. } => probabilities.iter().all(|p| p.is_finite()),
        Score::Value { value } => value.is_finite(),
        Score::Forecast(f) => f.mean.iter().all(|v| v.is_finite()),
        _ => true,
    }
}

impl Deployer {
    /// A deployer keeping two versions live.
    pub fn new(stores: Stores, broker: Arc<dyn Broker>, cache: ModelCache) -> Self {
        Self {
            stores,
            broker,
            cache,
            keep_live: 2,
        }
    }

    /// Checks a version can serve: loads it with its features and scores real rows.
    pub async fn validate(&self, m: &ModelRef) -> Result<LoadedModel> {
        let loaded = self.cache.load(m).await?;
        let fs = &loaded.artefact.feature_set_id;
        let batches = self.stores.features.batches(fs).await?;
        let first = batches.first().ok_or_else(|| ServeError::Validation {
            model: m.clone(),
            reason: format!("feature set {fs} has no rows to validate on"),
        })?;
        let data = self
            .stores
            .features
            .read(fs, Some(std::slice::from_ref(first)))
            .await?;
        let x = to_matrix(&data, loaded.features.feature_names())?;
        let n = x.nrows().min(VALIDATION_ROWS);
        let sample = x.slice_axis(ndarray::Axis(0), ndarray::Slice::from(0..n));
        let batch = loaded.model.predict_batch(sample)?;
        for (i, s) in batch.iter().enumerate() {
            let row = loaded.model.predict_row(&sample.row(i).to_vec())?;
            if &row != s {
                return Err(ServeError::Validation {
                    model: m.clone(),
                    reason: format!("row {i}: batch and row predictions differ"),
                });
            }
            if !finite(s) {
                return Err(ServeError::Validation {
                    model: m.clone(),
                    reason: format!("row {i}: the score is not finite"),
                });
            }
        }
        Ok(loaded)
    }

    /// Validates `m` and makes it the live default, keeping the previous default live
    /// behind it. One step; publishes `model-deployed`.
    pub async fn deploy(
        &self,
        m: &ModelRef,
        actor: &str,
        cause: Option<&EventId>,
    ) -> Result<DeploymentRecord> {
        let current = self.stores.registry.live(&m.model).await?;
        if let Some(c) = &current {
            if c.default == m.version {
                return Ok(c.clone());
            }
        }
        let loaded = match self.validate(m).await {
            Ok(l) => l,
            Err(e) => {
                self.stores
                    .lineage
                    .audit(AuditRecord::now(
                        actor,
                        "deployment.refused",
                        &Node::Model(m.clone()),
                        serde_json::json!({"reason": e.to_string()}),
                    ))
                    .await?;
                return Err(e);
            }
        };
        let mut live = vec![m.version];
        if let Some(c) = &current {
            live.push(c.default);
            live.extend(
                c.live
                    .iter()
                    .filter(|v| **v != c.default && **v != m.version),
            );
        }
        live.truncate(self.keep_live.max(1));
        let record = DeploymentRecord {
            model: m.model.clone(),
            live,
            default: m.version,
            action: "deploy".into(),
            actor: actor.into(),
            at: chrono::Utc::now(),
        };
        self.stores
            .registry
            .record_deployment(record.clone())
            .await?;
        self.cache.insert(Arc::new(loaded));
        self.stores
            .lineage
            .audit(AuditRecord::now(
                actor,
                "model.deployed",
                &Node::Model(m.clone()),
                serde_json::json!({"live": record.live}),
            ))
            .await?;
        let previous = current.map(|c| ModelRef {
            model: m.model.clone(),
            version: c.default,
        });
        let event = Event::ModelDeployed(ModelDeployed {
            model: m.clone(),
            previous,
        });
        let env = Envelope::after(event, cause, &m.to_string());
        self.broker.publish_event(&env).await?;
        tracing::info!(model = %m, "deployed");
        Ok(record)
    }
}

/// Consumes `model-ready` under [`GROUP`]; started with
/// [`StageExt::start`](mlpipe_core::service::StageExt::start).
impl mlpipe_core::service::Stage for Deployer {
    fn group(&self) -> &str {
        GROUP
    }
    fn topics(&self) -> Vec<Topic> {
        vec![Topic::ModelReady]
    }
    fn broker(&self) -> Arc<dyn Broker> {
        self.broker.clone()
    }
}

#[async_trait]
impl EventHandler for Deployer {
    async fn handle(&self, env: Envelope, _attempt: u32) -> std::result::Result<(), HandlerError> {
        let Event::ModelReady(e) = &env.event else {
            return Ok(());
        };
        match self.deploy(&e.model, GROUP, Some(&env.id)).await {
            Ok(_) => Ok(()),
            // A model that fails validation fails it again; a store failure may pass.
            Err(e) => {
                let t = e.is_transient();
                Err(handler_error(e, t))
            }
        }
    }
}
