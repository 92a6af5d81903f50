//! Explicit conversions between the three data shapes of mlpipe:
//! Arrow `RecordBatch` (batches at rest and in flight), [`Row`] (one online record) and
//! `ndarray` matrices (what models compute on).
//!
//! Numeric conversion rules are the same everywhere: floats as they are, integers with
//! `as f64`, booleans as 0/1, nulls as `NaN`. The row path ([`Value::as_f64`]) follows the
//! same rules, which is what keeps batch and row results identical.

use crate::{Error, Result, Row, Value};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use ndarray::Array2;
use std::sync::Arc;

/// Converts one numeric (or boolean) Arrow column to `f64`, nulls becoming `NaN`.
///
/// Text and other non-numeric columns are a [`Error::Schema`] naming the type.
pub fn column_to_f64(array: &dyn Array) -> Result<Vec<f64>> {
    macro_rules! prim {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            Ok((0..a.len())
                .map(|i| {
                    if a.is_null(i) {
                        f64::NAN
                    } else {
                        a.value(i) as f64
                    }
                })
                .collect())
        }};
    }
    match array.data_type() {
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            if a.null_count() == 0 {
                Ok(a.values().to_vec())
            } else {
                Ok((0..a.len())
                    .map(|i| if a.is_null(i) { f64::NAN } else { a.value(i) })
                    .collect())
            }
        }
        DataType::Float32 => prim!(Float32Type),
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Boolean => {
            let a = array.as_boolean();
            Ok((0..a.len())
                .map(|i| {
                    if a.is_null(i) {
                        f64::NAN
                    } else if a.value(i) {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect())
        }
        DataType::Null => Ok(vec![f64::NAN; array.len()]),
        other => Err(Error::Schema(format!(
            "expected a numeric column, found {other}; encode it first (one-hot, ordinal, hashing)"
        ))),
    }
}

/// The value at `index` of an Arrow column, as a [`Value`].
pub fn value_at(array: &dyn Array, index: usize) -> Result<Value> {
    if index >= array.len() {
        return Err(Error::invalid(format!(
            "row {index} is out of range for a column of {} rows",
            array.len()
        )));
    }
    if array.is_null(index) {
        return Ok(Value::Null);
    }
    Ok(match array.data_type() {
        DataType::Float64 => Value::Float(array.as_primitive::<Float64Type>().value(index)),
        DataType::Float32 => Value::Float(array.as_primitive::<Float32Type>().value(index) as f64),
        DataType::Int8 => Value::Int(array.as_primitive::<Int8Type>().value(index) as i64),
        DataType::Int16 => Value::Int(array.as_primitive::<Int16Type>().value(index) as i64),
        DataType::Int32 => Value::Int(array.as_primitive::<Int32Type>().value(index) as i64),
        DataType::Int64 => Value::Int(array.as_primitive::<Int64Type>().value(index)),
        DataType::UInt8 => Value::Int(array.as_primitive::<UInt8Type>().value(index) as i64),
        DataType::UInt16 => Value::Int(array.as_primitive::<UInt16Type>().value(index) as i64),
        DataType::UInt32 => Value::Int(array.as_primitive::<UInt32Type>().value(index) as i64),
        DataType::UInt64 => {
            let v = array.as_primitive::<UInt64Type>().value(index);
            i64::try_from(v)
                .map(Value::Int)
                .unwrap_or(Value::Float(v as f64))
        }
        DataType::Boolean => Value::Bool(array.as_boolean().value(index)),
        DataType::Utf8 => Value::Str(array.as_string::<i32>().value(index).to_string()),
        DataType::LargeUtf8 => Value::Str(array.as_string::<i64>().value(index).to_string()),
        DataType::Utf8View => Value::Str(array.as_string_view().value(index).to_string()),
        DataType::Timestamp(unit, _) => {
            let raw = match unit {
                TimeUnit::Second => {
                    array.as_primitive::<TimestampSecondType>().value(index) * 1_000_000
                }
                TimeUnit::Millisecond => {
                    array
                        .as_primitive::<TimestampMillisecondType>()
                        .value(index)
                        * 1_000
                }
                TimeUnit::Microsecond => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .value(index),
                TimeUnit::Nanosecond => {
                    array.as_primitive::<TimestampNanosecondType>().value(index) / 1_000
                }
            };
            Value::Timestamp(raw)
        }
        DataType::Date32 => Value::Timestamp(
            array.as_primitive::<Date32Type>().value(index) as i64 * 86_400_000_000,
        ),
        other => {
            return Err(Error::Schema(format!(
                "column type {other} cannot be read as a row value"
            )))
        }
    })
}

/// Row `index` of a batch as a [`Row`].
pub fn row_at(batch: &RecordBatch, index: usize) -> Result<Row> {
    let schema = batch.schema();
    let mut row = Row::new();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        row.insert(field.name().clone(), value_at(column.as_ref(), index)?);
    }
    Ok(row)
}

