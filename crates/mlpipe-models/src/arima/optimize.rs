//! A small quasi-Newton minimiser: BFGS on the inverse Hessian with central-difference
//! gradients and a backtracking (Armijo) line search. Enough for the handful of smooth,
//! unconstrained parameters of an ARIMA likelihood.

/// Stopping rules.
#[derive(Clone, Copy, Debug)]
pub struct BfgsOptions {
    /// Iterations at most.
    pub max_iter: usize,
    /// Stop when the largest gradient component is below this.
    pub gtol: f64,
    /// Stop when an iteration lowers the objective by less than this (relative).
    pub ftol: f64,
}

impl Default for BfgsOptions {
    fn default() -> Self {
        Self {
            max_iter: 500,
            gtol: 1e-8,
            ftol: 1e-15,
        }
    }
}

/// Where the minimiser stopped.
#[derive(Clone, Debug)]
pub struct Minimum {
    /// The argument.
    pub x: Vec<f64>,
    /// The objective there.
    pub f: f64,
    /// Iterations used.
    pub iterations: usize,
    /// Whether a convergence test (rather than the iteration limit) stopped it.
    pub converged: bool,
    /// Objective evaluations used.
    pub evaluations: usize,
}

/// Central-difference gradient.
fn gradient(f: &mut impl FnMut(&[f64]) -> f64, x: &[f64], evals: &mut usize) -> Vec<f64> {
    let mut xp = x.to_vec();
    let mut g = vec![0.0; x.len()];
    for i in 0..x.len() {
        let h = 1e-6 * (1.0 + x[i].abs());
        xp[i] = x[i] + h;
        let fp = f(&xp);
        xp[i] = x[i] - h;
        let fm = f(&xp);
        xp[i] = x[i];
        *evals += 2;
        g[i] = (fp - fm) / (2.0 * h);
    }
    g
}

/// Minimises `f` from `x0`. Non-finite objective values are treated as "too far" by the
/// line search. Returns `None` when `f(x0)` itself is not finite.
pub fn minimize(
    mut f: impl FnMut(&[f64]) -> f64,
    x0: &[f64],
    opts: BfgsOptions,
) -> Option<Minimum> {
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut fx = f(&x);
    let mut evals = 1;
    if !fx.is_finite() {
        return None;
    }
    if n == 0 {
        return Some(Minimum {
            x,
            f: fx,
            iterations: 0,
            converged: true,
            evaluations: evals,
        });
    }
    let mut g = gradient(&mut f, &x, &mut evals);
    let mut h = identity(n);
    let mut first = true;
    let mut converged = false;
    let mut iterations = 0;
    let mut small_steps = 0;
    while iterations < opts.max_iter {
        if g.iter().all(|v| v.abs() < opts.gtol) {
            converged = true;
            break;
        }
        iterations += 1;
        let mut dir: Vec<f64> = (0..n)
            .map(|i| -(0..n).map(|j| h[i * n + j] * g[j]).sum::<f64>())
            .collect();
        let mut slope: f64 = dir.iter().zip(&g).map(|(d, gi)| d * gi).sum();
        if slope >= 0.0 || !slope.is_finite() {
            h = identity(n);
            dir = g.iter().map(|v| -v).collect();
            slope = -g.iter().map(|v| v * v).sum::<f64>();
        }
        // Keep the first step modest: the identity knows nothing of the scale.
        let mut step = if first {
            let norm = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
            (1.0f64).min(1.0 / norm.max(1e-300))
        } else {
            1.0
        };
        let mut accepted = None;
        for _ in 0..60 {
            let xn: Vec<f64> = x.iter().zip(&dir).map(|(xi, d)| xi + step * d).collect();
            let fnew = f(&xn);
            evals += 1;
            if fnew.is_finite() && fnew <= fx + 1e-4 * step * slope {
                accepted = Some((xn, fnew));
                break;
            }
            step *= 0.5;
        }
        let Some((xn, fnew)) = accepted else {
            // No decrease along a descent direction: at the optimum up to rounding.
            converged = true;
            break;
        };
        let gn = gradient(&mut f, &xn, &mut evals);
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        let decrease = fx - fnew;
        x = xn;
        fx = fnew;
        g = gn;
        if sy > 1e-300 {
            if first {
                let yy: f64 = y.iter().map(|v| v * v).sum();
                let scale = sy / yy;
                h.iter_mut().for_each(|v| *v *= scale);
            }
            bfgs_update(&mut h, &s, &y, sy, n);
            first = false;
        }
        if decrease <= opts.ftol * fx.abs().max(1.0) {
            small_steps += 1;
            if small_steps >= 3 {
                converged = true;
                break;
            }
        } else {
            small_steps = 0;
        }
    }
    Some(Minimum {
        x,
        f: fx,
        iterations,
        converged,
        evaluations: evals,
    })
}

fn identity(n: usize) -> Vec<f64> {
    let mut h = vec![0.0; n * n];
    for i in 0..n {
        h[i * n + i] = 1.0;
    }
    h
}

/// `H ← (I − ρ s y') H (I − ρ y s') + ρ s s'`, `ρ = 1 / y's`.
fn bfgs_update(h: &mut [f64], s: &[f64], y: &[f64], sy: f64, n: usize) {
    let rho = 1.0 / sy;
    let hy: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| h[i * n + j] * y[j]).sum())
        .collect();
    let yhy: f64 = y.iter().zip(&hy).map(|(a, b)| a * b).sum();
    for i in 0..n {
        for j in 0..n {
            h[i * n + j] +=
                -rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_rosenbrock() {
        let rosen = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = minimize(rosen, &[-1.2, 1.0], BfgsOptions::default());
        let m = m.unwrap_or_else(|| Minimum {
            x: vec![f64::NAN; 2],
            f: f64::NAN,
            iterations: 0,
            converged: false,
            evaluations: 0,
        });
        assert!((m.x[0] - 1.0).abs() < 1e-5, "{:?}", m.x);
        assert!((m.x[1] - 1.0).abs() < 1e-5, "{:?}", m.x);
    }
}
