//! Typing [`Value`]s into Arrow columns by a schema, one whole row at a time, and inferring
//! a schema from sample rows. Shared by the JSON-lines, row-iterator, stream and online
//! sources; a new source of record-like data can use it too.
//!
//! # Rules
//! | column type | accepts | otherwise |
//! |---|---|---|
//! | `Int64` | integers | the row is refused |
//! | `Float64` | integers and floats | refused |
//! | `Boolean` | booleans | refused |
//! | `Utf8` | text (nested JSON arrives as its text); integers, floats, booleans and timestamps as their text (`3`, `2.5`, `true`, RFC 3339), so a mixed column loses nothing | — |
//! | `Timestamp(µs)` | timestamps, integers (µs since the epoch), text that [`parse_timestamp`] reads | refused |
//!
//! Null or a missing field is a null (refused when the field is not nullable); a field that
//! is not in the schema refuses the row, so nothing of the source is dropped silently.
//!
//! # Inference
//! Columns are named in the order first seen. A column's type is the first of integer,
//! float, boolean, timestamp that at least [`INFER_MAJORITY`] (90%) of its non-null sampled
//! values fit (details in [`infer_schema`]), else text; the values that do not fit are
//! refused with their rows, as in CSV.

use crate::csv::parse_timestamp;
use crate::error::{IngestError, Result};
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use mlpipe_core::{Row, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::csv::INFER_MAJORITY;

/// Whether values can be typed into a column of this type.
pub fn supported(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Int64
            | DataType::Float64
            | DataType::Boolean
            | DataType::Utf8
            | DataType::Timestamp(TimeUnit::Microsecond, _)
    )
}

/// Checks that every column of `schema` has a type values can be typed into.
pub fn check_schema(schema: &Schema) -> Result<()> {
    for f in schema.fields() {
        if !supported(f.data_type()) {
            return Err(IngestError::InvalidOption(format!(
                "column `{}` has type {}, which record values cannot be typed into; use Int64, Float64, Boolean, Utf8 or Timestamp(Microsecond)",
                f.name(),
                f.data_type()
            )));
        }
    }
    Ok(())
}

