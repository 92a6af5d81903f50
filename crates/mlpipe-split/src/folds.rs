//! Cross-validation folds: [`FoldStrategy`], k-fold, stratified k-fold, and any split
//! strategy as a single hold-out fold.

use crate::error::{Result, SplitError};
use crate::rng;
use crate::strategy::{rows_by_class, rows_u32, SplitIndices, SplitInput, SplitStrategy};
use serde::{Deserialize, Serialize};

/// A way of dividing rows into several (training, evaluation) folds, as
/// cross-validation uses them. Every fold's subsets are disjoint; for k-fold the
/// evaluation subsets of all folds partition the rows.
///
/// # Contract
/// - Deterministic: the same input and parameters give the same folds, in the same order,
///   every run and on every platform (seeded strategies use [`crate::rng`]).
/// - In every fold `train` and `test` are disjoint, every index is below `input.rows`, and
///   no index appears twice; the [`SegregationApi`](crate::SegregationApi) refuses any
///   other fold with [`SplitError::InvalidParameter`].
/// - `name` is the name the strategy is registered under with
///   [`SplitRegistry::register_folds`](crate::SplitRegistry::register_folds), and
///   `params()` describes everything that decides the rows: each fold is recorded as a
///   split whose id is derived from the name, the parameters (with the fold's number) and
///   the selected rows.
/// - Failures are [`SplitError`]s, never a panic: no rows is [`SplitError::NoRows`], a
///   bad parameter (too few rows for the folds, say) `InvalidParameter`, labels it needs
///   but lacks `NeedsLabels`.
///
/// # Example
/// `interleaved`, whose fold `f` evaluates the rows `i` with `i % k == f`:
/// ```
/// use mlpipe_split::{parse_params, FoldStrategy, SplitError, SplitIndices, SplitInput, SplitRegistry};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Interleaved { k: u32 }
///
/// impl FoldStrategy for Interleaved {
///     fn name(&self) -> &str { "interleaved" }
///     fn params(&self) -> serde_json::Value { serde_json::json!({ "k": self.k }) }
///     fn folds(&self, input: &SplitInput<'_>) -> mlpipe_split::Result<Vec<SplitIndices>> {
///         if input.rows == 0 {
///             return Err(SplitError::NoRows);
///         }
///         if self.k < 2 || self.k as usize > input.rows {
///             return Err(SplitError::InvalidParameter(format!("interleaved: k = {} for {} rows", self.k, input.rows)));
///         }
///         Ok((0..self.k).map(|f| {
///             let (test, train) = (0..input.rows as u32).partition(|i| i % self.k == f);
///             SplitIndices { train, test }
///         }).collect())
///     }
/// }
///
/// let mut splits = SplitRegistry::builtin();
/// splits.register_folds("interleaved", |p| Ok(Box::new(parse_params::<Interleaved>("interleaved", p)?)));
/// let folds = splits.fold_strategy("interleaved", &serde_json::json!({ "k": 2 }))?
///     .folds(&SplitInput { rows: 5, ..Default::default() })?;
/// assert_eq!(folds.len(), 2);
/// assert_eq!((folds[1].train.clone(), folds[1].test.clone()), (vec![0, 2, 4], vec![1, 3]));
/// # Ok::<(), SplitError>(())
/// ```
pub trait FoldStrategy: Send + Sync {
    /// Name recorded with each fold.
    fn name(&self) -> &str;
    /// Parameters recorded with each fold.
    fn params(&self) -> serde_json::Value;
    /// The folds.
    fn folds(&self, input: &SplitInput<'_>) -> Result<Vec<SplitIndices>>;
}

fn check_k(k: usize, rows: usize) -> Result<()> {
    if k < 2 {
        return Err(SplitError::InvalidParameter(format!(
            "k-fold needs k ≥ 2, got {k}"
        )));
    }
    if k > rows {
        return Err(SplitError::InvalidParameter(format!(
            "k-fold with k = {k} needs at least {k} rows, got {rows}"
        )));
    }
    Ok(())
}

/// Builds the folds from a fold number per row.
fn folds_from_assignment(fold_of: &[u32], k: usize) -> Vec<SplitIndices> {
    (0..k as u32)
        .map(|f| {
            let mut s = SplitIndices::default();
            for (i, &g) in fold_of.iter().enumerate() {
                if g == f {
                    s.test.push(i as u32);
                } else {
                    s.train.push(i as u32);
                }
            }
            s
        })
        .collect()
}

/// K-fold like scikit-learn's `KFold`: the (optionally shuffled) rows are cut into `k`
/// consecutive folds, the first `rows % k` folds one row larger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KFold {
    /// Number of folds, at least 2.
    pub k: usize,
    /// Shuffle rows before cutting (with `seed`).
    #[serde(default)]
    pub shuffle: bool,
    /// Seed of the portable ChaCha8 generator (used when shuffling).
    #[serde(default)]
    pub seed: u64,
}

