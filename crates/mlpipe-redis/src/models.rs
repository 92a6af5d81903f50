//! Model artefacts in Redis, and a registry that serves artefacts from there.

use crate::conn::Redis;
use async_trait::async_trait;
use mlpipe_core::store::*;
use mlpipe_core::*;
use std::sync::Arc;

/// Serialised model artefacts by version (`{prefix}:model:{id}:{version}`). Artefacts
/// are immutable, so cached copies never go stale.
#[derive(Clone, Debug)]
pub struct RedisModelCache {
    redis: Redis,
}

impl RedisModelCache {
    /// A model cache on `redis`.
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    fn key(&self, m: &ModelRef) -> String {
        self.redis
            .key(&format!("model:{}:{}", m.model, m.version.0))
    }

    /// Stores the artefact bytes of `m`.
    pub async fn put(&self, m: &ModelRef, artefact: &[u8]) -> Result<()> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(m)).arg(artefact);
        self.redis.cmd::<()>("caching a model artefact", &cmd).await
    }

    /// The artefact bytes of `m`, if cached.
    pub async fn get(&self, m: &ModelRef) -> Result<Option<Vec<u8>>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(m));
        self.redis
            .cmd("reading a cached model artefact", &cmd)
            .await
    }

    /// Whether `m` is cached.
    pub async fn contains(&self, m: &ModelRef) -> Result<bool> {
        let mut cmd = redis::cmd("EXISTS");
        cmd.arg(self.key(m));
        self.redis
            .cmd::<u64>("checking a cached model artefact", &cmd)
            .await
            .map(|n| n > 0)
    }

    /// Drops `m` from the cache.
    pub async fn remove(&self, m: &ModelRef) -> Result<()> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(m));
        self.redis
            .cmd::<()>("removing a cached model artefact", &cmd)
            .await
    }
}

/// A [`ModelRegistry`] whose artefacts are read from Redis first.
///
/// Everything is stored in and answered by the registry of record (`inner`); recording a
/// deployment also copies the artefacts of its live versions to Redis, and a cache miss
/// fills the cache. If Redis is away, reads fall back to `inner` (with a warning), so
/// serving keeps working on the slower path.
#[derive(Clone)]
pub struct CachedRegistry {
    inner: Arc<dyn ModelRegistry>,
    cache: RedisModelCache,
}

impl CachedRegistry {
    /// Wraps `inner`, caching artefacts in `cache`.
    pub fn new(inner: Arc<dyn ModelRegistry>, cache: RedisModelCache) -> Self {
        Self { inner, cache }
    }

    /// The artefact cache.
    pub fn cache(&self) -> &RedisModelCache {
        &self.cache
    }

    async fn fill(&self, m: &ModelRef, bytes: &[u8]) {
        if let Err(e) = self.cache.put(m, bytes).await {
            tracing::warn!(model = %m, error = %e, "could not cache a model artefact in Redis");
        }
    }
}

#[async_trait]
impl ModelRegistry for CachedRegistry {
    async fn register(&self, candidate: NewCandidate) -> Result<ModelRef> {
        self.inner.register(candidate).await
    }

    async fn get(&self, model: &ModelRef) -> Result<ModelRecord> {
        self.inner.get(model).await
    }

    async fn artefact(&self, model: &ModelRef) -> Result<Vec<u8>> {
        match self.cache.get(model).await {
            Ok(Some(bytes)) => return Ok(bytes),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(model = %model, error = %e, "Redis model cache unavailable; reading the registry");
                return self.inner.artefact(model).await;
            }
        }
        let bytes = self.inner.artefact(model).await?;
        self.fill(model, &bytes).await;
        Ok(bytes)
    }

    async fn versions(&self, model: &ModelId) -> Result<Vec<ModelRecord>> {
        self.inner.versions(model).await
    }

    async fn models(&self) -> Result<Vec<ModelId>> {
        self.inner.models().await
    }

    async fn put_evaluation(&self, evaluation: EvaluationRecord) -> Result<()> {
        self.inner.put_evaluation(evaluation).await
    }

    async fn evaluations(&self, model: &ModelRef) -> Result<Vec<EvaluationRecord>> {
        self.inner.evaluations(model).await
    }

    async fn mark_ready(&self, model: &ModelRef) -> Result<()> {
        self.inner.mark_ready(model).await
    }

    async fn record_deployment(&self, deployment: DeploymentRecord) -> Result<()> {
        let model = deployment.model.clone();
        let live = deployment.live.clone();
        self.inner.record_deployment(deployment).await?;
        for version in live {
            let m = ModelRef {
                model: model.clone(),
                version,
            };
            if matches!(self.cache.contains(&m).await, Ok(true)) {
                continue;
            }
            match self.inner.artefact(&m).await {
                Ok(bytes) => self.fill(&m, &bytes).await,
                Err(e) => {
                    tracing::warn!(model = %m, error = %e, "could not read a live artefact to cache it")
                }
            }
        }
        Ok(())
    }

    async fn deployments(&self, model: &ModelId) -> Result<Vec<DeploymentRecord>> {
        self.inner.deployments(model).await
    }
}
