//! Small dense linear algebra: Cholesky factorisation and solves for the normal equations
//! and Newton steps (systems of at most a few hundred unknowns).

use ndarray::{Array1, Array2};

/// Solves `a · x = b` for symmetric positive-definite `a`. Returns `None` when `a` is not
/// positive definite.
pub fn cholesky_solve(a: &Array2<f64>, b: &Array1<f64>) -> Option<Array1<f64>> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let mut d = a[[j, j]];
        for k in 0..j {
            d -= l[[j, k]] * l[[j, k]];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        l[[j, j]] = d;
        for i in (j + 1)..n {
            let mut s = a[[i, j]];
            for k in 0..j {
                s -= l[[i, k]] * l[[j, k]];
            }
            l[[i, j]] = s / d;
        }
    }
    let mut y = Array1::<f64>::zeros(n);
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[[i, k]] * y[k];
        }
        y[i] = s / l[[i, i]];
    }
    let mut x = Array1::<f64>::zeros(n);
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in (i + 1)..n {
            s -= l[[k, i]] * x[k];
        }
        x[i] = s / l[[i, i]];
    }
    Some(x)
}

/// Solves with growing diagonal jitter when `a` is only semi-definite.
pub fn solve_spd(a: &Array2<f64>, b: &Array1<f64>) -> Option<Array1<f64>> {
    if let Some(x) = cholesky_solve(a, b) {
        return Some(x);
    }
    let scale = (0..a.nrows())
        .map(|i| a[[i, i]].abs())
        .fold(0.0, f64::max)
        .max(1.0);
    let mut jitter = 1e-12 * scale;
    for _ in 0..8 {
        let mut aj = a.clone();
        for i in 0..a.nrows() {
            aj[[i, i]] += jitter;
        }
        if let Some(x) = cholesky_solve(&aj, b) {
            return Some(x);
        }
        jitter *= 100.0;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn solves_a_small_spd_system() {
        let a = array![[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
        let x = array![1.0, -2.0, 0.5];
        let b = a.dot(&x);
        let got = cholesky_solve(&a, &b).unwrap_or_default();
        for i in 0..3 {
            assert!((got[i] - x[i]).abs() < 1e-12);
        }
        assert!(cholesky_solve(&array![[1.0, 2.0], [2.0, 1.0]], &array![1.0, 1.0]).is_none());
    }
}
