//! The stock `mlpipe` command as a user runs it: help for every subcommand, and a wrong
//! command line refused with exit code 2 and a message naming what is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn mlpipe(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mlpipe"))
        .args(args)
        .env_remove("MLPIPE_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_subcommand_has_help() {
    let (code, out, _) = mlpipe(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("worker"), "{out}");
    let (code, out, _) = mlpipe(&["worker", "--help"]);
    assert_eq!(code, 0);
    for word in ["ingest", "prepare", "--config", "SIGTERM", "MLPIPE_CONFIG"] {
        assert!(out.contains(word), "`{word}` not in:\n{out}");
    }
}

#[test]
fn a_wrong_command_line_exits_2_naming_the_mistake() {
    let (code, _, err) = mlpipe(&["worker", "bake"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown stage `bake`") && err.contains("evaluate"),
        "{err}"
    );
    let (code, _, err) = mlpipe(&["wroker"]);
    assert_eq!(code, 2);
    assert!(err.contains("wroker"), "{err}");
    let (code, _, _) = mlpipe(&["worker"]);
    assert_eq!(code, 2);
}

#[test]
fn a_missing_or_wrong_configuration_exits_1_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let (code, _, err) = mlpipe(&["worker", "all", "--config", missing.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("nope.toml"), "{err}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "data_dir = \"{}\"\n[training.datasets.d]\ncandidates = [{{ name = \"x\", kind = \"decision_tre\" }}]\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let (code, _, err) = mlpipe(&["worker", "train", "--config", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("decision_tre") && err.contains("decision_tree"),
        "{err}"
    );
}

/// `mlpipe serve` on the embedded default serves what a pipeline wrote under `data_dir`,
/// answers a real HTTP client, and exits 0 on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_what_the_pipeline_deployed() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("mlpipe.toml");
    std::fs::write(
        &config_path,
        format!(
            r#"data_dir = "{}"
[log]
filter = "warn"
[features.datasets.iris]
label = "target"
[training.datasets.iris]
split = {{ strategy = "stratified", train_ratio = 0.7, seed = 1 }}
candidates = [{{ name = "tree", kind = "decision_tree", params = {{ max_depth = 3 }} }}]
[evaluation]
metrics = ["accuracy"]
[evaluation.selection]
metric = "accuracy"
"#,
            dir.path().display()
        ),
    )
    .unwrap();
    let config = mlpipe::core::Config::load(&config_path).unwrap();
    let pipeline = mlpipe::Pipeline::start(&config).await.unwrap();
    let source = mlpipe::core::events::SourceRef {
        uri: std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/iris.csv")
            .display()
            .to_string(),
        format: "csv".into(),
        options: Default::default(),
    };
    let end = pipeline.run("iris", source).await.unwrap();
    assert!(end.deployed().is_some());
    pipeline.shutdown().await;

    let mut child = Command::new(env!("CARGO_BIN_EXE_mlpipe"))
        .args(["serve", "--addr", "127.0.0.1:0", "--config"])
        .arg(&config_path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("serving "))
        .expect("the server says where it listens");
    let base = line.trim_start_matches("serving ").to_string();
    let http = reqwest::Client::new();
    let meta: serde_json::Value = http
        .get(format!("{base}/v2/models/iris"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["inputs"].as_array().map(Vec::len), Some(4), "{meta}");
    let body = serde_json::json!({"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP64",
        "data": [[5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5]]}]});
    let r: serde_json::Value = http
        .post(format!("{base}/v2/models/iris/infer"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["outputs"][0]["data"], serde_json::json!([0, 2]), "{r}");
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert!(child.wait().unwrap().success());
}
