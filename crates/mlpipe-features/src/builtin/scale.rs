//! `standard_scaler`: centre on the mean and divide by the (population) standard
//! deviation, as scikit-learn's `StandardScaler` does. `NaN`s are ignored when fitting and
//! kept when transforming (also as scikit-learn does); infinities are refused.

use crate::error::{FeatureError, Result};
use crate::step::{FittedTransformer, Transformer};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis, Zip};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Parameters of [`StandardScaler`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StandardScalerParams {
    /// Subtract the mean (default true).
    pub with_mean: bool,
    /// Divide by the standard deviation (default true).
    pub with_std: bool,
}

impl Default for StandardScalerParams {
    fn default() -> Self {
        Self {
            with_mean: true,
            with_std: true,
        }
    }
}

/// The standard scaler definition.
#[derive(Clone, Debug, Default)]
pub struct StandardScaler(pub StandardScalerParams);

/// A fitted [`StandardScaler`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedStandardScaler {
    /// Column names (input = output).
    pub names: Vec<String>,
    /// Subtracted per column (0 when `with_mean` is off).
    #[serde(deserialize_with = "crate::step::vec_f64_or_nan")]
    pub mean: Vec<f64>,
    /// Divided by per column (1 when `with_std` is off or the column is constant).
    pub scale: Vec<f64>,
    /// `1 / scale`, computed once: both paths multiply by it (a division per value would
    /// dominate the batch path). Results may differ from a division by one unit in the
    /// last place, identically in both paths.
    #[serde(skip)]
    inverse: std::sync::OnceLock<Vec<f64>>,
}

impl FittedStandardScaler {
    /// A fitted scaler from its statistics.
    pub fn new(names: Vec<String>, mean: Vec<f64>, scale: Vec<f64>) -> Self {
        Self {
            names,
            mean,
            scale,
            inverse: std::sync::OnceLock::new(),
        }
    }

    fn inverse(&self) -> &[f64] {
        self.inverse
            .get_or_init(|| self.scale.iter().map(|s| 1.0 / s).collect())
    }
}

impl Transformer for StandardScaler {
    fn kind(&self) -> &str {
        "standard_scaler"
    }

    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Box<dyn FittedTransformer>> {
        if x.nrows() == 0 {
            return Err(FeatureError::EmptyData {
                step: "standard_scaler".into(),
            });
        }
        if names.len() != x.ncols() {
            return Err(FeatureError::Shape(format!(
                "standard_scaler: {} column names for {} columns",
                names.len(),
                x.ncols()
            )));
        }
        let stats = column_stats(x, names)?;
        let mean = stats
            .iter()
            .map(|(m, _)| if self.0.with_mean { *m } else { 0.0 })
            .collect();
        let scale = stats
            .iter()
            .map(|(_, var)| {
                let s = var.sqrt();
                if !self.0.with_std || s < 10.0 * f64::EPSILON || !s.is_finite() {
                    1.0
                } else {
                    s
                }
            })
            .collect();
        Ok(Box::new(FittedStandardScaler::new(
            names.to_vec(),
            mean,
            scale,
        )))
    }
}

/// Rows per block of the statistics pass: a block stays in cache for its two passes.
const BLOCK: usize = 256;

/// Count, mean and sum of squared deviations per column of one block of rows.
struct Moments {
    n: Vec<f64>,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl Moments {
    /// Two passes over a block (exact mean first, then deviations), NaN skipped; `Err`
    /// names a column holding an infinity.
    fn of_block(block: ArrayView2<'_, f64>) -> std::result::Result<Self, usize> {
        let p = block.ncols().max(1);
        // A strided view is copied to row-major order first, so that every layout of the
        // same data takes the same path and gives the same bits.
        let flat: std::borrow::Cow<'_, [f64]> = match block.as_slice() {
            Some(flat) => flat.into(),
            None => block.iter().copied().collect::<Vec<_>>().into(),
        };
        let each_row = |f: &mut dyn FnMut(&[f64])| flat.chunks_exact(p).for_each(f);
        // Fast path: plain sums. A NaN or infinity anywhere makes its column's sum
        // non-finite, and then the careful path below recomputes the block.
        if let Some(m) = Self::of_finite_rows(&flat, p, block.nrows()) {
            return Ok(m);
        }
        let mut n = vec![0.0; p];
        let mut sum = vec![0.0; p];
        let mut bad = false;
        each_row(&mut |r: &[f64]| {
            for ((n, s), &v) in n.iter_mut().zip(sum.iter_mut()).zip(r) {
                let ok = !v.is_nan();
                bad |= v.is_infinite();
                *n += f64::from(u8::from(ok));
                *s += if ok { v } else { 0.0 };
            }
        });
        if bad {
            let col = block
                .columns()
                .into_iter()
                .position(|c| c.iter().any(|v| v.is_infinite()))
                .unwrap_or(0);
            return Err(col);
        }
        let mean: Vec<f64> = sum.iter().zip(&n).map(|(s, n)| s / n).collect();
        let mut m2 = vec![0.0; p];
        each_row(&mut |r: &[f64]| {
            for ((m2, &m), &v) in m2.iter_mut().zip(&mean).zip(r) {
                let d = v - m;
                *m2 += if d.is_nan() { 0.0 } else { d * d };
            }
        });
        Ok(Self { n, mean, m2 })
    }

