//! The [`Evaluator`] trait and the built-in metrics.

use crate::error::{EvalError, Result};
use mlpipe_core::Score;

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

fn check(metric: &str, truth: &[f64], scores: &[Score]) -> Result<()> {
    if truth.is_empty() {
        return Err(EvalError::Empty {
            metric: metric.into(),
        });
    }
    if truth.len() != scores.len() {
        return Err(EvalError::Length {
            metric: metric.into(),
            truths: truth.len(),
            scores: scores.len(),
        });
    }
    Ok(())
}

/// Share of rows whose predicted class equals the truth.
#[derive(Clone, Copy, Debug, Default)]
pub struct Accuracy;

impl Evaluator for Accuracy {
    fn name(&self) -> &str {
        "accuracy"
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        check("accuracy", truth, scores)?;
        let mut hits = 0usize;
        for (t, s) in truth.iter().zip(scores) {
            let c = s.class().ok_or_else(|| EvalError::BadScore {
                metric: "accuracy".into(),
                reason: format!("a {} score has no class", s.kind()),
            })?;
            if c as f64 == *t {
                hits += 1;
            }
        }
        Ok(hits as f64 / truth.len() as f64)
    }
}

/// Area under the ROC curve of a binary classifier: the positive class is the larger of
/// the two truth values, its score the probability the model gives it. Tied scores form
/// one step of the curve (the trapezoid through it), exactly as scikit-learn's
/// `roc_auc_score` computes it.
#[derive(Clone, Copy, Debug, Default)]
pub struct RocAuc;

/// Scores of the positive class, checking the input is binary and finite.
pub(crate) fn binary_scores(
    metric: &str,
    truth: &[f64],
    scores: &[Score],
) -> Result<(Vec<bool>, Vec<f64>)> {
    check(metric, truth, scores)?;
    let mut classes: Vec<f64> = truth.to_vec();
    classes.sort_by(f64::total_cmp);
    classes.dedup();
    if classes.len() != 2 {
        return Err(EvalError::Undefined {
            metric: metric.into(),
            reason: format!(
                "the truth needs exactly two classes, it has {}",
                classes.len()
            ),
        });
    }
    let pos = classes[1];
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
        if !v.is_finite() {
            return Err(EvalError::BadScore {
                metric: metric.into(),
                reason: "scores contain NaN or infinity".into(),
            });
        }
        y.push(*t == pos);
        p.push(v);
    }
    Ok((y, p))
}

/// The ROC curve points (false-positive rate, true-positive rate), one per distinct score,
/// from the highest score down, starting at (0, 0).
pub fn roc_points(y: &[bool], p: &[f64]) -> Vec<(f64, f64)> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let pos = y.iter().filter(|&&v| v).count() as f64;
    let neg = y.len() as f64 - pos;
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut pts = vec![(0.0, 0.0)];
    let mut k = 0;
    while k < idx.len() {
        let s = p[idx[k]];
        while k < idx.len() && p[idx[k]] == s {
            if y[idx[k]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            k += 1;
        }
        pts.push((fp / neg, tp / pos));
    }
    pts
}

impl Evaluator for RocAuc {
    fn name(&self) -> &str {
        "roc_auc"
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        let (y, p) = binary_scores("roc_auc", truth, scores)?;
        let pts = roc_points(&y, &p);
        Ok(pts
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
            .sum())
    }
}

/// An evaluator by name.
pub fn evaluator(name: &str) -> Result<Box<dyn Evaluator>> {
    match name {
        "accuracy" => Ok(Box::new(Accuracy)),
        "roc_auc" => Ok(Box::new(RocAuc)),
        other => Err(EvalError::UnknownMetric(other.to_string())),
    }
}
