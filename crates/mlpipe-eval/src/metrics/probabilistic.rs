//! Metrics of predicted probabilities: log loss, Brier score and the calibration curve.
//!
//! As in scikit-learn 1.9, probabilities outside [0, 1] are refused, log loss clips each
//! probability to [ε, 1 − ε] with ε = `f64::EPSILON` (2.22e-16; no `eps` parameter and no
//! renormalisation since scikit-learn 1.5), and the Brier score of two classes is the mean
//! of (yᵢ − pᵢ)² while with three or more classes it sums over the classes.

use super::{check_finite, check_lengths, distinct, truth_labels, Evaluator};
use crate::error::{EvalError, Result};
use mlpipe_core::Score;
use serde::{Deserialize, Serialize};

fn check_probabilities(metric: &str, p: &[f64]) -> Result<()> {
    check_finite(metric, "probabilities", p)?;
    if let Some(bad) = p.iter().find(|v| **v < 0.0 || **v > 1.0) {
        return Err(EvalError::BadScore {
            metric: metric.into(),
            reason: format!("probability {bad} is outside [0, 1]"),
        });
    }
    Ok(())
}

/// Each row's probability of its true class, given rows of (classes, probabilities).
fn true_class_rows<'a>(
    metric: &str,
    truth: &[f64],
    scores: &'a [Score],
) -> Result<Vec<(usize, &'a [f64])>> {
    check_lengths(metric, truth.len(), scores.len())?;
    let t = truth_labels(metric, truth)?;
    t.iter()
        .zip(scores)
        .map(|(label, s)| match s {
            Score::Probabilities {
                classes,
                probabilities,
            } => {
                check_probabilities(metric, probabilities)?;
                if classes.len() < 2 || classes.len() != probabilities.len() {
                    return Err(EvalError::BadScore {
                        metric: metric.into(),
                        reason: format!(
                            "needs a probability for each of at least two classes, got {} classes and {} probabilities",
                            classes.len(),
                            probabilities.len()
                        ),
                    });
                }
                let i = classes.iter().position(|c| c == label).ok_or_else(|| {
                    EvalError::BadScore {
                        metric: metric.into(),
                        reason: format!(
                            "true class {label} is not among the model's classes {classes:?}"
                        ),
                    }
                })?;
                Ok((i, probabilities.as_slice()))
            }
            other => Err(EvalError::BadScore {
                metric: metric.into(),
                reason: format!("needs probabilities, got a {} score", other.kind()),
            }),
        })
        .collect()
}

fn clipped_ln(p: f64) -> f64 {
    p.clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln()
}

/// Mean negative log-likelihood of the true classes, where `proba[i][k]` is the
/// probability of `classes[k]` for row `i` (`sklearn.metrics.log_loss(truth, proba,
/// labels=classes)`).
pub fn log_loss(truth: &[i64], classes: &[i64], proba: &[Vec<f64>]) -> Result<f64> {
    let scores: Vec<Score> = proba
        .iter()
        .map(|p| Score::Probabilities {
            classes: classes.to_vec(),
            probabilities: p.clone(),
        })
        .collect();
    let t: Vec<f64> = truth.iter().map(|&v| v as f64).collect();
    LogLoss.evaluate(&t, &scores)
}

/// Log loss of binary truths `y` with positive-class probabilities `p`
/// (`sklearn.metrics.log_loss(y, p)`).
pub fn log_loss_binary(y: &[bool], p: &[f64]) -> Result<f64> {
    check_lengths("log_loss", y.len(), p.len())?;
    check_probabilities("log_loss", p)?;
    let total: f64 = y
        .iter()
        .zip(p)
        .map(|(&t, &q)| {
            if t {
                -clipped_ln(q)
            } else {
                -clipped_ln(1.0 - q)
            }
        })
        .sum();
    Ok(total / y.len() as f64)
}

/// Log loss (cross-entropy) of probability scores; lower is better.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogLoss;

impl Evaluator for LogLoss {
    fn name(&self) -> &str {
        "log_loss"
    }
    fn higher_is_better(&self) -> bool {
        false
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        let rows = true_class_rows("log_loss", truth, scores)?;
        let total: f64 = rows.iter().map(|(i, p)| -clipped_ln(p[*i])).sum();
        Ok(total / rows.len() as f64)
    }
}

/// Brier score of binary truths `y` with positive-class probabilities `p`
/// (`sklearn.metrics.brier_score_loss(y, p)`).
pub fn brier_score(y: &[bool], p: &[f64]) -> Result<f64> {
    check_lengths("brier_score", y.len(), p.len())?;
    check_probabilities("brier_score", p)?;
    let total: f64 = y
        .iter()
        .zip(p)
        .map(|(&t, &q)| {
            let d = if t { 1.0 } else { 0.0 } - q;
            d * d
        })
        .sum();
    Ok(total / y.len() as f64)
}

