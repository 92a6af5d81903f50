//! Gaussian naive Bayes (`gaussian_nb`), as scikit-learn's `GaussianNB`: per class the
//! feature means and population variances, every variance widened by
//! `var_smoothing × (largest feature variance over all rows)`, class priors from class
//! frequencies; probabilities from the joint log-likelihood through a stable softmax.

use crate::error::{ModelError, Result};
use crate::facade::*;
use mlpipe_core::{FeatureSetId, Score};
use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

const KIND: &str = "gaussian_nb";

/// Hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GaussianNbParams {
    /// Share of the largest feature variance added to every variance, for stability.
    pub var_smoothing: f64,
}

impl Default for GaussianNbParams {
    fn default() -> Self {
        Self {
            var_smoothing: 1e-9,
        }
    }
}

/// The Gaussian naive Bayes trainer.
#[derive(Clone, Debug, Default)]
pub struct GaussianNb(pub GaussianNbParams);

/// Learned parameters (scikit-learn's `classes_`, `class_prior_`, `theta_`, `var_`,
/// `epsilon_`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaussianNbState {
    /// Class labels, ascending.
    pub classes: Vec<i64>,
    /// Prior probability of each class.
    pub class_prior: Vec<f64>,
    /// Feature means, one row per class.
    pub theta: Vec<Vec<f64>>,
    /// Feature variances (smoothed), one row per class.
    pub var: Vec<Vec<f64>>,
    /// The variance added to every variance.
    pub epsilon: f64,
}

/// A fitted Gaussian naive Bayes model.
#[derive(Clone, Debug)]
pub struct GaussianNbModel {
    state: GaussianNbState,
    params: GaussianNbParams,
    /// Per class: `log prior − ½ Σ log(2π var)`.
    constant: Vec<f64>,
    feature_set_id: FeatureSetId,
    input: Vec<String>,
}

const CHUNK: usize = 4096;

impl Trainer for GaussianNb {
    fn kind(&self) -> &str {
        KIND
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>> {
        let vs = self.0.var_smoothing;
        if !(vs >= 0.0 && vs.is_finite()) {
            return Err(ModelError::Params {
                kind: KIND.into(),
                reason: format!("var_smoothing must be a finite number ≥ 0, got {vs}"),
            });
        }
        check_training(KIND, data)?;
        let (classes, y) = classes_of(KIND, data.y)?;
        let x = data.x;
        let (n, d, k) = (x.nrows(), x.ncols(), classes.len());
        // Pass 1: per-class sums and counts; pass 2: squared deviations from the class
        // means and from the overall mean. Both run over row chunks in parallel.
        let chunks = || {
            x.axis_chunks_iter(Axis(0), CHUNK)
                .into_par_iter()
                .enumerate()
        };
        let add = |mut a: Vec<f64>, b: Vec<f64>| {
            a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
            a
        };
        let sums = chunks()
            .map(|(ci, xc)| {
                let mut s = vec![0.0; k * d + k];
                for (r, row) in xc.rows().into_iter().enumerate() {
                    let c = y[ci * CHUNK + r];
                    s[k * d + c] += 1.0;
                    for (a, v) in s[c * d..(c + 1) * d].iter_mut().zip(row) {
                        *a += v;
                    }
                }
                s
            })
            .reduce(|| vec![0.0; k * d + k], add);
        let counts = &sums[k * d..];
        let theta: Vec<Vec<f64>> = (0..k)
            .map(|c| {
                sums[c * d..(c + 1) * d]
                    .iter()
                    .map(|s| s / counts[c])
                    .collect()
            })
            .collect();
        let mean: Vec<f64> = (0..d)
            .map(|j| (0..k).map(|c| sums[c * d + j]).sum::<f64>() / n as f64)
            .collect();
        let sq = chunks()
            .map(|(ci, xc)| {
                let mut s = vec![0.0; k * d + d];
                for (r, row) in xc.rows().into_iter().enumerate() {
                    let c = y[ci * CHUNK + r];
                    for (j, v) in row.iter().enumerate() {
                        s[c * d + j] += (v - theta[c][j]) * (v - theta[c][j]);
                        s[k * d + j] += (v - mean[j]) * (v - mean[j]);
                    }
                }
                s
            })
            .reduce(|| vec![0.0; k * d + d], add);
        let max_var = sq[k * d..]
            .iter()
            .map(|s| s / n as f64)
            .fold(0.0f64, f64::max);
        let epsilon = vs * max_var;
        let var: Vec<Vec<f64>> = (0..k)
            .map(|c| {
                sq[c * d..(c + 1) * d]
                    .iter()
                    .map(|s| s / counts[c] + epsilon)
                    .collect()
            })
            .collect();
        let class_prior: Vec<f64> = counts.iter().map(|&m| m / n as f64).collect();
        if var.iter().flatten().any(|&v| v <= 0.0) {
            return Err(ModelError::Numeric {
                kind: KIND.into(),
                reason: "a class has a feature of zero variance and var_smoothing is 0; set var_smoothing > 0".into(),
            });
        }
        let state = GaussianNbState {
            class_prior,
            classes,
            theta,
            var,
            epsilon,
        };
        Ok(Box::new(GaussianNbModel::build(
            state,
            self.0.clone(),
            data.feature_set_id.clone(),
            data.feature_names.to_vec(),
        )))
    }
}

impl GaussianNbModel {
    fn build(
        state: GaussianNbState,
        params: GaussianNbParams,
        feature_set_id: FeatureSetId,
        input: Vec<String>,
    ) -> Self {
        let constant = state
            .var
            .iter()
            .zip(&state.class_prior)
            .map(|(v, p)| {
                p.ln()
                    - 0.5
                        * v.iter()
                            .map(|v| (2.0 * std::f64::consts::PI * v).ln())
                            .sum::<f64>()
            })
            .collect();
        Self {
            state,
            params,
            constant,
            feature_set_id,
            input,
        }
    }

