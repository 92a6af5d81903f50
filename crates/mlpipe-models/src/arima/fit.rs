//! The direct API: [`Arima`] (orders) → [`Arima::fit`] → [`FittedArima`] (parameters,
//! likelihood, information criteria, forecasts).

use super::forecast::forecast_steps;
use super::optimize::{minimize, BfgsOptions};
use super::start::hannan_rissanen;
use super::statespace::StateSpace;
use super::transform::{constrain_stationary, unconstrain_stationary};
use super::{KIND, MAX_D, MAX_ORDER};
use crate::error::{ModelError, Result};
use mlpipe_core::Forecast;
use serde::{Deserialize, Serialize};

/// The orders of an ARIMA model and whether it has a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArimaOrder {
    /// Autoregressive order.
    pub p: usize,
    /// Integration order.
    pub d: usize,
    /// Moving-average order.
    pub q: usize,
    /// A constant (the mean when `d = 0`; the coefficient of `t^d` otherwise).
    pub constant: bool,
}

impl ArimaOrder {
    /// Number of estimated parameters, σ² included (statsmodels' `k_params`).
    pub fn n_params(&self) -> usize {
        self.p + self.q + usize::from(self.constant) + 1
    }

    /// Checks the orders.
    pub fn check(&self) -> Result<()> {
        if self.p > MAX_ORDER || self.q > MAX_ORDER {
            return Err(ModelError::Params {
                kind: KIND.into(),
                reason: format!(
                    "ARIMA({},{},{}): p and q must be at most {MAX_ORDER}",
                    self.p, self.d, self.q
                ),
            });
        }
        if self.d > MAX_D {
            return Err(ModelError::Params {
                kind: KIND.into(),
                reason: format!(
                    "ARIMA({},{},{}): d must be at most {MAX_D}",
                    self.p, self.d, self.q
                ),
            });
        }
        Ok(())
    }

    /// The regressor of the constant at observation `t` (0-based): 1, or `(t+1)^d`.
    fn trend(&self, t: usize) -> f64 {
        if self.d == 0 {
            1.0
        } else {
            ((t + 1) as f64).powi(self.d as i32)
        }
    }
}

/// Estimated parameters, in statsmodels' naming.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArimaParams {
    /// `const` (or the trend coefficient when `d ≥ 1`), when the model has one.
    pub constant: Option<f64>,
    /// `ar.L1 …`.
    pub ar: Vec<f64>,
    /// `ma.L1 …` (plus sign).
    pub ma: Vec<f64>,
    /// `sigma2`, the innovation variance.
    pub sigma2: f64,
}

impl ArimaParams {
    /// The parameters in statsmodels' order: `[const], ar…, ma…, sigma2`.
    pub fn to_vec(&self) -> Vec<f64> {
        self.constant
            .iter()
            .chain(&self.ar)
            .chain(&self.ma)
            .chain(std::iter::once(&self.sigma2))
            .copied()
            .collect()
    }

    /// Names matching [`ArimaParams::to_vec`] (`const`, `ar.L1`, …, `sigma2`).
    pub fn names(&self) -> Vec<String> {
        let mut n = Vec::new();
        if self.constant.is_some() {
            n.push("const".to_string());
        }
        n.extend((1..=self.ar.len()).map(|i| format!("ar.L{i}")));
        n.extend((1..=self.ma.len()).map(|i| format!("ma.L{i}")));
        n.push("sigma2".into());
        n
    }
}

/// An ARIMA specification, ready to fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arima {
    order: ArimaOrder,
}

impl Arima {
    /// ARIMA(p,d,q); like statsmodels, with a constant when `d = 0` and without otherwise.
    pub fn new(p: usize, d: usize, q: usize) -> Self {
        Self {
            order: ArimaOrder {
                p,
                d,
                q,
                constant: d == 0,
            },
        }
    }

    /// Includes (or not) the constant.
    pub fn with_constant(mut self, constant: bool) -> Self {
        self.order.constant = constant;
        self
    }

    /// The orders.
    pub fn order(&self) -> ArimaOrder {
        self.order
    }

    /// Fits by exact maximum likelihood. `y` is the series in time order.
    pub fn fit(&self, y: &[f64]) -> Result<FittedArima> {
        fit(self.order, y)
    }

