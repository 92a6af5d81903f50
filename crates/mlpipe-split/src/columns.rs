//! What a split reads from a feature table besides the features: the label, time and
//! group columns ([`SplitColumns`]), read out of Arrow batches, and the check that a
//! strategy's indices divide the rows (disjoint, in range). The segregation API and the
//! table splits of `fit_split` share them.

use crate::error::{Result, SplitError};
use crate::strategy::SplitIndices;

/// Which stored columns a strategy reads besides the features: the label (default: the
/// feature set's label), a timestamp column for time-ordered splits, a group column for
/// group-aware splits. Any column of the stored feature table can be named.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SplitColumns {
    /// Label column override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Timestamp column (timestamps, integers in µs, or RFC 3339 strings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Group column (any type; compared as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl SplitColumns {
    pub(crate) fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

pub(crate) fn has_column(data: &[arrow_array::RecordBatch], name: &str) -> Result<()> {
    match data.first() {
        Some(b) if b.column_by_name(name).is_none() => Err(SplitError::UnknownColumn(name.into())),
        _ => Ok(()),
    }
}

fn column_cells(data: &[arrow_array::RecordBatch], name: &str) -> Result<Vec<mlpipe_core::Value>> {
    has_column(data, name)?;
    let mut out = Vec::new();
    for b in data {
        let col = b
            .column_by_name(name)
            .ok_or_else(|| SplitError::UnknownColumn(name.into()))?;
        for i in 0..b.num_rows() {
            out.push(mlpipe_core::table::value_at(col.as_ref(), i)?);
        }
    }
    Ok(out)
}

pub(crate) fn column_text(data: &[arrow_array::RecordBatch], name: &str) -> Result<Vec<String>> {
    use mlpipe_core::Value;
    Ok(column_cells(data, name)?
        .into_iter()
        .map(|v| match v {
            Value::Str(s) => s,
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Timestamp(t) => t.to_string(),
            Value::Null => String::new(),
        })
        .collect())
}

pub(crate) fn column_times(data: &[arrow_array::RecordBatch], name: &str) -> Result<Vec<i64>> {
    use mlpipe_core::Value;
    column_cells(data, name)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Timestamp(t) | Value::Int(t) => Ok(t),
            Value::Str(s) => chrono::DateTime::parse_from_rfc3339(&s)
                .map(|d| d.timestamp_micros())
                .map_err(|e| {
                    SplitError::Label(format!(
                        "row {i} of time column `{name}`: `{s}` is not an RFC 3339 time ({e})"
                    ))
                }),
            other => Err(SplitError::Label(format!(
                "row {i} of time column `{name}` is {other:?}, not a time; use timestamps, µs integers or RFC 3339 text"
            ))),
        })
        .collect()
}

pub(crate) fn check_indices(s: &SplitIndices, rows: usize) -> Result<()> {
    let mut seen = vec![false; rows];
    for &i in s.train.iter().chain(&s.test) {
        let slot = seen.get_mut(i as usize).ok_or_else(|| {
            SplitError::InvalidParameter(format!("row {i} is out of range for {rows} rows"))
        })?;
        if *slot {
            return Err(SplitError::InvalidParameter(format!(
                "row {i} is in the split twice (subsets must be disjoint)"
            )));
        }
        *slot = true;
    }
    Ok(())
}
