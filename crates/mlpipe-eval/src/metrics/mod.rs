//! The [`Evaluator`] trait, the metric library and the [`evaluator`] factory.
//!
//! Every metric is a plain function over slices (in the submodules, computed the way
//! scikit-learn 1.9 computes it) and, where it makes sense over a model's [`Score`]s, an
//! [`Evaluator`] the evaluation service runs by name.
//!
//! | name | module | direction |
//! |---|---|---|
//! | `accuracy`, `balanced_accuracy` | [`classification`] | higher |
//! | `precision`, `recall`, `f1` (binary, positive class 1) and their `_macro`, `_weighted`, `_micro` forms | [`classification`] | higher |
//! | `roc_auc`, `roc_auc_ovr`, `roc_auc_ovr_weighted`, `average_precision` | [`curves`] | higher |
//! | `log_loss`, `brier_score` | [`probabilistic`] | lower |
//! | `mae`, `mse`, `rmse`, `mape` | [`regression`] | lower |
//! | `r2`, `explained_variance` | [`regression`] | higher |
//! | `inertia` (from cluster distances) | [`clustering`] | lower |
//! | `silhouette`, `calinski_harabasz` (cluster scores over the evaluation rows' features) | [`clustering`] | higher |
//! | `davies_bouldin` | [`clustering`] | lower |
//! | `forecast_mae`, `forecast_rmse`, `mase` (each row's forecast at its horizon; MASE against the training series) | [`forecast`] | lower |
//!
//! Clustering quality and MASE need more than truths and scores: they read the features
//! and the training series from an [`EvalInput`] (the evaluation service and
//! cross-validation pass both). Calibration curves are functions only. Every name is
//! registered in [`Evaluators::builtin`], where a user registers their own.
//!
//! # Degenerate input
//! Empty input is [`EvalError::Empty`]; truths and scores of different lengths
//! [`EvalError::Length`]; NaN or infinite scores [`EvalError::BadScore`]. Where scikit-learn
//! defines a value it is returned (precision with no predicted positives is 0, the
//! `zero_division` default; constant scores give ROC AUC 0.5); where scikit-learn returns
//! NaN with a warning (ROC AUC with one class in the truth) this crate returns
//! [`EvalError::Undefined`] instead, so a NaN never reaches the selection policy.

pub mod classification;
pub mod clustering;
pub mod curves;
pub mod forecast;
pub mod probabilistic;
mod registry;
pub mod regression;

use crate::error::{EvalError, Result};
use mlpipe_core::Score;

pub use classification::{Accuracy, Average, BalancedAccuracy, ConfusionMatrix, Prf, PrfMetric};
pub use clustering::Inertia;
pub use curves::{roc_points, AveragePrecision, PrCurve, RocAuc, RocAucOvr, RocCurve};
pub use forecast::ForecastErrors;
pub use probabilistic::{BrierScore, CalibrationCurve, CalibrationStrategy, LogLoss};
pub use registry::{ClusterQuality, EvalInput, Evaluators, ForecastError};
pub use regression::{RegressionMetric, RegressionScore};

/// A metric over truths and scores.
///
/// # Contract
/// - `name` is the name the metric is registered under in [`Evaluators`] and saved under
///   in every evaluation record; it never changes.
/// - `evaluate` is a pure function of its input: the same truths and scores give the same
///   value. It returns an error, never NaN: [`EvalError::Empty`] for no rows,
///   [`EvalError::Length`] for truths and scores of different lengths,
///   [`EvalError::BadScore`] for a score of the wrong kind or not finite,
///   [`EvalError::Undefined`] where the metric has no value.
/// - An evaluator that needs the features or the training series overrides
///   `evaluate_input`; `evaluate` then explains what it lacks.
///
/// # Example
/// ```
/// use mlpipe_core::Score;
/// use mlpipe_eval::{Evaluator, EvalError};
///
/// /// Mean absolute error of values, in the units of the target.
/// struct MeanAbsError;
/// impl Evaluator for MeanAbsError {
///     fn name(&self) -> &str { "my_mae" }
///     fn higher_is_better(&self) -> bool { false }
///     fn evaluate(&self, truth: &[f64], scores: &[Score]) -> mlpipe_eval::Result<f64> {
///         if truth.is_empty() { return Err(EvalError::Empty { metric: "my_mae".into() }); }
///         let sum: f64 = truth.iter().zip(scores)
///             .map(|(t, s)| (t - s.as_f64().unwrap_or(f64::NAN)).abs()).sum();
///         Ok(sum / truth.len() as f64)
///     }
/// }
/// let v = MeanAbsError.evaluate(&[1.0, 3.0], &[Score::Value { value: 2.0 }, Score::Value { value: 2.0 }]);
/// assert_eq!(v.unwrap(), 1.0);
/// ```
pub trait Evaluator: Send + Sync {
    /// Name the metric is saved under, e.g. `roc_auc`.
    fn name(&self) -> &str;
    /// Whether larger values are better.
    fn higher_is_better(&self) -> bool {
        true
    }
    /// Computes the metric.
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64>;
    /// Computes the metric from everything the caller has about the evaluation rows; the
    /// default reads the truths and scores only.
    fn evaluate_input(&self, input: &EvalInput<'_>) -> Result<f64> {
        self.evaluate(input.truth, input.scores)
    }
}

