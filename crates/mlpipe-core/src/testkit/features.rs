//! Conformance of [`FeatureStore`] and [`OnlineFeatureStore`] implementations.

use super::{ok, sample_batch, unique};
use crate::ids::{BatchId, FeatureSetId};
use crate::store::features::*;
use crate::Error;
use chrono::Utc;
use std::sync::Arc;

/// A feature-set record for tests.
pub fn record(dataset: &str) -> FeatureSetRecord {
    FeatureSetRecord {
        id: FeatureSetId::new(unique("fs")),
        dataset: dataset.to_string(),
        feature_names: vec!["x".into(), "k".into()],
        label: Some("k".into()),
        key: None,
        pipeline: serde_json::json!({"steps": ["scale"], "mean": [1.5, 2.0]}),
        fitted_on: vec![BatchId::generate()],
        created_at: Utc::now(),
    }
}

/// Runs every offline feature store check.
pub async fn conformance(store: Arc<dyn FeatureStore>) {
    let s = store.as_ref();
    let ds = unique("ds");
    let rec = record(&ds);
    ok(s.put_feature_set(rec.clone()).await);
    ok(s.put_feature_set(rec.clone()).await); // same content: no-op
    let mut changed = rec.clone();
    changed.pipeline = serde_json::json!({"steps": ["other"]});
    assert!(matches!(
        s.put_feature_set(changed).await,
        Err(Error::AlreadyExists { .. })
    ));
    let back = ok(s.feature_set(&rec.id).await);
    assert!(back.same_content(&rec));
    assert!(matches!(
        s.feature_set(&FeatureSetId::new(unique("nope"))).await,
        Err(Error::NotFound { .. })
    ));
    let listed = ok(s.feature_sets(Some(&ds)).await);
    assert_eq!(listed.len(), 1);

    let b1 = BatchId::generate();
    let b2 = BatchId::generate();
    ok(s.write(&rec.id, &b1, vec![sample_batch(6, 0)]).await);
    ok(
        s.write(&rec.id, &b2, vec![sample_batch(3, 10), sample_batch(2, 20)])
            .await,
    );
    assert!(matches!(
        s.write(&rec.id, &b1, vec![sample_batch(1, 0)]).await,
        Err(Error::AlreadyExists { .. })
    ));
    assert_eq!(ok(s.batches(&rec.id).await), vec![b1.clone(), b2.clone()]);
    let all = ok(s.read(&rec.id, None).await);
    assert_eq!(crate::table::num_rows(&all), 11);
    let only2 = ok(s.read(&rec.id, Some(std::slice::from_ref(&b2))).await);
    assert_eq!(
        crate::table::concat(&only2).unwrap(),
        crate::table::concat(&[sample_batch(3, 10), sample_batch(2, 20)]).unwrap()
    );
    let ordered = ok(s.read(&rec.id, Some(&[b2.clone(), b1.clone()])).await);
    assert_eq!(
        crate::table::concat(&ordered).unwrap(),
        crate::table::concat(&[sample_batch(3, 10), sample_batch(2, 20), sample_batch(6, 0)])
            .unwrap(),
        "rows come back in the order of the batches asked for"
    );
    assert!(matches!(
        s.read(&rec.id, Some(&[BatchId::generate()])).await,
        Err(Error::NotFound { .. })
    ));
    let unknown = FeatureSetId::new(unique("fs"));
    assert!(s
        .write(&unknown, &b1, vec![sample_batch(1, 0)])
        .await
        .is_err());
}

/// Runs every online feature store check.
pub async fn online_conformance(store: Arc<dyn OnlineFeatureStore>) {
    let s = store.as_ref();
    let ns = unique("ns");
    let other = unique("ns");
    let entries: Vec<(String, Vec<f64>)> = (0..50)
        .map(|i| (format!("e{i}"), vec![i as f64, -(i as f64), 0.1 * i as f64]))
        .collect();
    ok(s.put(&ns, entries.clone()).await);
    ok(s.put(&other, vec![("e1".into(), vec![9.0])]).await);
    assert_eq!(ok(s.count(&ns).await), 50);
    let keys = vec!["e3".to_string(), "missing".to_string(), "e49".to_string()];
    let got = ok(s.get_many(&ns, &keys).await);
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[0].as_ref().map(|v| v.values.clone()),
        Some(entries[3].1.clone())
    );
    assert!(got[1].is_none());
    assert_eq!(
        got[2].as_ref().map(|v| v.values.clone()),
        Some(entries[49].1.clone())
    );
    ok(s.put(&ns, vec![("e3".into(), vec![1.0, 2.0, 3.0])]).await);
    let got = ok(s.get_many(&ns, &["e3".to_string()]).await);
    assert_eq!(
        got[0].as_ref().map(|v| v.values.clone()),
        Some(vec![1.0, 2.0, 3.0])
    );
    let got = ok(s
        .get_many(&other, &["e1".to_string(), "e2".to_string()])
        .await);
    assert_eq!(got[0].as_ref().map(|v| v.values.clone()), Some(vec![9.0]));
    assert!(got[1].is_none(), "namespaces must not leak into each other");
    assert_eq!(ok(s.count(&unique("empty")).await), 0);
    // Exact floats, including awkward ones, survive.
    let exact = vec![0.1 + 0.2, f64::MIN_POSITIVE, -1e300, 123456.789e-7];
    ok(s.put(&ns, vec![("exact".into(), exact.clone())]).await);
    let got = ok(s.get_many(&ns, &["exact".to_string()]).await);
    assert_eq!(got[0].as_ref().map(|v| v.values.clone()), Some(exact));
    // Concurrent writers to different keys all land.
    let mut tasks = Vec::new();
    for t in 0..4 {
        let store = store.clone();
        let ns = ns.clone();
        tasks.push(tokio::spawn(async move {
            let batch = (0..25)
                .map(|i| (format!("c{t}-{i}"), vec![t as f64, i as f64]))
                .collect();
            store.put(&ns, batch).await
        }));
    }
    for t in tasks {
        ok(ok(t.await));
    }
    assert_eq!(ok(s.count(&ns).await), 51 + 100);
}
