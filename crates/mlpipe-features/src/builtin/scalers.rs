//! `min_max_scaler` and `robust_scaler`, as scikit-learn's `MinMaxScaler` and
//! `RobustScaler`: `NaN`s are ignored when fitting and kept when transforming; infinities
//! are refused; a zero range scales by 1.

use super::{all_missing, check_fit, sorted_column};
use crate::error::{FeatureError, Result};
use crate::stats::quantile_sorted;
use crate::step::{FittedTransformer, Transformer};
use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

/// scikit-learn's `_handle_zeros_in_scale`: scales below 10·ε become 1.
pub(crate) fn nonzero_scale(s: f64) -> f64 {
    if s < 10.0 * f64::EPSILON {
        1.0
    } else {
        s
    }
}

/// Parameters of [`MinMaxScaler`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MinMaxParams {
    /// Output range (default `[0, 1]`).
    pub feature_range: [f64; 2],
    /// Clip transformed values to the range (default false).
    pub clip: bool,
}

impl Default for MinMaxParams {
    fn default() -> Self {
        Self {
            feature_range: [0.0, 1.0],
            clip: false,
        }
    }
}

/// Scales each column to `feature_range` by its fitted minimum and maximum.
#[derive(Clone, Debug, Default)]
pub struct MinMaxScaler(pub MinMaxParams);

/// A fitted [`MinMaxScaler`]: `x · scale + min`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedMinMax {
    /// Column names.
    pub names: Vec<String>,
    /// Multiplier per column.
    pub scale: Vec<f64>,
    /// Offset per column.
    pub min: Vec<f64>,
    /// Clip to this range, when set.
    pub clip: Option<[f64; 2]>,
}

impl Transformer for MinMaxScaler {
    fn kind(&self) -> &str {
        "min_max_scaler"
    }

    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Box<dyn FittedTransformer>> {
        check_fit("min_max_scaler", x, names, true)?;
        let [lo, hi] = self.0.feature_range;
        if lo >= hi || !lo.is_finite() || !hi.is_finite() {
            return Err(FeatureError::Definition(format!(
                "min_max_scaler: feature_range must be finite with min < max, got [{lo}, {hi}]"
            )));
        }
        let mut scale = Vec::new();
        let mut min = Vec::new();
        for (j, name) in names.iter().enumerate() {
            let (dmin, dmax) = x
                .column(j)
                .iter()
                .filter(|v| !v.is_nan())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            if dmin > dmax {
                return Err(all_missing("min_max_scaler", name));
            }
            let s = (hi - lo) / nonzero_scale(dmax - dmin);
            scale.push(s);
            min.push(lo - dmin * s);
        }
        Ok(Box::new(FittedMinMax {
            names: names.to_vec(),
            scale,
            min,
            clip: self.0.clip.then_some([lo, hi]),
        }))
    }
}

impl FittedMinMax {
    #[inline]
    fn apply(&self, j: usize, v: f64) -> f64 {
        let t = v * self.scale[j] + self.min[j];
        match self.clip {
            Some([lo, hi]) if !t.is_nan() => t.max(lo).min(hi),
            _ => t,
        }
    }
}

super::cellwise_fitted!(FittedMinMax, "min_max_scaler");

/// Parameters of [`RobustScaler`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RobustParams {
    /// Subtract the median (default true).
    pub with_centering: bool,
    /// Divide by the inter-quantile range (default true).
    pub with_scaling: bool,
    /// Percentiles of the range (default `[25, 75]`).
    pub quantile_range: [f64; 2],
}

impl Default for RobustParams {
    fn default() -> Self {
        Self {
            with_centering: true,
            with_scaling: true,
            quantile_range: [25.0, 75.0],
        }
    }
}

/// Centres on the median and scales by the inter-quartile range (NumPy's linear
/// percentiles, as scikit-learn).
#[derive(Clone, Debug, Default)]
pub struct RobustScaler(pub RobustParams);

/// A fitted [`RobustScaler`]: `(x − center) / scale`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedRobust {
    /// Column names.
    pub names: Vec<String>,
    /// Subtracted per column.
    pub center: Vec<f64>,
    /// Divided by per column.
    pub scale: Vec<f64>,
}

impl Transformer for RobustScaler {
    fn kind(&self) -> &str {
        "robust_scaler"
    }

    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Box<dyn FittedTransformer>> {
        check_fit("robust_scaler", x, names, true)?;
        let [qlo, qhi] = self.0.quantile_range;
        if !(0.0..=100.0).contains(&qlo) || !(0.0..=100.0).contains(&qhi) || qlo > qhi {
            return Err(FeatureError::Definition(format!(
                "robust_scaler: quantile_range must satisfy 0 <= low <= high <= 100, got [{qlo}, {qhi}]"
            )));
        }
        let mut center = Vec::new();
        let mut scale = Vec::new();
        for (j, name) in names.iter().enumerate() {
            let s = sorted_column(x, j);
            if s.is_empty() {
                return Err(all_missing("robust_scaler", name));
            }
            center.push(if self.0.with_centering {
                quantile_sorted(&s, 0.5)
            } else {
                0.0
            });
            scale.push(if self.0.with_scaling {
                nonzero_scale(quantile_sorted(&s, qhi / 100.0) - quantile_sorted(&s, qlo / 100.0))
            } else {
                1.0
            });
        }
        Ok(Box::new(FittedRobust {
            names: names.to_vec(),
            center,
            scale,
        }))
    }
}

impl FittedRobust {
    #[inline]
    fn apply(&self, j: usize, v: f64) -> f64 {
        (v - self.center[j]) / self.scale[j]
    }
}

super::cellwise_fitted!(FittedRobust, "robust_scaler");
