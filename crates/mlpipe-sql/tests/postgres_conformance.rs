//! The PostgreSQL metadata backend passes every conformance suite the SQLite one does,
//! against the real server named by `MLPIPE_TEST_POSTGRES_URL` (each test in a schema of
//! its own, dropped at the end). Without the variable the tests say so and pass.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Says loudly that a test did not run: straight to the process's stderr, which the test
/// harness does not capture (it captures `eprintln!`).
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use mlpipe_core::store::ModelRegistry;
use mlpipe_core::testkit;
use mlpipe_sql::{Dialect, SqlStore};
use sqlx::Executor;
use std::sync::Arc;

/// A schema created for one test, dropped by [`Schema::drop`].
struct Schema {
    admin: sqlx::PgPool,
    name: String,
    url: String,
}

impl Schema {
    async fn drop(self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        self.admin.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
        self.admin.close().await;
    }
}

/// A fresh schema on the test server, or `None` (with a loud message) without one.
async fn schema(test: &str) -> Option<Schema> {
    let Ok(base) = std::env::var("MLPIPE_TEST_POSTGRES_URL") else {
        skipped!("SKIPPED: {test}: set MLPIPE_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it against PostgreSQL");
        return None;
    };
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
        .await
        .unwrap();
    Some(Schema {
        admin,
        url: mlpipe_sql::with_search_path(&base, &name),
        name,
    })
}

async fn open(s: &Schema) -> SqlStore {
    let store = SqlStore::open_with(&s.url, 4)
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", s.url));
    assert_eq!(store.dialect(), Dialect::Postgres);
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry() {
    let Some(s) = schema("registry").await else {
        return;
    };
    testkit::registry::conformance(Arc::new(open(&s).await)).await;
    s.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_store() {
    let Some(s) = schema("score_store").await else {
        return;
    };
    testkit::scores::conformance(Arc::new(open(&s).await)).await;
    s.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lineage_store() {
    let Some(s) = schema("lineage_store").await else {
        return;
    };
    testkit::lineage::conformance(Arc::new(open(&s).await)).await;
    s.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_store() {
    let Some(s) = schema("online_store").await else {
        return;
    };
    testkit::features::online_conformance(Arc::new(open(&s).await)).await;
    s.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_applies_no_migration_twice_and_keeps_data() {
    let Some(s) = schema("reopening").await else {
        return;
    };
    let store = open(&s).await;
    let m = mlpipe_core::ModelId::new("m");
    let v = store
        .register(testkit::registry::candidate(&m, "r"))
        .await
        .unwrap();
    store.close().await;
    let again = open(&s).await;
    let versions = again.versions(&m).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].model, v);
    let applied: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {}.mlpipe_migrations",
        s.name
    )))
    .fetch_one(&s.admin)
    .await
    .unwrap();
    assert_eq!(applied, 1, "each migration is recorded once");
    again.close().await;
    s.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_openers_migrate_once() {
    let Some(s) = schema("concurrent_openers").await else {
        return;
    };
    let opens = (0..4).map(|_| SqlStore::open_with(&s.url, 2));
    let stores = futures::future::join_all(opens).await;
    for st in &stores {
        assert!(st.is_ok(), "every opener succeeds: {:?}", st.as_ref().err());
    }
    // Concurrent registrations get distinct versions.
    let m = mlpipe_core::ModelId::new("m");
    let regs = stores.iter().enumerate().map(|(i, st)| {
        let st = st.as_ref().unwrap().clone();
        let m = m.clone();
        async move {
            st.register(testkit::registry::candidate(&m, &format!("run-{i}")))
                .await
        }
    });
    let mut versions: Vec<u32> = futures::future::join_all(regs)
        .await
        .into_iter()
        .map(|r| r.unwrap().version.0)
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, vec![1, 2, 3, 4]);
    for st in stores.into_iter().flatten() {
        st.close().await;
    }
    s.drop().await;
}

#[tokio::test]
async fn closed_port_is_a_transient_error() {
    let e = SqlStore::open_with_timeout(
        "postgres://postgres@127.0.0.1:1/test",
        1,
        std::time::Duration::from_secs(2),
    )
    .await;
    match e {
        Err(e) => assert!(e.is_transient(), "connection refused is transient: {e}"),
        Ok(_) => panic!("nothing listens on port 1"),
    }
}