    /// The exact log-likelihood of `y` at given parameters (statsmodels'
    /// `model.loglike(params)`), without fitting.
    pub fn log_likelihood_at(&self, y: &[f64], params: &ArimaParams) -> Result<f64> {
        check_series(self.order, y)?;
        let o = self.order;
        if params.ar.len() != o.p
            || params.ma.len() != o.q
            || params.constant.is_some() != o.constant
        {
            return Err(ModelError::Params {
                kind: KIND.into(),
                reason: format!(
                    "parameters do not match ARIMA({},{},{}) (constant: {})",
                    o.p, o.d, o.q, o.constant
                ),
            });
        }
        evaluate(o, params, y)
            .map(|out| out.llf)
            .ok_or_else(|| ModelError::Numeric {
                kind: KIND.into(),
                reason:
                    "the likelihood is not finite at these parameters (non-stationary AR or σ² ≤ 0)"
                        .into(),
            })
    }
}

/// A fitted ARIMA model: its parameters, likelihood and the filter's end state, from which
/// forecasts are made (the series itself is not kept).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedArima {
    order: ArimaOrder,
    params: ArimaParams,
    log_likelihood: f64,
    nobs: usize,
    iterations: usize,
    converged: bool,
    /// Predicted state mean for the first period after the sample.
    state_mean: Vec<f64>,
    /// Its covariance, row-major.
    state_cov: Vec<f64>,
}

impl FittedArima {
    /// The orders.
    pub fn order(&self) -> ArimaOrder {
        self.order
    }
    /// The estimated parameters.
    pub fn params(&self) -> &ArimaParams {
        &self.params
    }
    /// The innovation variance σ².
    pub fn sigma2(&self) -> f64 {
        self.params.sigma2
    }
    /// The exact log-likelihood (the first `d` terms burned, as statsmodels).
    pub fn log_likelihood(&self) -> f64 {
        self.log_likelihood
    }
    /// Observations in the series.
    pub fn nobs(&self) -> usize {
        self.nobs
    }
    /// Observations entering the likelihood (`nobs − d`, statsmodels' `nobs_effective`).
    pub fn nobs_effective(&self) -> usize {
        self.nobs - self.order.d
    }
    /// Optimiser iterations used.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// Whether the optimiser met its convergence test.
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// Akaike's criterion `−2 llf + 2k`.
    pub fn aic(&self) -> f64 {
        -2.0 * self.log_likelihood + 2.0 * self.order.n_params() as f64
    }
    /// Schwarz's criterion `−2 llf + k ln(nobs_effective)`.
    pub fn bic(&self) -> f64 {
        -2.0 * self.log_likelihood
            + self.order.n_params() as f64 * (self.nobs_effective() as f64).ln()
    }

    /// Forecasts `h` steps ahead with `(1 − alpha)` prediction intervals (statsmodels'
    /// `get_forecast(h).conf_int(alpha)`).
    pub fn forecast(&self, h: usize, alpha: f64) -> Result<Forecast> {
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(ModelError::Params {
                kind: KIND.into(),
                reason: format!("alpha must be in (0, 1), got {alpha}; use 0.05 for 95% intervals"),
            });
        }
        let ss = self.state_space()?;
        let beta = self.params.constant.unwrap_or(0.0);
        let (order, n) = (self.order, self.nobs);
        Ok(forecast_steps(
            &ss,
            &self.state_mean,
            &self.state_cov,
            h,
            alpha,
            |k| beta * order.trend(n + k),
        ))
    }

    fn state_space(&self) -> Result<StateSpace> {
        StateSpace::new(
            self.order.d,
            &self.params.ar,
            &self.params.ma,
            self.params.sigma2,
        )
        .ok_or_else(|| ModelError::Numeric {
            kind: KIND.into(),
            reason: "the AR polynomial is not stationary".into(),
        })
    }

    /// Checks that a deserialised model is consistent (used when loading artefacts).
    pub fn validate(&self) -> Result<()> {
        let o = self.order;
        o.check()?;
        let m = o.d + o.p.max(o.q + 1);
        let ok = self.params.ar.len() == o.p
            && self.params.ma.len() == o.q
            && self.params.constant.is_some() == o.constant
            && self.state_mean.len() == m
            && self.state_cov.len() == m * m
            && self.params.sigma2 > 0.0
            && self.nobs > o.d
            && self.params.to_vec().iter().all(|v| v.is_finite())
            && self
                .state_mean
                .iter()
                .chain(&self.state_cov)
                .all(|v| v.is_finite());
        if !ok {
            return Err(ModelError::Artefact(format!(
                "{KIND}: learned parameters do not match ARIMA({},{},{})",
                o.p, o.d, o.q
            )));
        }
        self.state_space().map(|_| ())
    }
}

/// Maps the optimiser's unconstrained vector to model parameters.
struct Mapping {
    order: ArimaOrder,
    beta0: f64,
    beta_scale: f64,
    sigma2_0: f64,
}

