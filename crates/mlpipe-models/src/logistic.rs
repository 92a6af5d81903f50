//! Logistic regression, binary and multinomial, with scikit-learn's objective
//! (`½‖W‖² + C · Σ log-loss`, intercepts not penalised), solved by Newton's method with a
//! backtracking line search. Newton converges to the same optimum as scikit-learn's lbfgs,
//! only more tightly.

use crate::checkpoint::{self, Checkpoint};
use crate::error::{ModelError, Result};
use crate::facade::*;
use crate::linalg::solve_spd;
use mlpipe_core::{FeatureSetId, Score};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

const KIND: &str = "logistic_regression";

/// Hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogisticParams {
    /// Inverse regularisation strength (scikit-learn's `C`).
    #[serde(rename = "C", alias = "c")]
    pub c: f64,
    /// Newton iterations at most.
    pub max_iter: usize,
    /// Stop when the largest gradient component is below this.
    pub tol: f64,
    /// Learn intercepts.
    pub fit_intercept: bool,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self {
            c: 1.0,
            max_iter: 100,
            tol: 1e-8,
            fit_intercept: true,
        }
    }
}

/// The logistic-regression trainer.
#[derive(Clone, Debug, Default)]
pub struct LogisticRegression(pub LogisticParams);

/// Learned parameters: one weight row and intercept per class for multinomial models, a
/// single row (for the larger class) for binary ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticState {
    /// Class labels, ascending.
    pub classes: Vec<i64>,
    /// Weights, one row per modelled class.
    pub coef: Vec<Vec<f64>>,
    /// Intercepts, one per modelled class.
    pub intercept: Vec<f64>,
    /// Newton iterations used.
    pub iterations: usize,
}

/// A fitted logistic regression.
#[derive(Clone, Debug)]
pub struct LogisticModel {
    state: LogisticState,
    params: LogisticParams,
    feature_set_id: FeatureSetId,
    input: Vec<String>,
}

