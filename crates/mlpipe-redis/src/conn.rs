//! The shared connection: an auto-reconnecting multiplexed connection, typed errors and
//! retries with back-off.

use mlpipe_core::{Error, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, RedisError};
use std::time::Duration;

/// The backend name in errors.
pub const BACKEND: &str = "redis";

/// How to reach Redis and how hard to try.
#[derive(Clone, Debug)]
pub struct RedisOptions {
    /// Prefix of every key (separates deployments, or tests, on one server).
    pub prefix: String,
    /// Give up connecting after this long.
    pub connect_timeout: Duration,
    /// Give up waiting for an answer after this long.
    pub response_timeout: Duration,
    /// Retries of a call that failed transiently (0: no retry).
    pub retries: u32,
    /// Delay before the first retry; doubled for each further one.
    pub retry_delay: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            prefix: "mlpipe".into(),
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(2),
            retries: 3,
            retry_delay: Duration::from_millis(50),
        }
    }
}

/// A connection to one Redis server, shared by the stores of this crate. Cheap to clone.
#[derive(Clone)]
pub struct Redis {
    conn: ConnectionManager,
    options: RedisOptions,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("options", &self.options)
            .finish()
    }
}

/// Maps a Redis error: connection and timeout problems are transient.
pub(crate) fn redis_err(doing: &str, e: &RedisError) -> Error {
    let message = format!("{doing}: {e}");
    if e.is_io_error()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_connection_dropped()
        || matches!(
            e.kind(),
            redis::ErrorKind::Server(redis::ServerErrorKind::BusyLoading)
                | redis::ErrorKind::Server(redis::ServerErrorKind::TryAgain)
        )
    {
        Error::transient(BACKEND, message)
    } else {
        Error::backend(BACKEND, message)
    }
}

impl Redis {
    /// Connects to `url` (`redis://host:port/db`) with default options.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, RedisOptions::default()).await
    }

    /// Connects to a URL that may carry the key prefix as a query parameter:
    /// `redis://host:port/db?prefix=team_a` (default prefix `mlpipe`).
    pub async fn connect_url(url: &str) -> Result<Self> {
        let (url, prefix) = split_param(url, "prefix");
        let mut options = RedisOptions::default();
        if let Some(p) = prefix {
            options.prefix = p;
        }
        Self::connect_with(&url, options).await
    }

    /// Connects with `options`. A server that cannot be reached is a transient error:
    /// retry later, or check the URL and that `redis-server` runs.
    pub async fn connect_with(url: &str, options: RedisOptions) -> Result<Self> {
        if options.prefix.is_empty() {
            return Err(Error::Config(
                "the Redis key prefix must not be empty".into(),
            ));
        }
        let client = redis::Client::open(url).map_err(|e| {
            Error::Config(format!(
                "invalid Redis URL `{url}`: {e}; use redis://host:port/db"
            ))
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.response_timeout))
            .set_number_of_retries(options.retries as usize)
            .set_min_delay(options.retry_delay)
            .set_max_delay(options.retry_delay * 16);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| {
                redis_err(
                    &format!("connecting to {url}; is redis-server running?"),
                    &e,
                )
            })?;
        Ok(Self { conn, options })
    }

    /// The options this connection was made with.
    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// Deletes every key under this connection's prefix (`{prefix}:*`, found with `SCAN`):
    /// online features, cached models and scores. For tests and tear-down.
    pub async fn delete_prefix(&self) -> Result<u64> {
        let pattern = format!("{}:*", self.options.prefix);
        let mut cursor: u64 = 0;
        let mut deleted = 0;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500);
            let (next, keys): (u64, Vec<String>) = self.cmd("listing keys", &scan).await?;
            if !keys.is_empty() {
                let mut del = redis::cmd("DEL");
                del.arg(&keys);
                deleted += self.cmd::<u64>("deleting keys", &del).await?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }

    /// `{prefix}:{rest}`.
    pub(crate) fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.options.prefix)
    }

    /// Runs a command, retrying transient failures with exponential back-off.
    pub(crate) async fn cmd<T: FromRedisValue>(&self, doing: &str, cmd: &redis::Cmd) -> Result<T> {
        let mut attempt = 0;
        loop {
            let mut conn = self.conn.clone();
            match cmd.query_async::<T>(&mut conn).await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let err = redis_err(doing, &e);
                    if !self.retry(&err, &mut attempt).await {
                        return Err(err);
                    }
                }
            }
        }
    }

    /// Runs a pipeline, retrying transient failures with exponential back-off (pipelines
    /// of this crate are idempotent).
    pub(crate) async fn pipe<T: FromRedisValue>(
        &self,
        doing: &str,
        pipe: &redis::Pipeline,
    ) -> Result<T> {
        let mut attempt = 0;
        loop {
            let mut conn = self.conn.clone();
            match pipe.query_async::<T>(&mut conn).await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let err = redis_err(doing, &e);
                    if !self.retry(&err, &mut attempt).await {
                        return Err(err);
                    }
                }
            }
        }
    }

    /// Whether to try again after `err`; sleeps the back-off first.
    async fn retry(&self, err: &Error, attempt: &mut u32) -> bool {
        if !err.is_transient() || *attempt >= self.options.retries {
            return false;
        }
        let delay = self.options.retry_delay * 2u32.saturating_pow(*attempt);
        *attempt += 1;
        tracing::warn!(error = %err, attempt = *attempt, ?delay, "redis call failed; retrying");
        tokio::time::sleep(delay).await;
        true
    }
}

/// Removes `name=value` from the query of `url`; returns the URL left and the value.
pub(crate) fn split_param(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut value = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.split_once('=') {
            Some((k, v)) if k == name => {
                value = Some(v.to_string());
                false
            }
            _ => !kv.is_empty(),
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, value)
}

#[cfg(test)]
mod tests {
    use super::split_param;

    #[test]
    fn the_prefix_parameter_is_taken_out_of_the_url() {
        assert_eq!(
            split_param("redis://h:1/0?prefix=a&x=1", "prefix"),
            ("redis://h:1/0?x=1".to_string(), Some("a".to_string()))
        );
        assert_eq!(
            split_param("redis://h:1", "prefix"),
            ("redis://h:1".to_string(), None)
        );
        assert_eq!(
            split_param("redis://h?prefix=b", "prefix"),
            ("redis://h".to_string(), Some("b".to_string()))
        );
    }
}
