//! # mlpipe-sql
//!
//! The metadata stores of mlpipe on SQL: the model registry, the score store, lineage +
//! audit + splits, and a durable online feature store. One schema and one code path serve
//! **SQLite** (the embedded default: a file under the data directory) and **PostgreSQL**
//! (feature `postgres`, for shared deployments), through sqlx's `Any` driver. The backend
//! is chosen by the URL scheme: `sqlite://path/to/mlpipe.db` or `postgres://…`.
//!
//! Migrations are versioned (table `mlpipe_migrations`) and applied when a store opens.
//!
//! ```no_run
//! # async fn f() -> mlpipe_core::Result<()> {
//! let db = mlpipe_sql::SqlStore::open("sqlite://mlpipe-data/mlpipe.db").await?;
//! let registry: std::sync::Arc<dyn mlpipe_core::store::ModelRegistry> = std::sync::Arc::new(db.clone());
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod codec;
mod error;
mod lineage;
mod online;
mod registry;
mod schema;
mod scores;

use mlpipe_core::{Error, Result};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::AnyPool;
use std::sync::Once;
use std::time::Duration;

pub use error::map_err;

/// Which SQL system a store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (embedded).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A connection pool to one metadata database, implementing every metadata store trait.
///
/// Cheap to clone (clones share the pool).
#[derive(Clone, Debug)]
pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
}

static DRIVERS: Once = Once::new();

impl SqlStore {
    /// Connects to `url` (`sqlite://…` or `postgres://…`), creating a SQLite file and its
    /// directory if missing, and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with(url, 8).await
    }

    /// Like [`SqlStore::open`] with a chosen pool size.
    pub async fn open_with(url: &str, max_connections: u32) -> Result<Self> {
        Self::open_with_timeout(url, max_connections, Duration::from_secs(30)).await
    }

    /// Like [`SqlStore::open_with`], giving up on a connection after `acquire_timeout`
    /// (the pool retries refused connections until then; the error is then transient).
    pub async fn open_with_timeout(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let (dialect, url) = if let Some(path) = url.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or(path);
            if path != ":memory:" && !path.is_empty() {
                if let Some(dir) = std::path::Path::new(path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            Error::backend(
                                "sqlite",
                                format!("cannot create directory {}: {e}", dir.display()),
                            )
                        })?;
                    }
                }
            }
            let sep = if url.contains('?') { '&' } else { '?' };
            let url = if url.contains("mode=") {
                url.to_string()
            } else {
                format!("{url}{sep}mode=rwc")
            };
            (Dialect::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if cfg!(not(feature = "postgres")) {
                return Err(Error::Config(
                    "this build has no PostgreSQL support: enable the `postgres` feature of mlpipe-sql (or `mlpipe`)".into(),
                ));
            }
            (Dialect::Postgres, url.to_string())
        } else {
            return Err(Error::Config(format!(
                "unsupported metadata URL `{url}`: use sqlite://path or postgres://…"
            )));
        };
        let backend = backend_name(dialect);
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 30000")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| map_err(backend, e))?;
        let store = Self { pool, dialect };
        schema::migrate(&store).await?;
        Ok(store)
    }

    /// The SQL system behind this store.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The underlying pool (for applications that add their own tables).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await
    }

    pub(crate) fn backend(&self) -> &'static str {
        backend_name(self.dialect)
    }

    pub(crate) fn err(&self, e: sqlx::Error) -> Error {
        map_err(self.backend(), e)
    }

    pub(crate) async fn fetch_all(
        &self,
        q: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<Vec<AnyRow>> {
        q.fetch_all(&self.pool).await.map_err(|e| self.err(e))
    }

    pub(crate) async fn fetch_optional(
        &self,
        q: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<Option<AnyRow>> {
        q.fetch_optional(&self.pool).await.map_err(|e| self.err(e))
    }

    pub(crate) async fn execute(
        &self,
        q: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<u64> {
        q.execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| self.err(e))
    }
}

/// `url` with the PostgreSQL `search_path` set to `schema`, so every table of the store
/// lives in that schema (one database can then hold several isolated mlpipe deployments,
/// or one schema per test). The schema must exist.
///
/// ```
/// let url = mlpipe_sql::with_search_path("postgres://u@h/db", "team_a");
/// assert_eq!(url, "postgres://u@h/db?options[search_path]=team_a");
/// ```
pub fn with_search_path(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options[search_path]={schema}")
}

/// Creates the PostgreSQL schema `schema` on the server of `url` if missing, and returns
/// the URL that opens a store inside it (see [`with_search_path`]).
pub async fn create_pg_schema(url: &str, schema: &str) -> Result<String> {
    pg_schema_statement(url, schema, "CREATE SCHEMA IF NOT EXISTS").await?;
    Ok(with_search_path(url, schema))
}

/// Drops the PostgreSQL schema `schema` and everything in it (tests, tear-down).
pub async fn drop_pg_schema(url: &str, schema: &str) -> Result<()> {
    pg_schema_statement(url, schema, "DROP SCHEMA IF EXISTS").await
}

async fn pg_schema_statement(url: &str, schema: &str, verb: &str) -> Result<()> {
    if schema.is_empty()
        || !schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Error::invalid(format!(
            "schema name `{schema}`: use lower-case letters, digits and '_'"
        )));
    }
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(Error::Config(format!("`{url}` is not a PostgreSQL URL")));
    }
    DRIVERS.call_once(sqlx::any::install_default_drivers);
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .map_err(|e| map_err("postgres", e))?;
    let cascade = if verb.starts_with("DROP") {
        " CASCADE"
    } else {
        ""
    };
    sqlx::query(sqlx::AssertSqlSafe(format!("{verb} {schema}{cascade}")))
        .execute(&mut conn)
        .await
        .map_err(|e| map_err("postgres", e))?;
    <sqlx::AnyConnection as sqlx::Connection>::close(conn)
        .await
        .map_err(|e| map_err("postgres", e))
}

fn backend_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
    }
}
