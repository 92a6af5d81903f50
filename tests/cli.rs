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
