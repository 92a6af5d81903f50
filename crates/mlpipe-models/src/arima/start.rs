//! Starting values for the likelihood optimisation by the Hannan–Rissanen (1982) method:
//! a long autoregression estimates the innovations, then a regression of the series on its
//! own lags and the lagged innovations gives the ARMA coefficients. Estimates that are not
//! stationary / invertible fall back to zeros, as statsmodels does.

use super::transform::unconstrain_stationary;
use crate::linalg::solve_spd;
use ndarray::{Array1, Array2};

/// Starting ARMA coefficients for a zero-mean series.
#[derive(Clone, Debug, PartialEq)]
pub struct StartValues {
    /// AR coefficients.
    pub ar: Vec<f64>,
    /// MA coefficients (plus sign).
    pub ma: Vec<f64>,
    /// Innovation variance.
    pub sigma2: f64,
}

/// Least squares of `target` on the columns given by `row(t)` for `t` in `range`;
/// returns the coefficients and the residual mean square.
fn ols(
    range: std::ops::Range<usize>,
    k: usize,
    row: impl Fn(usize, &mut [f64]),
    target: impl Fn(usize) -> f64,
) -> Option<(Vec<f64>, f64)> {
    let n = range.len();
    if n <= k || k == 0 {
        return None;
    }
    let mut xtx = Array2::<f64>::zeros((k, k));
    let mut xty = Array1::<f64>::zeros(k);
    let mut buf = vec![0.0; k];
    for t in range.clone() {
        row(t, &mut buf);
        let yt = target(t);
        for i in 0..k {
            xty[i] += buf[i] * yt;
            for j in 0..k {
                xtx[[i, j]] += buf[i] * buf[j];
            }
        }
    }
    let beta = solve_spd(&xtx, &xty)?;
    let mut ss = 0.0;
    for t in range {
        row(t, &mut buf);
        let fit: f64 = buf.iter().zip(beta.iter()).map(|(a, b)| a * b).sum();
        ss += (target(t) - fit).powi(2);
    }
    Some((beta.to_vec(), ss / n as f64))
}

/// Hannan–Rissanen estimates for the zero-mean series `w`.
pub fn hannan_rissanen(w: &[f64], p: usize, q: usize) -> StartValues {
    let n = w.len();
    let var = w.iter().map(|v| v * v).sum::<f64>() / n.max(1) as f64;
    let fallback = StartValues {
        ar: vec![0.0; p],
        ma: vec![0.0; q],
        sigma2: var,
    };
    if p == 0 && q == 0 {
        return fallback;
    }
    let lagged = |t: usize, out: &mut [f64], series: &[f64], lags: usize, offset: usize| {
        for l in 0..lags {
            out[offset + l] = series[t - l - 1];
        }
    };
    let est = if q == 0 {
        ols(p..n, p, |t, out| lagged(t, out, w, p, 0), |t| w[t]).map(|(b, s2)| (b, vec![], s2))
    } else {
        let long = ((n as f64).ln().powi(2).floor() as usize)
            .max(p + q)
            .min(n / 3);
        let resid =
            ols(long..n, long, |t, out| lagged(t, out, w, long, 0), |t| w[t]).map(|(b, _)| {
                let mut e = vec![0.0; n];
                for t in long..n {
                    let fit: f64 = (0..long).map(|l| b[l] * w[t - l - 1]).sum();
                    e[t] = w[t] - fit;
                }
                e
            });
        resid.and_then(|e| {
            let start = (long + q).max(p);
            ols(
                start..n,
                p + q,
                |t, out| {
                    lagged(t, out, w, p, 0);
                    lagged(t, out, &e, q, p);
                },
                |t| w[t],
            )
            .map(|(b, s2)| (b[..p].to_vec(), b[p..].to_vec(), s2))
        })
    };
    let Some((mut ar, mut ma, sigma2)) = est else {
        return fallback;
    };
    if unconstrain_stationary(&ar).is_none() {
        ar = vec![0.0; p];
    }
    let neg: Vec<f64> = ma.iter().map(|v| -v).collect();
    if unconstrain_stationary(&neg).is_none() {
        ma = vec![0.0; q];
    }
    let sigma2 = if sigma2 > 0.0 && sigma2.is_finite() {
        sigma2
    } else {
        var
    };
    StartValues { ar, ma, sigma2 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_an_ar1_coefficient_roughly() {
        // Deterministic pseudo-noise (LCG) driving φ = 0.6.
        let mut state = 12345u64;
        let mut noise = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let mut w = vec![0.0; 2000];
        for t in 1..w.len() {
            w[t] = 0.6 * w[t - 1] + noise();
        }
        let s = hannan_rissanen(&w, 1, 0);
        assert!((s.ar[0] - 0.6).abs() < 0.05, "{:?}", s.ar);
        let s = hannan_rissanen(&w, 1, 1);
        assert_eq!((s.ar.len(), s.ma.len()), (1, 1));
    }
}