impl Trainer for LogisticRegression {
    fn kind(&self) -> &str {
        KIND
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>> {
        self.train_resumable(data, &checkpoint::NoCheckpoint)
    }

    /// Saves the coefficients after every Newton step and resumes from them.
    fn train_resumable(
        &self,
        data: &TrainingData<'_>,
        ck: &dyn Checkpoint,
    ) -> Result<Box<dyn Model>> {
        let p = &self.0;
        if !(p.c > 0.0 && p.c.is_finite()) || p.max_iter == 0 {
            return Err(ModelError::Params {
                kind: KIND.into(),
                reason: format!(
                    "C must be positive and max_iter at least 1 (C = {}, max_iter = {})",
                    p.c, p.max_iter
                ),
            });
        }
        check_training(KIND, data)?;
        let (classes, y) = classes_of(KIND, data.y)?;
        // Design matrix with a trailing column of ones for the intercept.
        let n = data.x.nrows();
        let d = data.x.ncols() + usize::from(p.fit_intercept);
        let mut xa = Array2::<f64>::ones((n, d));
        xa.slice_axis_mut(Axis(1), ndarray::Slice::from(0..data.x.ncols()))
            .assign(&data.x);
        let state = if classes.len() == 2 {
            let yb: Vec<f64> = y.iter().map(|&c| c as f64).collect();
            let (w, it) = fit_binary(&xa, &yb, p, ck)?;
            split_state(classes, vec![w], it, p.fit_intercept)
        } else {
            let (ws, it) = fit_multinomial(&xa, &y, classes.len(), p, ck)?;
            split_state(classes, ws, it, p.fit_intercept)
        };
        Ok(Box::new(LogisticModel {
            state,
            params: p.clone(),
            feature_set_id: data.feature_set_id.clone(),
            input: data.feature_names.to_vec(),
        }))
    }
}

fn split_state(
    classes: Vec<i64>,
    ws: Vec<Array1<f64>>,
    iterations: usize,
    intercept: bool,
) -> LogisticState {
    let mut coef = Vec::new();
    let mut icpt = Vec::new();
    for w in ws {
        let mut v = w.to_vec();
        icpt.push(if intercept {
            v.pop().unwrap_or(0.0)
        } else {
            0.0
        });
        coef.push(v);
    }
    LogisticState {
        classes,
        coef,
        intercept: icpt,
        iterations,
    }
}

fn penalty_mask(d: usize, intercept: bool) -> Vec<f64> {
    let mut m = vec![1.0; d];
    if intercept {
        if let Some(last) = m.last_mut() {
            *last = 0.0;
        }
    }
    m
}

/// `log(1 + exp(z))` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

const CHUNK: usize = 4096;

/// Sums per-chunk accumulators in chunk order, so results do not depend on how rayon
/// scheduled the chunks.
fn sum_in_order(parts: Vec<Vec<f64>>, len: usize) -> Vec<f64> {
    let mut total = vec![0.0; len];
    for part in parts {
        total.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
    }
    total
}

/// Loss and linear predictors `z = X·w` of the binary model, over row chunks in parallel.
fn binary_eval(x: &[f64], d: usize, y: &[f64], w: &[f64], c: f64, mask: &[f64]) -> (f64, Vec<f64>) {
    let mut z = vec![0.0; y.len()];
    let loss: f64 = z
        .par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK * d))
        .zip(y.par_chunks(CHUNK))
        .map(|((zc, xc), yc)| {
            let mut l = 0.0;
            for ((zi, row), &t) in zc.iter_mut().zip(xc.chunks_exact(d)).zip(yc) {
                *zi = row.iter().zip(w).map(|(a, b)| a * b).sum();
                l += if t > 0.5 {
                    softplus(-*zi)
                } else {
                    softplus(*zi)
                };
            }
            l
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    let pen: f64 = w.iter().zip(mask).map(|(w, m)| m * w * w).sum();
    (c * loss + 0.5 * pen, z)
}

/// Where a Newton fit got to: the coefficients after `iterations` steps.
#[derive(Serialize, Deserialize)]
struct NewtonState {
    iterations: usize,
    coef: Vec<f64>,
}

fn resume(ck: &dyn Checkpoint, dim: usize) -> (usize, Option<Vec<f64>>) {
    match checkpoint::load_json::<NewtonState>(ck) {
        Some(s) if s.coef.len() == dim && s.coef.iter().all(|v| v.is_finite()) => {
            (s.iterations, Some(s.coef))
        }
        _ => (0, None),
    }
}

fn fit_binary(
    x: &Array2<f64>,
    y: &[f64],
    p: &LogisticParams,
    ck: &dyn Checkpoint,
) -> Result<(Array1<f64>, usize)> {
    let d = x.ncols();
    let owned;
    let xs: &[f64] = match x.as_slice() {
        Some(s) => s,
        None => {
            owned = x.iter().copied().collect::<Vec<f64>>();
            &owned
        }
    };
    let mask = penalty_mask(d, p.fit_intercept);
    let (start, saved) = resume(ck, d);
    let mut w = saved.unwrap_or_else(|| vec![0.0; d]);
    let (mut f, mut z) = binary_eval(xs, d, y, &w, p.c, &mask);
    for it in start..p.max_iter {
        checkpoint::check(ck, KIND)?;
        // Gradient and (upper-triangular) Hessian, fused over row chunks in parallel.
        let gh = z
            .par_chunks(CHUNK)
            .zip(xs.par_chunks(CHUNK * d))
            .zip(y.par_chunks(CHUNK))
            .map(|((zc, xc), yc)| {
                let mut acc = vec![0.0; d + d * d];
                let (g, h) = acc.split_at_mut(d);
                for ((&zi, row), &t) in zc.iter().zip(xc.chunks_exact(d)).zip(yc) {
                    let pr = sigmoid(zi);
                    let (r, s) = (pr - t, pr * (1.0 - pr));
                    for (j, &xj) in row.iter().enumerate() {
                        g[j] += r * xj;
                        let sj = s * xj;
                        for (hv, &xl) in h[j * d + j..(j + 1) * d].iter_mut().zip(&row[j..]) {
                            *hv += sj * xl;
                        }
                    }
                }
                acc
            })
            .collect::<Vec<_>>();
        let gh = sum_in_order(gh, d + d * d);
        let mut grad = Array1::from_iter(gh[..d].iter().map(|g| g * p.c));
        let mut hess = Array2::<f64>::zeros((d, d));
        for j in 0..d {
            for l in j..d {
                let v = gh[d + j * d + l] * p.c;
                hess[[j, l]] = v;
                hess[[l, j]] = v;
            }
            grad[j] += mask[j] * w[j];
            hess[[j, j]] += mask[j];
        }
        let gmax = grad.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        if gmax < p.tol {
            return Ok((Array1::from(w), it));
        }
        let step = solve_spd(&hess, &grad).ok_or_else(|| ModelError::Numeric {
            kind: KIND.into(),
            reason: "the Hessian is singular; are features perfectly collinear?".into(),
        })?;
        // Backtracking line search on the objective.
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let cand: Vec<f64> = w.iter().zip(&step).map(|(w, s)| w - t * s).collect();
            let (fc, zc) = binary_eval(xs, d, y, &cand, p.c, &mask);
            if fc.is_finite() && fc <= f {
                accepted = Some((cand, fc, zc));
                break;
            }
            t *= 0.5;
        }
        let Some((nw, nf, nz)) = accepted else {
            return Ok((Array1::from(w), it + 1));
        };
        let done = (f - nf).abs() <= 1e-15 * f.abs().max(1.0);
        w = nw;
        f = nf;
        z = nz;
        checkpoint::save_json(
            ck,
            &NewtonState {
                iterations: it + 1,
                coef: w.clone(),
            },
        );
        if done {
            return Ok((Array1::from(w), it + 1));
        }
    }
    Ok((Array1::from(w), p.max_iter))
}

