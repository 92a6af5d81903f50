//! Metrics over predicted classes: accuracy, balanced accuracy, precision / recall / F1
//! with scikit-learn's averages, and the confusion matrix.
//!
//! Labels are the sorted union of the truth and the predictions, as in scikit-learn's
//! `unique_labels`. A ratio whose denominator is zero (precision with no predicted
//! positives, recall of a class absent from the truth) is 0.0, scikit-learn's
//! `zero_division` default.

use super::{check_lengths, class_labels, Evaluator};
use crate::error::{EvalError, Result};
use mlpipe_core::Score;
use serde::{Deserialize, Serialize};

/// Share of rows whose predicted class equals the truth.
#[derive(Clone, Copy, Debug, Default)]
pub struct Accuracy;

impl Evaluator for Accuracy {
    fn name(&self) -> &str {
        "accuracy"
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        let (t, p) = class_labels("accuracy", truth, scores)?;
        accuracy(&t, &p)
    }
}

/// Share of equal labels (`sklearn.metrics.accuracy_score`).
pub fn accuracy(truth: &[i64], pred: &[i64]) -> Result<f64> {
    check_lengths("accuracy", truth.len(), pred.len())?;
    let hits = truth.iter().zip(pred).filter(|(a, b)| a == b).count();
    Ok(hits as f64 / truth.len() as f64)
}

/// A confusion matrix: `counts[i][j]` rows of true class `labels[i]` predicted as
/// `labels[j]` (scikit-learn's orientation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// Class labels, sorted.
    pub labels: Vec<i64>,
    /// Counts, truth by row, prediction by column.
    pub counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// The matrix of `truth` against `pred` over the sorted union of their labels
    /// (`sklearn.metrics.confusion_matrix`).
    pub fn new(truth: &[i64], pred: &[i64]) -> Result<Self> {
        check_lengths("confusion_matrix", truth.len(), pred.len())?;
        let mut labels: Vec<i64> = truth.iter().chain(pred).copied().collect();
        labels.sort_unstable();
        labels.dedup();
        let k = labels.len();
        let mut counts = vec![vec![0u64; k]; k];
        for (t, p) in truth.iter().zip(pred) {
            if let (Ok(i), Ok(j)) = (labels.binary_search(t), labels.binary_search(p)) {
                counts[i][j] += 1;
            }
        }
        Ok(Self { labels, counts })
    }

    /// Per class: (true positives, predicted count, true count).
    fn per_class(&self) -> Vec<(f64, f64, f64)> {
        let k = self.labels.len();
        (0..k)
            .map(|i| {
                let tp = self.counts[i][i] as f64;
                let pred: u64 = (0..k).map(|r| self.counts[r][i]).sum();
                let truth: u64 = self.counts[i].iter().sum();
                (tp, pred as f64, truth as f64)
            })
            .collect()
    }
}

/// Mean recall over the classes present in the truth
/// (`sklearn.metrics.balanced_accuracy_score`, not adjusted).
pub fn balanced_accuracy(truth: &[i64], pred: &[i64]) -> Result<f64> {
    let cm = ConfusionMatrix::new(truth, pred)?;
    let recalls: Vec<f64> = cm
        .per_class()
        .into_iter()
        .filter(|(_, _, t)| *t > 0.0)
        .map(|(tp, _, t)| tp / t)
        .collect();
    Ok(recalls.iter().sum::<f64>() / recalls.len() as f64)
}

/// Mean recall over the classes present in the truth.
#[derive(Clone, Copy, Debug, Default)]
pub struct BalancedAccuracy;

impl Evaluator for BalancedAccuracy {
    fn name(&self) -> &str {
        "balanced_accuracy"
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        let (t, p) = class_labels("balanced_accuracy", truth, scores)?;
        balanced_accuracy(&t, &p)
    }
}

/// How per-class precision, recall and F1 are combined (scikit-learn's `average`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Average {
    /// The class `pos_label` only; the labels must be at most two.
    Binary {
        /// The positive class.
        pos_label: i64,
    },
    /// Unweighted mean over classes.
    Macro,
    /// Mean over classes weighted by their true count.
    Weighted,
    /// From the counts summed over classes.
    Micro,
}

/// Precision, recall and F1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prf {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1 score.
    pub f1: f64,
}

fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

