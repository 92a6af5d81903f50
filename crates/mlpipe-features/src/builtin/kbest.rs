//! Statistical selection strategies, as scikit-learn's `SelectKBest` with `chi2` or
//! `f_classif`, and `VarianceThreshold`.
//!
//! Scores and p-values match scikit-learn to about 1e-10 relative: the χ² and F survival
//! functions come from the regularised incomplete gamma and beta functions in
//! [`crate::stats`].

use super::check_fit;
use crate::error::{FeatureError, Result};
use crate::stats::{chi2_sf, f_sf};
use crate::step::{FeatureScore, Selection, Selector};
use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

/// Class index of every row and the number of classes; the label must be present, finite
/// and integral (class numbers) with at least two classes.
pub fn class_indices(step: &str, y: Option<ArrayView1<'_, f64>>) -> Result<(Vec<usize>, usize)> {
    let y = y.ok_or_else(|| {
        FeatureError::Label(format!(
            "{step} needs class labels; set `label` in the feature definition"
        ))
    })?;
    if let Some(bad) = y.iter().find(|v| !v.is_finite() || v.fract() != 0.0) {
        return Err(FeatureError::Label(format!(
            "{step} needs class labels (whole numbers), found {bad}; use a regression-friendly selector such as variance_threshold"
        )));
    }
    let mut classes: Vec<f64> = y.to_vec();
    classes.sort_unstable_by(f64::total_cmp);
    classes.dedup();
    if classes.len() < 2 {
        return Err(FeatureError::Label(format!(
            "{step} needs at least two classes in the label, found {}",
            classes.len()
        )));
    }
    let idx = y
        .iter()
        .map(|v| classes.partition_point(|c| c < v))
        .collect();
    Ok((idx, classes.len()))
}

/// χ² statistic and p-value per column (`sklearn.feature_selection.chi2`).
pub fn chi2(x: ArrayView2<'_, f64>, classes: &[usize], n_classes: usize) -> Vec<(f64, f64)> {
    let n = x.nrows() as f64;
    let mut class_n = vec![0.0; n_classes];
    for &c in classes {
        class_n[c] += 1.0;
    }
    x.columns()
        .into_iter()
        .map(|col| {
            let mut observed = vec![0.0; n_classes];
            for (&v, &c) in col.iter().zip(classes) {
                observed[c] += v;
            }
            let total: f64 = col.sum();
            let stat: f64 = observed
                .iter()
                .zip(&class_n)
                .map(|(o, cn)| {
                    let e = cn / n * total;
                    (o - e) * (o - e) / e
                })
                .sum();
            (stat, chi2_sf(stat, (n_classes - 1) as f64))
        })
        .collect()
}

/// One-way ANOVA F statistic and p-value per column (`sklearn.feature_selection.f_classif`).
pub fn f_classif(x: ArrayView2<'_, f64>, classes: &[usize], n_classes: usize) -> Vec<(f64, f64)> {
    let n = x.nrows();
    let mut class_n = vec![0.0; n_classes];
    for &c in classes {
        class_n[c] += 1.0;
    }
    let dfb = (n_classes - 1) as f64;
    let dfw = n as f64 - n_classes as f64;
    x.columns()
        .into_iter()
        .map(|col| {
            let mean = col.sum() / n as f64;
            let mut sums = vec![0.0; n_classes];
            for (&v, &c) in col.iter().zip(classes) {
                sums[c] += v;
            }
            let means: Vec<f64> = sums.iter().zip(&class_n).map(|(s, k)| s / k).collect();
            let ssb: f64 = means
                .iter()
                .zip(&class_n)
                .map(|(m, k)| k * (m - mean) * (m - mean))
                .sum();
            let ssw: f64 = col
                .iter()
                .zip(classes)
                .map(|(&v, &c)| (v - means[c]) * (v - means[c]))
                .sum();
            let f = (ssb / dfb) / (ssw / dfw);
            (f, f_sf(f, dfb, dfw))
        })
        .collect()
}

/// Keeps the `k` best scores (NaN counting as the worst), ties broken towards the later
/// column as `SelectKBest` does (stable ascending sort, last `k`).
pub fn top_k(scores: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    let key = |i: usize| {
        if scores[i].is_nan() {
            f64::MIN
        } else {
            scores[i]
        }
    };
    order.sort_by(|&a, &b| key(a).total_cmp(&key(b)));
    let mut kept = order[scores.len().saturating_sub(k)..].to_vec();
    kept.sort_unstable();
    kept
}

