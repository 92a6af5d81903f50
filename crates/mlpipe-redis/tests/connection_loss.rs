//! Losing the connection to Redis mid-run: calls fail with typed transient errors after
//! their retries, and work again (with everything written before) once Redis is back.
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
use mlpipe_redis::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_transiently_while_cut_and_resume_when_restored() {
    let Ok(url) = std::env::var("MLPIPE_TEST_REDIS_URL") else {
        skipped!("SKIPPED: connection loss: set MLPIPE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) to run it against Redis");
        return;
    };
    let mut proxy = proxy::Proxy::start(proxy::socket_of(&url)).await;
    let options = RedisOptions {
        prefix: mlpipe_core::testkit::unique("mlpipe-test"),
        connect_timeout: Duration::from_millis(300),
        response_timeout: Duration::from_millis(500),
        retries: 2,
        retry_delay: Duration::from_millis(20),
    };
    let redis = Redis::connect_with(&format!("redis://{}", proxy.addr), options)
        .await
        .unwrap();
    let store = RedisOnlineStore::new(redis);
    store
        .put("ns", vec![("a".into(), vec![1.0, 2.0])])
        .await
        .unwrap();

    proxy.cut();
    let err = store.get_many("ns", &["a".to_string()]).await.unwrap_err();
    assert!(err.is_transient(), "a lost connection is transient: {err}");
    assert!(matches!(
        err,
        mlpipe_core::Error::Backend {
            backend: "redis",
            ..
        }
    ));

    proxy.restore().await;
    // The connection manager reconnects in the background; calls retry with back-off.
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
    let back = back.expect("Redis is reachable again");
    assert_eq!(
        back[0].as_ref().map(|f| f.values.clone()),
        Some(vec![1.0, 2.0])
    );
    assert_eq!(store.count("ns").await.unwrap(), 1);
    proxy.cut();
    // Clean up through a direct connection.
    let direct = Redis::connect_with(&url, store.redis().options().clone())
        .await
        .unwrap();
    assert_eq!(direct.delete_prefix().await.unwrap(), 1);
}
