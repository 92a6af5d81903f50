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
//!
//! Silhouette, Davies–Bouldin, Calinski–Harabasz, calibration curves and forecast errors need more than truths and scores
//! (the feature matrix, bins, the training series) and are functions only.
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
pub mod regression;

use crate::error::{EvalError, Result};
use mlpipe_core::Score;

pub use classification::{Accuracy, Average, BalancedAccuracy, ConfusionMatrix, Prf, PrfMetric};
pub use clustering::Inertia;
pub use curves::{roc_points, AveragePrecision, PrCurve, RocAuc, RocAucOvr, RocCurve};
pub use forecast::ForecastErrors;
pub use probabilistic::{BrierScore, CalibrationCurve, CalibrationStrategy, LogLoss};
pub use regression::{RegressionMetric, RegressionScore};

/// A metric over truths and scores.
pub trait Evaluator: Send + Sync {
    /// Name the metric is saved under, e.g. `roc_auc`.
    fn name(&self) -> &str;
    /// Whether larger values are better.
    fn higher_is_better(&self) -> bool {
        true
    }
    /// Computes the metric.
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64>;
}

/// Every name [`evaluator`] knows.
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
];

/// An evaluator by name (see [`METRIC_NAMES`]).
pub fn evaluator(name: &str) -> Result<Box<dyn Evaluator>> {
    use classification::PrfKind;
    let prf = |kind: PrfKind, average: Average| -> Box<dyn Evaluator> {
        Box::new(PrfMetric::new(kind, average))
    };
    Ok(match name {
        "accuracy" => Box::new(Accuracy),
        "balanced_accuracy" => Box::new(BalancedAccuracy),
        "roc_auc" => Box::new(RocAuc),
        "roc_auc_ovr" => Box::new(RocAucOvr { weighted: false }),
        "roc_auc_ovr_weighted" => Box::new(RocAucOvr { weighted: true }),
        "average_precision" => Box::new(AveragePrecision),
        "log_loss" => Box::new(LogLoss),
        "brier_score" => Box::new(BrierScore),
        "inertia" => Box::new(Inertia),
        other => {
            if let Some(m) = RegressionMetric::from_name(other) {
                return Ok(Box::new(RegressionScore(m)));
            }
            let (kind, rest) = match other.split_once('_') {
                Some((k, r)) => (k, Some(r)),
                None => (other, None),
            };
            let kind = match kind {
                "precision" => PrfKind::Precision,
                "recall" => PrfKind::Recall,
                "f1" => PrfKind::F1,
                _ => return Err(EvalError::UnknownMetric(other.to_string())),
            };
            let average = match rest {
                None => Average::Binary { pos_label: 1 },
                Some("macro") => Average::Macro,
                Some("weighted") => Average::Weighted,
                Some("micro") => Average::Micro,
                Some(_) => return Err(EvalError::UnknownMetric(other.to_string())),
            };
            prf(kind, average)
        }
    })
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
