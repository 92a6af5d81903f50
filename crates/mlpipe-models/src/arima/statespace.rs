//! The state-space form of ARIMA(p,d,q) used by statsmodels' SARIMAX
//! (`simple_differencing=False`) and its exact Gaussian likelihood by the Kalman filter.
//!
//! State `α_t = [y_{t−1}, Δy_{t−1}, …, Δ^{d−1}y_{t−1}, u_t, …]`: `d` integration states
//! followed by the Harvey companion form of the ARMA process `u_t = Δ^d (y_t − βx_t)` with
//! `r = max(p, q+1)` states. Observation `y_t = βx_t + Σ_{i<d} Δ^i y_{t−1} + u_t` (no
//! measurement noise). Initialisation as statsmodels: the ARMA block at its stationary
//! covariance (discrete Lyapunov equation), the integration states approximately diffuse
//! (variance 10⁶, mean 0), and the first `d` log-likelihood terms burned.

/// Variance of the approximately diffuse integration states (statsmodels' `initial_variance`).
pub const DIFFUSE_VARIANCE: f64 = 1e6;

/// A filter is treated as converged to its steady state when the predicted covariance
/// changes by less than this, relative to its largest entry.
const STEADY_TOLERANCE: f64 = 1e-13;

/// ARMA orders above this solve the Lyapunov equation by doubling instead of directly.
const DIRECT_LYAPUNOV_MAX: usize = 8;

/// The system matrices for one parameter vector.
#[derive(Clone, Debug)]
pub struct StateSpace {
    /// Integration order.
    pub d: usize,
    /// Number of ARMA states.
    pub r: usize,
    /// Total number of states.
    pub m: usize,
    /// Non-zero entries of each transition row: `(column, value)`.
    rows: Vec<Vec<(usize, f64)>>,
    /// Selection vector of the ARMA block, `[1, θ_1, …, θ_{r−1}]`.
    sel: Vec<f64>,
    /// Innovation variance.
    sigma2: f64,
    /// Initial state covariance (row-major `m × m`).
    pub p0: Vec<f64>,
}

/// The filter's end state: the one-step-ahead prediction after the last observation.
#[derive(Clone, Debug, Default)]
pub struct FilterOutput {
    /// Exact log-likelihood (burned terms excluded).
    pub llf: f64,
    /// Predicted state mean for the first period after the sample.
    pub a: Vec<f64>,
    /// Its covariance (row-major `m × m`).
    pub p: Vec<f64>,
}

impl StateSpace {
    /// Builds the system; `None` when the ARMA block has no stationary covariance.
    pub fn new(d: usize, ar: &[f64], ma: &[f64], sigma2: f64) -> Option<Self> {
        let r = ar.len().max(ma.len() + 1);
        let m = d + r;
        let mut rows = vec![Vec::new(); m];
        for (i, row) in rows.iter_mut().enumerate().take(d) {
            for j in i..=d {
                row.push((j, 1.0));
            }
        }
        for i in 0..r {
            let row = &mut rows[d + i];
            if let Some(&phi) = ar.get(i) {
                if phi != 0.0 {
                    row.push((d, phi));
                }
            }
            if i + 1 < r {
                row.push((d + i + 1, 1.0));
            }
        }
        let mut sel = vec![0.0; r];
        sel[0] = 1.0;
        for (s, &th) in sel.iter_mut().skip(1).zip(ma) {
            *s = th;
        }
        let mut ss = Self {
            d,
            r,
            m,
            rows,
            sel,
            sigma2,
            p0: vec![0.0; m * m],
        };
        let sigma = ss.stationary_arma_covariance()?;
        for i in 0..d {
            ss.p0[i * m + i] = DIFFUSE_VARIANCE;
        }
        for i in 0..r {
            for j in 0..r {
                ss.p0[(d + i) * m + d + j] = sigma2 * sigma[i * r + j];
            }
        }
        Some(ss)
    }

    /// The ARMA block of the transition matrix, dense `r × r`.
    fn arma_transition(&self) -> Vec<f64> {
        let (d, r) = (self.d, self.r);
        let mut t = vec![0.0; r * r];
        for i in 0..r {
            for &(j, v) in &self.rows[d + i] {
                t[i * r + (j - d)] = v;
            }
        }
        t
    }

