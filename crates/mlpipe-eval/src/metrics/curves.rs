//! Ranking curves of a binary classifier: ROC (with scikit-learn's `drop_intermediate`)
//! and its area, precision–recall and average precision.
//!
//! Tied scores form one threshold, exactly as in scikit-learn's
//! `confusion_matrix_at_thresholds`: rows are ranked by score, highest first, and the
//! counts are read only where the score changes, so a run of equal scores moves the curve
//! in one diagonal step (the trapezoid under it counts ties as one half).

use super::{binary_scores, check_finite, check_lengths, positive_scores, Evaluator};
use crate::error::{EvalError, Result};
use mlpipe_core::Score;
use serde::{Deserialize, Serialize};

/// False and true positive counts at each distinct score, highest score first, with the
/// scores as thresholds.
fn counts_at_thresholds(y: &[bool], s: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut idx: Vec<usize> = (0..s.len()).collect();
    idx.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    let (mut fps, mut tps, mut thr) = (Vec::new(), Vec::new(), Vec::new());
    let mut tp = 0.0;
    for (k, &i) in idx.iter().enumerate() {
        if y[i] {
            tp += 1.0;
        }
        let last = k + 1 == idx.len() || s[idx[k + 1]] != s[i];
        if last {
            tps.push(tp);
            fps.push((k + 1) as f64 - tp);
            thr.push(s[i]);
        }
    }
    (fps, tps, thr)
}

/// A ROC curve: rates by decreasing threshold, starting at (0, 0) with threshold +∞.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    /// False-positive rates.
    pub fpr: Vec<f64>,
    /// True-positive rates.
    pub tpr: Vec<f64>,
    /// Thresholds (the first is +∞; serialised as `null` in JSON).
    pub thresholds: Vec<f64>,
}

impl RocCurve {
    /// The curve of scores `s` for truths `y` (`sklearn.metrics.roc_curve`). With
    /// `drop_intermediate`, points collinear with their neighbours are dropped as
    /// scikit-learn does (its default). Without negatives (positives) in `y` the false
    /// (true) positive rates are NaN, as in scikit-learn.
    pub fn new(y: &[bool], s: &[f64], drop_intermediate: bool) -> Result<Self> {
        check_lengths("roc_curve", y.len(), s.len())?;
        check_finite("roc_curve", "scores", s)?;
        let (mut fps, mut tps, mut thr) = counts_at_thresholds(y, s);
        if drop_intermediate && fps.len() > 2 {
            let n = fps.len();
            let d2 = |v: &[f64], i: usize| (v[i + 2] - v[i + 1]) - (v[i + 1] - v[i]);
            let keep: Vec<usize> = (0..n)
                .filter(|&i| {
                    i == 0 || i == n - 1 || d2(&fps, i - 1) != 0.0 || d2(&tps, i - 1) != 0.0
                })
                .collect();
            fps = keep.iter().map(|&i| fps[i]).collect();
            tps = keep.iter().map(|&i| tps[i]).collect();
            thr = keep.iter().map(|&i| thr[i]).collect();
        }
        fps.insert(0, 0.0);
        tps.insert(0, 0.0);
        thr.insert(0, f64::INFINITY);
        let rate = |v: &[f64]| -> Vec<f64> {
            let last = v.last().copied().unwrap_or(0.0);
            if last <= 0.0 {
                vec![f64::NAN; v.len()]
            } else {
                v.iter().map(|x| x / last).collect()
            }
        };
        Ok(Self {
            fpr: rate(&fps),
            tpr: rate(&tps),
            thresholds: thr,
        })
    }

    /// Area under the curve by the trapezoidal rule (`sklearn.metrics.auc`).
    pub fn auc(&self) -> f64 {
        self.fpr
            .windows(2)
            .zip(self.tpr.windows(2))
            .map(|(x, y)| (x[1] - x[0]) * (y[1] + y[0]) / 2.0)
            .sum()
    }
}