/// Every built-in metric name ([`Evaluators::builtin`]).
pub const METRIC_NAMES: &[&str] = &[
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "precision_micro",
    "recall_micro",
    "f1_micro",
    "roc_auc",
    "roc_auc_ovr",
    "roc_auc_ovr_weighted",
    "average_precision",
    "log_loss",
    "brier_score",
    "mae",
    "mse",
    "rmse",
    "r2",
    "mape",
    "explained_variance",
    "inertia",
    "silhouette",
    "davies_bouldin",
    "calinski_harabasz",
    "forecast_mae",
    "forecast_rmse",
    "mase",
];

/// A built-in evaluator by name (see [`METRIC_NAMES`]); a user's own metrics are in an
/// [`Evaluators`] registry.
pub fn evaluator(name: &str) -> Result<Box<dyn Evaluator>> {
    Evaluators::builtin().get(name)
}

/// Checks the input is non-empty and of equal lengths.
pub(crate) fn check_lengths(metric: &str, truths: usize, scores: usize) -> Result<()> {
    if truths == 0 {
        return Err(EvalError::Empty {
            metric: metric.into(),
        });
    }
    if truths != scores {
        return Err(EvalError::Length {
            metric: metric.into(),
            truths,
            scores,
        });
    }
    Ok(())
}

/// Checks every value is finite.
pub(crate) fn check_finite(metric: &str, what: &str, values: &[f64]) -> Result<()> {
    if values.iter().any(|v| !v.is_finite()) {
        return Err(EvalError::BadScore {
            metric: metric.into(),
            reason: format!("{what} contain NaN or infinity"),
        });
    }
    Ok(())
}

/// Truth values as class labels (they must be whole numbers).
pub(crate) fn truth_labels(metric: &str, truth: &[f64]) -> Result<Vec<i64>> {
    truth
        .iter()
        .map(|&t| {
            if t.is_finite() && t.fract() == 0.0 {
                Ok(t as i64)
            } else {
                Err(EvalError::BadScore {
                    metric: metric.into(),
                    reason: format!("truth {t} is not a class label (a whole number)"),
                })
            }
        })
        .collect()
}

/// Truth and predicted class labels of classifier scores.
pub(crate) fn class_labels(
    metric: &str,
    truth: &[f64],
    scores: &[Score],
) -> Result<(Vec<i64>, Vec<i64>)> {
    check_lengths(metric, truth.len(), scores.len())?;
    let t = truth_labels(metric, truth)?;
    let p = scores
        .iter()
        .map(|s| {
            if let Score::Probabilities { probabilities, .. } = s {
                check_finite(metric, "probabilities", probabilities)?;
            }
            s.class().ok_or_else(|| EvalError::BadScore {
                metric: metric.into(),
                reason: format!("a {} score has no class", s.kind()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((t, p))
}

/// The sorted distinct values of `v`.
pub(crate) fn distinct(v: &[f64]) -> Vec<f64> {
    let mut c = v.to_vec();
    c.sort_by(f64::total_cmp);
    c.dedup();
    c
}

/// Whether each row is of class `pos`, and the score of class `pos` (its probability, or
/// the value of a `Value` score), checked finite.
pub(crate) fn positive_scores(
    metric: &str,
    truth: &[f64],
    scores: &[Score],
    pos: f64,
) -> Result<(Vec<bool>, Vec<f64>)> {
    check_lengths(metric, truth.len(), scores.len())?;
    let mut y = Vec::with_capacity(truth.len());
    let mut p = Vec::with_capacity(truth.len());
    for (t, s) in truth.iter().zip(scores) {
        let v = match s {
            Score::Probabilities { .. } => s.probability_of(pos as i64),
            Score::Value { value } => Some(*value),
            _ => None,
        }
        .ok_or_else(|| EvalError::BadScore {
            metric: metric.into(),
            reason: format!(
                "needs a probability or value for class {pos}, got a {} score",
                s.kind()
            ),
        })?;
        y.push(*t == pos);
        p.push(v);
    }
    check_finite(metric, "scores", &p)?;
    Ok((y, p))
}

/// Like [`positive_scores`] with the larger of exactly two truth classes as positive.
pub(crate) fn binary_scores(
    metric: &str,
    truth: &[f64],
    scores: &[Score],
) -> Result<(Vec<bool>, Vec<f64>)> {
    check_lengths(metric, truth.len(), scores.len())?;
    let classes = distinct(truth);
    if classes.len() != 2 {
        return Err(EvalError::Undefined {
            metric: metric.into(),
            reason: format!(
                "the truth needs exactly two classes, it has {}",
                classes.len()
            ),
        });
    }
    positive_scores(metric, truth, scores, classes[1])
}