fn selection(names: &[String], stats: &[(f64, Option<f64>)], kept: Vec<usize>) -> Selection {
    let scores = names
        .iter()
        .zip(stats)
        .enumerate()
        .map(|(i, (n, (s, p)))| FeatureScore {
            name: n.clone(),
            score: *s,
            p_value: *p,
            kept: kept.binary_search(&i).is_ok(),
        })
        .collect();
    Selection { kept, scores }
}

/// The statistic a [`KBest`] ranks by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KBestScore {
    /// χ² between each non-negative feature and the classes.
    Chi2,
    /// ANOVA F between each feature and the classes.
    FClassif,
}

/// Parameters of [`KBest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KBestParams {
    /// How many features to keep.
    pub k: usize,
}

/// Keeps the `k` features with the best score (`k_best_chi2`, `k_best_f_classif`).
#[derive(Clone, Debug, PartialEq)]
pub struct KBest {
    /// The statistic.
    pub score: KBestScore,
    /// Parameters.
    pub params: KBestParams,
}

impl Selector for KBest {
    fn kind(&self) -> &str {
        match self.score {
            KBestScore::Chi2 => "k_best_chi2",
            KBestScore::FClassif => "k_best_f_classif",
        }
    }

    fn select(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Selection> {
        let kind = self.kind().to_string();
        check_fit(&kind, x, names, false)?;
        if self.params.k == 0 || self.params.k > names.len() {
            return Err(FeatureError::Definition(format!(
                "{kind}: k must be between 1 and the number of features ({}), got {}",
                names.len(),
                self.params.k
            )));
        }
        let (classes, n_classes) = class_indices(&kind, y)?;
        if classes.len() != x.nrows() {
            return Err(FeatureError::Shape(format!(
                "{kind}: {} labels for {} rows",
                classes.len(),
                x.nrows()
            )));
        }
        let stats = match self.score {
            KBestScore::Chi2 => {
                for (j, col) in x.columns().into_iter().enumerate() {
                    if col.iter().any(|&v| v < 0.0) {
                        return Err(FeatureError::BadValues {
                            step: kind,
                            column: names[j].clone(),
                            what: "negative values (chi² needs counts or frequencies; put a min_max_scaler before it)".into(),
                        });
                    }
                }
                chi2(x, &classes, n_classes)
            }
            KBestScore::FClassif => f_classif(x, &classes, n_classes),
        };
        let scores: Vec<f64> = stats.iter().map(|s| s.0).collect();
        let kept = top_k(&scores, self.params.k);
        let stats: Vec<(f64, Option<f64>)> = stats.into_iter().map(|(s, p)| (s, Some(p))).collect();
        Ok(selection(names, &stats, kept))
    }
}

/// Parameters of [`VarianceThreshold`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VarianceThreshold {
    /// Keep features whose (population) variance is above this (default 0: drop constants).
    pub threshold: f64,
}

impl Selector for VarianceThreshold {
    fn kind(&self) -> &str {
        "variance_threshold"
    }

    fn select(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Selection> {
        check_fit("variance_threshold", x, names, true)?;
        let stats: Vec<(f64, Option<f64>)> = x
            .columns()
            .into_iter()
            .map(|col| {
                let v: Vec<f64> = col.iter().copied().filter(|v| !v.is_nan()).collect();
                if v.is_empty() {
                    return (f64::NAN, None);
                }
                let n = v.len() as f64;
                let m = v.iter().sum::<f64>() / n;
                let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
                let (lo, hi) = v
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                        (a.min(x), b.max(x))
                    });
                // As scikit-learn: a column whose values are all equal has variance 0 exactly.
                (if hi - lo == 0.0 { 0.0 } else { var }, None)
            })
            .collect();
        let kept: Vec<usize> = stats
            .iter()
            .enumerate()
            .filter(|(_, (v, _))| *v > self.threshold)
            .map(|(i, _)| i)
            .collect();
        if kept.is_empty() {
            return Err(FeatureError::Definition(format!(
                "variance_threshold: no feature has variance above {}",
                self.threshold
            )));
        }
        Ok(selection(names, &stats, kept))
    }
}