/// All rows of a batch as [`Row`]s (for tests, small batches and the online path).
pub fn rows_of(batch: &RecordBatch) -> Result<Vec<Row>> {
    (0..batch.num_rows()).map(|i| row_at(batch, i)).collect()
}

/// Builds a batch of the given schema from rows. Missing fields become nulls; a value of
/// the wrong kind for its column is a [`Error::Schema`].
pub fn rows_to_batch(rows: &[Row], schema: SchemaRef) -> Result<RecordBatch> {
    use arrow_array::builder::*;
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let name = field.name();
        let mismatch = |v: &Value| {
            Error::Schema(format!(
                "field `{name}` of type {} cannot hold {v:?}",
                field.data_type()
            ))
        };
        let col: ArrayRef = match field.data_type() {
            DataType::Float64 => {
                let mut b = Float64Builder::with_capacity(rows.len());
                for r in rows {
                    match r.get(name) {
                        None | Some(Value::Null) => b.append_null(),
                        Some(v) => b.append_value(v.as_f64().ok_or_else(|| mismatch(v))?),
                    }
                }
                Arc::new(b.finish())
            }
            DataType::Int64 => {
                let mut b = Int64Builder::with_capacity(rows.len());
                for r in rows {
                    match r.get(name) {
                        None | Some(Value::Null) => b.append_null(),
                        Some(Value::Int(i)) => b.append_value(*i),
                        Some(Value::Bool(x)) => b.append_value(*x as i64),
                        Some(v) => return Err(mismatch(v)),
                    }
                }
                Arc::new(b.finish())
            }
            DataType::Boolean => {
                let mut b = BooleanBuilder::with_capacity(rows.len());
                for r in rows {
                    match r.get(name) {
                        None | Some(Value::Null) => b.append_null(),
                        Some(Value::Bool(x)) => b.append_value(*x),
                        Some(v) => return Err(mismatch(v)),
                    }
                }
                Arc::new(b.finish())
            }
            DataType::Utf8 => {
                let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 8);
                for r in rows {
                    match r.get(name) {
                        None | Some(Value::Null) => b.append_null(),
                        Some(Value::Str(s)) => b.append_value(s),
                        Some(v) => return Err(mismatch(v)),
                    }
                }
                Arc::new(b.finish())
            }
            DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                let mut b = TimestampMicrosecondBuilder::with_capacity(rows.len())
                    .with_timezone_opt(tz.clone());
                for r in rows {
                    match r.get(name) {
                        None | Some(Value::Null) => b.append_null(),
                        Some(Value::Timestamp(t)) | Some(Value::Int(t)) => b.append_value(*t),
                        Some(v) => return Err(mismatch(v)),
                    }
                }
                Arc::new(b.finish())
            }
            other => {
                return Err(Error::Schema(format!(
                    "field `{name}`: rows cannot be converted to {other} yet"
                )))
            }
        };
        columns.push(col);
    }
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Stacks the named columns of several batches into one row-major `f64` matrix.
pub fn to_matrix(batches: &[RecordBatch], columns: &[String]) -> Result<Array2<f64>> {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut out = Array2::<f64>::zeros((rows, columns.len()));
    let mut offset = 0;
    for batch in batches {
        for (j, name) in columns.iter().enumerate() {
            let col = batch.column_by_name(name).ok_or_else(|| {
                Error::Schema(format!(
                    "column `{name}` is not in the batch (it has: {})",
                    column_names(batch).join(", ")
                ))
            })?;
            let values = column_to_f64(col.as_ref())?;
            for (i, v) in values.into_iter().enumerate() {
                out[[offset + i, j]] = v;
            }
        }
        offset += batch.num_rows();
    }
    Ok(out)
}

