//! Versioned schema migrations, written once for both dialects.
//!
//! `{BLOB}` and `{SERIAL}` are replaced per dialect; everything else is portable SQL.

use crate::{Dialect, SqlStore};
use mlpipe_core::Result;
use sqlx::Row;

/// Migrations in order; a migration is never edited once released, only appended.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    r#"
CREATE TABLE IF NOT EXISTS mlpipe_models (
    model_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    run_id TEXT NOT NULL,
    feature_set_id TEXT NOT NULL,
    split_id TEXT,
    params TEXT NOT NULL,
    training TEXT NOT NULL,
    artefact {BLOB} NOT NULL,
    artefact_bytes BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (model_id, version),
    UNIQUE (model_id, run_id)
);
CREATE TABLE IF NOT EXISTS mlpipe_evaluations (
    seq {SERIAL},
    run_id TEXT NOT NULL,
    model_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    split_id TEXT,
    metrics TEXT NOT NULL,
    details TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (run_id, model_id, version)
);
CREATE TABLE IF NOT EXISTS mlpipe_deployments (
    seq {SERIAL},
    model_id TEXT NOT NULL,
    live TEXT NOT NULL,
    default_version BIGINT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS mlpipe_deployments_model ON mlpipe_deployments (model_id, seq);
CREATE TABLE IF NOT EXISTS mlpipe_scores (
    seq {SERIAL},
    request_id TEXT NOT NULL UNIQUE,
    run_id TEXT,
    model_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    entity_key TEXT,
    score TEXT NOT NULL,
    latency_us BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS mlpipe_scores_run ON mlpipe_scores (run_id, seq);
CREATE INDEX IF NOT EXISTS mlpipe_scores_key ON mlpipe_scores (model_id, entity_key, created_at);
CREATE TABLE IF NOT EXISTS mlpipe_outcomes (
    seq {SERIAL},
    request_id TEXT NOT NULL UNIQUE,
    observed DOUBLE PRECISION NOT NULL,
    at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS mlpipe_lineage (
    seq {SERIAL},
    from_key TEXT NOT NULL,
    to_key TEXT NOT NULL,
    relation TEXT NOT NULL,
    from_node TEXT NOT NULL,
    to_node TEXT NOT NULL,
    UNIQUE (from_key, to_key, relation)
);
CREATE INDEX IF NOT EXISTS mlpipe_lineage_to ON mlpipe_lineage (to_key);
CREATE TABLE IF NOT EXISTS mlpipe_audit (
    seq {SERIAL},
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS mlpipe_audit_subject ON mlpipe_audit (subject, seq);
CREATE TABLE IF NOT EXISTS mlpipe_splits (
    split_id TEXT PRIMARY KEY,
    feature_set_id TEXT NOT NULL,
    batch_ids TEXT NOT NULL,
    strategy TEXT NOT NULL,
    params TEXT NOT NULL,
    train_rows {BLOB} NOT NULL,
    test_rows {BLOB} NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS mlpipe_online_features (
    namespace TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    vals {BLOB} NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, entity_key)
);
"#,
)];

fn render(sql: &str, dialect: Dialect) -> String {
    let (blob, serial) = match dialect {
        Dialect::Sqlite => ("BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT"),
        Dialect::Postgres => ("BYTEA", "BIGSERIAL PRIMARY KEY"),
    };
    sql.replace("{BLOB}", blob).replace("{SERIAL}", serial)
}

/// Applies the migrations the database has not seen yet.
pub(crate) async fn migrate(store: &SqlStore) -> Result<()> {
    let pool = store.pool();
    let mut conn = pool.acquire().await.map_err(|e| store.err(e))?;
    if store.dialect() == Dialect::Sqlite {
        // WAL lets readers and a writer work at once; it is a property of the file.
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&mut *conn)
            .await
            .map_err(|e| store.err(e))?;
    } else {
        // Serialise concurrent migrators (several workers starting at once).
        sqlx::query("SELECT pg_advisory_lock(7234011)")
            .execute(&mut *conn)
            .await
            .map_err(|e| store.err(e))?;
    }
    let result = apply(store, &mut conn).await;
    if store.dialect() == Dialect::Postgres {
        let _ = sqlx::query("SELECT pg_advisory_unlock(7234011)")
            .execute(&mut *conn)
            .await;
    }
    result
}

async fn apply(store: &SqlStore, conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS mlpipe_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await
    .map_err(|e| store.err(e))?;
    let done: Vec<i64> = sqlx::query("SELECT version FROM mlpipe_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| store.err(e))?
        .iter()
        .map(|r| r.try_get::<i64, _>("version"))
        .collect::<Result<_, _>>()
        .map_err(|e| store.err(e))?;
    for (version, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        let sql = render(sql, store.dialect());
        for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(sqlx::AssertSqlSafe(stmt.to_string()))
                .execute(&mut *conn)
                .await
                .map_err(|e| store.err(e))?;
        }
        sqlx::query(
            "INSERT INTO mlpipe_migrations (version, applied_at) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING",
        )
        .bind(*version)
        .bind(chrono::Utc::now().timestamp_micros())
        .execute(&mut *conn)
        .await
        .map_err(|e| store.err(e))?;
        tracing::info!(
            version,
            backend = store.backend(),
            "applied metadata migration"
        );
    }
    Ok(())
}
