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
///
/// # Contract
/// - `kind` is the name the step is registered under with
///   [`StepRegistry::register_extractor`](crate::StepRegistry::register_extractor), which
///   takes a build function (parameters → `Extractor`) and a load function (state →
///   [`FittedExtractor`]); read both with [`parse_params`](crate::parse_params).
/// - `fit` leaves the definition unchanged and returns a distinct, immutable fitted step
///   holding everything it learned; nothing is learned later, at transform time.
/// - The fitted step keeps the product's no-skew promise: its batch path and row path give
///   bit-identical values for the same input, and so does the step rebuilt from its
///   `state()` by the registered loader (see [`FittedExtractor`]).
/// - Failures are [`FeatureError`](crate::FeatureError) variants, never a panic, and never
///   a NaN or infinity produced silently: no rows is `EmptyData`, a missing column
///   `MissingColumn`, a value it cannot use `BadValues`, bad parameters `Definition`.
///
/// # Example
/// `text_len`, the number of characters of a text column, through a [`FeaturePipeline`](crate::FeaturePipeline):
/// ```
/// use mlpipe_core::arrow_schema::{DataType, Field, Schema};
/// use mlpipe_core::table::{rows_to_batch, value_at};
/// use mlpipe_core::{RecordBatch, Row, Value};
/// use mlpipe_features::{parse_params, Extractor, FeatureError, FeaturePipeline, FittedExtractor,
///                       FittedPipeline, PipelineDef, StepRegistry, StepSpec};
/// use ndarray::Array2;
/// use serde::{Deserialize, Serialize};
/// use std::sync::Arc;
///
/// #[derive(Deserialize)]
/// struct TextLen { column: String }
/// /// The fitted step: its whole state (there is nothing to learn).
/// #[derive(Debug, Serialize, Deserialize)]
/// struct FittedTextLen { column: String }
///
/// impl Extractor for TextLen {
///     fn kind(&self) -> &str { "text_len" }
///     fn fit(&self, raw: &[RecordBatch]) -> Result<Box<dyn FittedExtractor>, FeatureError> {
///         if raw.iter().all(|b| b.num_rows() == 0) {
///             return Err(FeatureError::EmptyData { step: "text_len".into() });
///         }
///         Ok(Box::new(FittedTextLen { column: self.column.clone() }))
///     }
/// }
///
/// impl FittedTextLen {
///     /// The one computation both paths share.
///     fn len(&self, v: &Value) -> Result<f64, FeatureError> {
///         match v {
///             Value::Str(s) => Ok(s.chars().count() as f64),
///             Value::Null => Ok(0.0),
///             other => Err(FeatureError::BadValues { step: "text_len".into(),
///                 column: self.column.clone(), what: format!("a non-text value {other:?}") }),
///         }
///     }
///     fn missing(&self) -> FeatureError {
///         FeatureError::MissingColumn { column: self.column.clone(), available: "other columns".into() }
///     }
/// }
///
/// impl FittedExtractor for FittedTextLen {
///     fn kind(&self) -> &str { "text_len" }
///     fn output_names(&self) -> Vec<String> { vec![format!("{}_len", self.column)] }
///     fn extract_batch(&self, raw: &RecordBatch) -> Result<Array2<f64>, FeatureError> {
///         let col = raw.column_by_name(&self.column).ok_or_else(|| self.missing())?;
///         let v = (0..raw.num_rows())
///             .map(|i| self.len(&value_at(col.as_ref(), i)?))
///             .collect::<Result<Vec<f64>, _>>()?;
///         Array2::from_shape_vec((v.len(), 1), v).map_err(|e| FeatureError::Shape(e.to_string()))
///     }
///     fn extract_row(&self, row: &Row, out: &mut Vec<f64>) -> Result<(), FeatureError> {
///         out.push(self.len(row.get(&self.column).ok_or_else(|| self.missing())?)?);
///         Ok(())
///     }
///     fn state(&self) -> serde_json::Value { serde_json::json!({ "column": self.column }) }
/// }
///
/// let mut registry = StepRegistry::builtin();
/// registry.register_extractor(
///     "text_len",
///     |p| Ok(Box::new(parse_params::<TextLen>("text_len", p)?)),
///     |s| Ok(Box::new(parse_params::<FittedTextLen>("text_len", s)?)),
/// );
/// let registry = Arc::new(registry);
///
/// let schema = Arc::new(Schema::new(vec![Field::new("name", DataType::Utf8, true)]));
/// let rows: Vec<Row> = ["ab", "abc", "héllo"].iter().map(|s| Row::new().with("name", *s)).collect();
/// let batch = rows_to_batch(&rows, schema)?;
/// let def = PipelineDef { extract: vec![StepSpec::new("text_len").with("column", "name")],
///                         ..Default::default() };
/// let fitted = FeaturePipeline::new(def, registry.clone()).fit(&[batch.clone()])?;
/// let x = fitted.transform_batch(&batch)?;
/// assert_eq!(x.column(0).to_vec(), vec![2.0, 3.0, 5.0]);
/// // Rebuilt from its saved state, the row path gives the batch path's bits.
/// let reloaded = FittedPipeline::from_json(fitted.to_json(), &registry)?;
/// for (i, row) in rows.iter().enumerate() {
///     assert_eq!(reloaded.transform_row(row)?, x.row(i).to_vec());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Extractor: Send + Sync {
    /// The factory name of the step, e.g. `numeric`.
    fn kind(&self) -> &str;
    /// Learns what it needs from the raw data.
    fn fit(&self, raw: &[RecordBatch]) -> FeatureResult<Box<dyn FittedExtractor>>;
}