/// One `f64` column gathered from several batches.
pub fn column_values(batches: &[RecordBatch], name: &str) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for batch in batches {
        let col = batch
            .column_by_name(name)
            .ok_or_else(|| Error::Schema(format!("column `{name}` is not in the batch")))?;
        out.extend(column_to_f64(col.as_ref())?);
    }
    Ok(out)
}

/// A batch of `Float64` columns from a matrix, one column per name.
pub fn from_matrix(names: &[String], matrix: &Array2<f64>) -> Result<RecordBatch> {
    if names.len() != matrix.ncols() {
        return Err(Error::invalid(format!(
            "{} column names for a matrix of {} columns",
            names.len(),
            matrix.ncols()
        )));
    }
    let fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(n, DataType::Float64, true))
        .collect();
    let columns: Vec<ArrayRef> = matrix
        .columns()
        .into_iter()
        .map(|c| Arc::new(arrow_array::Float64Array::from(c.to_vec())) as ArrayRef)
        .collect();
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// The column names of a batch.
pub fn column_names(batch: &RecordBatch) -> Vec<String> {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// Concatenates batches of one schema into one batch.
pub fn concat(batches: &[RecordBatch]) -> Result<RecordBatch> {
    let first = batches
        .first()
        .ok_or_else(|| Error::invalid("no batches to concatenate"))?;
    Ok(arrow_select::concat::concat_batches(
        &first.schema(),
        batches,
    )?)
}

/// Total number of rows over several batches.
pub fn num_rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, Int32Array, StringArray};

    fn sample() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, true),
            Field::new("n", DataType::Int32, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(vec![Some(1.5), None, Some(-2.0)])),
                Arc::new(Int32Array::from(vec![Some(1), Some(2), None])),
                Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn numeric_columns_convert_with_nan_for_null() {
        let b = sample();
        let x = column_to_f64(b.column(0).as_ref()).unwrap_or_default();
        assert_eq!(x[0], 1.5);
        assert!(x[1].is_nan());
        let n = column_to_f64(b.column(1).as_ref()).unwrap_or_default();
        assert_eq!(n[..2], [1.0, 2.0]);
        assert!(n[2].is_nan());
        assert!(matches!(
            column_to_f64(b.column(2).as_ref()),
            Err(Error::Schema(_))
        ));
    }

    #[test]
    fn rows_round_trip_through_batches() {
        let b = sample();
        let rows = rows_of(&b).unwrap_or_default();
        assert_eq!(rows[0].get("s"), Some(&Value::Str("a".into())));
        assert_eq!(rows[1].get("x"), Some(&Value::Null));
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let back = rows_to_batch(&rows, schema).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.num_rows(), 3);
        assert_eq!(rows_of(&back).unwrap_or_default()[2].f64("x"), Some(-2.0));
    }

    #[test]
    fn matrix_round_trip_and_missing_column_error() {
        let b = sample();
        let m = to_matrix(&[b.clone(), b.clone()], &["x".into(), "n".into()])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.dim(), (6, 2));
        assert_eq!(m[[3, 0]], 1.5);
        let err = to_matrix(&[b], &["nope".into()]);
        assert!(matches!(err, Err(Error::Schema(msg)) if msg.contains("nope")));
        let back = from_matrix(&["a".into(), "b".into()], &m).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.num_rows(), 6);
    }
}
