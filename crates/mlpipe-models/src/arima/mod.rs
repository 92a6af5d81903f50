//! ARIMA(p,d,q) for univariate time series, fitted by exact Gaussian maximum likelihood
//! the way statsmodels 0.15 `ARIMA(...).fit()` does it:
//!
//! * the state-space form of SARIMAX with `simple_differencing=False`: the series keeps its
//!   levels, `d` integration states start approximately diffuse (variance 10⁶) and the first
//!   `d` log-likelihood terms are burned ([`statespace`]); we do **not** difference first;
//! * the ARMA block starts at its stationary covariance; the likelihood comes from the
//!   Kalman filter with the innovation variance σ² as a free parameter
//!   (`concentrate_scale=False`);
//! * stationarity and invertibility are enforced through the Monahan/Jones transform
//!   statsmodels uses ([`transform`]); starting values by Hannan–Rissanen; a BFGS
//!   minimiser with numerical gradients ([`optimize`]);
//! * sign conventions: `y_t = μ + u_t`, `u_t = Σ φ_i u_{t−i} + e_t + Σ θ_j e_{t−j}`; with a
//!   constant and `d = 0` the constant is the process **mean** (statsmodels' `const`).
//!   With `d ≥ 1` a "constant" is the coefficient of the trend `t^d` (`t = 1, 2, …`), i.e.
//!   statsmodels' `trend='t'` for `d = 1` (a drift).
//!
//! ```
//! use mlpipe_models::arima::Arima;
//! let y: Vec<f64> = (0..60).map(|t| (t as f64 * 0.7).sin() * 10.0 + 50.0).collect();
//! let fit = Arima::new(1, 0, 0).with_constant(true).fit(&y)?;
//! let f = fit.forecast(5, 0.05)?;
//! assert_eq!(f.mean.len(), 5);
//! assert!(f.lower[0] < f.mean[0] && f.mean[0] < f.upper[0]);
//! # Ok::<(), mlpipe_models::ModelError>(())
//! ```

mod fit;
pub mod forecast;
mod model;
pub mod optimize;
pub mod start;
pub mod statespace;
pub mod transform;

pub use fit::{Arima, ArimaOrder, ArimaParams, FittedArima};
pub use forecast::normal_quantile;
pub use model::{ArimaHyper, ArimaModel, ArimaTrainer};

/// The model kind in the [`crate::Algorithms`] catalogue and in artefacts.
pub const KIND: &str = "arima";

/// Largest AR or MA order accepted.
pub const MAX_ORDER: usize = 50;

/// Largest integration order accepted.
pub const MAX_D: usize = 3;
