//! [`ModelRegistry`] on SQL.

use crate::codec::*;
use crate::SqlStore;
use async_trait::async_trait;
use mlpipe_core::store::*;
use mlpipe_core::*;
use sqlx::any::AnyRow;
use sqlx::Row;

const MODEL_COLUMNS: &str = "model_id, version, kind, run_id, feature_set_id, split_id, params, training, artefact_bytes, status, created_at";

fn model_record(store: &SqlStore, r: &AnyRow) -> Result<ModelRecord> {
    let get_s = |c: &str| r.try_get::<String, _>(c).map_err(|e| store.err(e));
    let status = match get_s("status")?.as_str() {
        "ready" => ModelStatus::Ready,
        _ => ModelStatus::Candidate,
    };
    Ok(ModelRecord {
        model: ModelRef {
            model: ModelId::new(get_s("model_id")?),
            version: ModelVersion(r.try_get::<i64, _>("version").map_err(|e| store.err(e))? as u32),
        },
        kind: get_s("kind")?,
        run_id: RunId::new(get_s("run_id")?),
        feature_set_id: FeatureSetId::new(get_s("feature_set_id")?),
        split_id: r
            .try_get::<Option<String>, _>("split_id")
            .map_err(|e| store.err(e))?
            .map(SplitId::new),
        params: from_json(&get_s("params")?, "model params")?,
        training: from_json(&get_s("training")?, "training metadata")?,
        artefact_bytes: r
            .try_get::<i64, _>("artefact_bytes")
            .map_err(|e| store.err(e))? as u64,
        status,
        created_at: from_micros(
            r.try_get::<i64, _>("created_at")
                .map_err(|e| store.err(e))?,
        )?,
    })
}

impl SqlStore {
    async fn version_of_run(&self, model: &ModelId, run: &RunId) -> Result<Option<ModelRef>> {
        let row = self
            .fetch_optional(
                sqlx::query(
                    "SELECT version FROM mlpipe_models WHERE model_id = $1 AND run_id = $2",
                )
                .bind(model.as_str())
                .bind(run.as_str()),
            )
            .await?;
        row.map(|r| {
            r.try_get::<i64, _>("version")
                .map(|v| ModelRef {
                    model: model.clone(),
                    version: ModelVersion(v as u32),
                })
                .map_err(|e| self.err(e))
        })
        .transpose()
    }

    async fn require_model(&self, m: &ModelRef) -> Result<()> {
        let found = self
            .fetch_optional(
                sqlx::query(
                    "SELECT 1 AS one FROM mlpipe_models WHERE model_id = $1 AND version = $2",
                )
                .bind(m.model.as_str())
                .bind(m.version.0 as i64),
            )
            .await?;
        found
            .map(|_| ())
            .ok_or_else(|| Error::not_found(format!("model {m}")))
    }
}