/// The ROC curve points (false-positive rate, true-positive rate), one per distinct score,
/// from the highest score down, starting at (0, 0) (no points dropped).
pub fn roc_points(y: &[bool], p: &[f64]) -> Vec<(f64, f64)> {
    match RocCurve::new(y, p, false) {
        Ok(c) => c.fpr.into_iter().zip(c.tpr).collect(),
        Err(_) => vec![(0.0, 0.0)],
    }
}

/// ROC AUC of scores `s` for truths `y` (`sklearn.metrics.roc_auc_score`, binary). One
/// class only in the truth is [`EvalError::Undefined`] (scikit-learn returns NaN).
pub fn roc_auc(y: &[bool], s: &[f64]) -> Result<f64> {
    check_lengths("roc_auc", y.len(), s.len())?;
    let pos = y.iter().filter(|&&v| v).count();
    if pos == 0 || pos == y.len() {
        return Err(EvalError::Undefined {
            metric: "roc_auc".into(),
            reason: "only one class is present in the truth".into(),
        });
    }
    Ok(RocCurve::new(y, s, true)?.auc())
}

/// Area under the ROC curve of a binary classifier: the positive class is the larger of
/// the two truth values, its score the probability the model gives it. Tied scores form
/// one step of the curve (the trapezoid through it), exactly as scikit-learn's
/// `roc_auc_score` computes it.
#[derive(Clone, Copy, Debug, Default)]
pub struct RocAuc;

impl Evaluator for RocAuc {
    fn name(&self) -> &str {
        "roc_auc"
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        let (y, p) = binary_scores("roc_auc", truth, scores)?;
        roc_auc(&y, &p)
    }
}

