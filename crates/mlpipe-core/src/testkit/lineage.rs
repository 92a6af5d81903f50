//! Conformance of [`LineageStore`] implementations.

use super::{ok, unique};
use crate::ids::*;
use crate::store::lineage::*;
use crate::Error;
use chrono::Utc;
use std::sync::Arc;

/// Runs every lineage-store check.
pub async fn conformance(store: Arc<dyn LineageStore>) {
    let s = store.as_ref();
    let source = Node::Source(unique("file"));
    let batch = Node::RawBatch(BatchId::generate());
    let fs = Node::FeatureSet(FeatureSetId::new(unique("fs")));
    let split = Node::Split(SplitId::new(unique("split")));
    let model = Node::Model(ModelRef::new(unique("m"), 1));
    let req = Node::Request(RequestId::generate());
    let chain = [
        (source.clone(), batch.clone(), "ingested_from"),
        (batch.clone(), fs.clone(), "features_of"),
        (fs.clone(), split.clone(), "split_of"),
        (split.clone(), model.clone(), "trained_on"),
        (model.clone(), req.clone(), "scored_by"),
    ];
    for (f, t, r) in &chain {
        ok(s.link(LineageLink::new(f.clone(), t.clone(), *r)).await);
    }
    ok(
        s.link(LineageLink::new(batch.clone(), fs.clone(), "features_of"))
            .await,
    ); // idempotent
    let up = ok(s.upstream(&fs).await);
    assert_eq!(
        up,
        vec![LineageLink::new(batch.clone(), fs.clone(), "features_of")]
    );
    let down = ok(s.downstream(&batch).await);
    assert_eq!(down.len(), 1);
    let trace = ok(s.trace(&req).await);
    assert_eq!(
        trace.len(),
        5,
        "a score traces back to its source: {trace:?}"
    );
    assert_eq!(trace.last().map(|l| &l.from), Some(&source));

    let subject = unique("subject");
    for i in 0..3 {
        ok(s.audit(AuditRecord {
            actor: "testkit".into(),
            action: format!("step.{i}"),
            subject: subject.clone(),
            detail: serde_json::json!({"i": i}),
            at: Utc::now(),
        })
        .await);
    }
    let trail = ok(s.audit_trail(Some(&subject)).await);
    let actions: Vec<_> = trail.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["step.0", "step.1", "step.2"]);
    assert_eq!(trail[2].detail, serde_json::json!({"i": 2}));

    let split_rec = SplitRecord {
        id: SplitId::new(unique("split")),
        feature_set_id: FeatureSetId::new("fs"),
        batch_ids: vec![BatchId::generate()],
        strategy: "random".into(),
        params: serde_json::json!({"ratio": 0.7, "seed": 42}),
        train: vec![0, 2, 3],
        test: vec![1],
        created_at: Utc::now(),
    };
    ok(s.put_split(split_rec.clone()).await);
    ok(s.put_split(split_rec.clone()).await);
    let mut other = split_rec.clone();
    other.train = vec![1, 2, 3];
    other.test = vec![0];
    assert!(matches!(
        s.put_split(other).await,
        Err(Error::AlreadyExists { .. })
    ));
    let back = ok(s.split(&split_rec.id).await);
    assert_eq!(back.train, split_rec.train);
    assert_eq!(back.params, split_rec.params);
    assert!(matches!(
        s.split(&SplitId::new(unique("none"))).await,
        Err(Error::NotFound { .. })
    ));
}
