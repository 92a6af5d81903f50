//! Shared test data: the scikit-learn fixture, breast_cancer and the mixed table.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use arrow_schema::{DataType, Field, Schema};
use mlpipe_core::table::rows_to_batch;
use mlpipe_core::{RecordBatch, Row, Value};
use ndarray::{Array1, Array2};
use std::sync::Arc;

pub fn fixture() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sklearn_features.json"
    ))
    .expect("fixture");
    serde_json::from_str(&text).expect("fixture json")
}

pub fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

pub fn matrix(v: &serde_json::Value) -> Vec<Vec<f64>> {
    v.as_array().expect("array").iter().map(floats).collect()
}

pub fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("string").to_string())
        .collect()
}

/// Asserts |a − b| <= tol · max(1, |b|) element-wise.
pub fn close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || (g - w).abs() <= tol * w.abs().max(1.0);
        assert!(ok, "{what}[{i}]: got {g:e}, want {w:e}");
    }
}

/// Asserts relative closeness |a − b| <= tol · |b| (for p-values that are tiny).
pub fn rel_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs(),
            "{what}[{i}]: got {g:e}, want {w:e} (rel {:e})",
            (g - w).abs() / w.abs()
        );
    }
}

/// breast_cancer.csv: (feature names, X, y).
pub fn breast_cancer() -> (Vec<String>, Array2<f64>, Array1<f64>) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/breast_cancer.csv"
    ))
    .expect("data/breast_cancer.csv");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(String::from)
        .collect();
    let rows: Vec<Vec<f64>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(|v| v.parse().expect("number")).collect())
        .collect();
    let p = header.len() - 1;
    let x = Array2::from_shape_fn((rows.len(), p), |(i, j)| rows[i][j]);
    let y = Array1::from_iter(rows.iter().map(|r| r[p]));
    (header[..p].to_vec(), x, y)
}

pub fn mixed_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("city", DataType::Utf8, true),
        Field::new("colour", DataType::Utf8, true),
        Field::new("age", DataType::Float64, true),
        Field::new("income", DataType::Float64, true),
        Field::new("ts", DataType::Utf8, true),
        Field::new("label", DataType::Int64, true),
    ]))
}

/// mixed.csv as rows (empty cells are nulls).
pub fn mixed_rows() -> Vec<Row> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/mixed.csv"
    ))
    .expect("mixed.csv");
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let text = |s: &str| {
                if s.is_empty() {
                    Value::Null
                } else {
                    Value::Str(s.to_string())
                }
            };
            let num = |s: &str| {
                if s.is_empty() {
                    Value::Null
                } else {
                    Value::Float(s.parse().expect("number"))
                }
            };
            Row::new()
                .with("id", f[0].parse::<i64>().expect("id"))
                .with("city", text(f[1]))
                .with("colour", text(f[2]))
                .with("age", num(f[3]))
                .with("income", num(f[4]))
                .with("ts", text(f[5]))
                .with("label", f[6].parse::<i64>().expect("label"))
        })
        .collect()
}

pub fn mixed_batch() -> RecordBatch {
    rows_to_batch(&mixed_rows(), mixed_schema()).expect("batch")
}