    /// The fast path over a contiguous block: two passes, each taking four rows per step
    /// so that the per-column accumulators are loaded and stored a quarter as often (the
    /// pass is otherwise bound by them, not by memory). `None` when a column's sum is not
    /// finite (a NaN or infinity is in the block).
    fn of_finite_rows(flat: &[f64], p: usize, rows: usize) -> Option<Self> {
        let quads = flat.chunks_exact(4 * p);
        let rest = quads.remainder();
        let mut sum = vec![0.0; p];
        for q in quads.clone() {
            let (r0, q) = q.split_at(p);
            let (r1, q) = q.split_at(p);
            let (r2, r3) = q.split_at(p);
            for ((((s, a), b), c), d) in sum.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
                *s += (a + b) + (c + d);
            }
        }
        for r in rest.chunks_exact(p) {
            for (s, &v) in sum.iter_mut().zip(r) {
                *s += v;
            }
        }
        if !sum.iter().all(|s| s.is_finite()) {
            return None;
        }
        let n = rows as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let mut m2 = vec![0.0; p];
        for q in quads {
            let (r0, q) = q.split_at(p);
            let (r1, q) = q.split_at(p);
            let (r2, r3) = q.split_at(p);
            for (((((m2, &m), a), b), c), d) in
                m2.iter_mut().zip(&mean).zip(r0).zip(r1).zip(r2).zip(r3)
            {
                let (da, db, dc, dd) = (a - m, b - m, c - m, d - m);
                *m2 += (da * da + db * db) + (dc * dc + dd * dd);
            }
        }
        for r in rest.chunks_exact(p) {
            for ((m2, &m), &v) in m2.iter_mut().zip(&mean).zip(r) {
                let d = v - m;
                *m2 += d * d;
            }
        }
        Some(Self {
            n: vec![n; p],
            mean,
            m2,
        })
    }

    /// Chan et al.'s pairwise combination.
    fn merge(&mut self, o: &Moments) {
        for j in 0..self.n.len() {
            let (na, nb) = (self.n[j], o.n[j]);
            if nb == 0.0 {
                continue;
            }
            if na == 0.0 {
                self.n[j] = nb;
                self.mean[j] = o.mean[j];
                self.m2[j] = o.m2[j];
                continue;
            }
            let n = na + nb;
            let delta = o.mean[j] - self.mean[j];
            self.mean[j] += delta * nb / n;
            self.m2[j] += o.m2[j] + delta * delta * na * nb / n;
            self.n[j] = n;
        }
    }
}

/// Mean and population variance of the non-NaN values of every column: exact two-pass
/// moments per block of rows (in parallel), combined in block order, so the result does
/// not depend on the number of threads.
fn column_stats(x: ArrayView2<'_, f64>, names: &[String]) -> Result<Vec<(f64, f64)>> {
    let blocks: Vec<std::result::Result<Moments, usize>> = x
        .axis_chunks_iter(Axis(0), BLOCK)
        .into_par_iter()
        .map(Moments::of_block)
        .collect();
    let mut total: Option<Moments> = None;
    for b in blocks {
        let b = b.map_err(|j| FeatureError::BadValues {
            step: "standard_scaler".into(),
            column: names[j].clone(),
            what: "infinite values".into(),
        })?;
        match &mut total {
            None => total = Some(b),
            Some(t) => t.merge(&b),
        }
    }
    let Some(t) = total else {
        return Err(FeatureError::EmptyData {
            step: "standard_scaler".into(),
        });
    };
    Ok((0..t.n.len())
        .map(|j| {
            if t.n[j] == 0.0 {
                (f64::NAN, f64::NAN)
            } else {
                (t.mean[j], t.m2[j] / t.n[j])
            }
        })
        .collect())
}