    /// Solves `Σ = TΣT' + RR'` for the ARMA block (unit innovation variance).
    fn stationary_arma_covariance(&self) -> Option<Vec<f64>> {
        let r = self.r;
        let t = self.arma_transition();
        let mut q = vec![0.0; r * r];
        for i in 0..r {
            for j in 0..r {
                q[i * r + j] = self.sel[i] * self.sel[j];
            }
        }
        let sigma = if r <= DIRECT_LYAPUNOV_MAX {
            lyapunov_direct(&t, &q, r)?
        } else {
            lyapunov_doubling(&t, &q, r)?
        };
        let ok = (0..r).all(|i| sigma[i * r + i].is_finite() && sigma[i * r + i] >= 0.0);
        ok.then_some(sigma)
    }

    /// One prediction step of the state mean: `a ← T a`.
    pub fn predict_mean(&self, a: &[f64], out: &mut [f64]) {
        for (o, row) in out.iter_mut().zip(&self.rows) {
            *o = row.iter().map(|&(j, v)| v * a[j]).sum();
        }
    }

    /// One prediction step of the covariance: `P ← T P T' + R R' σ²` (`tmp` is scratch).
    pub fn predict_cov(&self, p: &[f64], tmp: &mut [f64], out: &mut [f64]) {
        let m = self.m;
        for (i, row) in self.rows.iter().enumerate() {
            for k in 0..m {
                tmp[i * m + k] = row.iter().map(|&(j, v)| v * p[j * m + k]).sum();
            }
        }
        for i in 0..m {
            for (l, row) in self.rows.iter().enumerate() {
                out[i * m + l] = row.iter().map(|&(j, v)| tmp[i * m + j] * v).sum();
            }
        }
        let d = self.d;
        for i in 0..self.r {
            for j in 0..self.r {
                out[(d + i) * m + d + j] += self.sigma2 * self.sel[i] * self.sel[j];
            }
        }
    }

    /// Observation of a state mean: `Z a` (the integration states plus the first ARMA state).
    pub fn observe(&self, a: &[f64]) -> f64 {
        a[..=self.d].iter().sum()
    }

    /// Observation variance of a state covariance: `Z P Z'`.
    pub fn observe_var(&self, p: &[f64]) -> f64 {
        let m = self.m;
        (0..=self.d)
            .map(|i| (0..=self.d).map(|j| p[i * m + j]).sum::<f64>())
            .sum()
    }

    /// Runs the Kalman filter over `y` (minus `intercept(t)`), summing the log-likelihood
    /// from observation `burn` on. Returns `None` when a prediction variance is not positive.
    pub fn filter(
        &self,
        y: &[f64],
        intercept: impl Fn(usize) -> f64,
        burn: usize,
    ) -> Option<FilterOutput> {
        let m = self.m;
        let dz = self.d + 1;
        let mut a = vec![0.0; m];
        let mut a_next = vec![0.0; m];
        let mut p = self.p0.clone();
        let mut p_next = vec![0.0; m * m];
        let mut tmp = vec![0.0; m * m];
        let mut prev = vec![0.0; m * m];
        let mut pz = vec![0.0; m];
        let mut llf = 0.0;
        let mut converged = false;
        let mut steady_pz = vec![0.0; m];
        let mut steady_f = 0.0;
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        for (t, &yt) in y.iter().enumerate() {
            let v = yt - intercept(t) - self.observe(&a);
            let f = if converged {
                pz.copy_from_slice(&steady_pz);
                steady_f
            } else {
                for (i, z) in pz.iter_mut().enumerate() {
                    *z = p[i * m..i * m + dz].iter().sum();
                }
                pz[..dz].iter().sum()
            };
            if !(f > 0.0 && f.is_finite()) {
                return None;
            }
            if t >= burn {
                llf -= 0.5 * (ln2pi + f.ln() + v * v / f);
            }
            let gain = v / f;
            for (ai, zi) in a.iter_mut().zip(&pz) {
                *ai += zi * gain;
            }
            self.predict_mean(&a, &mut a_next);
            std::mem::swap(&mut a, &mut a_next);
            if !converged {
                prev.copy_from_slice(&p);
                for i in 0..m {
                    for j in 0..m {
                        p[i * m + j] -= pz[i] * pz[j] / f;
                    }
                }
                self.predict_cov(&p, &mut tmp, &mut p_next);
                std::mem::swap(&mut p, &mut p_next);
                let scale = p.iter().fold(0.0f64, |s, v| s.max(v.abs()));
                let change = p
                    .iter()
                    .zip(&prev)
                    .fold(0.0f64, |s, (x, y)| s.max((x - y).abs()));
                if change <= STEADY_TOLERANCE * scale {
                    converged = true;
                    for (i, z) in steady_pz.iter_mut().enumerate() {
                        *z = p[i * m..i * m + dz].iter().sum();
                    }
                    steady_f = steady_pz[..dz].iter().sum();
                }
            }
        }
        Some(FilterOutput { llf, a, p })
    }
}