fn line_search(
    w: &Array1<f64>,
    step: &Array1<f64>,
    f0: f64,
    objective: &dyn Fn(&Array1<f64>) -> f64,
) -> (Array1<f64>, f64) {
    let mut t = 1.0;
    for _ in 0..30 {
        let cand = w - &(step * t);
        let fc = objective(&cand);
        if fc.is_finite() && fc <= f0 {
            return (cand, fc);
        }
        t *= 0.5;
    }
    (w.clone(), f0)
}

fn softmax_row(z: &mut [f64]) {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    for v in z.iter_mut() {
        *v /= s;
    }
}

fn fit_multinomial(
    x: &Array2<f64>,
    y: &[usize],
    k: usize,
    p: &LogisticParams,
    ck: &dyn Checkpoint,
) -> Result<(Vec<Array1<f64>>, usize)> {
    let (n, d) = x.dim();
    let mask = penalty_mask(d, p.fit_intercept);
    let dim = k * d;
    let objective = |theta: &Array1<f64>| -> f64 {
        let w = theta
            .view()
            .into_shape_with_order((k, d))
            .map(|v| v.to_owned())
            .unwrap_or_else(|_| Array2::zeros((k, d)));
        let z = x.dot(&w.t());
        let mut loss = 0.0;
        for (i, row) in z.rows().into_iter().enumerate() {
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            loss += lse - row[y[i]];
        }
        let pen: f64 = (0..k)
            .flat_map(|c| (0..d).map(move |j| (c, j)))
            .map(|(c, j)| mask[j] * w[[c, j]] * w[[c, j]])
            .sum();
        p.c * loss + 0.5 * pen
    };
    let (start, saved) = resume(ck, dim);
    let mut theta = saved.map_or_else(|| Array1::<f64>::zeros(dim), Array1::from);
    let mut f = objective(&theta);
    for it in start..p.max_iter {
        checkpoint::check(ck, KIND)?;
        let w = theta
            .view()
            .into_shape_with_order((k, d))
            .map(|v| v.to_owned())
            .unwrap_or_else(|_| Array2::zeros((k, d)));
        let mut prob = x.dot(&w.t());
        for mut row in prob.rows_mut() {
            if let Some(s) = row.as_slice_mut() {
                softmax_row(s);
            }
        }
        // Gradient and the upper block triangle of the Hessian, over row chunks in
        // parallel, summed in chunk order.
        let chunk = CHUNK.max(n.div_ceil(16));
        let parts: Vec<Vec<f64>> = (0..n.div_ceil(chunk))
            .into_par_iter()
            .map(|ci| {
                let mut acc = vec![0.0; dim + dim * dim];
                let (g, h) = acc.split_at_mut(dim);
                for i in ci * chunk..((ci + 1) * chunk).min(n) {
                    let xi = x.row(i);
                    for a in 0..k {
                        let ra = prob[[i, a]] - if y[i] == a { 1.0 } else { 0.0 };
                        for j in 0..d {
                            g[a * d + j] += p.c * ra * xi[j];
                        }
                        for b in a..k {
                            let s = p.c
                                * prob[[i, a]]
                                * (if a == b { 1.0 } else { 0.0 } - prob[[i, b]]);
                            if s == 0.0 {
                                continue;
                            }
                            for j in 0..d {
                                let sj = s * xi[j];
                                let base = (a * d + j) * dim + b * d;
                                for (hv, &xl) in h[base..base + d].iter_mut().zip(xi.iter()) {
                                    *hv += sj * xl;
                                }
                            }
                        }
                    }
                }
                acc
            })
            .collect();
        let acc = sum_in_order(parts, dim + dim * dim);
        let mut grad = Array1::from(acc[..dim].to_vec());
        let mut hess = Array2::from_shape_vec((dim, dim), acc[dim..].to_vec())
            .unwrap_or_else(|_| Array2::zeros((dim, dim)));
        for a in 0..k {
            for b in (a + 1)..k {
                for j in 0..d {
                    for l in 0..d {
                        hess[[b * d + l, a * d + j]] = hess[[a * d + j, b * d + l]];
                    }
                }
            }
            for j in 0..d {
                grad[a * d + j] += mask[j] * theta[a * d + j];
                hess[[a * d + j, a * d + j]] += mask[j];
            }
        }
        let gmax = grad.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
        if gmax < p.tol {
            return Ok((rows_of(&theta, k, d, p.fit_intercept), it));
        }
        let step = solve_spd(&hess, &grad).ok_or_else(|| ModelError::Numeric {
            kind: KIND.into(),
            reason: "the Hessian is singular".into(),
        })?;
        let (mut nt, nf) = line_search(&theta, &step, f, &objective);
        if p.fit_intercept {
            // Intercepts are only defined up to a common shift; keep them summing to zero,
            // as scikit-learn's solver does.
            let mean: f64 = (0..k).map(|c| nt[c * d + d - 1]).sum::<f64>() / k as f64;
            for c in 0..k {
                nt[c * d + d - 1] -= mean;
            }
        }
        let done = (f - nf).abs() <= 1e-15 * f.abs().max(1.0);
        theta = nt;
        f = nf;
        checkpoint::save_json(
            ck,
            &NewtonState {
                iterations: it + 1,
                coef: theta.to_vec(),
            },
        );
        if done {
            return Ok((rows_of(&theta, k, d, p.fit_intercept), it + 1));
        }
    }
    Ok((rows_of(&theta, k, d, p.fit_intercept), p.max_iter))
}

