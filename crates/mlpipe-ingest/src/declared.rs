//! Column types a dataset declares in configuration (`[ingest.datasets.<name>.schema]`):
//! laid over the types a CSV source infers, so a column meant to be numeric stays numeric
//! and the rows whose value does not parse are quarantined with their reason, instead of
//! the whole column turning into text.
//!
//! ```toml
//! [ingest.datasets.prices.schema]
//! price = "float64"
//! sold_at = "timestamp"
//! ```

use crate::error::{IngestError, Result};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A declared column type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// 64-bit integers.
    Int64,
    /// 64-bit floats.
    Float64,
    /// `true` / `false`.
    Boolean,
    /// Text.
    String,
    /// Date or date-time (microseconds, UTC).
    Timestamp,
}

impl ColumnType {
    /// The Arrow type.
    pub fn data_type(self) -> DataType {
        match self {
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::String => DataType::Utf8,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        }
    }
}

/// Ingestion settings of one dataset (`[ingest.datasets.<name>]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatasetIngest {
    /// Declared column types; the other columns keep their inferred types.
    pub schema: BTreeMap<String, ColumnType>,
}

/// `schema` with the declared columns retyped; a declared column that is not in the
/// source is an error naming it.
pub fn apply(
    schema: &SchemaRef,
    declared: &BTreeMap<String, ColumnType>,
    source: &str,
) -> Result<SchemaRef> {
    if declared.is_empty() {
        return Ok(schema.clone());
    }
    for name in declared.keys() {
        if schema.field_with_name(name).is_err() {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(IngestError::BadHeader {
                source_name: source.to_string(),
                reason: format!(
                    "the dataset declares column `{name}`, which is not in the source (columns: {})",
                    names.join(", ")
                ),
            });
        }
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match declared.get(f.name()) {
            Some(t) => Field::new(f.name(), t.data_type(), true),
            None => f.as_ref().clone(),
        })
        .collect();
    Ok(Arc::new(Schema::new(fields)))
}
