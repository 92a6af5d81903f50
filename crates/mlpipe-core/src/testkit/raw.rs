//! Conformance of [`RawStore`] implementations.

use super::{ok, sample_batch, unique};
use crate::ids::BatchId;
use crate::store::raw::*;
use crate::Error;
use std::sync::Arc;

fn meta(dataset: &str) -> BatchMeta {
    BatchMeta {
        dataset: dataset.to_string(),
        source: "testkit://sample".into(),
        format: "rows".into(),
        parent_event: None,
        idempotency_key: Some(unique("key")),
    }
}

fn summary() -> BatchSummary {
    BatchSummary {
        checksum: "00ff".into(),
        source_bytes: 123,
        ..Default::default()
    }
}

/// Runs every raw-store check.
pub async fn conformance(store: Arc<dyn RawStore>) {
    round_trip(store.as_ref()).await;
    immutable(store.as_ref()).await;
    abort_leaves_nothing(store.as_ref()).await;
    quarantine(store.as_ref()).await;
    list_by_dataset(store.as_ref()).await;
    concurrent_writers(store.clone()).await;
    same_id_races(store).await;
}

/// Data reads back exactly as written, in write order, with a complete catalogue entry.
pub async fn round_trip(store: &dyn RawStore) {
    let id = BatchId::generate();
    let ds = unique("ds");
    let parts = vec![sample_batch(10, 0), sample_batch(5, 100)];
    let m = meta(&ds);
    let info = ok(store.put(&id, m.clone(), parts.clone(), summary()).await);
    assert_eq!(info.rows, 15);
    assert_eq!(info.id, id);
    let read = ok(store.read(&id).await);
    let rows: usize = read.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 15);
    assert_eq!(
        crate::table::concat(&read).unwrap(),
        crate::table::concat(&parts).unwrap(),
        "raw data must read back unchanged"
    );
    let info2 = ok(store.info(&id).await);
    assert_eq!(info2.meta, m);
    assert_eq!(info2.summary, summary());
    assert_eq!(info2.rows, 15);
    assert_eq!(info2.schema.fields(), parts[0].schema().fields());
    assert!(matches!(
        store.read(&BatchId::generate()).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.info(&BatchId::generate()).await,
        Err(Error::NotFound { .. })
    ));
}

/// A committed batch id cannot be written again, and its data stays as it was.
pub async fn immutable(store: &dyn RawStore) {
    let id = BatchId::generate();
    let ds = unique("ds");
    ok(store
        .put(&id, meta(&ds), vec![sample_batch(4, 1)], summary())
        .await);
    let again = store
        .put(&id, meta(&ds), vec![sample_batch(9, 2)], summary())
        .await;
    assert!(
        matches!(again, Err(Error::AlreadyExists { .. })),
        "writing an existing batch id must be refused, got {again:?}"
    );
    let read = ok(store.read(&id).await);
    assert_eq!(crate::table::num_rows(&read), 4);
    assert_eq!(crate::table::concat(&read).unwrap(), sample_batch(4, 1));
}

/// An aborted writer leaves no batch behind and its id stays free.
pub async fn abort_leaves_nothing(store: &dyn RawStore) {
    let id = BatchId::generate();
    let ds = unique("ds");
    let b = sample_batch(3, 0);
    let mut w = ok(store.create(&id, meta(&ds), b.schema()).await);
    ok(w.write(b.clone()).await);
    ok(w.abort().await);
    assert!(matches!(store.info(&id).await, Err(Error::NotFound { .. })));
    assert!(ok(store.list(Some(&ds)).await).is_empty());
    ok(store.put(&id, meta(&ds), vec![b], summary()).await);
}

/// Quarantined records are kept with their batch.
pub async fn quarantine(store: &dyn RawStore) {
    let id = BatchId::generate();
    let ds = unique("ds");
    let b = sample_batch(3, 0);
    let mut w = ok(store.create(&id, meta(&ds), b.schema()).await);
    ok(w.write(b).await);
    let bad = vec![
        QuarantinedRecord {
            row: 2,
            raw: "1,x,\"".into(),
            reason: "unterminated quote".into(),
        },
        QuarantinedRecord {
            row: 7,
            raw: "a,b".into(),
            reason: "2 fields, expected 3".into(),
        },
    ];
    ok(w.quarantine(bad.clone()).await);
    let info = ok(w.commit(summary()).await);
    assert_eq!(info.quarantined, 2);
    assert_eq!(ok(store.quarantined(&id).await), bad);
    assert_eq!(ok(store.info(&id).await).quarantined, 2);
}

/// Listing filters by dataset and lists oldest first.
pub async fn list_by_dataset(store: &dyn RawStore) {
    let a = unique("ds");
    let b = unique("ds");
    let ids: Vec<BatchId> = (0..3).map(|_| BatchId::generate()).collect();
    for (i, id) in ids.iter().enumerate() {
        let ds = if i == 1 { &b } else { &a };
        ok(store
            .put(id, meta(ds), vec![sample_batch(2, i as i64)], summary())
            .await);
    }
    let listed: Vec<BatchId> = ok(store.list(Some(&a)).await)
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, vec![ids[0].clone(), ids[2].clone()]);
    let all = ok(store.list(None).await);
    assert!(ids.iter().all(|id| all.iter().any(|b| &b.id == id)));
}

/// Many writers at once each get their batch stored.
pub async fn concurrent_writers(store: Arc<dyn RawStore>) {
    let ds = unique("ds");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let ds = ds.clone();
        tasks.push(tokio::spawn(async move {
            let id = BatchId::generate();
            store
                .put(&id, meta(&ds), vec![sample_batch(20, i)], summary())
                .await
                .map(|_| id)
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(ok(ok(t.await)));
    }
    let listed = ok(store.list(Some(&ds)).await);
    assert_eq!(listed.len(), 8);
    for id in ids {
        assert_eq!(ok(store.info(&id).await).rows, 20);
    }
}

/// Two writers racing for one id: exactly one wins, the loser gets `AlreadyExists`.
pub async fn same_id_races(store: Arc<dyn RawStore>) {
    let id = BatchId::generate();
    let ds = unique("ds");
    let mut tasks = Vec::new();
    for i in 0..4 {
        let store = store.clone();
        let id = id.clone();
        let ds = ds.clone();
        tasks.push(tokio::spawn(async move {
            store
                .put(&id, meta(&ds), vec![sample_batch(5, i)], summary())
                .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match ok(t.await) {
            Ok(_) => won += 1,
            Err(Error::AlreadyExists { .. }) => {}
            Err(e) => panic!("unexpected error in a same-id race: {e}"),
        }
    }
    assert_eq!(won, 1, "exactly one writer of a batch id may win");
    assert_eq!(ok(store.list(Some(&ds)).await).len(), 1);
}
