//! The facade: [`Trainer`] (training data → model) and [`Model`] (predictions as typed
//! [`Score`]s, and a self-describing [`ModelArtefact`]).

use crate::error::{ModelError, Result};
use mlpipe_core::{FeatureSetId, Score};
use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

/// What a trainer learns from.
#[derive(Clone, Copy, Debug)]
pub struct TrainingData<'a> {
    /// Rows × features.
    pub x: ArrayView2<'a, f64>,
    /// One label per row (class numbers for classifiers).
    pub y: ArrayView1<'a, f64>,
    /// Feature names, in column order.
    pub feature_names: &'a [String],
    /// The feature set the columns come from.
    pub feature_set_id: &'a FeatureSetId,
}

/// Builds a model from training data. The trainer holds its hyper-parameters.
///
/// Implement it (with [`Model`]) to add a model type or wrap a third-party library.
///
/// # Contract
/// - `kind` is the name registered with
///   [`Algorithms::register`](crate::Algorithms::register)`(kind, trainer_fn, loader_fn)`
///   and the kind of every model it trains; `params()` are the hyper-parameters recorded
///   with the model, which `trainer_fn` parses back ([`parse_params`](crate::parse_params)).
/// - `train` calls [`check_training`] first (or [`check_regression`], which starts with
///   it; classifiers then read their classes with [`classes_of`]), so no rows, a label
///   count that differs from the row count and NaN or infinite features are refused the
///   same way by every kind.
/// - `train` never panics on user data: everything wrong with the data or the
///   hyper-parameters is a [`ModelError`] (`NoRows`, `NonFinite`, `Labels`, `OneClass`,
///   `TooManyFeatures`, `Params`, `Numeric`).
/// - The model it returns was trained on `data.x`'s width, and keeps
///   `data.feature_set_id` and `data.feature_names` for its artefact.
/// - Iterative trainers override `train_resumable` to save and resume from the checkpoint
///   and stop with [`ModelError::Cancelled`] when told to.
///
/// # Example
/// `mean`, a regressor that predicts the training mean, registered and round-tripped
/// through its artefact bytes:
/// ```
/// use mlpipe_core::{FeatureSetId, Score};
/// use mlpipe_models::{check_regression, check_width, parse_params, score_rows, Algorithms,
///                     Model, ModelArtefact, ModelError, Trainer, TrainingData};
/// use ndarray::{array, ArrayView2};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct MeanTrainer {}
/// /// What the model learned: all its artefact holds besides the input schema.
/// #[derive(Debug, Serialize, Deserialize)]
/// struct Learned { mean: f64 }
/// #[derive(Debug)]
/// struct MeanModel { learned: Learned, fs: FeatureSetId, names: Vec<String> }
///
/// impl Trainer for MeanTrainer {
///     fn kind(&self) -> &str { "mean" }
///     fn params(&self) -> serde_json::Value { serde_json::json!({}) }
///     fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>, ModelError> {
///         check_regression("mean", data)?; // check_training, then finite targets
///         let mean = data.y.sum() / data.y.len() as f64;
///         Ok(Box::new(MeanModel { learned: Learned { mean },
///             fs: data.feature_set_id.clone(), names: data.feature_names.to_vec() }))
///     }
/// }
///
/// impl MeanModel {
///     /// The loader: parses data, runs nothing from the artefact.
///     fn from_artefact(a: &ModelArtefact) -> Result<Self, ModelError> {
///         Ok(Self { learned: a.learned_as()?, fs: a.feature_set_id.clone(),
///                   names: a.input_schema.clone() })
///     }
///     fn score(&self, _row: &[f64]) -> Score { Score::Value { value: self.learned.mean } }
/// }
///
/// impl Model for MeanModel {
///     fn kind(&self) -> &str { "mean" }
///     fn n_features(&self) -> usize { self.names.len() }
///     fn predict_batch(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Score>, ModelError> {
///         score_rows(self.n_features(), x, |r| self.score(r)) // the row path, per row
///     }
///     fn predict_row(&self, x: &[f64]) -> Result<Score, ModelError> {
///         check_width(self.n_features(), x.len())?;
///         Ok(self.score(x))
///     }
///     fn artefact(&self) -> Result<ModelArtefact, ModelError> {
///         ModelArtefact::with_state("mean", self.fs.clone(), self.names.clone(),
///                                   serde_json::json!({}), &self.learned)
///     }
/// }
///
/// let mut algorithms = Algorithms::builtin();
/// algorithms.register(
///     "mean",
///     |p| Ok(Box::new(parse_params::<MeanTrainer>("mean", p)?)),
///     |a| Ok(Box::new(MeanModel::from_artefact(a)?)),
/// );
/// let (x, y) = (array![[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]], array![1.0, 2.0, 6.0]);
/// let names = vec!["a".to_string(), "b".to_string()];
/// let fs = FeatureSetId::new("fs-example");
/// let data = TrainingData { x: x.view(), y: y.view(), feature_names: &names, feature_set_id: &fs };
/// let model = algorithms.trainer("mean", &serde_json::Value::Null)?.train(&data)?;
/// let (artefact, loaded) = algorithms.load_bytes(&model.artefact()?.to_bytes()?)?;
/// assert_eq!(artefact.kind, "mean");
/// assert_eq!(loaded.n_features(), 2);
/// assert_eq!(loaded.predict_row(&[9.0, 9.0])?, Score::Value { value: 3.0 });
/// assert_eq!(loaded.predict_batch(x.view())?, model.predict_batch(x.view())?);
/// assert!(matches!(loaded.predict_row(&[1.0]), Err(ModelError::Width { expected: 2, got: 1 })));
/// # Ok::<(), ModelError>(())
/// ```
pub trait Trainer: Send + Sync {
    /// The model kind, e.g. `logistic_regression`.
    fn kind(&self) -> &str;
    /// The hyper-parameters, as recorded with the model.
    fn params(&self) -> serde_json::Value;
    /// Trains a model.
    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>>;
    /// Trains a model, resuming from and saving to `checkpoint`, and stopping with
    /// [`ModelError::Cancelled`] when it is cancelled. Iterative trainers override it;
    /// the default ignores the checkpoint and calls [`train`](Self::train).
    fn train_resumable(
        &self,
        data: &TrainingData<'_>,
        checkpoint: &dyn crate::checkpoint::Checkpoint,
    ) -> Result<Box<dyn Model>> {
        let _ = checkpoint;
        self.train(data)
    }
}

