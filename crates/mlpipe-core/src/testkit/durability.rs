//! Durability: what a durable backend stored is all there after the process reopens it.

use super::{ok, sample_batch, unique};
use crate::ids::*;
use crate::store::*;
use crate::Score;
use chrono::Utc;
use futures::future::BoxFuture;
use std::collections::BTreeMap;

/// Writes to every store, drops them, reopens with `open`, and checks everything is back.
pub async fn survives_reopen(open: &(dyn Fn() -> BoxFuture<'static, Stores> + Sync)) {
    let ds = unique("ds");
    let batch = BatchId::generate();
    let model = ModelId::new(unique("model"));
    let ns = unique("ns");
    let request = RequestId::generate();
    let split = SplitId::new(unique("split"));
    let fs_rec = super::features::record(&ds);
    let mref;
    {
        let s = open().await;
        let meta = BatchMeta {
            dataset: ds.clone(),
            source: "testkit".into(),
            format: "rows".into(),
            parent_event: Some(EventId::generate()),
            idempotency_key: Some(unique("key")),
        };
        ok(s.raw
            .put(
                &batch,
                meta,
                vec![sample_batch(30, 7)],
                BatchSummary::default(),
            )
            .await);
        ok(s.features.put_feature_set(fs_rec.clone()).await);
        ok(s.features
            .write(&fs_rec.id, &batch, vec![sample_batch(30, 8)])
            .await);
        ok(s.online.put(&ns, vec![("e".into(), vec![1.0, 2.5])]).await);
        mref = ok(s
            .registry
            .register(super::registry::candidate(&model, "r"))
            .await);
        let mut metrics = BTreeMap::new();
        metrics.insert("accuracy".into(), 0.9);
        ok(s.registry
            .put_evaluation(EvaluationRecord {
                run_id: RunId::new("e"),
                model: mref.clone(),
                split_id: None,
                metrics,
                details: serde_json::Value::Null,
                created_at: Utc::now(),
            })
            .await);
        ok(s.registry
            .record_deployment(DeploymentRecord {
                model: model.clone(),
                live: vec![mref.version],
                default: mref.version,
                action: "deploy".into(),
                actor: "testkit".into(),
                at: Utc::now(),
            })
            .await);
        ok(s.scores
            .put(vec![ScoreRecord {
                request_id: request.clone(),
                run_id: None,
                model: mref.clone(),
                entity_key: Some("e".into()),
                score: Score::Value { value: 3.25 },
                latency_us: Some(10),
                created_at: Utc::now(),
            }])
            .await);
        ok(s.lineage
            .link(LineageLink::new(
                Node::RawBatch(batch.clone()),
                Node::FeatureSet(fs_rec.id.clone()),
                "features_of",
            ))
            .await);
        ok(s.lineage
            .put_split(SplitRecord {
                id: split.clone(),
                feature_set_id: fs_rec.id.clone(),
                batch_ids: vec![batch.clone()],
                strategy: "random".into(),
                params: serde_json::json!({"seed": 1}),
                train: vec![1, 2],
                test: vec![0],
                created_at: Utc::now(),
            })
            .await);
    }
    let s = open().await;
    assert_eq!(
        crate::table::concat(&ok(s.raw.read(&batch).await)).unwrap(),
        sample_batch(30, 7)
    );
    assert_eq!(ok(s.raw.list(Some(&ds)).await).len(), 1);
    assert!(ok(s.features.feature_set(&fs_rec.id).await).same_content(&fs_rec));
    assert_eq!(
        crate::table::concat(&ok(s.features.read(&fs_rec.id, None).await)).unwrap(),
        sample_batch(30, 8)
    );
    let v = ok(s.online.get_many(&ns, &["e".to_string()]).await);
    assert_eq!(
        v[0].as_ref().map(|f| f.values.clone()),
        Some(vec![1.0, 2.5])
    );
    assert_eq!(ok(s.registry.versions(&model).await).len(), 1);
    assert_eq!(
        ok(s.registry.artefact(&mref).await),
        super::registry::candidate(&model, "r").artefact
    );
    assert_eq!(ok(s.registry.evaluations(&mref).await).len(), 1);
    assert_eq!(
        ok(s.registry.live(&model).await).map(|d| d.default),
        Some(mref.version)
    );
    // A new version after reopening continues the count.
    let v2 = ok(s
        .registry
        .register(super::registry::candidate(&model, "r2"))
        .await);
    assert_eq!(v2.version, ModelVersion(2));
    assert_eq!(
        ok(s.scores.get(&request).await).map(|r| r.score),
        Some(Score::Value { value: 3.25 })
    );
    assert_eq!(
        ok(s.lineage
            .upstream(&Node::FeatureSet(fs_rec.id.clone()))
            .await)
        .len(),
        1
    );
    assert_eq!(ok(s.lineage.split(&split).await).train, vec![1, 2]);
}