impl FoldStrategy for KFold {
    fn name(&self) -> &str {
        "kfold"
    }
    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
    fn folds(&self, input: &SplitInput<'_>) -> Result<Vec<SplitIndices>> {
        let n = rows_u32(input.rows)?;
        check_k(self.k, input.rows)?;
        let mut order: Vec<u32> = (0..n).collect();
        if self.shuffle {
            rng::shuffle(&mut rng::rng(self.seed), &mut order);
        }
        let mut fold_of = vec![0u32; input.rows];
        let (base, extra) = (input.rows / self.k, input.rows % self.k);
        let mut pos = 0;
        for f in 0..self.k {
            let size = base + usize::from(f < extra);
            for &i in &order[pos..pos + size] {
                fold_of[i as usize] = f as u32;
            }
            pos += size;
        }
        Ok(folds_from_assignment(&fold_of, self.k))
    }
}

/// Stratified k-fold: every class is dealt round-robin over the folds (classes in
/// ascending label order, rows in order or shuffled with `seed`, each class starting
/// where the previous one stopped), so each fold holds every class's share within one
/// row and fold sizes differ by at most one row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StratifiedKFold {
    /// Number of folds, at least 2.
    pub k: usize,
    /// Shuffle rows inside each class before dealing (with `seed`).
    #[serde(default)]
    pub shuffle: bool,
    /// Seed of the portable ChaCha8 generator (used when shuffling).
    #[serde(default)]
    pub seed: u64,
}

impl FoldStrategy for StratifiedKFold {
    fn name(&self) -> &str {
        "stratified_kfold"
    }
    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
    fn folds(&self, input: &SplitInput<'_>) -> Result<Vec<SplitIndices>> {
        rows_u32(input.rows)?;
        check_k(self.k, input.rows)?;
        let classes = rows_by_class(self.name(), input)?;
        let mut r = rng::rng(self.seed);
        let mut fold_of = vec![0u32; input.rows];
        let mut next = 0usize;
        for mut rows in classes {
            if self.shuffle {
                rng::shuffle(&mut r, &mut rows);
            }
            for i in rows {
                fold_of[i as usize] = next as u32;
                next = (next + 1) % self.k;
            }
        }
        Ok(folds_from_assignment(&fold_of, self.k))
    }
}

/// Any split strategy as a single fold, so cross-validation code accepts hold-out
/// evaluation too.
#[derive(Clone, Debug)]
pub struct HoldOut<S>(pub S);

impl<S: SplitStrategy> FoldStrategy for HoldOut<S> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn params(&self) -> serde_json::Value {
        self.0.params()
    }
    fn folds(&self, input: &SplitInput<'_>) -> Result<Vec<SplitIndices>> {
        Ok(vec![self.0.split(input)?])
    }
}

impl FoldStrategy for Box<dyn FoldStrategy> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn params(&self) -> serde_json::Value {
        (**self).params()
    }
    fn folds(&self, input: &SplitInput<'_>) -> Result<Vec<SplitIndices>> {
        (**self).folds(input)
    }
}
