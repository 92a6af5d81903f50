//! [`ScoreStore`] on SQL.

use crate::codec::*;
use crate::SqlStore;
use async_trait::async_trait;
use mlpipe_core::store::*;
use mlpipe_core::*;
use sqlx::any::AnyRow;
use sqlx::Row;

const COLUMNS: &str = "s.request_id, s.run_id, s.model_id, s.version, s.entity_key, s.score, s.latency_us, s.created_at";

fn score_record(store: &SqlStore, r: &AnyRow) -> Result<ScoreRecord> {
    let s = |c: &str| r.try_get::<String, _>(c).map_err(|e| store.err(e));
    let opt = |c: &str| r.try_get::<Option<String>, _>(c).map_err(|e| store.err(e));
    Ok(ScoreRecord {
        request_id: RequestId::new(s("request_id")?),
        run_id: opt("run_id")?.map(RunId::new),
        model: ModelRef {
            model: ModelId::new(s("model_id")?),
            version: ModelVersion(r.try_get::<i64, _>("version").map_err(|e| store.err(e))? as u32),
        },
        entity_key: opt("entity_key")?,
        score: from_json(&s("score")?, "score")?,
        latency_us: r
            .try_get::<Option<i64>, _>("latency_us")
            .map_err(|e| store.err(e))?
            .map(|v| v as u64),
        created_at: from_micros(
            r.try_get::<i64, _>("created_at")
                .map_err(|e| store.err(e))?,
        )?,
    })
}

/// Rows per multi-row INSERT (keeps the bind count under every backend's limit).
const CHUNK: usize = 200;

#[async_trait]
impl ScoreStore for SqlStore {
    async fn put(&self, records: Vec<ScoreRecord>) -> Result<()> {
        let mut tx = self.pool().begin().await.map_err(|e| self.err(e))?;
        for chunk in records.chunks(CHUNK) {
            let mut sql = String::from(
                "INSERT INTO mlpipe_scores (request_id, run_id, model_id, version, entity_key, score, latency_us, created_at) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 8;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8
                ));
            }
            sql.push_str(" ON CONFLICT (request_id) DO NOTHING");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.request_id.as_str().to_string())
                    .bind(r.run_id.as_ref().map(|x| x.as_str().to_string()))
                    .bind(r.model.model.as_str().to_string())
                    .bind(r.model.version.0 as i64)
                    .bind(r.entity_key.clone())
                    .bind(json_text(&r.score, "score")?)
                    .bind(r.latency_us.map(|v| v as i64))
                    .bind(micros(&r.created_at));
            }
            q.execute(&mut *tx).await.map_err(|e| self.err(e))?;
        }
        tx.commit().await.map_err(|e| self.err(e))
    }

    async fn get(&self, request: &RequestId) -> Result<Option<ScoreRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM mlpipe_scores s WHERE s.request_id = $1");
        self.fetch_optional(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(request.as_str()))
            .await?
            .map(|r| score_record(self, &r))
            .transpose()
    }

    async fn by_run(&self, run: &RunId, offset: u64, limit: u64) -> Result<Vec<ScoreRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mlpipe_scores s WHERE s.run_id = $1 ORDER BY s.seq LIMIT $2 OFFSET $3"
        );
        self.fetch_all(
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(run.as_str())
                .bind(limit.min(i64::MAX as u64) as i64)
                .bind(offset.min(i64::MAX as u64) as i64),
        )
        .await?
        .iter()
        .map(|r| score_record(self, r))
        .collect()
    }

    async fn count_run(&self, run: &RunId) -> Result<u64> {
        let row = self
            .fetch_optional(
                sqlx::query("SELECT COUNT(*) AS n FROM mlpipe_scores WHERE run_id = $1")
                    .bind(run.as_str()),
            )
            .await?;
        Ok(row
            .map(|r| r.try_get::<i64, _>("n"))
            .transpose()
            .map_err(|e| self.err(e))?
            .unwrap_or(0) as u64)
    }

    async fn latest_for_key(&self, model: &ModelId, key: &str) -> Result<Option<ScoreRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mlpipe_scores s WHERE s.model_id = $1 AND s.entity_key = $2 ORDER BY s.created_at DESC, s.seq DESC LIMIT 1"
        );
        self.fetch_optional(
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(model.as_str())
                .bind(key),
        )
        .await?
        .map(|r| score_record(self, &r))
        .transpose()
    }

    async fn put_outcome(&self, request: &RequestId, observed: f64) -> Result<()> {
        if ScoreStore::get(self, request).await?.is_none() {
            return Err(Error::not_found(format!("score of request {request}")));
        }
        let q = sqlx::query(
            "INSERT INTO mlpipe_outcomes (request_id, observed, at) VALUES ($1, $2, $3)",
        )
        .bind(request.as_str())
        .bind(observed)
        .bind(chrono::Utc::now().timestamp_micros());
        match self.execute(q).await {
            Ok(_) => Ok(()),
            Err(Error::AlreadyExists { .. }) => Err(Error::already_exists(format!(
                "outcome of request {request}"
            ))),
            Err(e) => Err(e),
        }
    }

    async fn outcomes(&self, model: &ModelRef) -> Result<Vec<ScoredOutcome>> {
        let sql = format!(
            "SELECT {COLUMNS}, o.observed FROM mlpipe_outcomes o JOIN mlpipe_scores s ON s.request_id = o.request_id \
             WHERE s.model_id = $1 AND s.version = $2 ORDER BY o.seq"
        );
        self.fetch_all(
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(model.model.as_str())
                .bind(model.version.0 as i64),
        )
        .await?
        .iter()
        .map(|r| {
            Ok(ScoredOutcome {
                record: score_record(self, r)?,
                observed: r.try_get::<f64, _>("observed").map_err(|e| self.err(e))?,
            })
        })
        .collect()
    }
}
