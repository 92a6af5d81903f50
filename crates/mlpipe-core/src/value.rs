//! Single records: [`Value`] (one scalar) and [`Row`] (field name → value).
//!
//! A `Row` is what the online path carries: one request, one streamed record. Batches are
//! Arrow `RecordBatch`es (see [`crate::table`]); the conversions between the two are explicit.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One scalar in a [`Row`].
///
/// Serialises as plain JSON (`null`, `true`, `3`, `2.5`, `"text"`), so a row is an ordinary
/// JSON object on the wire. Timestamps are microseconds since the Unix epoch (UTC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(untagged)]
pub enum Value {
    /// Missing.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Str(String),
    /// Microseconds since 1970-01-01T00:00:00Z. (Deserialises from JSON as [`Value::Int`].)
    #[serde(skip_deserializing)]
    Timestamp(i64),
}

impl Value {
    /// The value as `f64` when it is numeric or boolean; `None` for null, text, timestamps.
    ///
    /// Integers are converted with `as f64`, exactly as the batch path converts integer
    /// columns, so both paths see the same number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    /// The value as text when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the value is missing.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}

/// One record: field name → [`Value`], ordered by name.
///
/// ```
/// use mlpipe_core::{Row, Value};
/// let row = Row::new().with("age", 42).with("city", "Oslo");
/// assert_eq!(row.get("age"), Some(&Value::Int(42)));
/// assert_eq!(row.f64("age"), Some(42.0));
/// ```
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Row {
    fields: BTreeMap<String, Value>,
}

impl Row {
    /// An empty row.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder-style insert.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// Inserts or replaces a field.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.fields.insert(name.into(), value.into());
    }

    /// The value of a field, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// The value of a field as `f64` (see [`Value::as_f64`]).
    pub fn f64(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(Value::as_f64)
    }

    /// Removes a field and returns its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.fields.remove(name)
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the row has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Iterates over `(name, value)` in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Row {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        Self {
            fields: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_round_trips_through_json() {
        let row = Row::new()
            .with("a", 1.5)
            .with("b", 2)
            .with("c", "x")
            .with("d", Value::Null)
            .with("e", true);
        let json = serde_json::to_string(&row).unwrap_or_default();
        assert_eq!(json, r#"{"a":1.5,"b":2,"c":"x","d":null,"e":true}"#);
        let back: Row = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, row);
    }

    #[test]
    fn numeric_views() {
        assert_eq!(Value::Int(3).as_f64(), Some(3.0));
        assert_eq!(Value::Bool(true).as_f64(), Some(1.0));
        assert_eq!(Value::Str("3".into()).as_f64(), None);
        assert_eq!(Value::Null.as_f64(), None);
    }
}