fn prf_of(tp: f64, pred: f64, truth: f64) -> Prf {
    Prf {
        precision: ratio(tp, pred),
        recall: ratio(tp, truth),
        // scikit-learn: (1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp) with β = 1.
        f1: ratio(2.0 * tp, 2.0 * tp + (truth - tp) + (pred - tp)),
    }
}

/// Precision, recall and F1 of `pred` against `truth`
/// (`sklearn.metrics.precision_recall_fscore_support`, `zero_division` 0).
pub fn precision_recall_f1(truth: &[i64], pred: &[i64], average: Average) -> Result<Prf> {
    let cm = ConfusionMatrix::new(truth, pred)?;
    let per = cm.per_class();
    match average {
        Average::Binary { pos_label } => {
            if cm.labels.len() > 2 {
                return Err(EvalError::Undefined {
                    metric: "precision/recall/f1".into(),
                    reason: format!(
                        "the labels are multiclass ({:?}); choose the macro, weighted or micro average",
                        cm.labels
                    ),
                });
            }
            match cm.labels.binary_search(&pos_label) {
                Ok(i) => {
                    let (tp, p, t) = per[i];
                    Ok(prf_of(tp, p, t))
                }
                Err(_) if cm.labels.len() == 2 => Err(EvalError::Undefined {
                    metric: "precision/recall/f1".into(),
                    reason: format!(
                        "positive label {pos_label} is not one of the labels {:?}",
                        cm.labels
                    ),
                }),
                Err(_) => Ok(prf_of(0.0, 0.0, 0.0)),
            }
        }
        Average::Micro => {
            let (tp, p, t) = per
                .iter()
                .fold((0.0, 0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
            Ok(prf_of(tp, p, t))
        }
        Average::Macro | Average::Weighted => {
            let each: Vec<(Prf, f64)> = per
                .iter()
                .map(|&(tp, p, t)| (prf_of(tp, p, t), t))
                .collect();
            let weights: Vec<f64> = match average {
                Average::Macro => vec![1.0; each.len()],
                _ => each.iter().map(|(_, t)| *t).collect(),
            };
            let total: f64 = weights.iter().sum();
            if total == 0.0 {
                return Ok(prf_of(0.0, 0.0, 0.0));
            }
            let avg = |f: fn(&Prf) -> f64| -> f64 {
                each.iter()
                    .zip(&weights)
                    .map(|((x, _), w)| f(x) * w)
                    .sum::<f64>()
                    / total
            };
            Ok(Prf {
                precision: avg(|x| x.precision),
                recall: avg(|x| x.recall),
                f1: avg(|x| x.f1),
            })
        }
    }
}

/// Which of precision, recall and F1 a [`PrfMetric`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrfKind {
    /// Precision.
    Precision,
    /// Recall.
    Recall,
    /// F1 score.
    F1,
}

/// Precision, recall or F1 with an average, as an evaluator named like scikit-learn's
/// scorers (`f1`, `precision_macro`, `recall_weighted`, `f1_micro`…).
#[derive(Clone, Debug)]
pub struct PrfMetric {
    kind: PrfKind,
    average: Average,
    name: String,
}

impl PrfMetric {
    /// The evaluator of `kind` with `average`.
    pub fn new(kind: PrfKind, average: Average) -> Self {
        let base = match kind {
            PrfKind::Precision => "precision",
            PrfKind::Recall => "recall",
            PrfKind::F1 => "f1",
        };
        let name = match average {
            Average::Binary { .. } => base.to_string(),
            Average::Macro => format!("{base}_macro"),
            Average::Weighted => format!("{base}_weighted"),
            Average::Micro => format!("{base}_micro"),
        };
        Self {
            kind,
            average,
            name,
        }
    }
}

impl Evaluator for PrfMetric {
    fn name(&self) -> &str {
        &self.name
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        let (t, p) = class_labels(&self.name, truth, scores)?;
        let r = precision_recall_f1(&t, &p, self.average).map_err(|e| match e {
            EvalError::Undefined { reason, .. } => EvalError::Undefined {
                metric: self.name.clone(),
                reason,
            },
            other => other,
        })?;
        Ok(match self.kind {
            PrfKind::Precision => r.precision,
            PrfKind::Recall => r.recall,
            PrfKind::F1 => r.f1,
        })
    }
}