/// A short description of a value for refusal reasons.
fn describe(v: &Value) -> String {
    let mut s = match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Int(i) => format!("integer {i}"),
        Value::Float(f) => format!("number {f}"),
        Value::Str(s) => format!("text {s:?}"),
        Value::Timestamp(t) => format!("timestamp {t}"),
    };
    if s.len() > 80 {
        let mut cut = 77;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// One typed cell, ready to append.
enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

/// Types one value for a column, or says why it does not fit.
fn type_value(field: &Field, v: Option<&Value>) -> std::result::Result<Cell, String> {
    let name = field.name();
    let v = match v {
        None | Some(Value::Null) => {
            return if field.is_nullable() {
                Ok(Cell::Null)
            } else {
                Err(format!("field `{name}` is required but missing or null"))
            }
        }
        Some(v) => v,
    };
    let wrong =
        |expected: &str| format!("field `{name}`: expected {expected}, got {}", describe(v));
    match field.data_type() {
        DataType::Int64 => match v {
            Value::Int(i) => Ok(Cell::Int(*i)),
            _ => Err(wrong("an integer")),
        },
        DataType::Float64 => match v {
            Value::Int(i) => Ok(Cell::Float(*i as f64)),
            Value::Float(f) => Ok(Cell::Float(*f)),
            _ => Err(wrong("a number")),
        },
        DataType::Boolean => match v {
            Value::Bool(b) => Ok(Cell::Bool(*b)),
            _ => Err(wrong("a boolean")),
        },
        DataType::Utf8 => Ok(Cell::Str(match v {
            Value::Str(s) => s.clone(),
            Value::Timestamp(t) => chrono::DateTime::from_timestamp_micros(*t)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                .unwrap_or_else(|| t.to_string()),
            other => serde_json::to_string(other).unwrap_or_default(),
        })),
        DataType::Timestamp(TimeUnit::Microsecond, _) => match v {
            Value::Timestamp(t) | Value::Int(t) => Ok(Cell::Int(*t)),
            Value::Str(s) => parse_timestamp(s.trim())
                .map(Cell::Int)
                .ok_or_else(|| wrong("an RFC 3339 timestamp")),
            _ => Err(wrong("a timestamp")),
        },
        other => Err(format!("field `{name}`: type {other} is not supported")),
    }
}

/// Checks one row against a schema without building anything: `Err(reason)` when it would
/// be refused.
pub fn check_row(schema: &Schema, row: &Row) -> std::result::Result<(), String> {
    for (k, _) in row.iter() {
        if schema.field_with_name(k).is_err() {
            return Err(format!("field `{k}` is not in the schema"));
        }
    }
    for f in schema.fields() {
        type_value(f, row.get(f.name()))?;
    }
    Ok(())
}

/// Column builders that take a row whole or not at all.
pub struct RowTyper {
    schema: SchemaRef,
    index: HashMap<String, usize>,
    cols: Vec<Vec<Cell>>,
    rows: usize,
}

impl RowTyper {
    /// Builders for `schema` (every column must be [`supported`]).
    pub fn new(schema: SchemaRef) -> Result<Self> {
        check_schema(&schema)?;
        let index = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name().clone(), i))
            .collect();
        let cols = schema.fields().iter().map(|_| Vec::new()).collect();
        Ok(Self {
            schema,
            index,
            cols,
            rows: 0,
        })
    }

    /// The schema rows are typed by.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Rows appended since the last [`RowTyper::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row is waiting.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends a row given as `(name, value)` pairs, or leaves every column as it was and
    /// says why not (unknown or repeated field, wrong type, missing required field).
    pub fn push<'a>(
        &mut self,
        fields: impl IntoIterator<Item = (&'a str, &'a Value)>,
    ) -> std::result::Result<(), String> {
        let mut slots: Vec<Option<&Value>> = vec![None; self.cols.len()];
        let mut seen = vec![false; self.cols.len()];
        for (k, v) in fields {
            let Some(&i) = self.index.get(k) else {
                return Err(format!("field `{k}` is not in the schema"));
            };
            if seen[i] {
                return Err(format!("field `{k}` appears twice"));
            }
            seen[i] = true;
            slots[i] = Some(v);
        }
        let cells = self
            .schema
            .fields()
            .iter()
            .zip(&slots)
            .map(|(f, v)| type_value(f, *v))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for (col, cell) in self.cols.iter_mut().zip(cells) {
            col.push(cell);
        }
        self.rows += 1;
        Ok(())
    }

    /// Appends a [`Row`].
    pub fn push_row(&mut self, row: &Row) -> std::result::Result<(), String> {
        self.push(row.iter())
    }

    /// The rows appended so far as one batch; the builders start again empty.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let arrays: Vec<ArrayRef> = self
            .schema
            .fields()
            .iter()
            .zip(self.cols.iter_mut())
            .map(|(f, col)| build(f.data_type(), std::mem::take(col)))
            .collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| IngestError::Core(mlpipe_core::Error::from(e)))
    }
}

