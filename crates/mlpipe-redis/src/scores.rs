//! Precomputed scores in Redis: the newest score per (model, entity key), for polling.

use crate::conn::Redis;
use async_trait::async_trait;
use mlpipe_core::store::*;
use mlpipe_core::*;
use std::sync::Arc;

/// Sets each field to its value unless the stored value is newer. Values start with the
/// creation time as 20 zero-padded digits, so comparing prefixes compares times; a tie
/// goes to the later write, as in the SQL and in-memory stores.
const NEWEST_WINS: &str = r#"
for i = 1, #ARGV, 2 do
  local old = redis.call('HGET', KEYS[1], ARGV[i])
  if (not old) or string.sub(old, 1, 20) <= string.sub(ARGV[i + 1], 1, 20) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 0
"#;

/// The newest score per entity key of each model (`{prefix}:scores:{model}`).
#[derive(Clone, Debug)]
pub struct RedisScoreCache {
    redis: Redis,
}

impl RedisScoreCache {
    /// A score cache on `redis`.
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    fn hash(&self, model: &ModelId) -> String {
        self.redis.key(&format!("scores:{model}"))
    }

    /// Keeps the records that have an entity key, newest per key (older ones are ignored).
    pub async fn put(&self, records: &[ScoreRecord]) -> Result<()> {
        let mut by_model: std::collections::BTreeMap<&ModelId, Vec<(&str, String)>> =
            Default::default();
        for r in records {
            let Some(key) = r.entity_key.as_deref() else {
                continue;
            };
            let json = serde_json::to_string(r).map_err(|e| Error::serde("score record", e))?;
            let at = r.created_at.timestamp_micros().max(0);
            by_model
                .entry(&r.model.model)
                .or_default()
                .push((key, format!("{at:020}{json}")));
        }
        if by_model.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (model, fields) in by_model {
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(NEWEST_WINS).arg(1).arg(self.hash(model));
            for (k, v) in fields {
                cmd.arg(k).arg(v);
            }
            pipe.add_command(cmd).ignore();
        }
        self.redis.pipe::<()>("caching scores", &pipe).await
    }

    /// The newest cached score of `key` by `model`.
    pub async fn latest(&self, model: &ModelId, key: &str) -> Result<Option<ScoreRecord>> {
        let mut cmd = redis::cmd("HGET");
        cmd.arg(self.hash(model)).arg(key);
        let raw: Option<String> = self.redis.cmd("reading a cached score", &cmd).await?;
        raw.map(|s| {
            let json = s.get(20..).unwrap_or_default();
            serde_json::from_str(json).map_err(|e| Error::serde("cached score record", e))
        })
        .transpose()
    }

    /// Drops every cached score of `model`.
    pub async fn clear(&self, model: &ModelId) -> Result<()> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.hash(model));
        self.redis.cmd::<()>("clearing cached scores", &cmd).await
    }
}

/// A [`ScoreStore`] that writes the newest score per key through to Redis and answers
/// [`ScoreStore::latest_for_key`] from there (falling back to the store of record on a
/// miss or when Redis is away). Everything else is the store of record's.
#[derive(Clone)]
pub struct CachedScoreStore {
    inner: Arc<dyn ScoreStore>,
    cache: RedisScoreCache,
}

impl CachedScoreStore {
    /// Wraps `inner`, caching the newest scores in `cache`.
    pub fn new(inner: Arc<dyn ScoreStore>, cache: RedisScoreCache) -> Self {
        Self { inner, cache }
    }

    /// The score cache.
    pub fn cache(&self) -> &RedisScoreCache {
        &self.cache
    }
}

#[async_trait]
impl ScoreStore for CachedScoreStore {
    async fn put(&self, records: Vec<ScoreRecord>) -> Result<()> {
        self.inner.put(records.clone()).await?;
        if let Err(e) = self.cache.put(&records).await {
            tracing::warn!(error = %e, "could not cache scores in Redis; polling falls back to the score store");
        }
        Ok(())
    }

    async fn get(&self, request: &RequestId) -> Result<Option<ScoreRecord>> {
        self.inner.get(request).await
    }

    async fn by_run(&self, run: &RunId, offset: u64, limit: u64) -> Result<Vec<ScoreRecord>> {
        self.inner.by_run(run, offset, limit).await
    }

    async fn count_run(&self, run: &RunId) -> Result<u64> {
        self.inner.count_run(run).await
    }

    async fn latest_for_key(&self, model: &ModelId, key: &str) -> Result<Option<ScoreRecord>> {
        match self.cache.latest(model, key).await {
            Ok(Some(r)) => Ok(Some(r)),
            Ok(None) => self.inner.latest_for_key(model, key).await,
            Err(e) => {
                tracing::warn!(error = %e, "Redis score cache unavailable; reading the score store");
                self.inner.latest_for_key(model, key).await
            }
        }
    }

    async fn put_outcome(&self, request: &RequestId, observed: f64) -> Result<()> {
        self.inner.put_outcome(request, observed).await
    }

    async fn outcomes(&self, model: &ModelRef) -> Result<Vec<ScoredOutcome>> {
        self.inner.outcomes(model).await
    }
}
