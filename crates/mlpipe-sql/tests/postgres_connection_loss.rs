//! Losing the connection to PostgreSQL mid-run (through a proxy the test cuts, so the
//! shared server keeps serving other tests): calls fail with typed transient errors and
//! work again, with everything written before, once the server is reachable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Says loudly that a test did not run: straight to the process's stderr, which the test
/// harness does not capture (it captures `eprintln!`).
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use mlpipe_core::testkit::proxy;

use mlpipe_core::store::OnlineFeatureStore;
use mlpipe_core::testkit;
use mlpipe_sql::SqlStore;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_transiently_while_cut_and_resume_when_restored() {
    let Ok(base) = std::env::var("MLPIPE_TEST_POSTGRES_URL") else {
        skipped!("SKIPPED: postgres connection loss: set MLPIPE_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it against PostgreSQL");
        return;
    };
    let schema = testkit::unique("loss").replace('-', "_");
    let url = mlpipe_sql::create_pg_schema(&base, &schema).await.unwrap();
    let target = proxy::socket_of(&base);
    let mut proxy = proxy::Proxy::start(target).await;
    let proxied = url.replacen(&target.to_string(), &proxy.addr.to_string(), 1);
    assert_ne!(proxied, url, "the URL names {target}");
    let store = SqlStore::open_with_timeout(&proxied, 2, Duration::from_secs(1))
        .await
        .unwrap();
    store
        .put("ns", vec![("a".into(), vec![1.0, 2.0])])
        .await
        .unwrap();

    proxy.cut();
    let err = store
        .get_many("ns", &["a".to_string()])
        .await
        .expect_err("the server is unreachable");
    assert!(err.is_transient(), "a lost connection is transient: {err}");

    proxy.restore().await;
    let mut back = None;
    for _ in 0..50 {
        match store.get_many("ns", &["a".to_string()]).await {
            Ok(v) => {
                back = Some(v);
                break;
            }
            Err(e) => {
                assert!(e.is_transient(), "{e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let back = back.expect("PostgreSQL is reachable again");
    assert_eq!(
        back[0].as_ref().map(|f| f.values.clone()),
        Some(vec![1.0, 2.0])
    );
    store.close().await;
    proxy.cut();
    mlpipe_sql::drop_pg_schema(&base, &schema).await.unwrap();
}
