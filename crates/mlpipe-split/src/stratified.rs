//! Stratified random split: every class keeps its share in both subsets.

use crate::error::Result;
use crate::rng;
use crate::strategy::{
    check_ratio, rows_by_class, rows_u32, train_count, SplitIndices, SplitInput, SplitStrategy,
};
use serde::{Deserialize, Serialize};

/// Random split by ratio inside each class, so class proportions in the training and
/// evaluation subsets match the data's within one row per class.
///
/// The evaluation size is the same as [`RandomSplit`](crate::RandomSplit)'s; it is shared
/// out to the classes by largest remainder, then each class's rows are shuffled with the
/// seeded generator (classes in ascending label order) and the first rows of the class go
/// to evaluation.
///
/// ```
/// use mlpipe_split::{SplitInput, SplitStrategy, StratifiedSplit};
/// let labels = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
/// let s = StratifiedSplit::new(0.5, 7)
///     .split(&SplitInput { rows: 10, labels: Some(&labels), ..Default::default() })?;
/// let ones_in_test = s.test.iter().filter(|&&i| labels[i as usize] == 1.0).count();
/// assert_eq!((s.test.len(), ones_in_test), (5, 3));
/// # Ok::<(), mlpipe_split::SplitError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StratifiedSplit {
    /// Share of rows for training, in (0, 1).
    pub train_ratio: f64,
    /// Seed of the portable ChaCha8 generator.
    pub seed: u64,
    /// Keep each subset in random order (true) or sorted by row (false).
    #[serde(default)]
    pub shuffle_within: bool,
}

impl StratifiedSplit {
    /// A stratified split keeping `train_ratio` of every class for training.
    pub fn new(train_ratio: f64, seed: u64) -> Self {
        Self {
            train_ratio,
            seed,
            shuffle_within: false,
        }
    }
}

/// Shares `total` out to parts proportional to `sizes` by largest remainder (ties to
/// the earlier part), never giving a part more than its size.
pub(crate) fn apportion(sizes: &[usize], total: usize) -> Vec<usize> {
    let n: usize = sizes.iter().sum();
    if n == 0 {
        return vec![0; sizes.len()];
    }
    let exact: Vec<f64> = sizes
        .iter()
        .map(|&s| s as f64 * total as f64 / n as f64)
        .collect();
    let mut out: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut left = total.saturating_sub(out.iter().sum());
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().cycle().take(order.len() * 2) {
        if left == 0 {
            break;
        }
        if out[i] < sizes[i] {
            out[i] += 1;
            left -= 1;
        }
    }
    out
}

impl SplitStrategy for StratifiedSplit {
    fn name(&self) -> &str {
        "stratified"
    }
    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
    fn train_ratio(&self) -> Option<f64> {
        Some(self.train_ratio)
    }
    fn split(&self, input: &SplitInput<'_>) -> Result<SplitIndices> {
        check_ratio(self.train_ratio)?;
        rows_u32(input.rows)?;
        let classes = rows_by_class(self.name(), input)?;
        let test_total = input.rows - train_count(input.rows, self.train_ratio);
        let sizes: Vec<usize> = classes.iter().map(Vec::len).collect();
        let quota = apportion(&sizes, test_total);
        let mut r = rng::rng(self.seed);
        let mut out = SplitIndices::default();
        for (mut rows, t) in classes.into_iter().zip(quota) {
            rng::shuffle(&mut r, &mut rows);
            out.test.extend_from_slice(&rows[..t]);
            out.train.extend_from_slice(&rows[t..]);
        }
        if self.shuffle_within {
            rng::shuffle(&mut r, &mut out.train);
            rng::shuffle(&mut r, &mut out.test);
        } else {
            out.train.sort_unstable();
            out.test.sort_unstable();
        }
        Ok(out)
    }
}
