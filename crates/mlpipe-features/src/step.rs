//! The three kinds of feature step, each a definition that is fitted into an immutable,
//! serialisable fitted step with a **batch path** and a **row path** that give identical
//! results.
//!
//! - [`Extractor`]: raw data (Arrow batch / [`Row`]) → numeric feature columns.
//! - [`Transformer`]: feature columns → feature columns (scaling, imputation, …).
//! - [`Selector`]: features + labels → the columns to keep, with a score per column.

use crate::error::Result as FeatureResult;
use mlpipe_core::{RecordBatch, Row};
use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

/// Turns raw data into numeric features. Fitting sees the raw training data (to learn
/// categories, for example) and returns the immutable [`FittedExtractor`].
pub trait Extractor: Send + Sync {
    /// The factory name of the step, e.g. `numeric`.
    fn kind(&self) -> &str;
    /// Learns what it needs from the raw data.
    fn fit(&self, raw: &[RecordBatch]) -> FeatureResult<Box<dyn FittedExtractor>>;
}

/// A fitted extractor.
pub trait FittedExtractor: Send + Sync + std::fmt::Debug {
    /// The factory name of the step.
    fn kind(&self) -> &str;
    /// Names of the columns it produces, in order.
    fn output_names(&self) -> Vec<String>;
    /// Batch path: one row of output per input row.
    fn extract_batch(&self, raw: &RecordBatch) -> FeatureResult<Array2<f64>>;
    /// Row path: appends this step's outputs for `row` to `out`.
    fn extract_row(&self, row: &Row, out: &mut Vec<f64>) -> FeatureResult<()>;
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
    ) -> FeatureResult<Box<dyn FittedTransformer>>;
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
    fn transform_batch(&self, x: ArrayView2<'_, f64>) -> FeatureResult<Array2<f64>>;
    /// Row path: `input` is one row of the step's input; writes the output row to `out`
    /// (cleared first).
    fn transform_row(&self, input: &[f64], out: &mut Vec<f64>) -> FeatureResult<()>;
    /// Definition and fitted state, enough for the registry to rebuild the step.
    fn state(&self) -> serde_json::Value;
}

/// The score a selector gave one feature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureScore {
    /// Feature name.
    pub name: String,
    /// Score (higher is better; `NaN`, stored as `null`, when undefined).
    #[serde(deserialize_with = "crate::step::f64_or_nan")]
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

/// Chooses a subset of features: the strategy interface behind `select` in a
/// [`PipelineDef`](crate::PipelineDef). Built-ins: `k_best_chi2`, `k_best_f_classif`,
/// `variance_threshold`, `columns`; register more with
/// [`StepRegistry::register_selector`](crate::StepRegistry::register_selector).
///
/// # Contract
/// - `select` sees the training features (rows × `names`) and the label when the pipeline
///   has one; it returns the kept column indices (ascending, no duplicates) and one
///   [`FeatureScore`] per input column.
/// - It refuses what it cannot use with a typed error: no rows
///   ([`FeatureError::EmptyData`](crate::FeatureError::EmptyData)), values it cannot score
///   (`BadValues`), a missing or unsuitable label (`Label`), bad parameters (`Definition`).
/// - The pipeline turns the selection into a fitted column subset, so batch and row paths
///   keep the same columns.
///
/// # Example
/// A strategy that keeps the columns whose mean absolute value reaches a minimum:
/// ```
/// use mlpipe_features::{FeatureError, FeatureScore, Selection, Selector, StepRegistry, StepSpec};
/// use ndarray::{array, ArrayView1, ArrayView2};
///
/// struct MinMagnitude { min: f64 }
///
/// impl Selector for MinMagnitude {
///     fn kind(&self) -> &str { "min_magnitude" }
///     fn select(&self, x: ArrayView2<'_, f64>, names: &[String], _y: Option<ArrayView1<'_, f64>>)
///         -> Result<Selection, FeatureError> {
///         if x.nrows() == 0 {
///             return Err(FeatureError::EmptyData { step: "min_magnitude".into() });
///         }
///         let scores: Vec<f64> = x.columns().into_iter()
///             .map(|c| c.iter().map(|v| v.abs()).sum::<f64>() / c.len() as f64).collect();
///         let kept: Vec<usize> = (0..scores.len()).filter(|&j| scores[j] >= self.min).collect();
///         let scores = names.iter().zip(&scores).enumerate()
///             .map(|(j, (n, s))| FeatureScore { name: n.clone(), score: *s, p_value: None,
///                                               kept: kept.contains(&j) })
///             .collect();
///         Ok(Selection { kept, scores })
///     }
/// }
///
/// let mut registry = StepRegistry::builtin();
/// registry.register_selector("min_magnitude", |p| {
///     let min = p.get("min").and_then(|v| v.as_f64()).unwrap_or(1.0);
///     Ok(Box::new(MinMagnitude { min }))
/// });
/// let selector = registry.selector(&StepSpec::new("min_magnitude").with("min", 2.0)).unwrap();
/// let x = array![[0.1, 3.0], [-0.2, -4.0]];
/// let chosen = selector.select(x.view(), &["a".into(), "b".into()], None).unwrap();
/// assert_eq!(chosen.kept, vec![1]);
/// ```
pub trait Selector: Send + Sync {
    /// The factory name of the strategy, e.g. `k_best_chi2`.
    fn kind(&self) -> &str;
    /// Chooses columns of `x` given the label `y` (when the strategy needs one).
    fn select(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        y: Option<ArrayView1<'_, f64>>,
    ) -> FeatureResult<Selection>;
}

/// Deserialises a number that JSON may hold as `null` (how `NaN` is written) back to `f64`.
pub(crate) fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// [`f64_or_nan`] for a list.
pub(crate) fn vec_f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    Ok(Vec::<Option<f64>>::deserialize(d)?
        .into_iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}
