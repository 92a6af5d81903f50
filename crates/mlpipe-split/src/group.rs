//! Group-aware split: every group (customer, patient, device…) lands in one subset only.

use crate::error::{Result, SplitError};
use crate::rng;
use crate::strategy::{
    check_ratio, rows_u32, train_count, SplitIndices, SplitInput, SplitStrategy,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Random split of the distinct groups (like scikit-learn's `GroupShuffleSplit`, the
/// ratio counts groups, not rows): groups are sorted, shuffled with the seed, and the
/// first `ceil(groups · (1 − train_ratio))` go to evaluation. No group is in both
/// subsets.
///
/// ```
/// use mlpipe_split::{GroupSplit, SplitInput, SplitStrategy};
/// let groups: Vec<String> = ["a", "a", "b", "c", "c", "c", "d"].map(String::from).to_vec();
/// let s = GroupSplit::new(0.5, 1)
///     .split(&SplitInput { rows: 7, groups: Some(&groups), ..Default::default() })?;
/// for &i in &s.test {
///     assert!(s.train.iter().all(|&j| groups[j as usize] != groups[i as usize]));
/// }
/// # Ok::<(), mlpipe_split::SplitError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSplit {
    /// Share of groups for training, in (0, 1).
    pub train_ratio: f64,
    /// Seed of the portable ChaCha8 generator.
    pub seed: u64,
}

impl GroupSplit {
    /// A group split keeping `train_ratio` of the groups for training.
    pub fn new(train_ratio: f64, seed: u64) -> Self {
        Self { train_ratio, seed }
    }
}

/// Rows of each group, groups in sorted order.
pub(crate) fn rows_by_group(strategy: &str, input: &SplitInput<'_>) -> Result<Vec<Vec<u32>>> {
    let groups = input.groups.ok_or_else(|| SplitError::NeedsColumn {
        strategy: strategy.into(),
        what: "group",
    })?;
    if groups.len() != input.rows {
        return Err(SplitError::InvalidParameter(format!(
            "{} groups for {} rows",
            groups.len(),
            input.rows
        )));
    }
    let mut by: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        by.entry(g.as_str()).or_default().push(i as u32);
    }
    Ok(by.into_values().collect())
}

impl SplitStrategy for GroupSplit {
    fn name(&self) -> &str {
        "group"
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
        let mut groups = rows_by_group(self.name(), input)?;
        if groups.len() < 2 {
            return Err(SplitError::InvalidParameter(format!(
                "a group split needs at least 2 distinct groups, found {}",
                groups.len()
            )));
        }
        let test_groups = groups.len() - train_count(groups.len(), self.train_ratio);
        rng::shuffle(&mut rng::rng(self.seed), &mut groups);
        let mut out = SplitIndices::default();
        for (i, rows) in groups.into_iter().enumerate() {
            if i < test_groups {
                out.test.extend(rows);
            } else {
                out.train.extend(rows);
            }
        }
        out.train.sort_unstable();
        out.test.sort_unstable();
        Ok(out)
    }
}
