//! What happened reaches the caller: a run followed to its end resolves to the deployed
//! version, to "no candidate qualifies" with the reasons, or to the typed error of the
//! stage that failed (dead-lettered at once when retrying cannot help, and recorded in the
//! audit trail); and a configuration naming an unknown part, scheme or section is refused
//! when it is read, naming the word and the registered ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mlpipe::core::events::SourceRef;
use mlpipe::core::Config;
use mlpipe::{Error, PipelineBuilder, RunEnd, StageOutcome};
use std::path::Path;
use std::time::Duration;

fn iris() -> SourceRef {
    SourceRef {
        uri: Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/iris.csv")
            .display()
            .to_string(),
        format: "csv".into(),
        options: Default::default(),
    }
}

/// In-memory stores; retries slow enough that a retried failure could not end in time.
fn config(dir: &Path, stages: &str) -> Config {
    let text = format!(
        r#"
data_dir = "{}"
[backends]
metadata_url = "memory://"
data_url = "memory://"
[broker]
max_deliveries = 3
backoff_ms = [30000]
[log]
filter = "warn"
{stages}
"#,
        dir.display()
    );
    Config::from_toml_str(&text, std::iter::empty()).unwrap_or_else(|e| panic!("{e}"))
}

const TRAINING: &str = r#"
[training.datasets.iris]
split = { strategy = "stratified", train_ratio = 0.7, seed = 1 }
candidates = [{ name = "tree", kind = "decision_tree", params = { max_depth = 3 } }]
[evaluation]
metrics = ["accuracy", "f1_macro"]
[evaluation.selection]
metric = "accuracy"
"#;

async fn run(stages: &str) -> (mlpipe::Result<RunEnd>, Vec<StageOutcome>, mlpipe::Pipeline) {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = PipelineBuilder::new()
        .start(&config(dir.path(), stages))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut handle = pipeline.follow("iris", iris()).await.unwrap();
    let mut seen = Vec::new();
    let end = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(o) = handle.next().await {
            seen.push(o);
        }
        handle.outcome().await
    })
    .await
    .expect("the run ends");
    (end, seen, pipeline)
}

