//! [`OnlineFeatureStore`] on Redis: a hash per namespace.

use crate::conn::Redis;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mlpipe_core::store::{FeatureVector, OnlineFeatureStore};
use mlpipe_core::{Error, Result};

/// Field-value pairs per `HSET` in a pipelined put.
const CHUNK: usize = 500;

/// Online features in Redis. Cheap to clone.
#[derive(Clone, Debug)]
pub struct RedisOnlineStore {
    redis: Redis,
}

impl RedisOnlineStore {
    /// Online features on `redis`, under `{prefix}:online:`.
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    /// The connection this store uses.
    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    fn hash(&self, namespace: &str) -> String {
        self.redis.key(&format!("online:{namespace}"))
    }
}

/// Update time (µs, little-endian) then the values' exact bytes.
fn encode(values: &[f64], at: i64) -> Vec<u8> {
    let mut b = Vec::with_capacity(8 + values.len() * 8);
    b.extend_from_slice(&at.to_le_bytes());
    for v in values {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b
}

fn decode(b: &[u8]) -> Result<FeatureVector> {
    if b.len() < 8 || b.len() % 8 != 0 {
        return Err(Error::serde(
            "online feature vector from Redis",
            format!("{} bytes is not a timestamp and whole f64s; was the key written by another program?", b.len()),
        ));
    }
    let word = |c: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        a
    };
    let at = i64::from_le_bytes(word(&b[..8]));
    let updated_at: DateTime<Utc> = DateTime::from_timestamp_micros(at)
        .ok_or_else(|| Error::serde("online feature time", format!("{at} µs is out of range")))?;
    let values = b[8..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(word(c)))
        .collect();
    Ok(FeatureVector { values, updated_at })
}

#[async_trait]
impl OnlineFeatureStore for RedisOnlineStore {
    async fn put(&self, namespace: &str, entries: Vec<(String, Vec<f64>)>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let now = Utc::now().timestamp_micros();
        let key = self.hash(namespace);
        let mut pipe = redis::pipe();
        for chunk in entries.chunks(CHUNK) {
            let mut cmd = redis::cmd("HSET");
            cmd.arg(&key);
            for (k, v) in chunk {
                cmd.arg(k.as_str()).arg(encode(v, now));
            }
            pipe.add_command(cmd).ignore();
        }
        self.redis
            .pipe::<()>("writing online features", &pipe)
            .await
    }

    async fn get_many(
        &self,
        namespace: &str,
        keys: &[String],
    ) -> Result<Vec<Option<FeatureVector>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut cmd = redis::cmd("HMGET");
        cmd.arg(self.hash(namespace)).arg(keys);
        let raw: Vec<Option<Vec<u8>>> = self.redis.cmd("reading online features", &cmd).await?;
        if raw.len() != keys.len() {
            return Err(Error::backend(
                crate::BACKEND,
                format!(
                    "HMGET returned {} values for {} keys",
                    raw.len(),
                    keys.len()
                ),
            ));
        }
        raw.iter()
            .map(|v| v.as_deref().map(decode).transpose())
            .collect()
    }

    async fn count(&self, namespace: &str) -> Result<u64> {
        let mut cmd = redis::cmd("HLEN");
        cmd.arg(self.hash(namespace));
        self.redis.cmd("counting online features", &cmd).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_exact_and_checked() {
        let v = vec![0.1 + 0.2, -0.0, f64::MAX, f64::MIN_POSITIVE];
        let back = decode(&encode(&v, 1_700_000_000_000_000)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            back.values.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(back.updated_at.timestamp_micros(), 1_700_000_000_000_000);
        assert!(decode(&[1, 2, 3]).is_err());
        assert!(decode(&[0; 12]).is_err());
    }
}
