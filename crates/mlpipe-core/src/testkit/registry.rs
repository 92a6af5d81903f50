//! Conformance of [`ModelRegistry`] implementations.

use super::{ok, unique};
use crate::ids::*;
use crate::store::registry::*;
use crate::Error;
use chrono::Utc;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A candidate for tests.
pub fn candidate(model: &ModelId, run: &str) -> NewCandidate {
    NewCandidate {
        model: model.clone(),
        kind: "test_model".into(),
        run_id: RunId::new(run),
        feature_set_id: FeatureSetId::new("fs-test"),
        split_id: Some(SplitId::new("split-test")),
        params: serde_json::json!({"depth": 3}),
        training: serde_json::json!({"rows": 100, "fit_ms": 12.5}),
        artefact: (0..=255u8).chain(run.bytes()).collect(),
    }
}

/// Runs every registry check.
pub async fn conformance(registry: Arc<dyn ModelRegistry>) {
    versions_and_idempotency(registry.as_ref()).await;
    evaluations_ready_deployments(registry.as_ref()).await;
    concurrent_registration(registry).await;
}

/// Versions count up from 1; the same run registers once; artefacts round-trip.
pub async fn versions_and_idempotency(r: &dyn ModelRegistry) {
    let m = ModelId::new(unique("model"));
    let v1 = ok(r.register(candidate(&m, "run-a")).await);
    let v2 = ok(r.register(candidate(&m, "run-b")).await);
    let again = ok(r.register(candidate(&m, "run-a")).await);
    assert_eq!(v1.version, ModelVersion(1));
    assert_eq!(v2.version, ModelVersion(2));
    assert_eq!(again, v1, "the same run must not add a version");
    assert_eq!(ok(r.artefact(&v2).await), candidate(&m, "run-b").artefact);
    let rec = ok(r.get(&v1).await);
    assert_eq!(rec.kind, "test_model");
    assert_eq!(rec.status, ModelStatus::Candidate);
    assert_eq!(rec.params, serde_json::json!({"depth": 3}));
    assert_eq!(rec.training["fit_ms"], serde_json::json!(12.5));
    assert_eq!(
        rec.artefact_bytes,
        candidate(&m, "run-a").artefact.len() as u64
    );
    let versions: Vec<_> = ok(r.versions(&m).await)
        .into_iter()
        .map(|x| x.model)
        .collect();
    assert_eq!(versions, vec![v1.clone(), v2]);
    assert!(ok(r.models().await).contains(&m));
    assert!(matches!(
        r.get(&ModelRef::new(m.clone(), 99)).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        r.artefact(&ModelRef::new(unique("none"), 1)).await,
        Err(Error::NotFound { .. })
    ));
}

/// Evaluations, the ready mark and deployment history.
pub async fn evaluations_ready_deployments(r: &dyn ModelRegistry) {
    let m = ModelId::new(unique("model"));
    let v1 = ok(r.register(candidate(&m, "r1")).await);
    let v2 = ok(r.register(candidate(&m, "r2")).await);
    let mut metrics = BTreeMap::new();
    metrics.insert("accuracy".to_string(), 0.93);
    metrics.insert("roc_auc".to_string(), 0.987654321);
    let e = EvaluationRecord {
        run_id: RunId::new("eval-1"),
        model: v2.clone(),
        split_id: Some(SplitId::new("s")),
        metrics: metrics.clone(),
        details: serde_json::json!({"roc": [[0.0, 0.0], [1.0, 1.0]]}),
        created_at: Utc::now(),
    };
    ok(r.put_evaluation(e.clone()).await);
    let mut e2 = e.clone();
    e2.metrics.insert("accuracy".into(), 0.94);
    ok(r.put_evaluation(e2).await); // same run + model: replaces
    let evals = ok(r.evaluations(&v2).await);
    assert_eq!(evals.len(), 1);
    assert_eq!(evals[0].metrics["accuracy"], 0.94);
    assert_eq!(evals[0].metrics["roc_auc"], 0.987654321);
    assert!(ok(r.evaluations(&v1).await).is_empty());
    let mut ghost = e.clone();
    ghost.model = ModelRef::new(m.clone(), 42);
    assert!(r.put_evaluation(ghost).await.is_err());

    ok(r.mark_ready(&v2).await);
    assert_eq!(ok(r.get(&v2).await).status, ModelStatus::Ready);
    assert_eq!(ok(r.get(&v1).await).status, ModelStatus::Candidate);
    assert!(r.mark_ready(&ModelRef::new(m.clone(), 7)).await.is_err());

    assert!(ok(r.live(&m).await).is_none());
    let d1 = DeploymentRecord {
        model: m.clone(),
        live: vec![v1.version],
        default: v1.version,
        action: "deploy".into(),
        actor: "testkit".into(),
        at: Utc::now(),
    };
    ok(r.record_deployment(d1.clone()).await);
    let d2 = DeploymentRecord {
        live: vec![v1.version, v2.version],
        default: v2.version,
        ..d1.clone()
    };
    ok(r.record_deployment(d2.clone()).await);
    let live = ok(r.live(&m).await).unwrap();
    assert_eq!(live.default, v2.version);
    assert_eq!(live.live, vec![v1.version, v2.version]);
    assert_eq!(ok(r.deployments(&m).await).len(), 2);
    let bad = DeploymentRecord {
        live: vec![v1.version],
        default: v2.version,
        ..d1.clone()
    };
    assert!(
        r.record_deployment(bad).await.is_err(),
        "default must be live"
    );
    let unknown = DeploymentRecord {
        live: vec![ModelVersion(9)],
        default: ModelVersion(9),
        ..d1
    };
    assert!(
        r.record_deployment(unknown).await.is_err(),
        "versions must exist"
    );
    assert_eq!(ok(r.deployments(&m).await).len(), 2);
}

/// Concurrent registrations get distinct, gap-free versions.
pub async fn concurrent_registration(registry: Arc<dyn ModelRegistry>) {
    let m = ModelId::new(unique("model"));
    let mut tasks = Vec::new();
    for i in 0..10 {
        let r = registry.clone();
        let m = m.clone();
        tasks.push(tokio::spawn(async move {
            r.register(candidate(&m, &format!("run-{i}"))).await
        }));
    }
    let mut versions: Vec<u32> = Vec::new();
    for t in tasks {
        versions.push(ok(ok(t.await)).version.0);
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=10).collect::<Vec<_>>());
}
