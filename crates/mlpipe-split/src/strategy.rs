//! The [`SplitStrategy`] trait and the built-in strategies.

use crate::error::{Result, SplitError};
use crate::rng;
use serde::{Deserialize, Serialize};

/// What a strategy may look at: the row count and, when known, labels, times and groups.
/// Strategies see indices, never the feature data, so splitting 10 million rows copies no
/// features.
#[derive(Clone, Copy, Debug, Default)]
pub struct SplitInput<'a> {
    /// Number of rows.
    pub rows: usize,
    /// Label per row.
    pub labels: Option<&'a [f64]>,
    /// Timestamp per row (microseconds).
    pub times: Option<&'a [i64]>,
    /// Group per row.
    pub groups: Option<&'a [String]>,
}

/// Row indices of the two subsets.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SplitIndices {
    /// Training rows.
    pub train: Vec<u32>,
    /// Evaluation rows.
    pub test: Vec<u32>,
}

/// A way of dividing rows into a training and an evaluation subset.
///
/// Implement it to inject a custom strategy: a name, the parameters that define the
/// split (recorded with it), and the split itself.
///
/// # Contract
/// - Deterministic: the same input and parameters give the same indices, in the same
///   order, every run and on every platform (seeded strategies use [`crate::rng`]).
/// - `train` and `test` are disjoint, every index is below `input.rows`, and no index
///   appears twice; rows may be left out of both. The
///   [`SegregationApi`](crate::SegregationApi) refuses any other result with
///   [`SplitError::InvalidParameter`].
/// - `name` is the name the strategy is registered under with
///   [`SplitRegistry::register_split`](crate::SplitRegistry::register_split), and
///   `params()` describes everything that decides the rows: the split is recorded under
///   both, its id derived from the name, the parameters and the selected rows, and the
///   registry rebuilds the strategy from them.
/// - Failures are [`SplitError`]s, never a panic: no rows is [`SplitError::NoRows`], a
///   bad parameter `InvalidParameter`, labels it needs but lacks `NeedsLabels`, a time or
///   group column it needs `NeedsColumn`.
///
/// # Example
/// `every_nth`, which holds out every n-th row:
/// ```
/// use mlpipe_split::{parse_params, SplitError, SplitIndices, SplitInput, SplitRegistry, SplitStrategy};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct EveryNth { every: u32 }
///
/// impl SplitStrategy for EveryNth {
///     fn name(&self) -> &str { "every_nth" }
///     fn params(&self) -> serde_json::Value { serde_json::json!({ "every": self.every }) }
///     fn train_ratio(&self) -> Option<f64> { Some(1.0 - 1.0 / f64::from(self.every.max(1))) }
///     fn split(&self, input: &SplitInput<'_>) -> mlpipe_split::Result<SplitIndices> {
///         if input.rows == 0 {
///             return Err(SplitError::NoRows);
///         }
///         if self.every < 2 {
///             return Err(SplitError::InvalidParameter(format!("every_nth: `every` must be at least 2, got {}", self.every)));
///         }
///         let (test, train) = (0..input.rows as u32).partition(|i| i % self.every == 0);
///         Ok(SplitIndices { train, test })
///     }
/// }
///
/// let mut splits = SplitRegistry::builtin();
/// splits.register_split("every_nth", |p| Ok(Box::new(parse_params::<EveryNth>("every_nth", p)?)));
/// let strategy = splits.strategy("every_nth", &serde_json::json!({ "every": 3 }))?;
/// let s = strategy.split(&SplitInput { rows: 7, ..Default::default() })?;
/// assert_eq!((s.train, s.test), (vec![1, 2, 4, 5], vec![0, 3, 6]));
/// # Ok::<(), SplitError>(())
/// ```
pub trait SplitStrategy: Send + Sync {
    /// Name recorded with the split.
    fn name(&self) -> &str;
    /// Parameters recorded with the split (ratio, seed, …).
    fn params(&self) -> serde_json::Value;
    /// The nominal share of training rows, when the strategy has one (used for warnings).
    fn train_ratio(&self) -> Option<f64> {
        None
    }
    /// Divides the rows.
    fn split(&self, input: &SplitInput<'_>) -> Result<SplitIndices>;
}

pub(crate) fn check_ratio(ratio: f64) -> Result<()> {
    if !(ratio > 0.0 && ratio < 1.0) {
        return Err(SplitError::InvalidParameter(format!(
            "train ratio must be strictly between 0 and 1, got {ratio}"
        )));
    }
    Ok(())
}

/// Rows for training out of `n` at `ratio` (rounded, like scikit-learn's
/// `train_test_split`: the test size is `ceil(n · (1 − ratio))`).
pub(crate) fn train_count(n: usize, ratio: f64) -> usize {
    let test = ((n as f64) * (1.0 - ratio) - 1e-9).ceil().max(0.0) as usize;
    n.saturating_sub(test)
}

/// Random split by ratio with an injected seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSplit {
    /// Share of rows for training, in (0, 1).
    pub train_ratio: f64,
    /// Seed of the portable ChaCha8 generator.
    pub seed: u64,
    /// Keep each subset in random order (true) or sort each subset by row (false).
    #[serde(default)]
    pub shuffle_within: bool,
}

