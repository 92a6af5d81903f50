//! The three kinds of feature step, each a definition that is fitted into an immutable,
//! serialisable fitted step with a **batch path** and a **row path** that give identical
//! results.
//!
//! - [`Extractor`]: raw data (Arrow batch / [`Row`]) → numeric feature columns.
//! - [`Transformer`]: feature columns → feature columns (scaling, imputation, …).
//! - [`Selector`]: features + labels → the columns to keep, with a score per column.

use crate::error::Result;
use mlpipe_core::{RecordBatch, Row};
use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

/// Turns raw data into numeric features. Fitting sees the raw training data (to learn
/// categories, for example) and returns the immutable [`FittedExtractor`].
pub trait Extractor: Send + Sync {
    /// The factory name of the step, e.g. `numeric`.
    fn kind(&self) -> &str;
    /// Learns what it needs from the raw data.
    fn fit(&self, raw: &[RecordBatch]) -> Result<Box<dyn FittedExtractor>>;
}

/// A fitted extractor.
pub trait FittedExtractor: Send + Sync + std::fmt::Debug {
    /// The factory name of the step.
    fn kind(&self) -> &str;
    /// Names of the columns it produces, in order.
    fn output_names(&self) -> Vec<String>;
    /// Batch path: one row of output per input row.
    fn extract_batch(&self, raw: &RecordBatch) -> Result<Array2<f64>>;
    /// Row path: appends this step's outputs for `row` to `out`.
    fn extract_row(&self, row: &Row, out: &mut Vec<f64>) -> Result<()>;
    /// Definition and fitted state, enough for the registry to rebuild the step.
    fn state(&self) -> serde_json::Value;
}

/// Fits on feature columns and returns an immutable [`FittedTransformer`].
pub trait Transformer: Send + Sync {
    /// The factory name of the step, e.g. `standard_scaler`.
    fn kind(&self) -> &str;
    /// Learns its parameters from `x` (rows × columns named `names`); `y` is the label when
    /// the pipeline has one.
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Box<dyn FittedTransformer>>;
}

/// A fitted transformer.
pub trait FittedTransformer: Send + Sync + std::fmt::Debug {
    /// The factory name of the step.
    fn kind(&self) -> &str;
    /// Names of the output columns, in order.
    fn output_names(&self) -> Vec<String>;
    /// Number of input columns it expects.
    fn input_width(&self) -> usize;
    /// Batch path.
    fn transform_batch(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>>;
    /// Row path: `input` is one row of the step's input; writes the output row to `out`
    /// (cleared first).
    fn transform_row(&self, input: &[f64], out: &mut Vec<f64>) -> Result<()>;
    /// Definition and fitted state, enough for the registry to rebuild the step.
    fn state(&self) -> serde_json::Value;
}

/// The score a selector gave one feature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureScore {
    /// Feature name.
    pub name: String,
    /// Score (higher is better).
    pub score: f64,
    /// p-value, for statistical tests.
    pub p_value: Option<f64>,
    /// Whether it was kept.
    pub kept: bool,
}

/// What a selector chose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Indices of the kept columns, ascending.
    pub kept: Vec<usize>,
    /// One score per input column.
    pub scores: Vec<FeatureScore>,
}

/// Chooses a subset of features (a strategy chosen at run time).
pub trait Selector: Send + Sync {
    /// The factory name of the strategy, e.g. `k_best_chi2`.
    fn kind(&self) -> &str;
    /// Chooses columns of `x` given the label `y` (when the strategy needs one).
    fn select(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Selection>;
}
