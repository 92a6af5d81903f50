//! Conformance suites: one per trait, the same for every backend.
//!
//! A backend crate calls these from its own tests against a fresh instance (and, for durable
//! backends, [`durability::survives_reopen`]). Third-party backends enable the `testkit`
//! feature and do the same. Every suite uses fresh random names (ids, datasets, topics), so
//! suites can run in parallel against one shared server.
//!
//! The suites panic with a message on failure, like `assert!`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

pub mod broker;
pub mod durability;
pub mod features;
pub mod lineage;
pub mod proxy;
pub mod raw;
pub mod registry;
pub mod scores;

use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use std::sync::Arc;

/// A short random name for namespacing a suite run.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

/// A small batch with a float, an integer and a text column, `n` rows, values offset by
/// `seed` so different batches differ.
pub fn sample_batch(n: usize, seed: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("k", DataType::Int64, true),
        Field::new("s", DataType::Utf8, true),
    ]));
    let x: Float64Array = (0..n)
        .map(|i| {
            if i % 7 == 3 {
                None
            } else {
                Some(i as f64 * 0.5 + seed as f64)
            }
        })
        .collect();
    let k: Int64Array = (0..n).map(|i| Some(i as i64 + seed)).collect();
    let s: StringArray = (0..n)
        .map(|i| Some(format!("row-{}", i as i64 + seed)))
        .collect();
    RecordBatch::try_new(schema, vec![Arc::new(x), Arc::new(k), Arc::new(s)]).unwrap()
}

/// Unwraps a result with the error in the panic message.
#[track_caller]
pub(crate) fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("expected success, got error: {e}"),
    }
}
