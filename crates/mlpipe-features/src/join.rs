//! Joining feature tables of several sources on an entity key (inner join), for combined
//! feature sets.
//!
//! Each source contributes its feature columns renamed `<source>.<feature>`; the label of
//! the first source that has one is kept under its own name, last. A key that occurs several
//! times in one source takes that source's last row (the latest features).

use crate::builtin::categorical::category_text;
use crate::error::{FeatureError, Result};
use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{Field, Schema};
use mlpipe_core::table::{column_names, value_at};
use std::collections::HashMap;
use std::sync::Arc;

/// One source of a join: its name, its feature table, and the table's label column.
#[derive(Clone, Debug)]
pub struct JoinSource {
    /// Source (dataset) name, used as the column prefix.
    pub name: String,
    /// Feature table (key column, features, maybe a label).
    pub table: RecordBatch,
    /// Key column in `table`.
    pub key: String,
    /// Label column in `table`, if any.
    pub label: Option<String>,
}

fn keys_of(src: &JoinSource) -> Result<Vec<String>> {
    let col = src
        .table
        .column_by_name(&src.key)
        .ok_or_else(|| FeatureError::MissingColumn {
            column: src.key.clone(),
            available: column_names(&src.table).join(", "),
        })?;
    (0..col.len())
        .map(|i| {
            let v = value_at(col.as_ref(), i)?;
            Ok(category_text(&v)
                .map(|t| t.into_owned())
                .unwrap_or_default())
        })
        .collect()
}

/// The inner join of `sources` on their keys, in the first source's key order; the output
/// key column is named `key`.
pub fn inner_join(sources: &[JoinSource], key: &str) -> Result<RecordBatch> {
    if sources.is_empty() {
        return Err(FeatureError::Definition(
            "a join needs at least one source".into(),
        ));
    }
    let keys: Vec<Vec<String>> = sources.iter().map(keys_of).collect::<Result<_>>()?;
    let index: Vec<HashMap<&str, u32>> = keys
        .iter()
        .map(|k| {
            k.iter()
                .enumerate()
                .map(|(i, s)| (s.as_str(), i as u32))
                .collect()
        })
        .collect();
    let mut out_keys: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for k in &keys[0] {
        if seen.insert(k.as_str()) && index.iter().all(|m| m.contains_key(k.as_str())) {
            out_keys.push(k);
        }
    }
    let mut fields = vec![Field::new(key, arrow_schema::DataType::Utf8, false)];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(
        out_keys.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    ))];
    let mut label: Option<(Field, ArrayRef)> = None;
    for (s, src) in sources.iter().enumerate() {
        let take = UInt32Array::from(
            out_keys
                .iter()
                .map(|k| index[s].get(k).copied().unwrap_or(0))
                .collect::<Vec<_>>(),
        );
        let schema = src.table.schema();
        for (f, c) in schema.fields().iter().zip(src.table.columns()) {
            if f.name() == &src.key {
                continue;
            }
            let is_label = src.label.as_deref() == Some(f.name().as_str());
            if is_label && label.is_some() {
                continue;
            }
            let taken = arrow_select::take::take(c.as_ref(), &take, None)
                .map_err(|e| FeatureError::Core(e.into()))?;
            if is_label {
                label = Some((Field::new(f.name(), f.data_type().clone(), true), taken));
            } else {
                let name = format!("{}.{}", src.name, f.name());
                fields.push(Field::new(name, f.data_type().clone(), true));
                columns.push(taken);
            }
        }
    }
    if let Some((f, c)) = label {
        fields.push(f);
        columns.push(c);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| FeatureError::Core(e.into()))
}
