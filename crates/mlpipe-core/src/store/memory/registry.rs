use crate::ids::*;
use crate::store::registry::*;
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::Utc;
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Default)]
struct Inner {
    versions: BTreeMap<ModelId, Vec<(ModelRecord, Vec<u8>)>>,
    evaluations: Vec<EvaluationRecord>,
    deployments: BTreeMap<ModelId, Vec<DeploymentRecord>>,
}

/// The model registry in memory.
#[derive(Clone, Default)]
pub struct MemoryRegistry {
    inner: Arc<RwLock<Inner>>,
}

impl Inner {
    fn find(&self, m: &ModelRef) -> Result<&(ModelRecord, Vec<u8>)> {
        self.versions
            .get(&m.model)
            .and_then(|v| v.iter().find(|(r, _)| r.model.version == m.version))
            .ok_or_else(|| Error::not_found(format!("model {m}")))
    }
}

#[async_trait]
impl ModelRegistry for MemoryRegistry {
    async fn register(&self, c: NewCandidate) -> Result<ModelRef> {
        let mut g = self.inner.write();
        let versions = g.versions.entry(c.model.clone()).or_default();
        if let Some((r, _)) = versions.iter().find(|(r, _)| r.run_id == c.run_id) {
            return Ok(r.model.clone());
        }
        let version = ModelVersion(versions.len() as u32 + 1);
        let model = ModelRef {
            model: c.model,
            version,
        };
        let record = ModelRecord {
            model: model.clone(),
            kind: c.kind,
            run_id: c.run_id,
            feature_set_id: c.feature_set_id,
            split_id: c.split_id,
            params: c.params,
            training: c.training,
            artefact_bytes: c.artefact.len() as u64,
            status: ModelStatus::Candidate,
            created_at: Utc::now(),
        };
        versions.push((record, c.artefact));
        Ok(model)
    }

    async fn get(&self, model: &ModelRef) -> Result<ModelRecord> {
        Ok(self.inner.read().find(model)?.0.clone())
    }

    async fn artefact(&self, model: &ModelRef) -> Result<Vec<u8>> {
        Ok(self.inner.read().find(model)?.1.clone())
    }

    async fn versions(&self, model: &ModelId) -> Result<Vec<ModelRecord>> {
        Ok(self
            .inner
            .read()
            .versions
            .get(model)
            .map(|v| v.iter().map(|(r, _)| r.clone()).collect())
            .unwrap_or_default())
    }

    async fn models(&self) -> Result<Vec<ModelId>> {
        Ok(self.inner.read().versions.keys().cloned().collect())
    }

    async fn put_evaluation(&self, e: EvaluationRecord) -> Result<()> {
        let mut g = self.inner.write();
        g.find(&e.model)?;
        g.evaluations
            .retain(|x| !(x.run_id == e.run_id && x.model == e.model));
        g.evaluations.push(e);
        Ok(())
    }

    async fn evaluations(&self, model: &ModelRef) -> Result<Vec<EvaluationRecord>> {
        Ok(self
            .inner
            .read()
            .evaluations
            .iter()
            .filter(|e| &e.model == model)
            .cloned()
            .collect())
    }

    async fn mark_ready(&self, model: &ModelRef) -> Result<()> {
        let mut g = self.inner.write();
        let entry = g
            .versions
            .get_mut(&model.model)
            .and_then(|v| v.iter_mut().find(|(r, _)| r.model.version == model.version))
            .ok_or_else(|| Error::not_found(format!("model {model}")))?;
        entry.0.status = ModelStatus::Ready;
        Ok(())
    }

    async fn record_deployment(&self, d: DeploymentRecord) -> Result<()> {
        let mut g = self.inner.write();
        for v in d.live.iter().chain(std::iter::once(&d.default)) {
            g.find(&ModelRef {
                model: d.model.clone(),
                version: *v,
            })?;
        }
        if !d.live.contains(&d.default) {
            return Err(Error::invalid(format!(
                "default version {} is not among the live versions",
                d.default
            )));
        }
        g.deployments.entry(d.model.clone()).or_default().push(d);
        Ok(())
    }

    async fn deployments(&self, model: &ModelId) -> Result<Vec<DeploymentRecord>> {
        Ok(self
            .inner
            .read()
            .deployments
            .get(model)
            .cloned()
            .unwrap_or_default())
    }
}