/// A trained model.
///
/// # Contract
/// - Immutable once trained: predictions depend on the input only.
/// - `n_features` equals the width it was trained on; input of another width is
///   [`ModelError::Width`] ([`check_width`]), never a panic or a truncated row.
/// - `predict_batch` and `predict_row` give the same scores for the same rows (build the
///   batch path on the row path, as [`score_rows`] does), and so do `predict_proba` and
///   `predict_proba_row` when a classifier overrides them: offline and online scoring
///   agree.
/// - `artefact()` is data only: the `loader_fn` registered with
///   [`Algorithms::register`](crate::Algorithms::register)`(kind, trainer_fn, loader_fn)`
///   rebuilds from it a model that gives the same scores, and loading parses values into
///   a registered type, it never executes code from the artefact. `kind` equals the kind
///   registered.
/// - Failures are [`ModelError`]s (an artefact it cannot use is
///   [`ModelError::Artefact`]).
///
/// # Example
/// The checks a test of a model makes, here on the built-in `linear_regression` (see
/// [`Trainer`] for writing one):
/// ```
/// use mlpipe_core::FeatureSetId;
/// use mlpipe_models::{Algorithms, ModelError, TrainingData};
/// use ndarray::array;
///
/// let algorithms = Algorithms::builtin();
/// let (x, y) = (array![[0.0], [1.0], [2.0], [3.0]], array![1.0, 3.0, 5.0, 7.0]);
/// let (names, fs) = (vec!["x".to_string()], FeatureSetId::new("fs-example"));
/// let data = TrainingData { x: x.view(), y: y.view(), feature_names: &names, feature_set_id: &fs };
/// let model = algorithms.trainer("linear_regression", &serde_json::Value::Null)?.train(&data)?;
/// assert_eq!(model.n_features(), 1);
/// let (_, loaded) = algorithms.load_bytes(&model.artefact()?.to_bytes()?)?;
/// let batch = loaded.predict_batch(x.view())?;
/// for (i, row) in x.rows().into_iter().enumerate() {
///     assert_eq!(model.predict_row(&row.to_vec())?, batch[i]);
/// }
/// # Ok::<(), ModelError>(())
/// ```
pub trait Model: Send + Sync + std::fmt::Debug {
    /// The model kind.
    fn kind(&self) -> &str;
    /// Number of input features.
    fn n_features(&self) -> usize;
    /// Scores for every row of `x`.
    fn predict_batch(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Score>>;
    /// The score of one row.
    fn predict_row(&self, x: &[f64]) -> Result<Score>;
    /// Class probabilities of every row as one rows × classes matrix (columns in the
    /// model's class order), or `None` for a model that gives no probabilities.
    ///
    /// The fast path for batch scoring: no [`Score`] (and no allocation) per row.
    /// The default builds the matrix from [`predict_batch`](Self::predict_batch);
    /// classifiers override it.
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Option<Array2<f64>>> {
        proba_matrix(&self.predict_batch(x)?)
    }
    /// Class probabilities of one row written into `out` (one per class), without
    /// allocating; `false` (and `out` untouched) for a model that gives no probabilities
    /// or when `out` has the wrong length. The default goes through
    /// [`predict_row`](Self::predict_row); classifiers override it.
    fn predict_proba_row(&self, x: &[f64], out: &mut [f64]) -> Result<bool> {
        match self.predict_row(x)? {
            Score::Probabilities { probabilities, .. } if probabilities.len() == out.len() => {
                out.copy_from_slice(&probabilities);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    /// The self-describing artefact.
    fn artefact(&self) -> Result<ModelArtefact>;
}

/// Current version of the artefact format.
pub const ARTEFACT_FORMAT_VERSION: u32 = 1;

/// A model at rest: everything needed to rebuild it, and nothing executable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelArtefact {
    /// Always `mlpipe-model`.
    pub format: String,
    /// Format version; loaders refuse versions they do not know.
    pub format_version: u32,
    /// Model kind.
    pub kind: String,
    /// Features the model consumes.
    pub feature_set_id: FeatureSetId,
    /// Input feature names, in order.
    pub input_schema: Vec<String>,
    /// Hyper-parameters.
    pub params: serde_json::Value,
    /// Learned parameters.
    pub learned: serde_json::Value,
}

impl ModelArtefact {
    /// A new artefact of the current format.
    pub fn new(
        kind: &str,
        feature_set_id: FeatureSetId,
        input_schema: Vec<String>,
        params: serde_json::Value,
        learned: serde_json::Value,
    ) -> Self {
        Self {
            format: "mlpipe-model".into(),
            format_version: ARTEFACT_FORMAT_VERSION,
            kind: kind.to_string(),
            feature_set_id,
            input_schema,
            params,
            learned,
        }
    }

    /// A new artefact whose learned parameters are `state`, serialised.
    pub fn with_state<S: Serialize>(
        kind: &str,
        feature_set_id: FeatureSetId,
        input_schema: Vec<String>,
        params: serde_json::Value,
        state: &S,
    ) -> Result<Self> {
        let learned =
            serde_json::to_value(state).map_err(|e| ModelError::Artefact(e.to_string()))?;
        Ok(Self::new(
            kind,
            feature_set_id,
            input_schema,
            params,
            learned,
        ))
    }

    /// Serialises as JSON (floats round-trip bit-exactly).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| ModelError::Artefact(e.to_string()))
    }

    /// Parses bytes, refusing anything that is not a known artefact version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let a: ModelArtefact = serde_json::from_slice(bytes)
            .map_err(|e| ModelError::Artefact(format!("not an mlpipe model artefact: {e}")))?;
        if a.format != "mlpipe-model" {
            return Err(ModelError::Artefact(format!(
                "unknown format `{}`",
                a.format
            )));
        }
        if a.format_version == 0 || a.format_version > ARTEFACT_FORMAT_VERSION {
            return Err(ModelError::Artefact(format!(
                "artefact format version {} is not supported by this build (supports 1..={ARTEFACT_FORMAT_VERSION}); upgrade mlpipe",
                a.format_version
            )));
        }
        Ok(a)
    }

    /// Decodes the learned parameters into a model's state type.
    pub fn learned_as<T: for<'de> Deserialize<'de>>(&self) -> Result<T> {
        serde_json::from_value(self.learned.clone())
            .map_err(|e| ModelError::Artefact(format!("learned parameters of {}: {e}", self.kind)))
    }
}

/// Checks training data: rows, finite features, matching label length.
pub fn check_training(kind: &str, data: &TrainingData<'_>) -> Result<()> {
    if data.x.nrows() == 0 {
        return Err(ModelError::NoRows { kind: kind.into() });
    }
    if data.y.len() != data.x.nrows() {
        return Err(ModelError::Labels {
            kind: kind.into(),
            reason: format!("{} labels for {} rows", data.y.len(), data.x.nrows()),
        });
    }
    // One pass in memory order; only on failure look for the column to name.
    if data.x.iter().all(|v| v.is_finite()) {
        return Ok(());
    }
    for (j, col) in data.x.columns().into_iter().enumerate() {
        if col.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                kind: kind.into(),
                feature: data
                    .feature_names
                    .get(j)
                    .cloned()
                    .unwrap_or_else(|| format!("#{j}")),
            });
        }
    }
    Ok(())
}

