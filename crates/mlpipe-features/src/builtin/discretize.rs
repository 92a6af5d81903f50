//! `clip` (fixed bounds or fitted quantiles: winsorising) and `bucketize` (fixed cut
//! points, or `n_bins` bins of equal width / equal count like scikit-learn's
//! `KBinsDiscretizer(encode="ordinal", strategy="uniform" | "quantile")`).

use super::{all_missing, check_fit, sorted_column};
use crate::error::{FeatureError, Result};
use crate::stats::quantile_sorted;
use crate::step::{FittedTransformer, Transformer};
use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

/// Parameters of [`Clip`]: fixed bounds, or quantiles (in [0, 1]) fitted per column.
/// A bound left out is open.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClipParams {
    /// Fixed lower bound.
    pub lower: Option<f64>,
    /// Fixed upper bound.
    pub upper: Option<f64>,
    /// Lower bound = this quantile of the column (e.g. 0.01).
    pub lower_quantile: Option<f64>,
    /// Upper bound = this quantile of the column (e.g. 0.99).
    pub upper_quantile: Option<f64>,
}

/// Clips (winsorises) each column to its bounds; `NaN` stays `NaN`.
#[derive(Clone, Debug, Default)]
pub struct Clip(pub ClipParams);

/// A fitted [`Clip`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedClip {
    /// Column names.
    pub names: Vec<String>,
    /// Lower bound per column (`-inf` when open; JSON `null`).
    pub lower: Vec<Option<f64>>,
    /// Upper bound per column.
    pub upper: Vec<Option<f64>>,
}

fn check_q(q: Option<f64>, what: &str) -> Result<()> {
    match q {
        Some(q) if !(0.0..=1.0).contains(&q) => Err(FeatureError::Definition(format!(
            "clip: {what} must be in [0, 1], got {q}"
        ))),
        _ => Ok(()),
    }
}

impl Transformer for Clip {
    fn kind(&self) -> &str {
        "clip"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Box<dyn FittedTransformer>> {
        let p = &self.0;
        if (p.lower.is_some() && p.lower_quantile.is_some())
            || (p.upper.is_some() && p.upper_quantile.is_some())
        {
            return Err(FeatureError::Definition(
                "clip: give a fixed bound or a quantile for each side, not both".into(),
            ));
        }
        check_q(p.lower_quantile, "lower_quantile")?;
        check_q(p.upper_quantile, "upper_quantile")?;
        check_fit("clip", x, names, true)?;
        let mut lower = Vec::new();
        let mut upper = Vec::new();
        for (j, name) in names.iter().enumerate() {
            let sorted = if p.lower_quantile.is_some() || p.upper_quantile.is_some() {
                let s = sorted_column(x, j);
                if s.is_empty() {
                    return Err(all_missing("clip", name));
                }
                s
            } else {
                Vec::new()
            };
            let lo = p
                .lower
                .or(p.lower_quantile.map(|q| quantile_sorted(&sorted, q)));
            let hi = p
                .upper
                .or(p.upper_quantile.map(|q| quantile_sorted(&sorted, q)));
            if let (Some(l), Some(h)) = (lo, hi) {
                if l > h {
                    return Err(FeatureError::Definition(format!(
                        "clip: lower bound {l} is above upper bound {h} for column `{name}`"
                    )));
                }
            }
            lower.push(lo);
            upper.push(hi);
        }
        Ok(Box::new(FittedClip {
            names: names.to_vec(),
            lower,
            upper,
        }))
    }
}

impl FittedClip {
    #[inline]
    fn apply(&self, j: usize, v: f64) -> f64 {
        if v.is_nan() {
            return v;
        }
        let mut v = v;
        if let Some(l) = self.lower[j] {
            if v < l {
                v = l;
            }
        }
        if let Some(h) = self.upper[j] {
            if v > h {
                v = h;
            }
        }
        v
    }
}

super::cellwise_fitted!(FittedClip, "clip");

/// How [`Bucketize`] places its bins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinStrategy {
    /// Equal-count bins: edges at linear-interpolation quantiles (the default).
    #[default]
    Quantile,
    /// Equal-width bins between the column's minimum and maximum.
    Uniform,
}

/// How quantile edges are computed (scikit-learn's `quantile_method`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantileMethod {
    /// NumPy `averaged_inverted_cdf` (scikit-learn 1.9's default).
    #[default]
    AveragedInvertedCdf,
    /// NumPy `linear` (scikit-learn before 1.7).
    Linear,
}