/// A fitted extractor.
///
/// # Contract
/// - Immutable: every method takes `&self` and gives the same answer every time.
/// - `kind` equals the name the step is registered under in the
///   [`StepRegistry`](crate::StepRegistry).
/// - `extract_batch` gives one row per input row, one column per `output_names` entry;
///   `extract_row` appends exactly those values for one record. For the same input the two
///   are **bit-identical** (the product's no-skew promise: training, batch scoring and
///   online scoring see the same numbers), so compute both with the same code.
/// - `state()` is data only: the load function registered with
///   [`StepRegistry::register_extractor`](crate::StepRegistry::register_extractor) rebuilds
///   from it a step that gives the same outputs, bit for bit.
/// - Failures are [`FeatureError`](crate::FeatureError) variants (a missing column or field
///   is `MissingColumn`, a value it cannot use `BadValues`), never a panic or a silent NaN.
///
/// # Example
/// The checks a test of a fitted extractor makes, here on the built-in `numeric` (see
/// [`Extractor`] for writing one):
/// ```
/// use mlpipe_core::arrow_schema::{DataType, Field, Schema};
/// use mlpipe_core::{table::rows_to_batch, Row};
/// use mlpipe_features::{StepRegistry, StepSpec};
/// use std::sync::Arc;
///
/// let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
/// let rows: Vec<Row> = [0.1, 2.5, -3.0].iter().map(|v| Row::new().with("x", *v)).collect();
/// let batch = rows_to_batch(&rows, schema)?;
/// let registry = StepRegistry::builtin();
/// let fitted = registry.extractor(&StepSpec::new("numeric"))?.fit(&[batch.clone()])?;
/// let reloaded = registry.load_extractor(fitted.kind(), &fitted.state())?;
/// let x = reloaded.extract_batch(&batch)?;
/// for (i, row) in rows.iter().enumerate() {
///     let mut out = Vec::new();
///     fitted.extract_row(row, &mut out)?;
///     assert_eq!(out, x.row(i).to_vec());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
///
/// # Contract
/// - `kind` is the name the step is registered under with
///   [`StepRegistry::register_transformer`](crate::StepRegistry::register_transformer),
///   which takes a build function (parameters → `Transformer`) and a load function (state →
///   [`FittedTransformer`]); read both with [`parse_params`](crate::parse_params).
/// - `fit` sees the training features (rows × `names`) and the label when the pipeline has
///   one; it returns a distinct, immutable fitted step holding everything it learned.
/// - The fitted step's batch and row paths give bit-identical results for the same input
///   (the no-skew promise), and `state()` round-trips through the registered loader.
/// - Failures are [`FeatureError`](crate::FeatureError) variants, never a panic or a silent
///   NaN: no rows is `EmptyData`, NaN or infinite input it cannot handle `BadValues`, a
///   missing or unsuitable label `Label`, bad parameters `Definition`.
///
/// # Example
/// `center`, which subtracts each feature's training mean:
/// ```
/// use mlpipe_core::arrow_schema::{DataType, Field, Schema};
/// use mlpipe_core::{table::rows_to_batch, Row};
/// use mlpipe_features::{parse_params, FeatureError, FeaturePipeline, FittedTransformer,
///                       PipelineDef, StepRegistry, StepSpec, Transformer};
/// use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
/// use serde::{Deserialize, Serialize};
/// use std::sync::Arc;
///
/// #[derive(Deserialize)]
/// struct Center {}
/// #[derive(Debug, Serialize, Deserialize)]
/// struct FittedCenter { names: Vec<String>, mean: Vec<f64> }
///
/// impl Transformer for Center {
///     fn kind(&self) -> &str { "center" }
///     fn fit(&self, x: ArrayView2<'_, f64>, names: &[String], _y: Option<ArrayView1<'_, f64>>)
///         -> Result<Box<dyn FittedTransformer>, FeatureError> {
///         if x.nrows() == 0 {
///             return Err(FeatureError::EmptyData { step: "center".into() });
///         }
///         if let Some(j) = (0..x.ncols()).find(|&j| x.column(j).iter().any(|v| !v.is_finite())) {
///             return Err(FeatureError::BadValues { step: "center".into(),
///                 column: names[j].clone(), what: "NaN or infinity".into() });
///         }
///         let mean = x.axis_iter(Axis(1)).map(|c| c.sum() / c.len() as f64).collect();
///         Ok(Box::new(FittedCenter { names: names.to_vec(), mean }))
///     }
/// }
///
/// impl FittedTransformer for FittedCenter {
///     fn kind(&self) -> &str { "center" }
///     fn output_names(&self) -> Vec<String> { self.names.clone() }
///     fn input_width(&self) -> usize { self.mean.len() }
///     fn transform_batch(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, FeatureError> {
///         let mut out = x.to_owned();
///         for (mut col, m) in out.axis_iter_mut(Axis(1)).zip(&self.mean) {
///             col.mapv_inplace(|v| v - m); // the same subtraction as the row path
///         }
///         Ok(out)
///     }
///     fn transform_row(&self, input: &[f64], out: &mut Vec<f64>) -> Result<(), FeatureError> {
///         out.clear();
///         out.extend(input.iter().zip(&self.mean).map(|(v, m)| v - m));
///         Ok(())
///     }
///     fn state(&self) -> serde_json::Value {
///         serde_json::json!({ "names": self.names, "mean": self.mean })
///     }
/// }
///
/// let mut registry = StepRegistry::builtin();
/// registry.register_transformer(
///     "center",
///     |p| Ok(Box::new(parse_params::<Center>("center", p)?)),
///     |s| Ok(Box::new(parse_params::<FittedCenter>("center", s)?)),
/// );
/// let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
/// let rows: Vec<Row> = [1.0, 2.0, 6.0].iter().map(|v| Row::new().with("x", *v)).collect();
/// let batch = rows_to_batch(&rows, schema)?;
/// let def = PipelineDef { transform: vec![StepSpec::new("center")], ..Default::default() };
/// let fitted = FeaturePipeline::new(def, Arc::new(registry)).fit(&[batch.clone()])?;
/// let x = fitted.transform_batch(&batch)?;
/// assert_eq!(x.column(0).to_vec(), vec![-2.0, -1.0, 3.0]);
/// assert_eq!(fitted.transform_row(&rows[2])?, x.row(2).to_vec());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
///
/// # Contract
/// - Immutable: every method takes `&self` and gives the same answer every time.
/// - `kind` equals the name the step is registered under in the
///   [`StepRegistry`](crate::StepRegistry).
/// - `transform_batch` takes `input_width()` columns and gives one column per
///   `output_names` entry; `transform_row` clears `out` and writes the same row. For the
///   same input the two are **bit-identical** (the no-skew promise), so both must apply the
///   same floating-point operations in the same order.
/// - `state()` is data only: the load function registered with
///   [`StepRegistry::register_transformer`](crate::StepRegistry::register_transformer)
///   rebuilds from it a step that gives the same outputs, bit for bit.
/// - Failures are [`FeatureError`](crate::FeatureError) variants (input of the wrong width
///   is `Shape`), never a panic or a silent NaN.
///
/// # Example
/// The checks a test of a fitted transformer makes, here on the built-in
/// `standard_scaler` (see [`Transformer`] for writing one):
/// ```
/// use mlpipe_features::{StepRegistry, StepSpec};
/// use ndarray::array;
///
/// let registry = StepRegistry::builtin();
/// let x = array![[1.0, 10.0], [2.0, 30.0], [4.0, 20.0]];
/// let fitted = registry.transformer(&StepSpec::new("standard_scaler"))?
///     .fit(x.view(), &["a".into(), "b".into()], None)?;
/// let reloaded = registry.load_transformer(fitted.kind(), &fitted.state())?;
/// let batch = reloaded.transform_batch(x.view())?;
/// let mut out = Vec::new();
/// for (i, row) in x.rows().into_iter().enumerate() {
///     fitted.transform_row(&row.to_vec(), &mut out)?;
///     assert_eq!(out, batch.row(i).to_vec());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
/// - `kind` is the name the strategy is registered under with
///   [`StepRegistry::register_selector`](crate::StepRegistry::register_selector) (a build
///   function only: a selector has no fitted state of its own).
/// - `select` sees the training features (rows × `names`) and the label when the pipeline
///   has one; it returns the kept column indices (ascending, no duplicates) and one
///   [`FeatureScore`] per input column. The same input gives the same selection.
/// - It refuses what it cannot use with a typed error, never a panic: no rows
///   ([`FeatureError::EmptyData`](crate::FeatureError::EmptyData)), values it cannot score
///   (`BadValues`), a missing or unsuitable label (`Label`), bad parameters (`Definition`).
///   A score is NaN only where it is undefined, never from bad input.
/// - The pipeline turns the selection into a fitted column subset, whose state the
///   registry reloads, so batch and row paths keep the same columns, bit for bit.
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
