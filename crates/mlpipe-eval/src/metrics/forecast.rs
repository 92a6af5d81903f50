//! Forecast errors: MAE and RMSE over the horizon, and MASE (Hyndman & Koehler 2006),
//! the MAE scaled by the in-sample MAE of the seasonal naive forecast on the training
//! series.

use super::regression::RegressionMetric;
use crate::error::{EvalError, Result};
use serde::{Deserialize, Serialize};

/// The errors of one forecast.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastErrors {
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute scaled error: MAE / mean |yₜ − yₜ₋ₘ| over the training series.
    pub mase: f64,
}

impl ForecastErrors {
    /// Errors of `forecast` against `actual`, scaled by the seasonal naive forecast of
    /// `train` with season length `season` (1: the previous value). A training series
    /// no longer than the season, or a constant one (zero naive error), makes MASE
    /// [`EvalError::Undefined`].
    pub fn new(actual: &[f64], forecast: &[f64], train: &[f64], season: usize) -> Result<Self> {
        let mae = RegressionMetric::Mae.compute(actual, forecast)?;
        let rmse = RegressionMetric::Rmse.compute(actual, forecast)?;
        let m = season.max(1);
        if train.len() <= m {
            return Err(EvalError::Undefined {
                metric: "mase".into(),
                reason: format!(
                    "the training series needs more than {m} values (the season), it has {}",
                    train.len()
                ),
            });
        }
        super::check_finite("mase", "training values", train)?;
        let naive: f64 = train
            .iter()
            .skip(m)
            .zip(train)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / (train.len() - m) as f64;
        if naive == 0.0 {
            return Err(EvalError::Undefined {
                metric: "mase".into(),
                reason:
                    "the seasonal naive forecast of the training series is perfect (zero error)"
                        .into(),
            });
        }
        Ok(Self {
            mae,
            rmse,
            mase: mae / naive,
        })
    }
}
