//! # mlpipe-redis
//!
//! Redis backends for the serving side of mlpipe:
//!
//! - [`RedisOnlineStore`]: the [`OnlineFeatureStore`](mlpipe_core::store::OnlineFeatureStore)
//!   — one hash per namespace (`{prefix}:online:{namespace}`, field = entity key, value =
//!   update time + the exact `f64` bytes), so a batch get is one `HMGET` and a count one
//!   `HLEN`;
//! - [`RedisModelCache`] and [`CachedRegistry`]: serialised model artefacts by
//!   [`ModelRef`](mlpipe_core::ModelRef) (`{prefix}:model:{id}:{version}`). `CachedRegistry`
//!   wraps the registry of record (PostgreSQL, SQLite…) and pushes the artefacts of live
//!   versions to Redis when a deployment is recorded, so a serving node's model cache
//!   loads deployed models from Redis;
//! - [`RedisScoreCache`] and [`CachedScoreStore`]: the newest score per (model, entity
//!   key) for polling and precomputed answers (`{prefix}:scores:{model}`), written through
//!   from the score store of record, newest-wins even under concurrent writers.
//!
//! Every call goes through one auto-reconnecting connection. Failures are typed: a lost
//! or refused connection or a timeout is a *transient* [`mlpipe_core::Error::Backend`];
//! each call is retried with exponential back-off ([`RedisOptions::retries`]) before the
//! error is returned. The caches fall back to the store of record when Redis is away.
//!
//! ```no_run
//! # async fn f() -> mlpipe_core::Result<()> {
//! let redis = mlpipe_redis::Redis::connect("redis://127.0.0.1:6379").await?;
//! let online = mlpipe_redis::RedisOnlineStore::new(redis.clone());
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod conn;
mod models;
mod online;
mod scores;

pub use conn::{Redis, RedisOptions, BACKEND};
pub use models::{CachedRegistry, RedisModelCache};
pub use online::RedisOnlineStore;
pub use scores::{CachedScoreStore, RedisScoreCache};
