//! [`LineageStore`] on SQL: links, the audit trail and recorded splits.

use crate::codec::*;
use crate::SqlStore;
use async_trait::async_trait;
use mlpipe_core::store::*;
use mlpipe_core::*;
use sqlx::Row;

impl SqlStore {
    async fn links(&self, column: &str, node: &Node) -> Result<Vec<LineageLink>> {
        let sql = format!(
            "SELECT from_node, to_node, relation FROM mlpipe_lineage WHERE {column} = $1 ORDER BY seq"
        );
        self.fetch_all(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(node.key()))
            .await?
            .iter()
            .map(|r| {
                let s = |c: &str| r.try_get::<String, _>(c).map_err(|e| self.err(e));
                Ok(LineageLink {
                    from: from_json(&s("from_node")?, "lineage node")?,
                    to: from_json(&s("to_node")?, "lineage node")?,
                    relation: s("relation")?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl LineageStore for SqlStore {
    async fn link(&self, link: LineageLink) -> Result<()> {
        let q = sqlx::query(
            "INSERT INTO mlpipe_lineage (from_key, to_key, relation, from_node, to_node) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (from_key, to_key, relation) DO NOTHING",
        )
        .bind(link.from.key())
        .bind(link.to.key())
        .bind(link.relation.as_str())
        .bind(json_text(&link.from, "lineage node")?)
        .bind(json_text(&link.to, "lineage node")?);
        self.execute(q).await.map(|_| ())
    }

    async fn upstream(&self, node: &Node) -> Result<Vec<LineageLink>> {
        self.links("to_key", node).await
    }

    async fn downstream(&self, node: &Node) -> Result<Vec<LineageLink>> {
        self.links("from_key", node).await
    }

    async fn audit(&self, r: AuditRecord) -> Result<()> {
        let q = sqlx::query(
            "INSERT INTO mlpipe_audit (actor, action, subject, detail, at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(r.actor.as_str())
        .bind(r.action.as_str())
        .bind(r.subject.as_str())
        .bind(json_text(&r.detail, "audit detail")?)
        .bind(micros(&r.at));
        self.execute(q).await.map(|_| ())
    }

    async fn audit_trail(&self, subject: Option<&str>) -> Result<Vec<AuditRecord>> {
        let rows = match subject {
            Some(s) => {
                self.fetch_all(
                    sqlx::query("SELECT actor, action, subject, detail, at FROM mlpipe_audit WHERE subject = $1 ORDER BY seq")
                        .bind(s),
                )
                .await?
            }
            None => {
                self.fetch_all(sqlx::query(
                    "SELECT actor, action, subject, detail, at FROM mlpipe_audit ORDER BY seq",
                ))
                .await?
            }
        };
        rows.iter()
            .map(|r| {
                let s = |c: &str| r.try_get::<String, _>(c).map_err(|e| self.err(e));
                Ok(AuditRecord {
                    actor: s("actor")?,
                    action: s("action")?,
                    subject: s("subject")?,
                    detail: from_json(&s("detail")?, "audit detail")?,
                    at: from_micros(r.try_get::<i64, _>("at").map_err(|e| self.err(e))?)?,
                })
            })
            .collect()
    }

    async fn put_split(&self, split: SplitRecord) -> Result<()> {
        let q = sqlx::query(
            "INSERT INTO mlpipe_splits (split_id, feature_set_id, batch_ids, strategy, params, train_rows, test_rows, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (split_id) DO NOTHING",
        )
        .bind(split.id.as_str())
        .bind(split.feature_set_id.as_str())
        .bind(json_text(&split.batch_ids, "split batches")?)
        .bind(split.strategy.as_str())
        .bind(json_text(&split.params, "split params")?)
        .bind(u32s_to_bytes(&split.train))
        .bind(u32s_to_bytes(&split.test))
        .bind(micros(&split.created_at));
        if self.execute(q).await? == 0 {
            let existing = self.split(&split.id).await?;
            if existing.train != split.train || existing.test != split.test {
                return Err(Error::already_exists(format!(
                    "split {} with different rows",
                    split.id
                )));
            }
        }
        Ok(())
    }

    async fn split(&self, id: &SplitId) -> Result<SplitRecord> {
        let r = self
            .fetch_optional(
                sqlx::query(
                    "SELECT feature_set_id, batch_ids, strategy, params, train_rows, test_rows, created_at FROM mlpipe_splits WHERE split_id = $1",
                )
                .bind(id.as_str()),
            )
            .await?
            .ok_or_else(|| Error::not_found(format!("split {id}")))?;
        let s = |c: &str| r.try_get::<String, _>(c).map_err(|e| self.err(e));
        let b = |c: &str| r.try_get::<Vec<u8>, _>(c).map_err(|e| self.err(e));
        Ok(SplitRecord {
            id: id.clone(),
            feature_set_id: FeatureSetId::new(s("feature_set_id")?),
            batch_ids: from_json(&s("batch_ids")?, "split batches")?,
            strategy: s("strategy")?,
            params: from_json(&s("params")?, "split params")?,
            train: bytes_to_u32s(&b("train_rows")?)?,
            test: bytes_to_u32s(&b("test_rows")?)?,
            created_at: from_micros(r.try_get::<i64, _>("created_at").map_err(|e| self.err(e))?)?,
        })
    }
}
