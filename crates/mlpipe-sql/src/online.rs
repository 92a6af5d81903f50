//! A durable [`OnlineFeatureStore`] on SQL (the embedded default keeps online features in
//! the SQLite file so a restart loses none; Redis is the fast distributed choice).

use crate::codec::*;
use crate::SqlStore;
use async_trait::async_trait;
use mlpipe_core::store::*;
use mlpipe_core::*;
use sqlx::Row;
use std::collections::HashMap;

/// Keys per `IN (…)` lookup and rows per multi-row upsert.
const CHUNK: usize = 250;

#[async_trait]
impl OnlineFeatureStore for SqlStore {
    async fn put(&self, namespace: &str, entries: Vec<(String, Vec<f64>)>) -> Result<()> {
        let now = chrono::Utc::now().timestamp_micros();
        // One statement cannot update the same key twice: keep the last value per key.
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, (k, _)) in entries.iter().enumerate() {
            last.insert(k.as_str(), i);
        }
        let mut idx: Vec<usize> = last.into_values().collect();
        idx.sort_unstable();
        let mut tx = self.pool().begin().await.map_err(|e| self.err(e))?;
        for chunk in idx.chunks(CHUNK) {
            let mut sql = String::from(
                "INSERT INTO mlpipe_online_features (namespace, entity_key, vals, updated_at) VALUES ",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push(',');
                }
                let b = i * 4;
                sql.push_str(&format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4));
            }
            sql.push_str(
                " ON CONFLICT (namespace, entity_key) DO UPDATE SET vals = excluded.vals, updated_at = excluded.updated_at",
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for &i in chunk {
                let (k, v) = &entries[i];
                q = q
                    .bind(namespace.to_string())
                    .bind(k.clone())
                    .bind(f64s_to_bytes(v))
                    .bind(now);
            }
            q.execute(&mut *tx).await.map_err(|e| self.err(e))?;
        }
        tx.commit().await.map_err(|e| self.err(e))
    }

    async fn get_many(
        &self,
        namespace: &str,
        keys: &[String],
    ) -> Result<Vec<Option<FeatureVector>>> {
        let mut found: HashMap<String, FeatureVector> = HashMap::new();
        for chunk in keys.chunks(CHUNK) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT entity_key, vals, updated_at FROM mlpipe_online_features WHERE namespace = $1 AND entity_key IN ({})",
                placeholders.join(",")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(namespace);
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for r in self.fetch_all(q).await? {
                let key: String = r.try_get("entity_key").map_err(|e| self.err(e))?;
                let vals: Vec<u8> = r.try_get("vals").map_err(|e| self.err(e))?;
                let at: i64 = r.try_get("updated_at").map_err(|e| self.err(e))?;
                found.insert(
                    key,
                    FeatureVector {
                        values: bytes_to_f64s(&vals)?,
                        updated_at: from_micros(at)?,
                    },
                );
            }
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    async fn count(&self, namespace: &str) -> Result<u64> {
        let r = self
            .fetch_optional(
                sqlx::query(
                    "SELECT COUNT(*) AS n FROM mlpipe_online_features WHERE namespace = $1",
                )
                .bind(namespace),
            )
            .await?;
        Ok(r.map(|r| r.try_get::<i64, _>("n"))
            .transpose()
            .map_err(|e| self.err(e))?
            .unwrap_or(0) as u64)
    }
}