#[async_trait]
impl ModelRegistry for SqlStore {
    async fn register(&self, c: NewCandidate) -> Result<ModelRef> {
        let params = json_text(&c.params, "model params")?;
        let training = json_text(&c.training, "training metadata")?;
        // Next version and insert in one statement; a concurrent registration that takes the
        // same version makes this fail on the primary key, and we try again.
        for _ in 0..50 {
            if let Some(existing) = self.version_of_run(&c.model, &c.run_id).await? {
                return Ok(existing);
            }
            let q = sqlx::query(
                "INSERT INTO mlpipe_models (model_id, version, kind, run_id, feature_set_id, split_id, params, training, artefact, artefact_bytes, status, created_at) \
                 SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, 'candidate', $10 FROM mlpipe_models WHERE model_id = $1",
            )
            .bind(c.model.as_str())
            .bind(c.kind.as_str())
            .bind(c.run_id.as_str())
            .bind(c.feature_set_id.as_str())
            .bind(c.split_id.as_ref().map(|s| s.as_str().to_string()))
            .bind(params.as_str())
            .bind(training.as_str())
            .bind(c.artefact.as_slice())
            .bind(c.artefact.len() as i64)
            .bind(chrono::Utc::now().timestamp_micros());
            match self.execute(q).await {
                Ok(_) => {}
                Err(Error::AlreadyExists { .. }) => {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    continue;
                }
                Err(e) if e.is_transient() => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        self.version_of_run(&c.model, &c.run_id)
            .await?
            .ok_or_else(|| {
                Error::transient(
                    self.backend(),
                    "could not allocate a model version under contention",
                )
            })
    }

    async fn get(&self, m: &ModelRef) -> Result<ModelRecord> {
        let sql = format!(
            "SELECT {MODEL_COLUMNS} FROM mlpipe_models WHERE model_id = $1 AND version = $2"
        );
        let row = self
            .fetch_optional(
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(m.model.as_str())
                    .bind(m.version.0 as i64),
            )
            .await?
            .ok_or_else(|| Error::not_found(format!("model {m}")))?;
        model_record(self, &row)
    }

    async fn artefact(&self, m: &ModelRef) -> Result<Vec<u8>> {
        let row = self
            .fetch_optional(
                sqlx::query(
                    "SELECT artefact FROM mlpipe_models WHERE model_id = $1 AND version = $2",
                )
                .bind(m.model.as_str())
                .bind(m.version.0 as i64),
            )
            .await?
            .ok_or_else(|| Error::not_found(format!("model {m}")))?;
        row.try_get::<Vec<u8>, _>("artefact")
            .map_err(|e| self.err(e))
    }

    async fn versions(&self, model: &ModelId) -> Result<Vec<ModelRecord>> {
        let sql = format!(
            "SELECT {MODEL_COLUMNS} FROM mlpipe_models WHERE model_id = $1 ORDER BY version"
        );
        self.fetch_all(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(model.as_str()))
            .await?
            .iter()
            .map(|r| model_record(self, r))
            .collect()
    }

    async fn models(&self) -> Result<Vec<ModelId>> {
        self.fetch_all(sqlx::query(
            "SELECT DISTINCT model_id FROM mlpipe_models ORDER BY model_id",
        ))
        .await?
        .iter()
        .map(|r| {
            r.try_get::<String, _>("model_id")
                .map(ModelId::new)
                .map_err(|e| self.err(e))
        })
        .collect()
    }

    async fn put_evaluation(&self, e: EvaluationRecord) -> Result<()> {
        self.require_model(&e.model).await?;
        let q = sqlx::query(
            "INSERT INTO mlpipe_evaluations (run_id, model_id, version, split_id, metrics, details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (run_id, model_id, version) DO UPDATE SET split_id = excluded.split_id, metrics = excluded.metrics, details = excluded.details, created_at = excluded.created_at",
        )
        .bind(e.run_id.as_str())
        .bind(e.model.model.as_str())
        .bind(e.model.version.0 as i64)
        .bind(e.split_id.as_ref().map(|s| s.as_str().to_string()))
        .bind(json_text(&e.metrics, "metrics")?)
        .bind(json_text(&e.details, "evaluation details")?)
        .bind(micros(&e.created_at));
        self.execute(q).await.map(|_| ())
    }

    async fn evaluations(&self, m: &ModelRef) -> Result<Vec<EvaluationRecord>> {
        let rows = self
            .fetch_all(
                sqlx::query(
                    "SELECT run_id, split_id, metrics, details, created_at FROM mlpipe_evaluations WHERE model_id = $1 AND version = $2 ORDER BY seq",
                )
                .bind(m.model.as_str())
                .bind(m.version.0 as i64),
            )
            .await?;
        rows.iter()
            .map(|r| {
                let s = |c: &str| r.try_get::<String, _>(c).map_err(|e| self.err(e));
                Ok(EvaluationRecord {
                    run_id: RunId::new(s("run_id")?),
                    model: m.clone(),
                    split_id: r
                        .try_get::<Option<String>, _>("split_id")
                        .map_err(|e| self.err(e))?
                        .map(SplitId::new),
                    metrics: from_json(&s("metrics")?, "metrics")?,
                    details: from_json(&s("details")?, "evaluation details")?,
                    created_at: from_micros(
                        r.try_get::<i64, _>("created_at").map_err(|e| self.err(e))?,
                    )?,
                })
            })
            .collect()
    }

    async fn mark_ready(&self, m: &ModelRef) -> Result<()> {
        let n = self
            .execute(
                sqlx::query("UPDATE mlpipe_models SET status = 'ready' WHERE model_id = $1 AND version = $2")
                    .bind(m.model.as_str())
                    .bind(m.version.0 as i64),
            )
            .await?;
        if n == 0 {
            return Err(Error::not_found(format!("model {m}")));
        }
        Ok(())
    }

    async fn record_deployment(&self, d: DeploymentRecord) -> Result<()> {
        if !d.live.contains(&d.default) {
            return Err(Error::invalid(format!(
                "default version {} is not among the live versions",
                d.default
            )));
        }
        for v in &d.live {
            self.require_model(&ModelRef {
                model: d.model.clone(),
                version: *v,
            })
            .await?;
        }
        let live: Vec<u32> = d.live.iter().map(|v| v.0).collect();
        let q = sqlx::query(
            "INSERT INTO mlpipe_deployments (model_id, live, default_version, action, actor, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(d.model.as_str())
        .bind(json_text(&live, "live versions")?)
        .bind(d.default.0 as i64)
        .bind(d.action.as_str())
        .bind(d.actor.as_str())
        .bind(micros(&d.at));
        self.execute(q).await.map(|_| ())
    }

    async fn deployments(&self, model: &ModelId) -> Result<Vec<DeploymentRecord>> {
        let rows = self
            .fetch_all(
                sqlx::query(
                    "SELECT live, default_version, action, actor, at FROM mlpipe_deployments WHERE model_id = $1 ORDER BY seq",
                )
                .bind(model.as_str()),
            )
            .await?;
        rows.iter()
            .map(|r| {
                let s = |c: &str| r.try_get::<String, _>(c).map_err(|e| self.err(e));
                let live: Vec<u32> = from_json(&s("live")?, "live versions")?;
                Ok(DeploymentRecord {
                    model: model.clone(),
                    live: live.into_iter().map(ModelVersion).collect(),
                    default: ModelVersion(
                        r.try_get::<i64, _>("default_version")
                            .map_err(|e| self.err(e))? as u32,
                    ),
                    action: s("action")?,
                    actor: s("actor")?,
                    at: from_micros(r.try_get::<i64, _>("at").map_err(|e| self.err(e))?)?,
                })
            })
            .collect()
    }
}
