//! Solvers of the linear models: the normal equations by Cholesky (OLS and ridge) and
//! scikit-learn's cyclic coordinate descent with duality-gap stopping and gap-safe
//! screening (elastic net), run on centred data.

use crate::linalg::cholesky_solve;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// Data centred on its column means (when fitting an intercept).
pub(crate) struct Centred {
    /// Centred features, one contiguous vector per column.
    pub cols: Vec<Vec<f64>>,
    /// Centred targets.
    pub y: Vec<f64>,
    /// Column means (zeros without intercept).
    pub x_mean: Vec<f64>,
    /// Target mean (zero without intercept).
    pub y_mean: f64,
}

pub(crate) fn centre(x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>, intercept: bool) -> Centred {
    let n = x.nrows() as f64;
    let x_mean: Vec<f64> = if intercept {
        x.axis_iter(Axis(1)).map(|c| c.sum() / n).collect()
    } else {
        vec![0.0; x.ncols()]
    };
    let y_mean = if intercept { y.sum() / n } else { 0.0 };
    let cols = x
        .axis_iter(Axis(1))
        .zip(&x_mean)
        .map(|(c, m)| c.iter().map(|v| v - m).collect())
        .collect();
    Centred {
        cols,
        y: y.iter().map(|v| v - y_mean).collect(),
        x_mean,
        y_mean,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Solves `(XᵀX + alpha·I) w = Xᵀy`. Columns that are constant (zero after centring) get a
/// zero weight, as the minimum-norm least-squares solution gives them. `None` when the
/// remaining columns are linearly dependent and `alpha` is zero.
pub(crate) fn normal_equations(c: &Centred, alpha: f64) -> Option<Vec<f64>> {
    let d = c.cols.len();
    let live: Vec<usize> = (0..d)
        .filter(|&j| c.cols[j].iter().any(|&v| v != 0.0))
        .collect();
    let k = live.len();
    let mut gram = Array2::<f64>::zeros((k, k));
    let mut rhs = Array1::<f64>::zeros(k);
    for (a, &ja) in live.iter().enumerate() {
        rhs[a] = dot(&c.cols[ja], &c.y);
        for (b, &jb) in live.iter().enumerate().skip(a) {
            let v = dot(&c.cols[ja], &c.cols[jb]);
            gram[[a, b]] = v;
            gram[[b, a]] = v;
        }
        gram[[a, a]] += alpha;
    }
    let sol = if k == 0 {
        Array1::zeros(0)
    } else {
        cholesky_solve(&gram, &rhs)?
    };
    let mut w = vec![0.0; d];
    for (a, &j) in live.iter().enumerate() {
        w[j] = sol[a];
    }
    Some(w)
}

/// Outcome of coordinate descent.
pub(crate) struct CdResult {
    pub w: Vec<f64>,
    pub gap: f64,
    pub n_iter: usize,
}

/// scikit-learn's `enet_coordinate_descent` (1.9): minimises
/// `½‖y − Xw‖² + alpha‖w‖₁ + ½·beta‖w‖²` (alpha and beta already multiplied by the row
/// count), stopping when the duality gap is at most `tol·‖y‖²`.
pub(crate) fn enet_cd(c: &Centred, alpha: f64, beta: f64, max_iter: usize, tol: f64) -> CdResult {
    let x = &c.cols;
    let y = &c.y;
    let d = x.len();
    let norm2: Vec<f64> = x.iter().map(|col| dot(col, col)).collect();
    let mut w = vec![0.0; d];
    let mut r = y.clone();
    let d_w_tol = tol;
    let tol = tol * dot(y, y);
    let mut xta = vec![0.0; d];
    let screening = alpha != 0.0;
    let (mut gap, mut dual_norm) = gap_enet(x, y, &w, &r, alpha, beta, &mut xta);
    if gap <= tol {
        return CdResult { w, gap, n_iter: 0 };
    }
    let mut active: Vec<usize> = (0..d).collect();
    let mut excluded = vec![false; d];
    let screen = |w: &mut Vec<f64>,
                  r: &mut Vec<f64>,
                  excluded: &mut Vec<bool>,
                  xta: &[f64],
                  gap: f64,
                  dual_norm: f64,
                  first: bool|
     -> Vec<usize> {
        let mut act = Vec::with_capacity(d);
        for j in 0..d {
            if first && norm2[j] == 0.0 {
                w[j] = 0.0;
                excluded[j] = true;
                continue;
            }
            if !first && excluded[j] {
                continue;
            }
            let xj_theta = xta[j] / alpha.max(dual_norm);
            let dj = (1.0 - xj_theta.abs()) / (norm2[j] + beta).sqrt();
            if dj <= (2.0 * gap).sqrt() / alpha {
                act.push(j);
                excluded[j] = false;
            } else {
                if w[j] != 0.0 {
                    for (ri, xi) in r.iter_mut().zip(&x[j]) {
                        *ri += w[j] * xi;
                    }
                    w[j] = 0.0;
                }
                excluded[j] = true;
            }
        }
        act
    };
    if screening {
        active = screen(&mut w, &mut r, &mut excluded, &xta, gap, dual_norm, true);
    }
    let mut n_iter = 0;
    for it in 0..max_iter {
        n_iter = it + 1;
        let (mut w_max, mut d_w_max) = (0.0f64, 0.0f64);
        for &j in &active {
            if norm2[j] == 0.0 {
                continue;
            }
            let wj = w[j];
            let tmp = dot(&x[j], &r) + wj * norm2[j];
            w[j] = tmp.signum() * (tmp.abs() - alpha).max(0.0) / (norm2[j] + beta);
            if tmp == 0.0 {
                w[j] = 0.0;
            }
            if w[j] != wj {
                let delta = wj - w[j];
                for (ri, xi) in r.iter_mut().zip(&x[j]) {
                    *ri += delta * xi;
                }
            }
            d_w_max = d_w_max.max((w[j] - wj).abs());
            w_max = w_max.max(w[j].abs());
        }
        if w_max == 0.0 || d_w_max / w_max <= d_w_tol || it == max_iter - 1 {
            (gap, dual_norm) = gap_enet(x, y, &w, &r, alpha, beta, &mut xta);
            if gap <= tol {
                break;
            }
            if screening {
                active = screen(&mut w, &mut r, &mut excluded, &xta, gap, dual_norm, false);
            }
        }
    }
    CdResult { w, gap, n_iter }
}

/// scikit-learn's `gap_enet`: the duality gap and the dual norm of `XᵀR − beta·w`.
fn gap_enet(
    x: &[Vec<f64>],
    y: &[f64],
    w: &[f64],
    r: &[f64],
    alpha: f64,
    beta: f64,
    xta: &mut [f64],
) -> (f64, f64) {
    let w_l2 = if beta > 0.0 { dot(w, w) } else { 0.0 };
    let r_norm2 = dot(r, r);
    let ry = dot(r, y);
    if alpha == 0.0 {
        for (j, col) in x.iter().enumerate() {
            xta[j] = dot(col, r);
        }
        let dual_norm = dot(xta, xta);
        if beta == 0.0 {
            return (dual_norm, dual_norm);
        }
        let gap = r_norm2 + 0.5 * beta * w_l2 - ry + dual_norm / (2.0 * beta);
        return (gap, dual_norm);
    }
    for (j, col) in x.iter().enumerate() {
        xta[j] = dot(col, r) - beta * w[j];
    }
    let dual_norm = xta.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let l1: f64 = w.iter().map(|v| v.abs()).sum();
    let primal = 0.5 * (r_norm2 + beta * w_l2) + alpha * l1;
    let scale = if dual_norm > alpha {
        alpha / dual_norm
    } else {
        1.0
    };
    let dual = -0.5 * scale * scale * (r_norm2 + beta * w_l2) + scale * ry;
    (primal - dual, dual_norm)
}
