//! The evaluation service end to end on in-memory stores and the in-process broker:
//! breast-cancer features in the feature store, a recorded split, candidates trained and
//! registered, then `model-trained` published and the service's decisions checked.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mlpipe_core::broker::{BrokerExt, InProcessBroker, SubscribeOptions};
use mlpipe_core::events::{Event, ModelTrained, Topic};
use mlpipe_core::service::StageExt as _;
use mlpipe_core::store::{
    DeploymentRecord, FeatureSetRecord, ModelRegistryExt, ModelStatus, NewCandidate, Node, Stores,
};
use mlpipe_core::{BatchId, Envelope, FeatureSetId, ModelId, ModelRef, RunId, SplitId};
use mlpipe_eval::{
    EvaluationConfig, EvaluationService, ParamSpace, Search, SelectionPolicy, Verdict,
};
use mlpipe_models::{Algorithms, TrainingData};
use mlpipe_split::{RandomSplit, SegregationApi, StratifiedKFold};
use ndarray::Array2;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const MODEL: &str = "breast_cancer";

struct Setup {
    stores: Stores,
    broker: Arc<InProcessBroker>,
    algorithms: Arc<Algorithms>,
    fs: FeatureSetId,
    split: SplitId,
}

/// Breast-cancer features (standardised) in the feature store, split 70/30.
async fn setup() -> Setup {
    let path = format!(
        "{}/../../data/breast_cancer.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let rows: Vec<Vec<f64>> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect())
        .collect();
    let cols = names.len();
    let mut m = Array2::from_shape_vec((rows.len(), cols), rows.concat()).unwrap();
    for j in 0..cols - 1 {
        let mut c = m.column_mut(j);
        let mean = c.mean().unwrap();
        let std = c.std(0.0).max(1e-12);
        c.mapv_inplace(|v| (v - mean) / std);
    }
    let stores = Stores::in_memory();
    let fs = FeatureSetId::new("fs-breast-cancer");
    stores
        .features
        .put_feature_set(FeatureSetRecord {
            id: fs.clone(),
            dataset: MODEL.into(),
            feature_names: names[..cols - 1].to_vec(),
            label: Some(names[cols - 1].clone()),
            key: None,
            pipeline: serde_json::Value::Null,
            fitted_on: vec![],
            created_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    let batch = mlpipe_core::table::from_matrix(&names, &m).unwrap();
    stores
        .features
        .write(&fs, &BatchId::generate(), vec![batch])
        .await
        .unwrap();
    let seg = SegregationApi::new(stores.features.clone(), stores.lineage.clone());
    let split = seg
        .split(&fs, None, &RandomSplit::new(0.7, 42))
        .await
        .unwrap()
        .id()
        .clone();
    Setup {
        stores,
        broker: Arc::new(InProcessBroker::new()),
        algorithms: Arc::new(Algorithms::builtin()),
        fs,
        split,
    }
}

impl Setup {
    /// Trains `kind` with `params` on the split's training rows and registers it.
    async fn candidate(&self, kind: &str, params: serde_json::Value, run: &str) -> ModelRef {
        let seg = SegregationApi::new(self.stores.features.clone(), self.stores.lineage.clone());
        let train = seg.get(&self.split).await.unwrap().training().unwrap();
        let data = TrainingData {
            x: train.x.view(),
            y: train.y.view(),
            feature_names: &train.feature_names,
            feature_set_id: &self.fs,
        };
        let model = self
            .algorithms
            .trainer(kind, &params)
            .unwrap()
            .train(&data)
            .unwrap();
        self.stores
            .registry
            .register(NewCandidate {
                model: ModelId::new(MODEL),
                kind: kind.into(),
                run_id: RunId::new(run),
                feature_set_id: self.fs.clone(),
                split_id: Some(self.split.clone()),
                params,
                training: serde_json::json!({}),
                artefact: model.artefact().unwrap().to_bytes().unwrap(),
            })
            .await
            .unwrap()
    }

    fn service(&self, config: EvaluationConfig) -> Arc<EvaluationService> {
        Arc::new(EvaluationService::new(
            self.stores.clone(),
            self.broker.clone(),
            self.algorithms.clone(),
            config,
        ))
    }

    async fn publish_trained(&self, candidates: Vec<ModelRef>) -> Envelope {
        let env = Envelope::new(Event::ModelTrained(ModelTrained {
            run_id: RunId::new("train-1"),
            dataset: MODEL.into(),
            feature_set_id: self.fs.clone(),
            split_id: self.split.clone(),
            candidates,
            failed: vec![],
        }));
        self.broker.publish_event(&env).await.unwrap();
        env
    }

    /// Waits until every candidate has an evaluation (or a minute passed).
    async fn evaluated(&self, candidates: &[ModelRef]) {
        for _ in 0..600 {
            let mut done = 0;
            for m in candidates {
                if !self
                    .stores
                    .registry
                    .evaluations(m)
                    .await
                    .unwrap()
                    .is_empty()
                {
                    done += 1;
                }
            }
            let audited = self
                .stores
                .lineage
                .audit_trail(None)
                .await
                .unwrap()
                .iter()
                .any(|a| a.action == "model.ready" || a.action == "selection.none");
            if done == candidates.len() && audited {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the evaluation service did not decide");
    }
}

fn all_metrics() -> Vec<String> {
    [
        "accuracy",
        "balanced_accuracy",
        "f1",
        "precision",
        "recall",
        "roc_auc",
        "average_precision",
        "log_loss",
        "brier_score",
    ]
    .map(String::from)
    .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn winner_is_marked_ready_and_announced_with_a_report() {
    let s = setup().await;
    let logistic = s
        .candidate("logistic_regression", serde_json::json!({}), "r-logit")
        .await;
    let stump = s
        .candidate(
            "decision_tree",
            serde_json::json!({"max_depth": 1}),
            "r-stump",
        )
        .await;
    let reports = tempfile::tempdir().unwrap();
    let mut ready = s
        .broker
        .subscribe_topic(Topic::ModelReady, "test", SubscribeOptions::default())
        .await
        .unwrap();
    let handle = s
        .service(EvaluationConfig {
            metrics: all_metrics(),
            reports_dir: Some(reports.path().to_path_buf()),
            ..EvaluationConfig::default()
        })
        .start(SubscribeOptions::default())
        .await
        .unwrap();
    let cause = s
        .publish_trained(vec![logistic.clone(), stump.clone()])
        .await;
    s.evaluated(&[logistic.clone(), stump.clone()]).await;

    // Every configured evaluator ran on every candidate.
    for m in [&logistic, &stump] {
        let e = s
            .stores
            .registry
            .evaluations(m)
            .await
            .unwrap()
            .pop()
            .unwrap();
        for name in all_metrics() {
            assert!(
                e.metrics.contains_key(&name),
                "{m} lacks {name}: {:?}",
                e.metrics
            );
        }
        assert_eq!(e.details["problems"].as_array().unwrap().len(), 0);
        assert!(e.details["curves"]["roc"]["fpr"].is_array());
    }
    let auc = |m: &ModelRef| {
        let s = s.stores.clone();
        let m = m.clone();
        async move {
            s.registry
                .evaluations(&m)
                .await
                .unwrap()
                .pop()
                .unwrap()
                .metrics["roc_auc"]
        }
    };
    let (a_logit, a_stump) = (auc(&logistic).await, auc(&stump).await);
    assert!(
        a_logit > 0.98 && a_logit > a_stump,
        "{a_logit} vs {a_stump}"
    );
    assert_eq!(
        s.stores.registry.get(&logistic).await.unwrap().status,
        ModelStatus::Ready
    );
    assert_eq!(
        s.stores.registry.get(&stump).await.unwrap().status,
        ModelStatus::Candidate
    );
    let d = tokio::time::timeout(Duration::from_secs(10), ready.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let env = d.message.envelope().unwrap();
    let Event::ModelReady(r) = &env.event else {
        panic!("{env:?}")
    };
    assert_eq!(r.model, logistic);
    assert_eq!(r.metric, "roc_auc");
    assert_eq!(r.value, a_logit);
    assert_eq!(env.caused_by.as_ref(), Some(&cause.id));

    // The report was written and its path recorded.
    let trail = s.stores.lineage.audit_trail(None).await.unwrap();
    let written = trail.iter().find(|a| a.action == "report.written").unwrap();
    let path = std::path::PathBuf::from(written.detail["path"].as_str().unwrap());
    assert!(path.starts_with(reports.path()));
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains(&format!("★ {logistic}")));
    // ROC, PR and calibration plots plus one confusion matrix per candidate.
    assert_eq!(html.matches("<svg").count(), 3 + 2);
    // One line per candidate in each of the three curve plots.
    assert_eq!(html.matches("<polyline class=\"series\"").count(), 3 * 2);
    for m in [&logistic, &stump] {
        assert_eq!(
            html.matches(&format!("data-candidate=\"{m}\"")).count(),
            3,
            "{m}"
        );
    }
    if let Ok(keep) = std::env::var("MLPIPE_KEEP_REPORT") {
        std::fs::copy(&path, keep).unwrap();
    }
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmet_threshold_publishes_nothing_and_records_why() {
    let s = setup().await;
    let stump = s
        .candidate(
            "decision_tree",
            serde_json::json!({"max_depth": 1}),
            "r-stump",
        )
        .await;
    let mut policy = SelectionPolicy::default();
    policy.minimums.insert("roc_auc".into(), 0.99);
    policy.maximums.insert("log_loss".into(), 0.05);
    let service = s.service(EvaluationConfig {
        metrics: vec!["accuracy".into()],
        selection: policy,
        ..EvaluationConfig::default()
    });
    let report = service
        .evaluate(std::slice::from_ref(&stump), &s.split, None)
        .await
        .unwrap();
    // The policy's metrics were computed although `metrics` lists only accuracy.
    let metrics = &report.metrics[0].1;
    assert!(metrics.contains_key("roc_auc") && metrics.contains_key("log_loss"));
    let Verdict::NoWinner(reasons) = &report.verdict else {
        panic!("{:?}", report.verdict)
    };
    assert!(reasons[0].contains("< required 0.99"), "{reasons:?}");
    assert!(reasons[0].contains("> allowed 0.05"), "{reasons:?}");
    assert_eq!(
        s.stores.registry.get(&stump).await.unwrap().status,
        ModelStatus::Candidate
    );
    let key = Node::Evaluation(report.run_id.clone()).key();
    let trail = s.stores.lineage.audit_trail(Some(&key)).await.unwrap();
    let none = trail.iter().find(|a| a.action == "selection.none").unwrap();
    assert!(none.detail["reasons"][0]
        .as_str()
        .unwrap()
        .contains("roc_auc"));
    assert!(report.table.contains("roc_auc"));

    // A metric that cannot be computed is explained in the reason.
    let regression_only = s.service(EvaluationConfig {
        metrics: vec![],
        selection: SelectionPolicy {
            metric: "r2".into(),
            ..SelectionPolicy::default()
        },
        ..EvaluationConfig::default()
    });
    let r = regression_only
        .evaluate(std::slice::from_ref(&stump), &s.split, None)
        .await
        .unwrap();
    let Verdict::NoWinner(reasons) = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    assert!(
        reasons[0].contains("has no r2") && reasons[0].contains("needs a value (regression) score"),
        "{reasons:?}"
    );
    assert!(r.problems[&stump][0].contains("r2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_winner_must_beat_the_deployed_model_by_the_margin() {
    let s = setup().await;
    let deployed = s
        .candidate("logistic_regression", serde_json::json!({}), "r-old")
        .await;
    let service = s.service(EvaluationConfig::default());
    let first = service
        .evaluate(std::slice::from_ref(&deployed), &s.split, None)
        .await
        .unwrap();
    let Verdict::Winner(_, live_auc) = first.verdict else {
        panic!("{:?}", first.verdict)
    };
    s.stores
        .registry
        .record_deployment(DeploymentRecord {
            model: ModelId::new(MODEL),
            live: vec![deployed.version],
            default: deployed.version,
            action: "deploy".into(),
            actor: "test".into(),
            at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    assert!(s
        .stores
        .registry
        .live(&ModelId::new(MODEL))
        .await
        .unwrap()
        .is_some());

    // The same model trained again is no better than the live one: margin 0.001 not met.
    let again = s
        .candidate("logistic_regression", serde_json::json!({}), "r-new")
        .await;
    let strict = s.service(EvaluationConfig {
        selection: SelectionPolicy {
            margin: 0.001,
            ..SelectionPolicy::default()
        },
        ..EvaluationConfig::default()
    });
    let r = strict
        .evaluate(std::slice::from_ref(&again), &s.split, None)
        .await
        .unwrap();
    let Verdict::NoWinner(reasons) = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    assert!(
        reasons
            .iter()
            .any(|x| x.contains("does not beat the deployed")),
        "{reasons:?}"
    );
    assert_eq!(
        s.stores.registry.get(&again).await.unwrap().status,
        ModelStatus::Candidate
    );

    // A weaker deployed model (the live set points at a stump) is beaten.
    let stump = s
        .candidate(
            "decision_tree",
            serde_json::json!({"max_depth": 1}),
            "r-stump",
        )
        .await;
    service
        .evaluate(std::slice::from_ref(&stump), &s.split, None)
        .await
        .unwrap();
    s.stores
        .registry
        .record_deployment(DeploymentRecord {
            model: ModelId::new(MODEL),
            live: vec![stump.version],
            default: stump.version,
            action: "rollback".into(),
            actor: "test".into(),
            at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    let r = strict
        .evaluate(std::slice::from_ref(&again), &s.split, None)
        .await
        .unwrap();
    assert_eq!(r.verdict, Verdict::Winner(again.clone(), live_auc));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_is_recorded_in_the_registry_and_selected_on_held_out_rows() {
    let s = setup().await;
    let reports = tempfile::tempdir().unwrap();
    let service = s.service(EvaluationConfig {
        reports_dir: Some(reports.path().to_path_buf()),
        ..EvaluationConfig::default()
    });
    let search = Search {
        kind: "decision_tree".into(),
        space: ParamSpace::Grid(BTreeMap::from([
            (
                "max_depth".into(),
                vec![serde_json::json!(1), serde_json::json!(3)],
            ),
            (
                "min_samples_leaf".into(),
                vec![serde_json::json!(1), serde_json::json!(20)],
            ),
        ])),
        fixed: serde_json::Value::Null,
        metric: "roc_auc".into(),
        metrics: vec!["accuracy".into()],
    };
    let folds = StratifiedKFold {
        k: 4,
        shuffle: true,
        seed: 7,
    };
    let (report, evaluation) = service
        .search(&search, &s.split, &folds, &ModelId::new(MODEL), None)
        .await
        .unwrap();
    assert_eq!(report.candidates.len(), 4);
    assert_eq!(report.n_folds, 4);
    let best = report.best.unwrap();
    for c in &report.candidates {
        assert_eq!(c.fold_scores["roc_auc"].len(), 4);
        assert!(c.mean["roc_auc"] <= report.candidates[best].mean["roc_auc"]);
    }
    // The stumps (max_depth 1) rank below the deeper trees.
    assert_eq!(report.best_params().unwrap()["max_depth"], 3);

    // Every candidate is a registered version with its cross-validated scores.
    let versions = s
        .stores
        .registry
        .versions(&ModelId::new(MODEL))
        .await
        .unwrap();
    assert_eq!(versions.len(), 4);
    for (i, v) in versions.iter().enumerate() {
        let evals = s.stores.registry.evaluations(&v.model).await.unwrap();
        let cv = evals
            .iter()
            .find(|e| e.details["evaluation"] == "cross_validation")
            .unwrap();
        let c = &report.candidates[i];
        assert_eq!(cv.metrics["roc_auc"], c.mean["roc_auc"]);
        assert_eq!(cv.metrics["roc_auc_std"], c.std["roc_auc"]);
        assert_eq!(v.params, c.params);
        assert_eq!(cv.details["best"], serde_json::json!(i == best));
        // ... and a hold-out evaluation from the service.
        assert!(evals.iter().any(|e| e.run_id == evaluation.run_id));
    }
    let trail = s.stores.lineage.audit_trail(None).await.unwrap();
    assert!(trail.iter().any(|a| a.action == "search.completed"));
    assert!(matches!(evaluation.verdict, Verdict::Winner(..)));
    let html = std::fs::read_to_string(evaluation.report_path.unwrap()).unwrap();
    assert_eq!(html.matches("<polyline class=\"series\"").count(), 3 * 4);
}

/// Clustering quality is selectable by name in the evaluation configuration and computed
/// for a k-means candidate over the evaluation rows' features (the functions themselves
/// are pinned to scikit-learn in the metric tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clustering_quality_is_computed_for_k_means_candidates() {
    use mlpipe_eval::metrics::clustering::{calinski_harabasz, davies_bouldin, silhouette_score};
    let s = setup().await;
    let km = s
        .candidate(
            "kmeans",
            serde_json::json!({"k": 2, "n_init": 2, "seed": 3}),
            "r-km",
        )
        .await;
    let service = s.service(EvaluationConfig {
        metrics: vec![
            "davies_bouldin".into(),
            "calinski_harabasz".into(),
            "inertia".into(),
        ],
        selection: SelectionPolicy {
            metric: "silhouette".into(),
            ..SelectionPolicy::default()
        },
        ..EvaluationConfig::default()
    });
    let report = service
        .evaluate(std::slice::from_ref(&km), &s.split, None)
        .await
        .unwrap();
    let got = &report.metrics[0].1;
    // The same numbers from the metric functions on the evaluation rows.
    let seg = SegregationApi::new(s.stores.features.clone(), s.stores.lineage.clone());
    let eval = seg.get(&s.split).await.unwrap().evaluation().unwrap();
    let bytes = s.stores.registry.artefact(&km).await.unwrap();
    let (_, model) = s.algorithms.load_bytes(&bytes).unwrap();
    let labels: Vec<i64> = model
        .predict_batch(eval.x.view())
        .unwrap()
        .iter()
        .map(|sc| match sc {
            mlpipe_core::Score::Cluster { cluster, .. } => i64::from(*cluster),
            other => panic!("{other:?}"),
        })
        .collect();
    let want = [
        (
            "silhouette",
            silhouette_score(eval.x.view(), &labels).unwrap(),
        ),
        (
            "davies_bouldin",
            davies_bouldin(eval.x.view(), &labels).unwrap(),
        ),
        (
            "calinski_harabasz",
            calinski_harabasz(eval.x.view(), &labels).unwrap(),
        ),
    ];
    for (name, v) in want {
        assert_eq!(got.get(name).copied(), Some(v), "{name}: {got:?}");
    }
    assert!(got["silhouette"] > 0.0 && got["silhouette"] < 1.0);
    assert!(
        matches!(report.verdict, Verdict::Winner(..)),
        "{:?}",
        report.verdict
    );
}