fn rows_of(theta: &Array1<f64>, k: usize, d: usize, _intercept: bool) -> Vec<Array1<f64>> {
    (0..k)
        .map(|c| theta.iter().skip(c * d).take(d).copied().collect())
        .collect()
}

impl LogisticModel {
    /// Rebuilds a model from its artefact.
    pub fn from_artefact(a: &ModelArtefact) -> Result<Self> {
        let state: LogisticState = a.learned_as()?;
        let params: LogisticParams = serde_json::from_value(a.params.clone())
            .map_err(|e| ModelError::Artefact(format!("params of {KIND}: {e}")))?;
        let width = a.input_schema.len();
        let binary = state.classes.len() == 2 && state.coef.len() == 1;
        let multi = state.classes.len() > 2 && state.coef.len() == state.classes.len();
        if !(binary || multi)
            || state.coef.iter().any(|c| c.len() != width)
            || state.intercept.len() != state.coef.len()
        {
            return Err(ModelError::Artefact(format!(
                "{KIND}: learned parameters do not match {width} inputs"
            )));
        }
        Ok(Self {
            state,
            params,
            feature_set_id: a.feature_set_id.clone(),
            input: a.input_schema.clone(),
        })
    }

    /// The learned parameters.
    pub fn state(&self) -> &LogisticState {
        &self.state
    }

    /// Writes the class probabilities of row `x` into `out` (one per class).
    fn probs_into(&self, x: &[f64], out: &mut [f64]) {
        let lin = |c: usize| -> f64 {
            let mut z = self.state.intercept[c];
            for (w, v) in self.state.coef[c].iter().zip(x) {
                z += w * v;
            }
            z
        };
        if self.state.coef.len() == 1 {
            // Branch-free logistic: exact to the last bit or two for every z (exp(-z)
            // overflows to inf for very negative z, giving 0), and no sign branch to
            // mispredict on every row.
            let p1 = 1.0 / (1.0 + (-lin(0)).exp());
            if let [a, b] = out {
                *a = 1.0 - p1;
                *b = p1;
            }
        } else {
            for (c, o) in out.iter_mut().enumerate() {
                *o = lin(c);
            }
            softmax_row(out);
        }
    }

    fn n_classes(&self) -> usize {
        if self.state.coef.len() == 1 {
            2
        } else {
            self.state.coef.len()
        }
    }

    fn score(&self, x: &[f64]) -> Score {
        let mut probabilities = vec![0.0; self.n_classes()];
        self.probs_into(x, &mut probabilities);
        Score::Probabilities {
            classes: self.state.classes.clone(),
            probabilities,
        }
    }
}

impl Model for LogisticModel {
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

    fn predict_proba_row(&self, x: &[f64], out: &mut [f64]) -> Result<bool> {
        check_width(self.input.len(), x.len())?;
        if out.len() != self.n_classes() {
            return Ok(false);
        }
        self.probs_into(x, out);
        Ok(true)
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Option<ndarray::Array2<f64>>> {
        check_width(self.input.len(), x.ncols())?;
        let mut out = ndarray::Array2::zeros((x.nrows(), self.n_classes()));
        ndarray::Zip::from(out.rows_mut())
            .and(x.rows())
            .par_for_each(|mut o, r| {
                let Some(o) = o.as_slice_mut() else { return };
                match r.as_slice() {
                    Some(s) => self.probs_into(s, o),
                    None => self.probs_into(&r.to_vec(), o),
                }
            });
        Ok(Some(out))
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