impl RandomSplit {
    /// A random split keeping `train_ratio` of the rows for training.
    pub fn new(train_ratio: f64, seed: u64) -> Self {
        Self {
            train_ratio,
            seed,
            shuffle_within: false,
        }
    }
}

impl SplitStrategy for RandomSplit {
    fn name(&self) -> &str {
        "random"
    }
    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
    fn train_ratio(&self) -> Option<f64> {
        Some(self.train_ratio)
    }
    fn split(&self, input: &SplitInput<'_>) -> Result<SplitIndices> {
        check_ratio(self.train_ratio)?;
        let n = rows_u32(input.rows)?;
        let mut idx: Vec<u32> = (0..n).collect();
        let mut r = rng::rng(self.seed);
        rng::shuffle(&mut r, &mut idx);
        let k = train_count(input.rows, self.train_ratio);
        let test = idx.split_off(k);
        let mut out = SplitIndices { train: idx, test };
        if !self.shuffle_within {
            out.train.sort_unstable();
            out.test.sort_unstable();
        }
        Ok(out)
    }
}

/// Sequential split by ratio: the first rows (in source order) train, the rest evaluate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequentialSplit {
    /// Share of rows for training, in (0, 1).
    pub train_ratio: f64,
    /// Shuffle inside each subset with this seed (the subsets themselves stay sequential).
    #[serde(default)]
    pub shuffle_within_seed: Option<u64>,
}

impl SplitStrategy for SequentialSplit {
    fn name(&self) -> &str {
        "sequential"
    }
    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
    fn train_ratio(&self) -> Option<f64> {
        Some(self.train_ratio)
    }
    fn split(&self, input: &SplitInput<'_>) -> Result<SplitIndices> {
        check_ratio(self.train_ratio)?;
        let n = rows_u32(input.rows)?;
        let k = train_count(input.rows, self.train_ratio) as u32;
        let mut out = SplitIndices {
            train: (0..k).collect(),
            test: (k..n).collect(),
        };
        if let Some(seed) = self.shuffle_within_seed {
            let mut r = rng::rng(seed);
            rng::shuffle(&mut r, &mut out.train);
            rng::shuffle(&mut r, &mut out.test);
        }
        Ok(out)
    }
}

/// A custom strategy from a closure.
pub struct FnSplit<F> {
    name: String,
    params: serde_json::Value,
    f: F,
}

impl<F> FnSplit<F>
where
    F: Fn(&SplitInput<'_>) -> Result<SplitIndices> + Send + Sync,
{
    /// Wraps `f` as a strategy called `name` with recorded `params`.
    pub fn new(name: impl Into<String>, params: serde_json::Value, f: F) -> Self {
        Self {
            name: name.into(),
            params,
            f,
        }
    }
}

impl<F> SplitStrategy for FnSplit<F>
where
    F: Fn(&SplitInput<'_>) -> Result<SplitIndices> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn params(&self) -> serde_json::Value {
        self.params.clone()
    }
    fn split(&self, input: &SplitInput<'_>) -> Result<SplitIndices> {
        (self.f)(input)
    }
}

impl SplitStrategy for Box<dyn SplitStrategy> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn params(&self) -> serde_json::Value {
        (**self).params()
    }
    fn train_ratio(&self) -> Option<f64> {
        (**self).train_ratio()
    }
    fn split(&self, input: &SplitInput<'_>) -> Result<SplitIndices> {
        (**self).split(input)
    }
}

/// Row count as `u32` (indices are `u32` to keep 10-million-row splits small).
pub(crate) fn rows_u32(rows: usize) -> Result<u32> {
    if rows == 0 {
        return Err(SplitError::NoRows);
    }
    u32::try_from(rows).map_err(|_| SplitError::InvalidParameter("more than 4 billion rows".into()))
}

/// Rows of each label value, classes in ascending order, rows ascending inside a class.
pub(crate) fn rows_by_class(strategy: &str, input: &SplitInput<'_>) -> Result<Vec<Vec<u32>>> {
    let labels = input
        .labels
        .ok_or_else(|| SplitError::NeedsLabels(strategy.into()))?;
    if labels.len() != input.rows {
        return Err(SplitError::Label(format!(
            "{} labels for {} rows",
            labels.len(),
            input.rows
        )));
    }
    let mut by: std::collections::BTreeMap<OrdF64, Vec<u32>> = Default::default();
    for (i, &l) in labels.iter().enumerate() {
        if !l.is_finite() {
            return Err(SplitError::Label(format!(
                "row {i} has a missing or non-finite label ({l}); clean labels before a stratified split"
            )));
        }
        by.entry(OrdF64(l + 0.0)).or_default().push(i as u32);
    }
    Ok(by.into_values().collect())
}

/// A label value ordered by `total_cmp` (-0.0 and 0.0 are folded together first).
#[derive(Clone, Copy)]
struct OrdF64(f64);
impl PartialEq for OrdF64 {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o).is_eq()
    }
}
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}