impl Mapping {
    fn params(&self, x: &[f64]) -> ArimaParams {
        let o = self.order;
        let k = usize::from(o.constant);
        ArimaParams {
            constant: o.constant.then(|| self.beta0 + self.beta_scale * x[0]),
            ar: constrain_stationary(&x[k..k + o.p]),
            ma: constrain_stationary(&x[k + o.p..k + o.p + o.q])
                .into_iter()
                .map(|v| -v)
                .collect(),
            sigma2: self.sigma2_0 * x[k + o.p + o.q].exp(),
        }
    }
}

/// Runs the filter at `params`; `None` when the parameters are outside the model.
fn evaluate(
    order: ArimaOrder,
    params: &ArimaParams,
    y: &[f64],
) -> Option<super::statespace::FilterOutput> {
    if !(params.sigma2 > 0.0 && params.sigma2.is_finite()) {
        return None;
    }
    let ss = StateSpace::new(order.d, &params.ar, &params.ma, params.sigma2)?;
    let beta = params.constant.unwrap_or(0.0);
    let out = ss.filter(y, |t| beta * order.trend(t), order.d)?;
    out.llf.is_finite().then_some(out)
}

fn difference(y: &[f64], d: usize) -> Vec<f64> {
    let mut w = y.to_vec();
    for _ in 0..d {
        w = w.windows(2).map(|p| p[1] - p[0]).collect();
    }
    w
}

fn check_series(order: ArimaOrder, y: &[f64]) -> Result<()> {
    order.check()?;
    if y.is_empty() {
        return Err(ModelError::NoRows { kind: KIND.into() });
    }
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(ModelError::NonFinite {
            kind: KIND.into(),
            feature: format!("series (observation {i} is {})", y[i]),
        });
    }
    let needed = order.d + order.n_params() + 1;
    if y.len() < needed {
        return Err(ModelError::Labels {
            kind: KIND.into(),
            reason: format!(
                "a series of {} observations is too short for ARIMA({},{},{}) with {} parameters: \
                 give at least {needed} observations or lower the orders",
                y.len(),
                order.p,
                order.d,
                order.q,
                order.n_params()
            ),
        });
    }
    Ok(())
}

fn fit(order: ArimaOrder, y: &[f64]) -> Result<FittedArima> {
    check_series(order, y)?;
    let mut w = difference(y, order.d);
    let n_eff = w.len() as f64;
    let mean = w.iter().sum::<f64>() / n_eff;
    let factorial: f64 = (1..=order.d).map(|i| i as f64).product();
    let beta0 = if order.constant {
        mean / factorial
    } else {
        0.0
    };
    if order.constant {
        w.iter_mut().for_each(|v| *v -= mean);
    }
    let spread = (w.iter().map(|v| v * v).sum::<f64>() / n_eff).sqrt();
    if spread <= 0.0 || !spread.is_finite() {
        return Err(ModelError::Labels {
            kind: KIND.into(),
            reason: format!(
                "the series is constant{}: there is nothing to model",
                if order.d > 0 {
                    " after differencing"
                } else {
                    ""
                }
            ),
        });
    }
    let start = hannan_rissanen(&w, order.p, order.q);
    let mapping = Mapping {
        order,
        beta0,
        beta_scale: spread / factorial,
        sigma2_0: start.sigma2.max(1e-12 * spread * spread),
    };
    let k = usize::from(order.constant);
    let n_x = k + order.p + order.q + 1;
    let objective = |x: &[f64]| -> f64 {
        match evaluate(order, &mapping.params(x), y) {
            Some(out) => -out.llf / n_eff,
            None => f64::INFINITY,
        }
    };
    let mut x0 = vec![0.0; n_x];
    if let Some(u) = unconstrain_stationary(&start.ar) {
        x0[k..k + order.p].copy_from_slice(&u);
    }
    let neg_ma: Vec<f64> = start.ma.iter().map(|v| -v).collect();
    if let Some(u) = unconstrain_stationary(&neg_ma) {
        x0[k + order.p..k + order.p + order.q].copy_from_slice(&u);
    }
    let opts = BfgsOptions::default();
    let best = minimize(objective, &x0, opts)
        .or_else(|| minimize(objective, &vec![0.0; n_x], opts))
        .ok_or_else(|| ModelError::Numeric {
            kind: KIND.into(),
            reason: "the likelihood cannot be evaluated at the starting values".into(),
        })?;
    let params = mapping.params(&best.x);
    let out = evaluate(order, &params, y).ok_or_else(|| ModelError::Numeric {
        kind: KIND.into(),
        reason: "the likelihood is not finite at the optimum".into(),
    })?;
    Ok(FittedArima {
        order,
        params,
        log_likelihood: out.llf,
        nobs: y.len(),
        iterations: best.iterations,
        converged: best.converged,
        state_mean: out.a,
        state_cov: out.p,
    })
}
