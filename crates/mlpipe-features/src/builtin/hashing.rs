//! `hashing`: the hashing trick over raw columns, as scikit-learn's
//! `FeatureHasher(input_type="dict")` on `{column: value}` per row: a text value `v` of
//! column `c` is the feature `"c=v"` with value 1, a number is the feature `"c"` with its
//! value; the feature's signed 32-bit MurmurHash3 (seed 0) `h` picks the output column
//! `|h| mod n_features`, and (with `alternate_sign`) its sign the sign of the value.

use super::categorical::column_values;
use crate::error::{FeatureError, Result};
use crate::stats::murmur3_32;
use crate::step::{Extractor, FittedExtractor};
use mlpipe_core::{RecordBatch, Row, Value};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Parameters of [`FeatureHasher`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashingParams {
    /// Columns hashed.
    pub columns: Vec<String>,
    /// Output width (default 256; scikit-learn's default 2^20 is for sparse output).
    #[serde(default = "default_width")]
    pub n_features: usize,
    /// Flip the sign of features whose hash is negative (default true).
    #[serde(default = "yes")]
    pub alternate_sign: bool,
    /// `dict` (default): features `"column=text"` / `"column"`; `string`: every value is a
    /// token hashed by its text alone, with value 1 (`FeatureHasher(input_type="string")`).
    #[serde(default)]
    pub input_type: HashInput,
}

/// How values become hashed features.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashInput {
    /// `{column: value}` per row.
    #[default]
    Dict,
    /// Each value's text is a token.
    String,
}

fn default_width() -> usize {
    256
}
fn yes() -> bool {
    true
}

/// The hashing extractor; it learns nothing, so fitting only checks the definition.
#[derive(Clone, Debug)]
pub struct FeatureHasher(pub HashingParams);

/// A fitted [`FeatureHasher`] (its parameters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedHasher(pub HashingParams);

/// Column index and signed weight of the feature `name` (`FeatureHasher`'s arithmetic).
pub fn hash_index(name: &str, n_features: usize, alternate_sign: bool) -> (usize, f64) {
    let h = murmur3_32(name.as_bytes(), 0) as i32;
    let index = (i64::from(h).unsigned_abs() % n_features as u64) as usize;
    let sign = if alternate_sign && h < 0 { -1.0 } else { 1.0 };
    (index, sign)
}

impl Extractor for FeatureHasher {
    fn kind(&self) -> &str {
        "hashing"
    }
    fn fit(&self, raw: &[RecordBatch]) -> Result<Box<dyn FittedExtractor>> {
        if raw.iter().all(|b| b.num_rows() == 0) {
            return Err(FeatureError::EmptyData {
                step: "hashing".into(),
            });
        }
        if self.0.n_features == 0 || self.0.n_features > (1 << 24) || self.0.columns.is_empty() {
            return Err(FeatureError::Definition(
                "hashing: name at least one column and 1 <= n_features <= 2^24".into(),
            ));
        }
        for b in raw {
            for c in &self.0.columns {
                column_values(b, c)?;
            }
        }
        Ok(Box::new(FittedHasher(self.0.clone())))
    }
}

impl FittedHasher {
    fn add(&self, column: &str, v: &Value, out: &mut [f64], scratch: &mut String) {
        if self.0.input_type == HashInput::String {
            let Some(t) = super::categorical::category_text(v) else {
                return;
            };
            let (i, sign) = hash_index(&t, self.0.n_features, self.0.alternate_sign);
            out[i] += sign;
            return;
        }
        let value = match v {
            Value::Null => return,
            Value::Float(f) if f.is_nan() => return,
            Value::Float(_) | Value::Int(_) | Value::Bool(_) => v.as_f64().unwrap_or(0.0),
            Value::Str(_) | Value::Timestamp(_) => 1.0,
        };
        if value == 0.0 {
            return;
        }
        scratch.clear();
        scratch.push_str(column);
        if let Some(t) = super::categorical::category_text(v).filter(|_| v.as_f64().is_none()) {
            scratch.push('=');
            scratch.push_str(&t);
        }
        let (i, sign) = hash_index(scratch, self.0.n_features, self.0.alternate_sign);
        out[i] += sign * value;
    }
}

impl FittedExtractor for FittedHasher {
    fn kind(&self) -> &str {
        "hashing"
    }
    fn output_names(&self) -> Vec<String> {
        (0..self.0.n_features)
            .map(|i| format!("hash_{i}"))
            .collect()
    }
    fn extract_batch(&self, raw: &RecordBatch) -> Result<Array2<f64>> {
        let mut out = Array2::<f64>::zeros((raw.num_rows(), self.0.n_features));
        let cols: Vec<Vec<Value>> = self
            .0
            .columns
            .iter()
            .map(|c| column_values(raw, c))
            .collect::<Result<_>>()?;
        let mut scratch = String::new();
        for (i, mut o) in out.rows_mut().into_iter().enumerate() {
            let Some(o) = o.as_slice_mut() else { continue };
            for (c, vals) in self.0.columns.iter().zip(&cols) {
                self.add(c, &vals[i], o, &mut scratch);
            }
        }
        Ok(out)
    }
    fn extract_row(&self, row: &Row, out: &mut Vec<f64>) -> Result<()> {
        let base = out.len();
        out.resize(base + self.0.n_features, 0.0);
        let mut scratch = String::new();
        for c in &self.0.columns {
            self.add(
                c,
                row.get(c).unwrap_or(&Value::Null),
                &mut out[base..],
                &mut scratch,
            );
        }
        Ok(())
    }
    fn state(&self) -> serde_json::Value {
        super::to_state(self)
    }
}