/// One-vs-rest ROC AUC of a multiclass classifier (`sklearn.metrics.roc_auc_score(truth,
/// proba, multi_class="ovr", average=...)`): `proba[i][k]` is row `i`'s probability of
/// `classes[k]`; the per-class AUCs are averaged plainly (macro) or by class support
/// (`weighted`). Every class must appear in the truth.
pub fn roc_auc_ovr(
    truth: &[i64],
    classes: &[i64],
    proba: &[Vec<f64>],
    weighted: bool,
) -> Result<f64> {
    check_lengths("roc_auc_ovr", truth.len(), proba.len())?;
    let mut total = 0.0;
    let mut weights = 0.0;
    for (k, c) in classes.iter().enumerate() {
        let y: Vec<bool> = truth.iter().map(|t| t == c).collect();
        let s = proba
            .iter()
            .map(|row| {
                row.get(k).copied().ok_or_else(|| EvalError::BadScore {
                    metric: "roc_auc_ovr".into(),
                    reason: format!(
                        "a row has {} probabilities for {} classes",
                        row.len(),
                        classes.len()
                    ),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let support = y.iter().filter(|v| **v).count() as f64;
        let w = if weighted { support } else { 1.0 };
        total += w * roc_auc(&y, &s)?;
        weights += w;
    }
    Ok(total / weights)
}

/// One-vs-rest ROC AUC of multiclass probability scores, macro or support-weighted
/// (`roc_auc_ovr`, `roc_auc_ovr_weighted`). The class order is the first score's.
#[derive(Clone, Copy, Debug, Default)]
pub struct RocAucOvr {
    /// Weight each class's AUC by its support instead of plainly.
    pub weighted: bool,
}

impl Evaluator for RocAucOvr {
    fn name(&self) -> &str {
        if self.weighted {
            "roc_auc_ovr_weighted"
        } else {
            "roc_auc_ovr"
        }
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        let name = self.name();
        check_lengths(name, truth.len(), scores.len())?;
        let t = super::truth_labels(name, truth)?;
        let Some(Score::Probabilities { classes, .. }) = scores.first() else {
            return Err(EvalError::BadScore {
                metric: name.into(),
                reason: "needs probability scores".into(),
            });
        };
        let proba = scores
            .iter()
            .map(|s| {
                classes
                    .iter()
                    .map(|c| s.probability_of(*c))
                    .collect::<Option<Vec<f64>>>()
                    .ok_or_else(|| EvalError::BadScore {
                        metric: name.into(),
                        reason: format!(
                            "every score needs probabilities for the classes {classes:?}"
                        ),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        for row in &proba {
            check_finite(name, "probabilities", row)?;
        }
        roc_auc_ovr(&t, classes, &proba, self.weighted).map_err(|e| match e {
            EvalError::Undefined { reason, .. } => EvalError::Undefined {
                metric: name.into(),
                reason: format!("a class is missing from the truth ({reason})"),
            },
            other => other,
        })
    }
}

/// A precision–recall curve, recall decreasing, ending at (recall 0, precision 1) which
/// has no threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrCurve {
    /// Precision per point.
    pub precision: Vec<f64>,
    /// Recall per point.
    pub recall: Vec<f64>,
    /// Thresholds, increasing (one fewer than the points).
    pub thresholds: Vec<f64>,
}

impl PrCurve {
    /// The curve (`sklearn.metrics.precision_recall_curve`). Without positives in `y` the
    /// recall is 1 everywhere, as in scikit-learn.
    pub fn new(y: &[bool], s: &[f64], drop_intermediate: bool) -> Result<Self> {
        check_lengths("precision_recall_curve", y.len(), s.len())?;
        check_finite("precision_recall_curve", "scores", s)?;
        let (mut fps, mut tps, mut thr) = counts_at_thresholds(y, s);
        if drop_intermediate && fps.len() > 2 {
            let n = fps.len();
            let keep: Vec<usize> = (0..n)
                .filter(|&i| i == 0 || i == n - 1 || tps[i] != tps[i - 1] || tps[i + 1] != tps[i])
                .collect();
            fps = keep.iter().map(|&i| fps[i]).collect();
            tps = keep.iter().map(|&i| tps[i]).collect();
            thr = keep.iter().map(|&i| thr[i]).collect();
        }
        let last_tp = tps.last().copied().unwrap_or(0.0);
        let mut precision: Vec<f64> = tps
            .iter()
            .zip(&fps)
            .map(|(tp, fp)| if tp + fp != 0.0 { tp / (tp + fp) } else { 0.0 })
            .collect();
        let mut recall: Vec<f64> = if last_tp == 0.0 {
            vec![1.0; tps.len()]
        } else {
            tps.iter().map(|tp| tp / last_tp).collect()
        };
        precision.reverse();
        recall.reverse();
        thr.reverse();
        precision.push(1.0);
        recall.push(0.0);
        Ok(Self {
            precision,
            recall,
            thresholds: thr,
        })
    }

    /// Average precision: Σ (Rₙ − Rₙ₋₁)·Pₙ, the step-wise area without interpolation
    /// (`sklearn.metrics.average_precision_score`).
    pub fn average_precision(&self) -> f64 {
        let s: f64 = self
            .recall
            .windows(2)
            .zip(&self.precision)
            .map(|(r, p)| (r[1] - r[0]) * p)
            .sum();
        (-s).max(0.0)
    }
}

/// Average precision of scores `s` for truths `y`. No positives in the truth gives 0.0, as
/// scikit-learn does (with a warning).
pub fn average_precision(y: &[bool], s: &[f64]) -> Result<f64> {
    Ok(PrCurve::new(y, s, false)?.average_precision())
}

/// Average precision of the positive class (label 1) of a binary classifier.
#[derive(Clone, Copy, Debug, Default)]
pub struct AveragePrecision;

impl Evaluator for AveragePrecision {
    fn name(&self) -> &str {
        "average_precision"
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        let classes = super::distinct(truth);
        if classes.len() > 2 || classes.iter().any(|c| *c != 0.0 && *c != 1.0) {
            return Err(EvalError::Undefined {
                metric: "average_precision".into(),
                reason: format!("needs binary 0/1 truths, found classes {classes:?}"),
            });
        }
        let (y, p) = positive_scores("average_precision", truth, scores, 1.0)?;
        average_precision(&y, &p)
    }
}