fn build(dt: &DataType, cells: Vec<Cell>) -> ArrayRef {
    let n = cells.len();
    match dt {
        DataType::Int64 => {
            let mut b = Int64Builder::with_capacity(n);
            b.extend(cells.into_iter().map(|c| match c {
                Cell::Int(i) => Some(i),
                _ => None,
            }));
            Arc::new(b.finish())
        }
        DataType::Float64 => {
            let mut b = Float64Builder::with_capacity(n);
            b.extend(cells.into_iter().map(|c| match c {
                Cell::Float(f) => Some(f),
                _ => None,
            }));
            Arc::new(b.finish())
        }
        DataType::Boolean => {
            let mut b = BooleanBuilder::with_capacity(n);
            b.extend(cells.into_iter().map(|c| match c {
                Cell::Bool(x) => Some(x),
                _ => None,
            }));
            Arc::new(b.finish())
        }
        DataType::Timestamp(_, tz) => {
            let mut b = TimestampMicrosecondBuilder::with_capacity(n).with_timezone_opt(tz.clone());
            b.extend(cells.into_iter().map(|c| match c {
                Cell::Int(i) => Some(i),
                _ => None,
            }));
            Arc::new(b.finish())
        }
        _ => {
            let mut b = StringBuilder::with_capacity(n, n * 8);
            for c in cells {
                match c {
                    Cell::Str(s) => b.append_value(s),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
    }
}

/// Infers a schema from sample rows given as `(name, value)` pairs: columns in the order
/// first seen, every column nullable.
///
/// Per column, over its non-null values: all integers → `Int64`; at least
/// [`INFER_MAJORITY`] numeric → `Int64` if that share are integers, else `Float64`; that
/// share booleans → `Boolean`; that share timestamps or text that parses as one →
/// `Timestamp(µs)`; otherwise (including a column that is always null) `Utf8`.
pub fn infer_schema<'a, R, I>(rows: R) -> SchemaRef
where
    R: IntoIterator<Item = I>,
    I: IntoIterator<Item = (&'a str, &'a Value)>,
{
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut values: Vec<Vec<&'a Value>> = Vec::new();
    for row in rows {
        for (k, v) in row {
            let i = match index.get(k) {
                Some(&i) => i,
                None => {
                    index.insert(k.to_string(), names.len());
                    names.push(k.to_string());
                    values.push(Vec::new());
                    names.len() - 1
                }
            };
            if !v.is_null() {
                values[i].push(v);
            }
        }
    }
    let fields: Vec<Field> = names
        .iter()
        .zip(&values)
        .map(|(name, vals)| Field::new(name, infer_type(vals), true))
        .collect();
    Arc::new(Schema::new(fields))
}

fn infer_type(vals: &[&Value]) -> DataType {
    if vals.is_empty() {
        return DataType::Utf8;
    }
    let count = |f: &dyn Fn(&Value) -> bool| vals.iter().filter(|v| f(v)).count();
    let share = |ok: usize| ok as f64 >= INFER_MAJORITY * vals.len() as f64;
    let ints = count(&|v| matches!(v, Value::Int(_)));
    let numbers = count(&|v| matches!(v, Value::Int(_) | Value::Float(_)));
    if ints == vals.len() {
        DataType::Int64
    } else if share(numbers) {
        if share(ints) && ints == numbers {
            DataType::Int64
        } else {
            DataType::Float64
        }
    } else if share(count(&|v| matches!(v, Value::Bool(_)))) {
        DataType::Boolean
    } else if share(count(&|v| match v {
        Value::Timestamp(_) => true,
        Value::Str(s) => parse_timestamp(s.trim()).is_some(),
        _ => false,
    })) {
        DataType::Timestamp(TimeUnit::Microsecond, None)
    } else {
        DataType::Utf8
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::Array;

    fn schema(fields: Vec<(&str, DataType)>) -> SchemaRef {
        Arc::new(Schema::new(
            fields
                .into_iter()
                .map(|(n, t)| Field::new(n, t, true))
                .collect::<Vec<_>>(),
        ))
    }

    #[test]
    fn a_refused_row_leaves_the_columns_as_they_were() {
        let mut t =
            RowTyper::new(schema(vec![("a", DataType::Int64), ("b", DataType::Utf8)])).unwrap();
        t.push_row(&Row::new().with("a", 1).with("b", "x")).unwrap();
        let e = t
            .push_row(&Row::new().with("a", 2.5).with("b", "y"))
            .unwrap_err();
        assert!(
            e.contains("field `a`: expected an integer, got number 2.5"),
            "{e}"
        );
        let e = t.push_row(&Row::new().with("zz", 2)).unwrap_err();
        assert!(e.contains("`zz` is not in the schema"), "{e}");
        t.push_row(&Row::new().with("a", 3)).unwrap();
        t.push_row(&Row::new().with("b", 4.5)).unwrap();
        t.push_row(&Row::new().with("b", Value::Timestamp(1_706_702_400_000_000)))
            .unwrap();
        let b = t.finish().unwrap();
        assert_eq!(b.num_rows(), 4);
        let a = b.column(0).as_primitive::<Int64Type>();
        assert_eq!((a.value(0), a.value(1)), (1, 3));
        assert!(b.column(1).is_null(1));
        let s = b.column(1).as_string::<i32>();
        assert_eq!((s.value(2), s.value(3)), ("4.5", "2024-01-31T12:00:00Z"));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn inference_follows_the_majority_rule() {
        let mut rows: Vec<Row> = (0..19)
            .map(|i| {
                Row::new()
                    .with("i", i)
                    .with("f", i as f64 + 0.5)
                    .with("t", "2024-01-31T12:00:00Z")
                    .with("s", if i == 0 { "7" } else { "x" })
            })
            .collect();
        rows.push(Row::new().with("i", "oops").with("f", 2).with("t", "no"));
        let s = infer_schema(rows.iter().map(|r| r.iter()));
        let types: Vec<_> = s.fields().iter().map(|f| f.data_type().clone()).collect();
        assert_eq!(
            types,
            vec![
                DataType::Float64,
                DataType::Int64,
                DataType::Utf8,
                DataType::Timestamp(TimeUnit::Microsecond, None)
            ]
        );
        assert!(check_schema(&schema(vec![("d", DataType::Date32)])).is_err());
    }
}
