//! `log` (`log1p`) and `power` (Yeo-Johnson, as scikit-learn's
//! `PowerTransformer(method="yeo-johnson")`: λ per column by maximum likelihood with
//! SciPy's Brent minimiser on the bracket (−2, 2), then optional standardisation).

use super::{all_missing, check_fit};
use crate::error::{FeatureError, Result};
use crate::stats::brent_minimize;
use crate::step::{FittedTransformer, Transformer};
use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// `log`: `ln(1 + x)` per value. Fitting refuses values ≤ −1; at transform time they give
/// `NaN` / `−inf` (as NumPy's `log1p`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log1p {}

/// A fitted [`Log1p`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedLog1p {
    /// Column names.
    pub names: Vec<String>,
}

impl Transformer for Log1p {
    fn kind(&self) -> &str {
        "log"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Box<dyn FittedTransformer>> {
        check_fit("log", x, names, true)?;
        for (j, col) in x.columns().into_iter().enumerate() {
            if col.iter().any(|&v| v <= -1.0) {
                return Err(FeatureError::BadValues {
                    step: "log".into(),
                    column: names[j].clone(),
                    what: "values <= -1 (log1p is undefined there)".into(),
                });
            }
        }
        Ok(Box::new(FittedLog1p {
            names: names.to_vec(),
        }))
    }
}

impl FittedLog1p {
    #[inline]
    fn apply(&self, _j: usize, v: f64) -> f64 {
        v.ln_1p()
    }
}

super::cellwise_fitted!(FittedLog1p, "log");

/// Parameters of [`PowerTransform`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PowerParams {
    /// Only `yeo-johnson` (the default) is supported.
    pub method: String,
    /// Standardise the transformed columns to mean 0, variance 1 (default true).
    pub standardize: bool,
}

impl Default for PowerParams {
    fn default() -> Self {
        Self {
            method: "yeo-johnson".into(),
            standardize: true,
        }
    }
}

/// The Yeo-Johnson power transform.
#[derive(Clone, Debug, Default)]
pub struct PowerTransform(pub PowerParams);

/// A fitted [`PowerTransform`]: λ per column, then `(t − mean) / scale`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedPower {
    /// Column names.
    pub names: Vec<String>,
    /// λ per column.
    pub lambdas: Vec<f64>,
    /// Mean of the transformed column (0 without standardisation).
    pub mean: Vec<f64>,
    /// Standard deviation of the transformed column (1 without standardisation).
    pub scale: Vec<f64>,
}

/// The Yeo-Johnson transform of one value (scikit-learn's `_yeo_johnson_transform`).
pub fn yeo_johnson(x: f64, lambda: f64) -> f64 {
    let spacing = f64::EPSILON; // np.spacing(1.0)
    if x >= 0.0 {
        if lambda.abs() < spacing {
            x.ln_1p()
        } else {
            ((x + 1.0).powf(lambda) - 1.0) / lambda
        }
    } else if (lambda - 2.0).abs() > spacing {
        -((-x + 1.0).powf(2.0 - lambda) - 1.0) / (2.0 - lambda)
    } else {
        -(-x).ln_1p()
    }
}

fn mean_var(v: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let (n, s) = v.clone().fold((0usize, 0.0), |(n, s), x| (n + 1, s + x));
    let m = s / n as f64;
    let ss: f64 = v.map(|x| (x - m) * (x - m)).sum();
    (m, ss / n as f64)
}

/// λ maximising the Yeo-Johnson log-likelihood of the (NaN-free) values.
pub fn yeo_johnson_lambda(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let log_term: f64 = x.iter().map(|&v| v.signum() * v.abs().ln_1p()).sum();
    let nll = |lambda: f64| {
        let (_, var) = mean_var(x.iter().map(|&v| yeo_johnson(v, lambda)));
        if var.is_nan() || var < f64::MIN_POSITIVE {
            return f64::INFINITY;
        }
        -(-n / 2.0 * var.ln() + (lambda - 1.0) * log_term)
    };
    brent_minimize(nll, -2.0, 2.0)
}

impl Transformer for PowerTransform {
    fn kind(&self) -> &str {
        "power"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Box<dyn FittedTransformer>> {
        if !matches!(self.0.method.as_str(), "yeo-johnson" | "yeo_johnson") {
            return Err(FeatureError::Definition(format!(
                "power: method `{}` is not supported; use `yeo-johnson`",
                self.0.method
            )));
        }
        check_fit("power", x, names, true)?;
        let fitted: Vec<(f64, f64, f64)> = (0..names.len())
            .into_par_iter()
            .map(|j| {
                let col: Vec<f64> = x
                    .column(j)
                    .iter()
                    .copied()
                    .filter(|v| !v.is_nan())
                    .collect();
                if col.is_empty() {
                    return Err(all_missing("power", &names[j]));
                }
                let lambda = yeo_johnson_lambda(&col);
                if !self.0.standardize {
                    return Ok((lambda, 0.0, 1.0));
                }
                let (m, var) = mean_var(col.iter().map(|&v| yeo_johnson(v, lambda)));
                Ok((lambda, m, super::scalers::nonzero_scale(var.sqrt())))
            })
            .collect::<Result<_>>()?;
        Ok(Box::new(FittedPower {
            names: names.to_vec(),
            lambdas: fitted.iter().map(|f| f.0).collect(),
            mean: fitted.iter().map(|f| f.1).collect(),
            scale: fitted.iter().map(|f| f.2).collect(),
        }))
    }
}

impl FittedPower {
    #[inline]
    fn apply(&self, j: usize, v: f64) -> f64 {
        (yeo_johnson(v, self.lambdas[j]) - self.mean[j]) / self.scale[j]
    }
}

super::cellwise_fitted!(FittedPower, "power");
