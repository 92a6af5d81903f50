//! Opening stores and the broker from URLs in configuration (chosen by scheme).
//!
//! | setting | default (embedded) | other schemes |
//! |---|---|---|
//! | `backends.metadata_url` | `sqlite://<data_dir>/mlpipe.db` | `memory://`, `postgres://…` (feature `postgres`) |
//! | `backends.data_url` | `file://<data_dir>/data` | `memory://` |
//! | `backends.online_url` | the metadata store | `memory://`, `sqlite://…`, `postgres://…`, `redis://…` (feature `redis`) |
//! | `backends.broker_url` | `memory://` (in-process) | `nats://…` (feature `nats`) |
//!
//! With `online_url = "redis://host:port/db?prefix=p"` Redis also caches the artefacts of
//! live model versions (serving nodes load deployed models from it) and the newest score
//! per entity key (polling); the metadata store stays the store of record.
//! `broker_url = "nats://host:4222?prefix=p"` names JetStream; `prefix` (default `mlpipe`)
//! separates deployments sharing a server. A scheme whose feature is off is a
//! configuration error that names the feature to enable.

use crate::error::Result;
use mlpipe_core::broker::{Broker, InProcessBroker};
use mlpipe_core::store::memory::*;
use mlpipe_core::store::*;
use mlpipe_core::{Config, Error as CoreError};
use mlpipe_parquet::ParquetStore;
use mlpipe_sql::SqlStore;
use std::sync::Arc;

/// Opens every store named by `config`.
pub async fn open_stores(config: &Config) -> Result<Stores> {
    let metadata_url = config.metadata_url();
    let data_url = config.data_url();
    let sql = if metadata_url.starts_with("memory://") {
        None
    } else {
        Some(SqlStore::open(&metadata_url).await?)
    };
    let (registry, scores, lineage) = metadata_stores(sql.as_ref());
    let (raw, features): (Arc<dyn RawStore>, Arc<dyn FeatureStore>) =
        if data_url.starts_with("memory://") {
            (
                Arc::new(MemoryRawStore::default()),
                Arc::new(MemoryFeatureStore::default()),
            )
        } else {
            let p = ParquetStore::open_url(&data_url)?;
            (Arc::new(p.clone()), Arc::new(p))
        };
    let online_url = config.backends.online_url.as_str();
    if online_url.starts_with("redis://") || online_url.starts_with("rediss://") {
        return redis_stores(online_url, raw, features, registry, scores, lineage).await;
    }
    let online: Arc<dyn OnlineFeatureStore> = match (online_url, &sql) {
        ("memory://", _) | ("", None) => Arc::new(MemoryOnlineStore::default()),
        ("", Some(db)) => Arc::new(db.clone()),
        (other, _) if other.starts_with("sqlite://") || other.starts_with("postgres://") => {
            Arc::new(SqlStore::open(other).await?)
        }
        (other, _) => {
            return Err(CoreError::Config(format!(
                "unsupported online store URL `{other}`: use memory://, sqlite://, postgres:// or redis://"
            ))
            .into())
        }
    };
    Ok(Stores {
        raw,
        features,
        online,
        registry,
        scores,
        lineage,
    })
}

/// Online features on Redis, with the registry's artefacts and the newest scores cached there.
#[cfg(feature = "redis")]
async fn redis_stores(
    url: &str,
    raw: Arc<dyn RawStore>,
    features: Arc<dyn FeatureStore>,
    registry: Arc<dyn ModelRegistry>,
    scores: Arc<dyn ScoreStore>,
    lineage: Arc<dyn LineageStore>,
) -> Result<Stores> {
    use mlpipe_redis::*;
    let redis = Redis::connect_url(url).await?;
    Ok(Stores {
        raw,
        features,
        online: Arc::new(RedisOnlineStore::new(redis.clone())),
        registry: Arc::new(CachedRegistry::new(
            registry,
            RedisModelCache::new(redis.clone()),
        )),
        scores: Arc::new(CachedScoreStore::new(scores, RedisScoreCache::new(redis))),
        lineage,
    })
}

#[cfg(not(feature = "redis"))]
async fn redis_stores(
    url: &str,
    _raw: Arc<dyn RawStore>,
    _features: Arc<dyn FeatureStore>,
    _registry: Arc<dyn ModelRegistry>,
    _scores: Arc<dyn ScoreStore>,
    _lineage: Arc<dyn LineageStore>,
) -> Result<Stores> {
    Err(CoreError::Config(format!(
        "online store URL `{url}` needs Redis support: build mlpipe with the `redis` feature"
    ))
    .into())
}

/// The metadata stores: on the SQL database when there is one, in memory otherwise.
fn metadata_stores(
    sql: Option<&SqlStore>,
) -> (
    Arc<dyn ModelRegistry>,
    Arc<dyn ScoreStore>,
    Arc<dyn LineageStore>,
) {
    match sql {
        Some(db) => (
            Arc::new(db.clone()),
            Arc::new(db.clone()),
            Arc::new(db.clone()),
        ),
        None => (
            Arc::new(MemoryRegistry::default()),
            Arc::new(MemoryScoreStore::default()),
            Arc::new(MemoryLineageStore::default()),
        ),
    }
}

/// Opens the broker named by `config`.
pub async fn open_broker(config: &Config) -> Result<Arc<dyn Broker>> {
    match config.backends.broker_url.as_str() {
        "" | "memory://" => Ok(Arc::new(InProcessBroker::new())),
        url if url.starts_with("nats://") => nats_broker(url).await,
        other => Err(CoreError::Config(format!(
            "unsupported broker URL `{other}`: use memory:// (in-process) or nats:// (feature `nats`)"
        ))
        .into()),
    }
}

#[cfg(feature = "nats")]
async fn nats_broker(url: &str) -> Result<Arc<dyn Broker>> {
    Ok(Arc::new(mlpipe_nats::NatsBroker::connect_url(url).await?))
}

#[cfg(not(feature = "nats"))]
async fn nats_broker(url: &str) -> Result<Arc<dyn Broker>> {
    Err(CoreError::Config(format!(
        "broker URL `{url}` needs NATS support: build mlpipe with the `nats` feature"
    ))
    .into())
}
