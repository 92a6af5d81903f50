//! Shared test helpers: load a dataset from `data/` as a matrix and labels.
#![allow(dead_code, missing_docs)]

use mlpipe_core::table::{column_names, column_values, concat, to_matrix};
use mlpipe_ingest::{CsvOptions, CsvSource, Source};
use ndarray::{Array1, Array2, Axis};

pub async fn dataset(name: &str) -> (Array2<f64>, Array1<f64>, Vec<String>) {
    let path = format!("{}/../../data/{name}.csv", env!("CARGO_MANIFEST_DIR"));
    let mut src = CsvSource::new(path, CsvOptions::default());
    let mut parts = Vec::new();
    while let Some(c) = src.next_chunk().await.unwrap_or_else(|e| panic!("{e}")) {
        parts.push(c.batch);
    }
    let b = concat(&parts).unwrap_or_else(|e| panic!("{e}"));
    let mut names = column_names(&b);
    let label = names.pop().unwrap_or_default();
    let x = to_matrix(std::slice::from_ref(&b), &names).unwrap_or_else(|e| panic!("{e}"));
    let y = Array1::from(column_values(&[b], &label).unwrap_or_else(|e| panic!("{e}")));
    (x, y, names)
}

/// Standardises with the training rows' mean and population std.
pub fn standardise(train: &Array2<f64>, other: &Array2<f64>) -> (Array2<f64>, Array2<f64>) {
    let mean = train.mean_axis(Axis(0)).unwrap_or_default();
    let std = train
        .std_axis(Axis(0), 0.0)
        .mapv(|s| if s == 0.0 { 1.0 } else { s });
    ((train - &mean) / &std, (other - &mean) / &std)
}

pub fn take(x: &Array2<f64>, y: &Array1<f64>, rows: &[usize]) -> (Array2<f64>, Array1<f64>) {
    (x.select(Axis(0), rows), y.select(Axis(0), rows))
}

pub fn accuracy(scores: &[mlpipe_core::Score], y: &Array1<f64>) -> f64 {
    let hits = scores
        .iter()
        .zip(y)
        .filter(|(s, t)| s.class() == Some(**t as i64))
        .count();
    hits as f64 / y.len() as f64
}
