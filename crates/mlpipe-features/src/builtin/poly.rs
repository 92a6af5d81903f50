//! `polynomial`: products of columns up to `degree`, in scikit-learn's
//! `PolynomialFeatures` column order (degree by degree, combinations with replacement in
//! lexicographic order; only distinct columns with `interaction_only`).

use super::to_state;
use crate::error::{FeatureError, Result};
use crate::step::{FittedTransformer, Transformer};
use ndarray::{Array2, ArrayView1, ArrayView2, Zip};
use serde::{Deserialize, Serialize};

/// Parameters of [`Polynomial`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolynomialParams {
    /// Highest degree (default 2).
    pub degree: usize,
    /// Only products of distinct columns (default false).
    pub interaction_only: bool,
    /// Prepend a column of ones (default **false**, unlike scikit-learn: a bias column is
    /// useless to the models here).
    pub include_bias: bool,
}

impl Default for PolynomialParams {
    fn default() -> Self {
        Self {
            degree: 2,
            interaction_only: false,
            include_bias: false,
        }
    }
}

/// Polynomial and interaction terms. `NaN` and infinities are multiplied like any other
/// value (a product with a `NaN` is `NaN`), so impute before this step when that matters.
#[derive(Clone, Debug, Default)]
pub struct Polynomial(pub PolynomialParams);

/// A fitted [`Polynomial`]: the input columns multiplied into each output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedPolynomial {
    /// Input column names.
    pub input: Vec<String>,
    /// Per output column, the input indices multiplied (empty = the bias column).
    pub terms: Vec<Vec<usize>>,
}

/// Every combination of `k` indices out of `n`, with or without replacement, in
/// lexicographic order.
fn combinations(n: usize, k: usize, replace: bool) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut cur = Vec::with_capacity(k);
    fn rec(
        n: usize,
        k: usize,
        replace: bool,
        start: usize,
        cur: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
    ) {
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(n, k, replace, if replace { i } else { i + 1 }, cur, out);
            cur.pop();
        }
    }
    rec(n, k, replace, 0, &mut cur, &mut out);
    out
}

/// How many combinations [`combinations`] gives: C(n + k − 1, k) with replacement, else
/// C(n, k); saturating at `usize::MAX`.
fn combination_count(n: usize, k: usize, replace: bool) -> usize {
    let top = if replace {
        (n + k).saturating_sub(1)
    } else {
        n
    };
    if k > top {
        return 0;
    }
    // C(top, k) = Π (top − k + i) / i, exact at each step.
    let mut c: u128 = 1;
    for i in 1..=k as u128 {
        c = match c.checked_mul(top as u128 - k as u128 + i) {
            Some(v) => v / i,
            None => return usize::MAX,
        };
    }
    usize::try_from(c).unwrap_or(usize::MAX)
}

/// Upper bound on output columns, to refuse definitions that would exhaust memory.
const MAX_TERMS: usize = 100_000;

impl Transformer for Polynomial {
    fn kind(&self) -> &str {
        "polynomial"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Box<dyn FittedTransformer>> {
        if x.nrows() == 0 {
            return Err(FeatureError::EmptyData {
                step: "polynomial".into(),
            });
        }
        if names.len() != x.ncols() {
            return Err(FeatureError::Shape(format!(
                "polynomial: {} column names for {} columns",
                names.len(),
                x.ncols()
            )));
        }
        let p = &self.0;
        if p.degree < 1 || p.degree > 8 {
            return Err(FeatureError::Definition(format!(
                "polynomial: degree must be between 1 and 8, got {}",
                p.degree
            )));
        }
        let mut terms = Vec::new();
        if p.include_bias {
            terms.push(Vec::new());
        }
        for d in 1..=p.degree {
            // Counted before they are built, so a huge definition is refused without
            // first filling memory with its terms.
            let count = combination_count(names.len(), d, !p.interaction_only);
            if terms.len().saturating_add(count) > MAX_TERMS {
                return Err(FeatureError::Definition(format!(
                    "polynomial: {} columns of degree {} give more than {MAX_TERMS} terms",
                    names.len(),
                    p.degree
                )));
            }
            terms.extend(combinations(names.len(), d, !p.interaction_only));
        }
        Ok(Box::new(FittedPolynomial {
            input: names.to_vec(),
            terms,
        }))
    }
}

impl FittedPolynomial {
    #[inline]
    fn term(&self, t: &[usize], row: impl Fn(usize) -> f64) -> f64 {
        match t.split_first() {
            None => 1.0,
            Some((&first, rest)) => rest.iter().fold(row(first), |acc, &i| acc * row(i)),
        }
    }
}

impl FittedTransformer for FittedPolynomial {
    fn kind(&self) -> &str {
        "polynomial"
    }
    fn output_names(&self) -> Vec<String> {
        self.terms
            .iter()
            .map(|t| {
                if t.is_empty() {
                    return "1".to_string();
                }
                let mut parts: Vec<String> = Vec::new();
                let mut i = 0;
                while i < t.len() {
                    let mut k = i;
                    while k < t.len() && t[k] == t[i] {
                        k += 1;
                    }
                    let name = &self.input[t[i]];
                    parts.push(if k - i == 1 {
                        name.clone()
                    } else {
                        format!("{name}^{}", k - i)
                    });
                    i = k;
                }
                parts.join(" ")
            })
            .collect()
    }
    fn input_width(&self) -> usize {
        self.input.len()
    }
    fn transform_batch(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        super::scale::check_width(x.ncols(), self.input.len(), "polynomial")?;
        let mut out = Array2::<f64>::zeros((x.nrows(), self.terms.len()));
        Zip::from(out.rows_mut())
            .and(x.rows())
            .par_for_each(|mut o, r| {
                for (o, t) in o.iter_mut().zip(&self.terms) {
                    *o = self.term(t, |i| r[i]);
                }
            });
        Ok(out)
    }
    fn transform_row(&self, input: &[f64], out: &mut Vec<f64>) -> Result<()> {
        super::scale::check_width(input.len(), self.input.len(), "polynomial")?;
        out.clear();
        out.extend(self.terms.iter().map(|t| self.term(t, |i| input[i])));
        Ok(())
    }
    fn state(&self) -> serde_json::Value {
        to_state(self)
    }
}

#[cfg(test)]
mod count_tests {
    use super::{combination_count, combinations};

    #[test]
    fn the_count_is_the_number_of_combinations_built() {
        for n in 0..7 {
            for k in 1..5 {
                for replace in [false, true] {
                    assert_eq!(
                        combination_count(n, k, replace),
                        combinations(n, k, replace).len(),
                        "n={n} k={k} replace={replace}"
                    );
                }
            }
        }
        // 10,000 columns of degree 8 would be ~2.5e27 terms: counted, not built.
        assert_eq!(combination_count(10_000, 8, true), usize::MAX);
    }
}