/// NumPy's `averaged_inverted_cdf` quantile of sorted values.
pub fn quantile_averaged_inverted_cdf(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let v = n as f64 * q - 1.0;
    let prev = v.floor();
    let gamma = if v - prev == 0.0 { 0.5 } else { 1.0 };
    let clamp = |i: f64| (i.max(0.0) as usize).min(n - 1);
    let (a, b) = (sorted[clamp(prev)], sorted[clamp(prev + 1.0)]);
    if gamma == 1.0 {
        b
    } else {
        a + (b - a) * 0.5
    }
}

/// Parameters of [`Bucketize`]: either `edges` (cut points, the same for every column) or
/// `n_bins` with a `strategy`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BucketizeParams {
    /// Fixed cut points, ascending: bucket `i` holds `edges[i-1] <= x < edges[i]`.
    pub edges: Option<Vec<f64>>,
    /// Number of fitted bins.
    pub n_bins: Option<usize>,
    /// Fitted bin placement.
    pub strategy: BinStrategy,
    /// Quantile computation of strategy `quantile`.
    pub quantile_method: QuantileMethod,
}

/// Replaces each value by the index of its bucket (as `f64`); `NaN` stays `NaN`.
#[derive(Clone, Debug, Default)]
pub struct Bucketize(pub BucketizeParams);

/// A fitted [`Bucketize`]: inner cut points per column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedBucketize {
    /// Column names.
    pub names: Vec<String>,
    /// Ascending cut points per column; the bucket is the number of cut points `<= x`.
    pub cuts: Vec<Vec<f64>>,
}

/// Edges of `n` equal-width bins as `numpy.linspace(lo, hi, n + 1)`.
fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let step = (hi - lo) / n as f64;
    let mut e: Vec<f64> = (0..=n).map(|i| i as f64 * step + lo).collect();
    if let Some(last) = e.last_mut() {
        *last = hi;
    }
    e
}

impl Transformer for Bucketize {
    fn kind(&self) -> &str {
        "bucketize"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Box<dyn FittedTransformer>> {
        let cuts = match (&self.0.edges, self.0.n_bins) {
            (Some(edges), None) => {
                check_fit("bucketize", x, names, true)?;
                if edges.iter().any(|e| !e.is_finite()) || edges.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(FeatureError::Definition(
                        "bucketize: edges must be finite and strictly ascending".into(),
                    ));
                }
                vec![edges.clone(); names.len()]
            }
            (None, Some(n)) if n >= 2 => {
                check_fit("bucketize", x, names, false)?;
                (0..names.len())
                    .map(|j| {
                        let s = sorted_column(x, j);
                        let (lo, hi) = (s[0], s[s.len() - 1]);
                        let edges = match self.0.strategy {
                            BinStrategy::Uniform if lo == hi => {
                                vec![f64::NEG_INFINITY, f64::INFINITY]
                            }
                            BinStrategy::Uniform => linspace(lo, hi, n),
                            BinStrategy::Quantile => {
                                let qs = linspace(0.0, 100.0, n);
                                let e: Vec<f64> = qs
                                    .iter()
                                    .map(|q| match self.0.quantile_method {
                                        QuantileMethod::Linear => quantile_sorted(&s, q / 100.0),
                                        QuantileMethod::AveragedInvertedCdf => {
                                            quantile_averaged_inverted_cdf(&s, q / 100.0)
                                        }
                                    })
                                    .collect();
                                // Drop bins narrower than 1e-8, as scikit-learn does.
                                let mut kept = Vec::with_capacity(e.len());
                                let mut prev = f64::NEG_INFINITY;
                                for v in e {
                                    if kept.is_empty() || v - prev > 1e-8 {
                                        kept.push(v);
                                    }
                                    prev = v;
                                }
                                kept
                            }
                        };
                        // Inner edges only: the outer ones never change a bucket.
                        edges
                            .get(1..edges.len().saturating_sub(1))
                            .unwrap_or_default()
                            .to_vec()
                    })
                    .collect()
            }
            _ => {
                return Err(FeatureError::Definition(
                    "bucketize: give either `edges` or `n_bins` (at least 2)".into(),
                ))
            }
        };
        Ok(Box::new(FittedBucketize {
            names: names.to_vec(),
            cuts,
        }))
    }
}

impl FittedBucketize {
    #[inline]
    fn apply(&self, j: usize, v: f64) -> f64 {
        if v.is_nan() {
            return v;
        }
        self.cuts[j].partition_point(|&c| c <= v) as f64
    }
}

super::cellwise_fitted!(FittedBucketize, "bucketize");