/// Class labels of a classifier: integer-valued and at least two distinct.
pub fn classes_of(kind: &str, y: ArrayView1<'_, f64>) -> Result<(Vec<i64>, Vec<usize>)> {
    let mut classes: Vec<i64> = Vec::new();
    for &v in y {
        if !v.is_finite() || v.fract() != 0.0 {
            return Err(ModelError::Labels {
                kind: kind.into(),
                reason: format!("class labels must be whole numbers, found {v}"),
            });
        }
        classes.push(v as i64);
    }
    let mut distinct = classes.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 {
        return Err(ModelError::OneClass {
            kind: kind.into(),
            class: distinct.first().copied().unwrap_or(0),
        });
    }
    let idx = classes
        .iter()
        .map(|c| distinct.binary_search(c).unwrap_or(0))
        .collect();
    Ok((distinct, idx))
}

/// Checks the targets of a regressor: every label a finite number.
pub fn check_regression(kind: &str, data: &TrainingData<'_>) -> Result<()> {
    check_training(kind, data)?;
    if let Some(v) = data.y.iter().find(|v| !v.is_finite()) {
        return Err(ModelError::Labels {
            kind: kind.into(),
            reason: format!("regression targets must be finite numbers, found {v}"),
        });
    }
    Ok(())
}

