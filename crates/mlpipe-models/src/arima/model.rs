//! ARIMA behind the [`Trainer`] / [`Model`] facade.
//!
//! A time-series model's data is the series itself: the trainer reads
//! [`TrainingData::y`] as the series in time order and ignores `x`. The model's single
//! input is the forecast horizon: a row `[h]` scores as a [`Score::Forecast`] of `h` steps
//! with intervals at the configured `level`. The artefact holds the orders, the estimated
//! parameters and the filter's end state, so a loaded model forecasts exactly as the
//! fitted one did.

use super::fit::{Arima, FittedArima};
use super::KIND;
use crate::error::{ModelError, Result};
use crate::facade::*;
use mlpipe_core::{FeatureSetId, Score};
use ndarray::{ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Largest horizon a prediction row may ask for.
pub const MAX_HORIZON: usize = 100_000;

/// Hyper-parameters as written in configuration, e.g.
/// `{"p": 1, "d": 1, "q": 1, "constant": false, "level": 0.95}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArimaHyper {
    /// AR order.
    pub p: usize,
    /// Integration order.
    pub d: usize,
    /// MA order.
    pub q: usize,
    /// Include a constant; when absent, statsmodels' default (a constant iff `d = 0`).
    pub constant: Option<bool>,
    /// Coverage of the prediction intervals.
    pub level: f64,
}

impl Default for ArimaHyper {
    fn default() -> Self {
        Self {
            p: 1,
            d: 0,
            q: 0,
            constant: None,
            level: 0.95,
        }
    }
}

impl ArimaHyper {
    fn spec(&self) -> Result<Arima> {
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(ModelError::Params {
                kind: KIND.into(),
                reason: format!("level must be in (0, 1), got {}", self.level),
            });
        }
        let mut a = Arima::new(self.p, self.d, self.q);
        if let Some(c) = self.constant {
            a = a.with_constant(c);
        }
        a.order().check()?;
        Ok(a)
    }
}

/// The ARIMA trainer.
#[derive(Clone, Debug, Default)]
pub struct ArimaTrainer(pub ArimaHyper);

/// A fitted ARIMA model behind the facade.
#[derive(Clone, Debug)]
pub struct ArimaModel {
    fitted: FittedArima,
    hyper: ArimaHyper,
    feature_set_id: FeatureSetId,
}

/// The model's input schema: one column, the horizon.
fn input_schema() -> Vec<String> {
    vec!["horizon".to_string()]
}

impl Trainer for ArimaTrainer {
    fn kind(&self) -> &str {
        KIND
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>> {
        let spec = self.0.spec()?;
        let series: Vec<f64> = data.y.iter().copied().collect();
        let fitted = spec.fit(&series)?;
        Ok(Box::new(ArimaModel {
            fitted,
            hyper: self.0.clone(),
            feature_set_id: data.feature_set_id.clone(),
        }))
    }
}

impl ArimaTrainer {
    /// A trainer, refusing invalid hyper-parameters up front.
    pub fn try_new(hyper: ArimaHyper) -> Result<Self> {
        hyper.spec()?;
        Ok(Self(hyper))
    }
}

impl ArimaModel {
    /// Wraps a model fitted with the direct API.
    pub fn new(fitted: FittedArima, level: f64, feature_set_id: FeatureSetId) -> Self {
        let o = fitted.order();
        Self {
            hyper: ArimaHyper {
                p: o.p,
                d: o.d,
                q: o.q,
                constant: Some(o.constant),
                level,
            },
            fitted,
            feature_set_id,
        }
    }

    /// Rebuilds a model from its artefact, checking that it is consistent.
    pub fn from_artefact(a: &ModelArtefact) -> Result<Self> {
        let fitted: FittedArima = a.learned_as()?;
        let hyper: ArimaHyper = serde_json::from_value(a.params.clone())
            .map_err(|e| ModelError::Artefact(format!("params of {KIND}: {e}")))?;
        hyper
            .spec()
            .map_err(|e| ModelError::Artefact(e.to_string()))?;
        fitted.validate()?;
        if a.input_schema != input_schema() {
            return Err(ModelError::Artefact(format!(
                "{KIND}: input schema must be [\"horizon\"], found {:?}",
                a.input_schema
            )));
        }
        Ok(Self {
            fitted,
            hyper,
            feature_set_id: a.feature_set_id.clone(),
        })
    }

    /// The fitted model.
    pub fn fitted(&self) -> &FittedArima {
        &self.fitted
    }

    fn score(&self, row: &[f64]) -> Result<Score> {
        let h = row.first().copied().unwrap_or(f64::NAN);
        if !(h >= 1.0 && h.fract() == 0.0 && h <= MAX_HORIZON as f64) {
            return Err(ModelError::Params {
                kind: KIND.into(),
                reason: format!(
                    "the horizon must be a whole number of steps in 1..={MAX_HORIZON}, got {h}"
                ),
            });
        }
        let f = self.fitted.forecast(h as usize, 1.0 - self.hyper.level)?;
        Ok(Score::Forecast(f))
    }
}

impl Model for ArimaModel {
    fn kind(&self) -> &str {
        KIND
    }

    fn n_features(&self) -> usize {
        1
    }

    fn predict_batch(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Score>> {
        check_width(1, x.ncols())?;
        x.axis_iter(Axis(0))
            .map(|r| self.score(&r.to_vec()))
            .collect()
    }

    fn predict_row(&self, x: &[f64]) -> Result<Score> {
        check_width(1, x.len())?;
        self.score(x)
    }

    fn artefact(&self) -> Result<ModelArtefact> {
        Ok(ModelArtefact::new(
            KIND,
            self.feature_set_id.clone(),
            input_schema(),
            serde_json::to_value(&self.hyper).map_err(|e| ModelError::Artefact(e.to_string()))?,
            serde_json::to_value(&self.fitted).map_err(|e| ModelError::Artefact(e.to_string()))?,
        ))
    }
}
