//! Header names and schema inference for CSV files.

use super::scalar::{field_str, is_number, parse_bool, parse_timestamp};
use crate::error::{IngestError, Result};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use rayon::prelude::*;
use std::sync::Arc;

pub(crate) fn header_names(record: &csv::ByteRecord, source: &str) -> Result<Vec<String>> {
    let mut names = Vec::with_capacity(record.len());
    for (i, f) in record.iter().enumerate() {
        let n = std::str::from_utf8(f).map_err(|_| IngestError::BadHeader {
            source_name: source.to_string(),
            reason: format!("column {} is not valid UTF-8", i + 1),
        })?;
        let n = n.trim().trim_start_matches('\u{feff}');
        let n = if n.is_empty() {
            format!("column_{}", i + 1)
        } else {
            n.to_string()
        };
        if names.contains(&n) {
            return Err(IngestError::BadHeader {
                source_name: source.to_string(),
                reason: format!("column name `{n}` appears twice"),
            });
        }
        names.push(n);
    }
    Ok(names)
}

/// Share of sampled values that must parse as a type for a column to get it.
pub const INFER_MAJORITY: f64 = 0.9;

/// Values, integers and numbers seen in one column of the sample.
#[derive(Clone, Default)]
struct Counts {
    values: usize,
    ints: usize,
    numbers: usize,
}

/// A schema for `names` from sample records (fields as bytes): see the module rules.
pub(crate) fn infer_schema(names: &[String], sample: &[Vec<&[u8]>]) -> SchemaRef {
    // Records of the wrong width are left out. Integers and numbers are counted in one
    // pass over the records in file order (in parallel over runs of records: walking one
    // column at a time would jump through the sample and miss the cache on every value);
    // the rarer text-like columns are then tested for booleans and timestamps one by one.
    let width = names.len();
    let records: Vec<&Vec<&[u8]>> = sample.iter().filter(|r| r.len() == width).collect();
    let counts = records
        .par_chunks(1024)
        .map(|run| {
            let mut c = vec![Counts::default(); width];
            for r in run {
                for (c, f) in c.iter_mut().zip(r.iter()) {
                    if let Some(v) = field_str(f).filter(|v| !v.is_empty()) {
                        let int = super::scalar::parse_i64(v.as_bytes()).is_some();
                        c.values += 1;
                        c.ints += usize::from(int);
                        c.numbers += usize::from(int || is_number(v));
                    }
                }
            }
            c
        })
        .reduce(
            || vec![Counts::default(); width],
            |mut a, b| {
                for (a, b) in a.iter_mut().zip(b) {
                    a.values += b.values;
                    a.ints += b.ints;
                    a.numbers += b.numbers;
                }
                a
            },
        );
    let fields: Vec<Field> = names
        .iter()
        .enumerate()
        .zip(counts)
        .map(|((j, name), c)| {
            // A column is typed by what (nearly) all its sampled values are: a few stray
            // values in a numeric column are bad rows to quarantine, not a reason to turn
            // the whole column into text.
            let share = |ok: usize| ok as f64 >= INFER_MAJORITY * c.values as f64;
            let count = |f: &dyn Fn(&str) -> bool| {
                records
                    .iter()
                    .filter_map(|r| field_str(r[j]))
                    .filter(|v| !v.is_empty() && f(v))
                    .count()
            };
            let dt = if c.values == 0 {
                DataType::Utf8
            } else if c.ints == c.values {
                DataType::Int64
            } else if share(c.numbers) {
                if share(c.ints) {
                    DataType::Int64
                } else {
                    DataType::Float64
                }
            } else if share(count(&|v| parse_bool(v).is_some())) {
                DataType::Boolean
            } else if share(count(&|v| parse_timestamp(v).is_some())) {
                DataType::Timestamp(TimeUnit::Microsecond, None)
            } else {
                DataType::Utf8
            };
            Field::new(name, dt, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}
