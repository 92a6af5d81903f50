//! Built-in steps.

pub mod numeric;
pub mod scale;
pub mod select;

use crate::error::{FeatureError, Result};
use serde::de::DeserializeOwned;

/// Parses a step's parameters, naming the step in the error.
pub(crate) fn params<T: DeserializeOwned>(kind: &str, v: &serde_json::Value) -> Result<T> {
    serde_json::from_value(v.clone())
        .map_err(|e| FeatureError::Definition(format!("parameters of `{kind}`: {e}")))
}

/// Serialises a step's state.
pub(crate) fn to_state<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}