/// The batch path of a model whose single-row path is `score`: checks the width, then
/// scores the rows in parallel (so batch and row give the same scores).
pub fn score_rows(
    width: usize,
    x: ArrayView2<'_, f64>,
    score: impl Fn(&[f64]) -> Score + Sync + Send,
) -> Result<Vec<Score>> {
    use rayon::prelude::*;
    check_width(width, x.ncols())?;
    Ok(x.axis_iter(ndarray::Axis(0))
        .into_par_iter()
        .map(|r| match r.as_slice() {
            Some(s) => score(s),
            None => score(&r.to_vec()),
        })
        .collect())
}

/// Checks a prediction input's width.
pub fn check_width(expected: usize, got: usize) -> Result<()> {
    if expected != got {
        return Err(ModelError::Width { expected, got });
    }
    Ok(())
}

/// Stacks probability scores into a rows × classes matrix; `None` when the scores are
/// not probabilities (or there are none).
pub fn proba_matrix(scores: &[Score]) -> Result<Option<Array2<f64>>> {
    let width = match scores.first() {
        Some(Score::Probabilities { probabilities, .. }) => probabilities.len(),
        _ => return Ok(None),
    };
    let mut out = Array2::zeros((scores.len(), width));
    for (i, s) in scores.iter().enumerate() {
        match s {
            Score::Probabilities { probabilities, .. } if probabilities.len() == width => {
                for (o, p) in out.row_mut(i).iter_mut().zip(probabilities) {
                    *o = *p;
                }
            }
            _ => {
                return Err(ModelError::Numeric {
                    kind: "predict_proba".into(),
                    reason: format!("row {i} has no probabilities of width {width}"),
                })
            }
        }
    }
    Ok(Some(out))
}
