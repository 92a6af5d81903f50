//! Built-in steps. Every step has a batch path and a row path built from the same
//! per-value function, so the two give bit-identical output.

pub mod categorical;
pub mod datetime;
pub mod discretize;
pub mod hashing;
pub mod impute;
pub mod kbest;
pub mod numeric;
pub mod poly;
pub mod power;
pub mod scale;
pub mod scalers;
pub mod select;
pub(crate) mod state;

use crate::error::{FeatureError, Result};
use ndarray::{Array2, ArrayView2, Zip};
use serde::de::DeserializeOwned;

/// Parses a step's parameters (or its fitted state), naming the step in the error: what
/// the factories of a [`StepRegistry`](crate::StepRegistry) call, built-in or not.
pub fn params<T: DeserializeOwned>(kind: &str, v: &serde_json::Value) -> Result<T> {
    serde_json::from_value(v.clone())
        .map_err(|e| FeatureError::Definition(format!("parameters of `{kind}`: {e}")))
}

/// Serialises a step's state.
pub(crate) fn to_state<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Refuses to fit on no rows, on infinities, and (unless `allow_nan`) on `NaN`s.
pub(crate) fn check_fit(
    step: &str,
    x: ArrayView2<'_, f64>,
    names: &[String],
    allow_nan: bool,
) -> Result<()> {
    if x.nrows() == 0 {
        return Err(FeatureError::EmptyData { step: step.into() });
    }
    if names.len() != x.ncols() {
        return Err(FeatureError::Shape(format!(
            "{step}: {} column names for {} columns",
            names.len(),
            x.ncols()
        )));
    }
    for (j, col) in x.columns().into_iter().enumerate() {
        for &v in col {
            if v.is_infinite() || (!allow_nan && v.is_nan()) {
                return Err(FeatureError::BadValues {
                    step: step.into(),
                    column: names[j].clone(),
                    what: if v.is_nan() {
                        "NaN (missing values)".into()
                    } else {
                        "infinite values".into()
                    },
                });
            }
        }
    }
    Ok(())
}

/// Applies `f(column, value)` to every cell, in parallel over row blocks; the row path of
/// the same step calls the same `f`, so both paths agree bit for bit.
pub(crate) fn map_cells(
    x: ArrayView2<'_, f64>,
    f: impl Fn(usize, f64) -> f64 + Sync + Send,
) -> Array2<f64> {
    // `par_map_collect` fills fresh, unzeroed memory: zeroing it first would cost one more
    // pass over the matrix.
    Zip::indexed(&x).par_map_collect(|(_, j), &v| f(j, v))
}

/// Implements [`FittedTransformer`](crate::step::FittedTransformer) for a fitted step that
/// maps every cell on its own: the type has `names: Vec<String>` and
/// `fn apply(&self, column: usize, value: f64) -> f64`, which both the batch path
/// ([`map_cells`]) and the row path ([`map_row`]) call, so they agree bit for bit.
macro_rules! cellwise_fitted {
    ($ty:ty, $kind:literal) => {
        impl $crate::step::FittedTransformer for $ty {
            fn kind(&self) -> &str {
                $kind
            }
            fn output_names(&self) -> Vec<String> {
                self.names.clone()
            }
            fn input_width(&self) -> usize {
                self.names.len()
            }
            fn transform_batch(
                &self,
                x: ndarray::ArrayView2<'_, f64>,
            ) -> $crate::error::Result<ndarray::Array2<f64>> {
                $crate::builtin::scale::check_width(x.ncols(), self.names.len(), $kind)?;
                Ok($crate::builtin::map_cells(x, |j, v| self.apply(j, v)))
            }
            fn transform_row(
                &self,
                input: &[f64],
                out: &mut Vec<f64>,
            ) -> $crate::error::Result<()> {
                $crate::builtin::scale::check_width(input.len(), self.names.len(), $kind)?;
                $crate::builtin::map_row(input, out, |j, v| self.apply(j, v));
                Ok(())
            }
            fn state(&self) -> serde_json::Value {
                $crate::builtin::to_state(self)
            }
        }
    };
}
pub(crate) use cellwise_fitted;

/// Applies `f(column, value)` to one row.
pub(crate) fn map_row(input: &[f64], out: &mut Vec<f64>, f: impl Fn(usize, f64) -> f64) {
    out.clear();
    out.extend(input.iter().enumerate().map(|(j, &v)| f(j, v)));
}

/// Sorted non-NaN values of column `j`.
pub(crate) fn sorted_column(x: ArrayView2<'_, f64>, j: usize) -> Vec<f64> {
    crate::stats::sorted_finite(x.column(j).iter().copied())
}

/// An error for a column that holds only missing values.
pub(crate) fn all_missing(step: &str, column: &str) -> FeatureError {
    FeatureError::BadValues {
        step: step.into(),
        column: column.into(),
        what: "only missing values".into(),
    }
}