/// Solves `X = A X A' + Q` through the Kronecker system `(I − A⊗A) vec X = vec Q`.
fn lyapunov_direct(a: &[f64], q: &[f64], r: usize) -> Option<Vec<f64>> {
    let n = r * r;
    let mut mat = vec![0.0; n * n];
    for i in 0..r {
        for j in 0..r {
            let row = i * r + j;
            mat[row * n + row] += 1.0;
            for k in 0..r {
                let aik = a[i * r + k];
                if aik == 0.0 {
                    continue;
                }
                for l in 0..r {
                    mat[row * n + k * r + l] -= aik * a[j * r + l];
                }
            }
        }
    }
    let mut x = q.to_vec();
    gauss_solve(&mut mat, &mut x, n)?;
    // Symmetrise away rounding.
    for i in 0..r {
        for j in 0..i {
            let s = 0.5 * (x[i * r + j] + x[j * r + i]);
            x[i * r + j] = s;
            x[j * r + i] = s;
        }
    }
    Some(x)
}

/// Solves `X = A X A' + Q` by the doubling iteration `X ← X + A X A'`, `A ← A²`.
fn lyapunov_doubling(a: &[f64], q: &[f64], r: usize) -> Option<Vec<f64>> {
    let mut x = q.to_vec();
    let mut ak = a.to_vec();
    for _ in 0..100 {
        let axa = matmul(&matmul(&ak, &x, r), &transpose(&ak, r), r);
        for (xi, v) in x.iter_mut().zip(&axa) {
            *xi += v;
        }
        ak = matmul(&ak, &ak, r);
        let norm = ak.iter().fold(0.0f64, |s, v| s.max(v.abs()));
        if !norm.is_finite() {
            return None;
        }
        if norm < 1e-15 {
            return Some(x);
        }
    }
    None
}

fn matmul(a: &[f64], b: &[f64], r: usize) -> Vec<f64> {
    let mut c = vec![0.0; r * r];
    for i in 0..r {
        for k in 0..r {
            let aik = a[i * r + k];
            if aik != 0.0 {
                for j in 0..r {
                    c[i * r + j] += aik * b[k * r + j];
                }
            }
        }
    }
    c
}

fn transpose(a: &[f64], r: usize) -> Vec<f64> {
    let mut t = vec![0.0; r * r];
    for i in 0..r {
        for j in 0..r {
            t[j * r + i] = a[i * r + j];
        }
    }
    t
}

/// Gaussian elimination with partial pivoting; solves in place. `None` when singular.
pub(crate) fn gauss_solve(mat: &mut [f64], rhs: &mut [f64], n: usize) -> Option<()> {
    for col in 0..n {
        let piv =
            (col..n).max_by(|&i, &j| mat[i * n + col].abs().total_cmp(&mat[j * n + col].abs()))?;
        let pv = mat[piv * n + col];
        if pv.abs() < 1e-300 || !pv.is_finite() {
            return None;
        }
        if piv != col {
            for k in 0..n {
                mat.swap(piv * n + k, col * n + k);
            }
            rhs.swap(piv, col);
        }
        for i in (col + 1)..n {
            let factor = mat[i * n + col] / pv;
            if factor != 0.0 {
                for k in col..n {
                    mat[i * n + k] -= factor * mat[col * n + k];
                }
                rhs[i] -= factor * rhs[col];
            }
        }
    }
    for i in (0..n).rev() {
        let mut s = rhs[i];
        for k in (i + 1)..n {
            s -= mat[i * n + k] * rhs[k];
        }
        rhs[i] = s / mat[i * n + i];
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ar1_stationary_variance_is_sigma2_over_one_minus_phi2() {
        let ss = StateSpace::new(0, &[0.5], &[], 2.0);
        let p0 = ss.map(|s| s.p0[0]).unwrap_or(f64::NAN);
        assert!((p0 - 2.0 / 0.75).abs() < 1e-12);
    }

    #[test]
    fn direct_and_doubling_lyapunov_agree() {
        let a = [0.5, 1.0, 0.0, -0.3, 0.0, 1.0, 0.1, 0.0, 0.0];
        let q = [1.0, 0.4, 0.1, 0.4, 0.16, 0.04, 0.1, 0.04, 0.01];
        let x1 = lyapunov_direct(&a, &q, 3).unwrap_or_default();
        let x2 = lyapunov_doubling(&a, &q, 3).unwrap_or_default();
        assert_eq!(x1.len(), 9);
        for (u, v) in x1.iter().zip(&x2) {
            assert!((u - v).abs() < 1e-10, "{u} vs {v}");
        }
    }
}