/// Brier score of probability scores; lower is better. Two classes: mean (yᵢ − pᵢ)²; three
/// or more: the squared distance to the one-hot truth, summed over classes.
#[derive(Clone, Copy, Debug, Default)]
pub struct BrierScore;

impl Evaluator for BrierScore {
    fn name(&self) -> &str {
        "brier_score"
    }
    fn higher_is_better(&self) -> bool {
        false
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        let rows = true_class_rows("brier_score", truth, scores)?;
        let total: f64 = rows
            .iter()
            .map(|(i, p)| {
                let s: f64 = p
                    .iter()
                    .enumerate()
                    .map(|(k, q)| {
                        let d = if k == *i { 1.0 } else { 0.0 } - q;
                        d * d
                    })
                    .sum();
                if p.len() < 3 {
                    s * 0.5
                } else {
                    s
                }
            })
            .sum();
        Ok(total / rows.len() as f64)
    }
}

/// How the calibration curve's bins are placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationStrategy {
    /// Equal widths over [0, 1].
    Uniform,
    /// Equal counts: edges at the probabilities' quantiles.
    Quantile,
}

/// A reliability diagram: per non-empty bin, the share of positives and the mean
/// predicted probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationCurve {
    /// Share of positives per non-empty bin.
    pub prob_true: Vec<f64>,
    /// Mean predicted probability per non-empty bin.
    pub prob_pred: Vec<f64>,
    /// Rows per non-empty bin.
    pub counts: Vec<u64>,
}

/// `numpy.linspace(0, 1, n + 1)`, bit for bit.
fn linspace01(n: usize) -> Vec<f64> {
    let step = 1.0 / n as f64;
    let mut v: Vec<f64> = (0..=n).map(|i| i as f64 * step + 0.0).collect();
    if let Some(last) = v.last_mut() {
        *last = 1.0;
    }
    v
}

/// `numpy.percentile(values, q * 100)` with the default linear method, bit for bit.
fn percentiles(values: &[f64], qs: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    qs.iter()
        .map(|&q| {
            let q = (q * 100.0) / 100.0;
            let virt = (n as f64 - 1.0) * q;
            let (prev, next) = if virt >= n as f64 - 1.0 {
                (n - 1, n - 1)
            } else if virt < 0.0 {
                (0, 0)
            } else {
                let p = virt.floor() as usize;
                (p, p + 1)
            };
            let gamma = virt - virt.floor().min(n as f64 - 1.0).max(0.0);
            let (a, b) = (sorted[prev], sorted[next]);
            let diff = b - a;
            if gamma >= 0.5 {
                b - diff * (1.0 - gamma)
            } else {
                a + diff * gamma
            }
        })
        .collect()
}

impl CalibrationCurve {
    /// The curve of binary truths `y` and probabilities `p` in `n_bins` bins
    /// (`sklearn.calibration.calibration_curve`).
    pub fn new(
        y: &[bool],
        p: &[f64],
        n_bins: usize,
        strategy: CalibrationStrategy,
    ) -> Result<Self> {
        check_lengths("calibration_curve", y.len(), p.len())?;
        check_probabilities("calibration_curve", p)?;
        if n_bins == 0 {
            return Err(EvalError::Undefined {
                metric: "calibration_curve".into(),
                reason: "needs at least one bin".into(),
            });
        }
        let q = linspace01(n_bins);
        let edges = match strategy {
            CalibrationStrategy::Uniform => q,
            CalibrationStrategy::Quantile => percentiles(p, &q),
        };
        let inner = &edges[1..edges.len() - 1];
        let mut sums = vec![0.0; edges.len()];
        let mut trues = vec![0.0; edges.len()];
        let mut totals = vec![0u64; edges.len()];
        for (&t, &v) in y.iter().zip(p) {
            let b = inner.partition_point(|e| *e < v);
            sums[b] += v;
            trues[b] += if t { 1.0 } else { 0.0 };
            totals[b] += 1;
        }
        let mut out = Self {
            prob_true: Vec::new(),
            prob_pred: Vec::new(),
            counts: Vec::new(),
        };
        for b in 0..edges.len() {
            if totals[b] > 0 {
                out.prob_true.push(trues[b] / totals[b] as f64);
                out.prob_pred.push(sums[b] / totals[b] as f64);
                out.counts.push(totals[b]);
            }
        }
        Ok(out)
    }

    /// The curve of a binary classifier's scores (positive class: the larger truth value,
    /// or 1 when the truth has one class only).
    pub fn of_scores(
        truth: &[f64],
        scores: &[Score],
        n_bins: usize,
        strategy: CalibrationStrategy,
    ) -> Result<Self> {
        let classes = distinct(truth);
        let pos = if classes.len() == 2 { classes[1] } else { 1.0 };
        if classes.len() > 2 {
            return Err(EvalError::Undefined {
                metric: "calibration_curve".into(),
                reason: format!("only binary truths are supported, found {classes:?}"),
            });
        }
        let (y, p) = super::positive_scores("calibration_curve", truth, scores, pos)?;
        Self::new(&y, &p, n_bins, strategy)
    }
}