impl FittedTransformer for FittedStandardScaler {
    fn kind(&self) -> &str {
        "standard_scaler"
    }

    fn output_names(&self) -> Vec<String> {
        self.names.clone()
    }

    fn input_width(&self) -> usize {
        self.names.len()
    }

    fn transform_batch(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_width(x.ncols(), self.names.len(), "standard_scaler")?;
        let mean = ndarray::aview1(&self.mean[..]);
        let inv = ndarray::aview1(self.inverse());
        // `par_map_collect` writes into fresh, unzeroed memory: zeroing first would be
        // a third pass over the matrix.
        let out = Zip::from(&x)
            .and_broadcast(&mean)
            .and_broadcast(&inv)
            .par_map_collect(|&v, &m, &k| (v - m) * k);
        Ok(out)
    }

    fn transform_row(&self, input: &[f64], out: &mut Vec<f64>) -> Result<()> {
        check_width(input.len(), self.names.len(), "standard_scaler")?;
        out.clear();
        out.extend(
            input
                .iter()
                .zip(&self.mean)
                .zip(self.inverse())
                .map(|((v, m), k)| (v - m) * k),
        );
        Ok(())
    }

    fn state(&self) -> serde_json::Value {
        super::to_state(self)
    }
}

/// Checks an input has the width a fitted step expects.
pub(crate) fn check_width(got: usize, want: usize, step: &str) -> Result<()> {
    if got != want {
        return Err(FeatureError::Shape(format!(
            "{step} was fitted on {want} columns but got {got}"
        )));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ndarray::ShapeBuilder;

    fn fitted(x: ArrayView2<'_, f64>) -> FittedStandardScaler {
        let names: Vec<String> = (0..x.ncols()).map(|j| format!("c{j}")).collect();
        let stats = column_stats(x, &names).unwrap();
        let (mean, var): (Vec<f64>, Vec<f64>) = stats.into_iter().unzip();
        FittedStandardScaler::new(names, mean, var)
    }

    /// The fast (four rows per step) and careful (NaN-skipping) paths, row-major and
    /// column-major input, and more than one block: the same data gives the same bits.
    #[test]
    fn statistics_do_not_depend_on_layout_and_match_a_direct_two_pass() {
        let (n, p) = (3 * BLOCK + 7, 5);
        let cell = |i: usize, j: usize| ((i * 31 + j * 17) % 101) as f64 * 0.37 - 11.0 + j as f64;
        let c = Array2::from_shape_fn((n, p), |(i, j)| cell(i, j));
        let f = Array2::from_shape_fn((n, p).f(), |(i, j)| cell(i, j));
        assert!(c.as_slice().is_some() && f.as_slice().is_none());
        let (a, b) = (fitted(c.view()), fitted(f.view()));
        assert_eq!(a, b);
        for j in 0..p {
            let col: Vec<f64> = (0..n).map(|i| cell(i, j)).collect();
            let mean = col.iter().sum::<f64>() / n as f64;
            let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
            assert!(
                (a.mean[j] - mean).abs() <= 1e-12 * mean.abs().max(1.0),
                "mean {j}"
            );
            assert!((a.scale[j] - var).abs() <= 1e-12 * var, "variance {j}");
        }
        // A NaN sends its block down the careful path, in either layout alike.
        let mut cn = c.clone();
        let mut fnan = f.clone();
        cn[[BLOCK + 3, 2]] = f64::NAN;
        fnan[[BLOCK + 3, 2]] = f64::NAN;
        assert_eq!(fitted(cn.view()), fitted(fnan.view()));
        let mut ci = c;
        ci[[5, 4]] = f64::INFINITY;
        let names: Vec<String> = (0..p).map(|j| format!("c{j}")).collect();
        assert!(column_stats(ci.view(), &names).is_err());
    }
}
