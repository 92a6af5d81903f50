//! The Monahan (1984) / Jones (1980) reparameterisation statsmodels uses to keep AR
//! polynomials stationary and MA polynomials invertible while optimising without bounds:
//! unconstrained reals → partial autocorrelations in (−1, 1) → polynomial coefficients by
//! the Durbin–Levinson recursion.

/// Maps unconstrained reals to the coefficients of a stationary AR polynomial
/// (`y_t = Σ φ_i y_{t−i} + …`). Same map as statsmodels' `constrain_stationary_univariate`.
pub fn constrain_stationary(unconstrained: &[f64]) -> Vec<f64> {
    let n = unconstrained.len();
    let mut prev = vec![0.0; n];
    let mut cur = vec![0.0; n];
    for k in 0..n {
        let x = unconstrained[k];
        let r = x / (1.0 + x * x).sqrt();
        for i in 0..k {
            cur[i] = prev[i] + r * prev[k - i - 1];
        }
        cur[k] = r;
        prev[..=k].copy_from_slice(&cur[..=k]);
    }
    prev.iter().map(|v| -v).collect()
}

/// The inverse of [`constrain_stationary`]; `None` when the coefficients are not those of
/// a stationary polynomial (a partial autocorrelation is not inside (−1, 1)).
pub fn unconstrain_stationary(constrained: &[f64]) -> Option<Vec<f64>> {
    let n = constrained.len();
    if n == 0 {
        return Some(Vec::new());
    }
    // Row k of the Durbin–Levinson triangle, walked backwards from the last row.
    let mut row: Vec<f64> = constrained.iter().map(|v| -v).collect();
    let mut partial = vec![0.0; n];
    for k in (0..n).rev() {
        let rk = row[k];
        if !rk.is_finite() || rk.abs() >= 1.0 {
            return None;
        }
        partial[k] = rk;
        if k > 0 {
            let denom = 1.0 - rk * rk;
            let next: Vec<f64> = (0..k)
                .map(|i| (row[i] - rk * row[k - i - 1]) / denom)
                .collect();
            row[..k].copy_from_slice(&next);
        }
    }
    Some(partial.iter().map(|r| r / (1.0 - r * r).sqrt()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_non_stationary() {
        let x = [0.3, -1.2, 2.5];
        let c = constrain_stationary(&x);
        let back = unconstrain_stationary(&c).unwrap_or_default();
        for (a, b) in x.iter().zip(&back) {
            assert!((a - b).abs() < 1e-10, "{a} vs {b}");
        }
        // φ = 1.1 is explosive.
        assert!(unconstrain_stationary(&[1.1]).is_none());
        // AR(1): φ = −r with r = x/√(1+x²).
        let phi = constrain_stationary(&[1.0])[0];
        assert!((phi + 1.0 / 2f64.sqrt()).abs() < 1e-15);
    }
}