fn stages_of(seen: &[StageOutcome]) -> Vec<String> {
    seen.iter()
        .map(|o| match o {
            StageOutcome::Completed { stage, .. } => stage.to_string(),
            StageOutcome::Failed { stage, .. } => format!("{stage} failed"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_resolves_to_the_version_it_deployed() {
    let (end, seen, pipeline) = run(&format!(
        "[features.datasets.iris]\nlabel = \"target\"\n{TRAINING}"
    ))
    .await;
    let end = end.unwrap_or_else(|e| panic!("{e}"));
    let deployed = end.deployed().expect("a version is live").clone();
    let live = pipeline
        .router
        .live_versions(&deployed.model)
        .await
        .unwrap();
    assert_eq!(live.first(), Some(&deployed));
    assert_eq!(
        stages_of(&seen),
        ["announce", "ingest", "prepare", "train", "evaluate", "deploy"]
    );
    pipeline.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_preparation_resolves_to_its_typed_error_and_is_audited() {
    let (end, seen, pipeline) = run(&format!(
        "[features.datasets.iris]\nlabel = \"no_such_label\"\n{TRAINING}"
    ))
    .await;
    let Err(Error::Stage {
        stage,
        topic,
        reason,
        attempts,
    }) = end
    else {
        panic!("expected the prepare stage's error, got {end:?}");
    };
    assert_eq!(stage, "prepare");
    assert_eq!(topic, "raw-data-extracted");
    assert!(reason.contains("no_such_label"), "{reason}");
    // Permanent: dead-lettered at once, not after retries 30 s apart.
    assert_eq!(attempts, 1);
    assert_eq!(stages_of(&seen), ["announce", "ingest", "prepare failed"]);
    // The dead letter is in the audit trail, with the stage's error.
    let mut audited = None;
    for _ in 0..200 {
        let trail = pipeline.stores.lineage.audit_trail(None).await.unwrap();
        audited = trail.into_iter().find(|a| a.action == "dead_letter");
        if audited.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let audited = audited.expect("an audit record of the dead letter");
    assert_eq!(audited.actor, "mlpipe-prepare");
    assert_eq!(audited.detail["topic"], "raw-data-extracted");
    assert!(audited.detail["error"]
        .as_str()
        .is_some_and(|e| e.contains("no_such_label")));
    pipeline.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_where_no_candidate_qualifies_says_why() {
    let strict = TRAINING.replace(
        "metric = \"accuracy\"\n",
        "metric = \"accuracy\"\nminimums = { accuracy = 1.01 }\n",
    );
    let (end, _, pipeline) = run(&format!(
        "[features.datasets.iris]\nlabel = \"target\"\n{strict}"
    ))
    .await;
    let Ok(RunEnd::Rejected(r)) = end else {
        panic!("expected a rejection, got {end:?}");
    };
    assert_eq!(r.candidates.len(), 1);
    assert!(
        r.reasons.iter().any(|x| x.contains("accuracy")),
        "{:?}",
        r.reasons
    );
    pipeline.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_end_where_the_configuration_ends() {
    let (end, _, p) = run("[features.datasets.iris]\nlabel = \"target\"").await;
    assert!(
        matches!(end, Ok(RunEnd::Prepared(ref f)) if f.rows == 150),
        "{end:?}"
    );
    p.shutdown().await;
    let (end, _, p) = run("").await;
    assert!(
        matches!(end, Ok(RunEnd::Ingested(ref r)) if r.rows == 150),
        "{end:?}"
    );
    p.shutdown().await;
}

/// Each misspelt word, and what the refusal must name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_names_are_refused_when_the_configuration_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str])] = &[
        (
            "[features.datasets.iris]\nlabel = \"target\"\ntransform = [{ kind = \"standard_scalar\" }]",
            &["standard_scalar", "standard_scaler", "[features.datasets.iris]"],
        ),
        (
            "[training.datasets.iris]\ncandidates = [{ name = \"t\", kind = \"decision_tre\" }]",
            &["decision_tre", "decision_tree", "candidate `t`"],
        ),
        (
            "[training.datasets.iris]\nsplit = { strategy = \"stratifed\" }\ncandidates = []",
            &["stratifed", "stratified"],
        ),
        (
            "[evaluation]\nmetrics = [\"acuracy\"]",
            &["acuracy", "accuracy", "silhouette"],
        ),
        ("[trainig.datasets.iris]\ncandidates = []", &["trainig", "training"]),
    ];
    for (text, words) in cases {
        let err = PipelineBuilder::new()
            .start(&config(dir.path(), text))
            .await
            .err()
            .unwrap_or_else(|| panic!("accepted:\n{text}"))
            .to_string();
        for w in *words {
            assert!(
                err.contains(w),
                "`{w}` not in the error for\n{text}\n→ {err}"
            );
        }
    }
    let mut c = config(dir.path(), "");
    c.backends.broker_url = "kafka://localhost:9092".into();
    let err = PipelineBuilder::new()
        .start(&c)
        .await
        .err()
        .map(|e| e.to_string());
    let err = err.expect("an unknown scheme is refused");
    assert!(
        err.contains("kafka") && err.contains("nats") && err.contains("memory"),
        "{err}"
    );
}

/// A user's own metric, strategy and scheme are accepted once registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_parts_are_known_to_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "[evaluation]\nmetrics = [\"always_one\"]\n[evaluation.selection]\nmetric = \"always_one\"";
    let mut b = PipelineBuilder::new();
    struct One;
    impl mlpipe::eval::Evaluator for One {
        fn name(&self) -> &str {
            "always_one"
        }
        fn evaluate(&self, _: &[f64], _: &[mlpipe::core::Score]) -> mlpipe::eval::Result<f64> {
            Ok(1.0)
        }
    }
    b.evaluators().register("always_one", || Box::new(One));
    let mut c = config(dir.path(), text);
    c.backends.broker_url = "inproc://".into();
    b.backends().broker("inproc", |_| {
        Box::pin(async {
            Ok(
                std::sync::Arc::new(mlpipe::core::broker::InProcessBroker::new())
                    as std::sync::Arc<dyn mlpipe::core::broker::Broker>,
            )
        })
    });
    let p = b.start(&c).await.unwrap_or_else(|e| panic!("{e}"));
    p.shutdown().await;
}

/// An empty file fails ingestion for good: one attempt, the ingest stage's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_file_fails_its_run_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let pipeline = PipelineBuilder::new()
        .start(&config(
            dir.path(),
            "[features.datasets.iris]\nlabel = \"target\"",
        ))
        .await
        .unwrap();
    let source = SourceRef {
        uri: empty.display().to_string(),
        format: "csv".into(),
        options: Default::default(),
    };
    let end = tokio::time::timeout(Duration::from_secs(20), pipeline.run("iris", source))
        .await
        .expect("the run ends");
    match end {
        Err(Error::Stage {
            stage,
            reason,
            attempts,
            ..
        }) => {
            assert_eq!(stage, "ingest");
            assert!(reason.contains("empty"), "{reason}");
            assert_eq!(attempts, 1);
        }
        other => panic!("expected the ingest stage's error, got {other:?}"),
    }
    pipeline.shutdown().await;
}

/// A misspelt key anywhere is refused, naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_keys_are_refused_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[features.datasets.iris]\nlabl = \"target\"", "labl"),
        ("[features.datasets.iris]\nlabel = \"target\"\nquality = { max_missing_ratio = 0.1, maxx = 1 }", "maxx"),
        ("[features.combined.c]\nsources = []\nkey = \"k\"\nreplicate = true", "replicate"),
        ("[ingest]\nmax_bad_ratoi = 0.1", "max_bad_ratoi"),
        (
            "[[ingest.schedules]]\ndataset = \"d\"\nschedule = \"every 1d\"\nsource = { uri = \"x.csv\", format = \"csv\", option = {} }",
            "option",
        ),
        ("[training.datasets.iris]\ncandidates = []\ntimeout = 5", "timeout"),
        ("[training.datasets.iris]\ncandidates = []\nsplit = { strategy = \"random\", train_ration = 0.7 }", "train_ration"),
        ("[evaluation]\nmetric = \"accuracy\"", "metric"),
        ("[evaluation.selection]\nmetrc = \"accuracy\"", "metrc"),
    ];
    for (text, word) in cases {
        let err = PipelineBuilder::new()
            .start(&config(dir.path(), text))
            .await
            .err()
            .unwrap_or_else(|| panic!("accepted:\n{text}"))
            .to_string();
        assert!(
            err.contains(word),
            "`{word}` not in the error for\n{text}\n→ {err}"
        );
    }
    for (text, word) in [
        ("[broker]\nack_wait = 5", "ack_wait"),
        ("[log]\nfiltre = \"warn\"", "filtre"),
        ("[backends]\nbroker = \"nats://x\"", "broker"),
    ] {
        let err = Config::from_toml_str(text, std::iter::empty())
            .err()
            .unwrap_or_else(|| panic!("accepted:\n{text}"))
            .to_string();
        assert!(
            err.contains(word),
            "`{word}` not in the error for\n{text}\n→ {err}"
        );
    }
    // A misspelt top-level key is an unknown section.
    let c = Config::from_toml_str(
        "data_dri = \"x\"\n[backends]\nmetadata_url = \"memory://\"\ndata_url = \"memory://\"",
        std::iter::empty(),
    )
    .unwrap();
    let err = PipelineBuilder::new()
        .start(&c)
        .await
        .err()
        .map(|e| e.to_string());
    assert!(err.is_some_and(|e| e.contains("data_dri")));
}