    /// Rebuilds a model from its artefact.
    pub fn from_artefact(a: &ModelArtefact) -> Result<Self> {
        let state: GaussianNbState = a.learned_as()?;
        let params: GaussianNbParams = serde_json::from_value(a.params.clone())
            .map_err(|e| ModelError::Artefact(format!("params of {KIND}: {e}")))?;
        let (k, d) = (state.classes.len(), a.input_schema.len());
        let shape_ok = k >= 2
            && state.class_prior.len() == k
            && state.theta.len() == k
            && state.var.len() == k
            && state.theta.iter().chain(&state.var).all(|r| r.len() == d);
        let values_ok = state
            .var
            .iter()
            .flatten()
            .all(|v| *v > 0.0 && v.is_finite())
            && state.theta.iter().flatten().all(|v| v.is_finite())
            && state.class_prior.iter().all(|p| *p > 0.0 && *p <= 1.0);
        if !(shape_ok && values_ok) {
            return Err(ModelError::Artefact(format!(
                "{KIND}: learned parameters do not match {k} classes × {d} inputs, or hold invalid variances/priors"
            )));
        }
        Ok(Self::build(
            state,
            params,
            a.feature_set_id.clone(),
            a.input_schema.clone(),
        ))
    }

    /// The learned parameters.
    pub fn state(&self) -> &GaussianNbState {
        &self.state
    }

    /// Class probabilities of one row of the right width.
    pub fn probabilities(&self, x: &[f64]) -> Vec<f64> {
        let mut jll: Vec<f64> = self
            .constant
            .iter()
            .zip(self.state.theta.iter().zip(&self.state.var))
            .map(|(c, (t, v))| {
                let mut q = 0.0;
                for ((x, t), v) in x.iter().zip(t).zip(v) {
                    q += (x - t) * (x - t) / v;
                }
                c - 0.5 * q
            })
            .collect();
        let m = jll.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = jll.iter().map(|v| (v - m).exp()).sum();
        let lse = m + s.ln();
        for v in &mut jll {
            *v = (*v - lse).exp();
        }
        jll
    }

    fn score(&self, x: &[f64]) -> Score {
        Score::Probabilities {
            classes: self.state.classes.clone(),
            probabilities: self.probabilities(x),
        }
    }
}

impl Model for GaussianNbModel {
    fn kind(&self) -> &str {
        KIND
    }

    fn n_features(&self) -> usize {
        self.input.len()
    }

    fn predict_batch(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Score>> {
        score_rows(self.input.len(), x, |r| self.score(r))
    }

    fn predict_row(&self, x: &[f64]) -> Result<Score> {
        check_width(self.input.len(), x.len())?;
        Ok(self.score(x))
    }

    fn artefact(&self) -> Result<ModelArtefact> {
        ModelArtefact::with_state(
            KIND,
            self.feature_set_id.clone(),
            self.input.clone(),
            serde_json::to_value(&self.params).unwrap_or_default(),
            &self.state,
        )
    }
}
