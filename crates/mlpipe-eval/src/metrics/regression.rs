//! Regression metrics: MAE, MSE, RMSE, R², MAPE and explained variance, computed as
//! scikit-learn 1.9 computes them.
//!
//! R² and explained variance follow scikit-learn's `force_finite`: a constant truth gives
//! 1.0 when the prediction is perfect and 0.0 otherwise. MAPE divides by
//! `max(|y|, f64::EPSILON)`, so a zero truth gives a huge (finite) error, not infinity.

use super::{check_finite, check_lengths, Evaluator};
use crate::error::{EvalError, Result};
use mlpipe_core::Score;

/// A regression metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegressionMetric {
    /// Mean absolute error.
    Mae,
    /// Mean squared error.
    Mse,
    /// Root mean squared error.
    Rmse,
    /// Coefficient of determination.
    R2,
    /// Mean absolute percentage error (a fraction, not per cent).
    Mape,
    /// Explained variance.
    ExplainedVariance,
}

impl RegressionMetric {
    /// Every regression metric.
    pub const ALL: [RegressionMetric; 6] = [
        Self::Mae,
        Self::Mse,
        Self::Rmse,
        Self::R2,
        Self::Mape,
        Self::ExplainedVariance,
    ];

    /// The metric's name (`mae`, `mse`, `rmse`, `r2`, `mape`, `explained_variance`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Mae => "mae",
            Self::Mse => "mse",
            Self::Rmse => "rmse",
            Self::R2 => "r2",
            Self::Mape => "mape",
            Self::ExplainedVariance => "explained_variance",
        }
    }

    /// The metric of a name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "mae" => Self::Mae,
            "mse" => Self::Mse,
            "rmse" => Self::Rmse,
            "r2" => Self::R2,
            "mape" => Self::Mape,
            "explained_variance" => Self::ExplainedVariance,
            _ => return None,
        })
    }

    /// Whether larger values are better.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Self::R2 | Self::ExplainedVariance)
    }

    /// The metric of predictions `pred` against `truth`.
    pub fn compute(self, truth: &[f64], pred: &[f64]) -> Result<f64> {
        let name = self.name();
        check_lengths(name, truth.len(), pred.len())?;
        check_finite(name, "truths", truth)?;
        check_finite(name, "predictions", pred)?;
        Ok(match self {
            Self::Mae => mean_absolute_error(truth, pred),
            Self::Mse => mean_squared_error(truth, pred),
            Self::Rmse => mean_squared_error(truth, pred).sqrt(),
            Self::R2 => r2(truth, pred),
            Self::Mape => mape(truth, pred),
            Self::ExplainedVariance => explained_variance(truth, pred),
        })
    }
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    s / n as f64
}

fn mean_absolute_error(t: &[f64], p: &[f64]) -> f64 {
    mean(t.iter().zip(p).map(|(a, b)| (b - a).abs()))
}

fn mean_squared_error(t: &[f64], p: &[f64]) -> f64 {
    mean(t.iter().zip(p).map(|(a, b)| (a - b) * (a - b)))
}

fn mape(t: &[f64], p: &[f64]) -> f64 {
    mean(
        t.iter()
            .zip(p)
            .map(|(a, b)| (b - a).abs() / a.abs().max(f64::EPSILON)),
    )
}

/// scikit-learn's `_assemble_r2_explained_variance` with `force_finite=True`.
fn assemble(numerator: f64, denominator: f64) -> f64 {
    match (numerator != 0.0, denominator != 0.0) {
        (true, true) => 1.0 - numerator / denominator,
        (true, false) => 0.0,
        (false, _) => 1.0,
    }
}

fn r2(t: &[f64], p: &[f64]) -> f64 {
    let m = mean(t.iter().copied());
    let num: f64 = t.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum();
    let den: f64 = t.iter().map(|a| (a - m) * (a - m)).sum();
    assemble(num, den)
}

fn explained_variance(t: &[f64], p: &[f64]) -> f64 {
    let diff_avg = mean(t.iter().zip(p).map(|(a, b)| a - b));
    let num = mean(t.iter().zip(p).map(|(a, b)| {
        let d = a - b - diff_avg;
        d * d
    }));
    let m = mean(t.iter().copied());
    let den = mean(t.iter().map(|a| (a - m) * (a - m)));
    assemble(num, den)
}

/// A [`RegressionMetric`] over `Value` scores.
#[derive(Clone, Copy, Debug)]
pub struct RegressionScore(pub RegressionMetric);

impl Evaluator for RegressionScore {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn higher_is_better(&self) -> bool {
        self.0.higher_is_better()
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        let pred = scores
            .iter()
            .map(|s| match s {
                Score::Value { value } => Ok(*value),
                other => Err(EvalError::BadScore {
                    metric: self.0.name().into(),
                    reason: format!(
                        "needs a value (regression) score, got a {} score",
                        other.kind()
                    ),
                }),
            })
            .collect::<Result<Vec<_>>>()?;
        self.0.compute(truth, &pred)
    }
}
