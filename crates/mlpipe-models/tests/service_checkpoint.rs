//! The training service: a candidate that times out is retried and resumes from its
//! checkpoint; a timed-out attempt stops instead of running on; a candidate that can
//! never finish fails after its attempts and the others still register.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mlpipe_core::broker::InProcessBroker;
use mlpipe_core::store::*;
use mlpipe_core::{BatchId, FeatureSetId, Score};
use mlpipe_models::checkpoint::{self, Checkpoint};
use mlpipe_models::*;
use ndarray::ArrayView2;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Counts to `steps`, 60 ms a step, checkpointing every step.
struct SlowCounter {
    steps: u32,
    resumable: bool,
    started_at: Arc<Mutex<Vec<u32>>>,
}

#[derive(Debug)]
struct Constant(serde_json::Value);

impl Model for Constant {
    fn kind(&self) -> &str {
        "slow_counter"
    }
    fn n_features(&self) -> usize {
        1
    }
    fn predict_batch(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Score>> {
        Ok(vec![Score::Value { value: 0.0 }; x.nrows()])
    }
    fn predict_row(&self, _x: &[f64]) -> Result<Score> {
        Ok(Score::Value { value: 0.0 })
    }
    fn artefact(&self) -> Result<ModelArtefact> {
        Ok(ModelArtefact::new(
            "slow_counter",
            FeatureSetId::new("fs-ck"),
            vec!["f".into()],
            serde_json::json!({}),
            self.0.clone(),
        ))
    }
}

impl Trainer for SlowCounter {
    fn kind(&self) -> &str {
        "slow_counter"
    }
    fn params(&self) -> serde_json::Value {
        serde_json::json!({"steps": self.steps})
    }
    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>> {
        self.train_resumable(data, &checkpoint::NoCheckpoint)
    }
    fn train_resumable(
        &self,
        _data: &TrainingData<'_>,
        ck: &dyn Checkpoint,
    ) -> Result<Box<dyn Model>> {
        let mut step: u32 = if self.resumable {
            checkpoint::load_json(ck).unwrap_or(0)
        } else {
            0
        };
        let first = step;
        self.started_at.lock().unwrap().push(first);
        while step < self.steps {
            checkpoint::check(ck, "slow_counter")?;
            std::thread::sleep(Duration::from_millis(60));
            step += 1;
            checkpoint::save_json(ck, &step);
        }
        Ok(Box::new(Constant(serde_json::json!({"first_step": first}))))
    }
}

async fn stores_with_features() -> (Stores, FeatureSetId) {
    use arrow_array::{Float64Array, Int64Array};
    use arrow_schema::{DataType, Field, Schema};
    let stores = Stores::in_memory();
    let fs = FeatureSetId::new("fs-ck");
    stores
        .features
        .put_feature_set(FeatureSetRecord {
            id: fs.clone(),
            dataset: "ck".into(),
            feature_names: vec!["f".into()],
            label: Some("y".into()),
            key: None,
            pipeline: serde_json::Value::Null,
            fitted_on: vec![],
            created_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("f", DataType::Float64, true),
        Field::new("y", DataType::Int64, true),
    ]));
    let b = mlpipe_core::RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Float64Array::from(
                (0..40).map(f64::from).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                (0..40).map(|i| i % 2).collect::<Vec<i64>>(),
            )),
        ],
    )
    .unwrap();
    stores
        .features
        .write(&fs, &BatchId::generate(), vec![b])
        .await
        .unwrap();
    (stores, fs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_candidate_resumes_from_its_checkpoint_on_retry() {
    let (stores, fs) = stores_with_features().await;
    let starts: Arc<Mutex<Vec<u32>>> = Arc::default();
    let never: Arc<Mutex<Vec<u32>>> = Arc::default();
    let mut algorithms = Algorithms::builtin();
    let (s1, s2) = (starts.clone(), never.clone());
    algorithms.register(
        "slow_counter",
        move |p| {
            let resumable = p["resumable"].as_bool().unwrap_or(true);
            Ok(Box::new(SlowCounter {
                steps: 8,
                resumable,
                started_at: if resumable { s1.clone() } else { s2.clone() },
            }))
        },
        |a| Ok(Box::new(Constant(a.learned.clone()))),
    );
    let config: TrainingConfig = toml::from_str(
        r#"
        [datasets.ck]
        timeout_secs = 0.25
        attempts = 6
        backoff_ms = 10
        candidates = [
            { name = "resumable", kind = "slow_counter", params = { resumable = true } },
            { name = "from-scratch", kind = "slow_counter", params = { resumable = false } },
        ]
        "#,
    )
    .unwrap();
    let svc = TrainingService::new(
        stores.clone(),
        Arc::new(InProcessBroker::new()),
        Arc::new(algorithms),
        config,
    );
    let report = svc.train("ck", &fs, None, None).await.unwrap().unwrap();
    // 8 steps of 60 ms never fit in 250 ms from scratch; with checkpoints a later
    // attempt finishes what the earlier ones started (six attempts leave room for a
    // loaded machine starting attempts late).
    assert_eq!(report.candidates.len(), 1, "{:?}", report.failed);
    assert_eq!(report.failed.len(), 1);
    assert!(
        report.failed[0].1.contains("timed out"),
        "{:?}",
        report.failed
    );
    let first_steps = starts.lock().unwrap().clone();
    assert_eq!(first_steps[0], 0);
    assert!(first_steps.len() >= 2, "{first_steps:?}");
    assert!(
        first_steps.windows(2).all(|w| w[1] > w[0]),
        "each retry resumes further on: {first_steps:?}"
    );
    let m = stores.registry.get(&report.candidates[0]).await.unwrap();
    assert_eq!(m.training["attempts"], first_steps.len());
    let learned: serde_json::Value = serde_json::from_slice(
        &stores
            .registry
            .artefact(&report.candidates[0])
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        learned["learned"]["first_step"],
        *first_steps.last().unwrap()
    );
    // Every from-scratch attempt started at 0, and all six ran.
    assert_eq!(*never.lock().unwrap(), vec![0; 6]);
}

/// Logistic regression saves its coefficients after every Newton step: a fit cut short
/// and resumed from the checkpoint ends exactly where an uninterrupted fit does, for
/// binary and multinomial problems.
#[test]
fn logistic_regression_resumes_from_its_newton_checkpoint() {
    use mlpipe_models::checkpoint::MemoryCheckpoint;
    use mlpipe_models::logistic::{LogisticModel, LogisticParams, LogisticRegression};
    let n = 300;
    let mut seed = 12345u64;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let x = ndarray::Array2::from_shape_fn((n, 3), |_| next() * 4.0);
    for classes in [2usize, 3] {
        let y = ndarray::Array1::from_shape_fn(n, |i| {
            let s = x[[i, 0]] + 0.5 * x[[i, 1]] - x[[i, 2]] + next();
            if classes == 2 {
                f64::from(s > 0.0)
            } else {
                f64::from(u8::from(s > -0.7) + u8::from(s > 0.7))
            }
        });
        let names = vec!["a".to_string(), "b".into(), "c".into()];
        let fs = FeatureSetId::new("fs-lr");
        let td = TrainingData {
            x: x.view(),
            y: y.view(),
            feature_names: &names,
            feature_set_id: &fs,
        };
        let full = LogisticRegression(LogisticParams::default())
            .train(&td)
            .unwrap();
        let ck = MemoryCheckpoint::default();
        let short = LogisticRegression(LogisticParams {
            max_iter: 2,
            ..Default::default()
        });
        short.train_resumable(&td, &ck.attempt(1)).unwrap();
        assert_eq!(ck.saves(), 2);
        let resumed = LogisticRegression(LogisticParams::default())
            .train_resumable(&td, &ck.attempt(2))
            .unwrap();
        let a = LogisticModel::from_artefact(&full.artefact().unwrap()).unwrap();
        let b = LogisticModel::from_artefact(&resumed.artefact().unwrap()).unwrap();
        assert_eq!(a.state().coef, b.state().coef, "{classes} classes");
        assert_eq!(a.state().iterations, b.state().iterations);
        assert!(a.state().iterations > 2);
        // The matrix fast path gives exactly the typed scores' probabilities.
        let fast = full.predict_proba(x.view()).unwrap().unwrap();
        let slow = proba_matrix(&full.predict_batch(x.view()).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(fast, slow);
        assert_eq!(fast.ncols(), classes);
        // And so does the allocation-free row path.
        let mut out = vec![0.0; classes];
        for i in 0..5 {
            let row = x.row(i).to_vec();
            assert!(full.predict_proba_row(&row, &mut out).unwrap());
            assert_eq!(out, fast.row(i).to_vec());
        }
        assert!(!full
            .predict_proba_row(&x.row(0).to_vec(), &mut [0.0; 7])
            .unwrap());
        let tree = mlpipe_models::tree::DecisionTree(Default::default())
            .train(&td)
            .unwrap();
        assert_eq!(
            tree.predict_proba(x.view()).unwrap(),
            proba_matrix(&tree.predict_batch(x.view()).unwrap()).unwrap()
        );
        // A cancelled attempt stops with a typed error before its next step.
        let stale = ck.attempt(3);
        let _newer = ck.attempt(4);
        assert!(matches!(
            LogisticRegression(LogisticParams::default()).train_resumable(&td, &stale),
            Err(ModelError::Cancelled { .. })
        ));
    }
}

/// A dataset with a `schedule` is retrained at every tick on its newest feature set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_runs_on_a_schedule() {
    use mlpipe_core::broker::{Broker, BrokerExt, SubscribeOptions};
    use mlpipe_core::events::{Event, Topic};
    let (stores, fs) = stores_with_features().await;
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    let mut trained = broker
        .subscribe_topic(Topic::ModelTrained, "test", SubscribeOptions::default())
        .await
        .unwrap();
    let config: TrainingConfig = toml::from_str(
        r#"
        [datasets.ck]
        schedule = "every 1s"
        candidates = [{ name = "lr", kind = "logistic_regression" }]
        "#,
    )
    .unwrap();
    let svc = Arc::new(TrainingService::new(
        stores.clone(),
        broker.clone(),
        Arc::new(Algorithms::builtin()),
        config,
    ));
    let handles = svc.start_schedules().unwrap();
    assert_eq!(handles.len(), 1);
    for _ in 0..2 {
        let d = tokio::time::timeout(Duration::from_secs(10), trained.next())
            .await
            .expect("a scheduled run within 10 s")
            .unwrap()
            .unwrap();
        match d.message.envelope().unwrap().event {
            Event::ModelTrained(e) => {
                assert_eq!(e.feature_set_id, fs);
                assert_eq!(e.candidates.len(), 1);
            }
            other => panic!("unexpected {other:?}"),
        }
        d.ack().await.unwrap();
    }
    for h in handles {
        h.shutdown().await;
    }
    let bad: TrainingConfig =
        toml::from_str("[datasets.ck]\nschedule = \"sometimes\"\ncandidates = []\n").unwrap();
    let svc = Arc::new(TrainingService::new(
        stores,
        broker,
        Arc::new(Algorithms::builtin()),
        bad,
    ));
    assert!(matches!(
        svc.start_schedules(),
        Err(ModelError::Params { .. })
    ));
}

/// k-means checkpoints after every Lloyd iteration: a fit cancelled part-way through its
/// second initialisation and resumed ends with exactly the centres of an uninterrupted fit.
#[test]
fn kmeans_resumes_from_its_lloyd_checkpoint() {
    use mlpipe_models::checkpoint::MemoryCheckpoint;
    use mlpipe_models::kmeans::{KMeans, KMeansModel, KMeansParams};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Cancels itself after `limit` saves.
    struct CutAfter<'a> {
        inner: &'a dyn Checkpoint,
        saves: AtomicUsize,
        limit: usize,
    }
    impl Checkpoint for CutAfter<'_> {
        fn load(&self) -> Option<Vec<u8>> {
            self.inner.load()
        }
        fn save(&self, state: Vec<u8>) {
            self.saves.fetch_add(1, Ordering::SeqCst);
            self.inner.save(state)
        }
        fn cancelled(&self) -> bool {
            self.saves.load(Ordering::SeqCst) >= self.limit
        }
    }

    let n = 600;
    let mut seed = 99u64;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let x = ndarray::Array2::from_shape_fn((n, 2), |(i, _)| (i % 4) as f64 * 3.0 + next());
    let y = ndarray::Array1::zeros(n);
    let names = vec!["a".to_string(), "b".into()];
    let fs = FeatureSetId::new("fs-km");
    let td = TrainingData {
        x: x.view(),
        y: y.view(),
        feature_names: &names,
        feature_set_id: &fs,
    };
    let params = KMeansParams {
        k: 4,
        n_init: 3,
        seed: 5,
        ..Default::default()
    };
    let full = KMeans(params.clone()).train(&td).unwrap();
    let ck = MemoryCheckpoint::default();
    let first = ck.attempt(1);
    let cut = CutAfter {
        inner: &first,
        saves: AtomicUsize::new(0),
        limit: 4,
    };
    assert!(matches!(
        KMeans(params.clone()).train_resumable(&td, &cut),
        Err(ModelError::Cancelled { .. })
    ));
    let resumed = KMeans(params).train_resumable(&td, &ck.attempt(2)).unwrap();
    let a = KMeansModel::from_artefact(&full.artefact().unwrap()).unwrap();
    let b = KMeansModel::from_artefact(&resumed.artefact().unwrap()).unwrap();
    assert_eq!(a.state().centers, b.state().centers);
    assert_eq!(a.state().inertia, b.state().inertia);
}
