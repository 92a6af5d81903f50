//! Warnings returned with the data when a split is uneven.

use crate::strategy::{SplitIndices, SplitInput};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which subset a warning is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subset {
    /// The training subset.
    Train,
    /// The evaluation subset.
    Test,
}

/// Something about a split that deserves a second look.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum SplitWarning {
    /// A subset is empty or smaller than the configured minimum.
    SmallSubset {
        /// Which.
        subset: Subset,
        /// Its rows.
        rows: usize,
        /// The minimum.
        minimum: usize,
    },
    /// A class present in the data is absent from a subset.
    MissingClass {
        /// Which subset.
        subset: Subset,
        /// The class.
        class: i64,
    },
    /// A class's share differs between the subsets by more than the threshold.
    ClassProportions {
        /// The class.
        class: i64,
        /// Share in training.
        train_share: f64,
        /// Share in evaluation.
        test_share: f64,
    },
    /// The train ratio is close to 0 or 1.
    ExtremeRatio {
        /// The ratio.
        ratio: f64,
    },
    /// Training rows are later than evaluation rows (time ranges overlap).
    OverlappingTimes {
        /// Latest training time (µs).
        train_max: i64,
        /// Earliest evaluation time (µs).
        test_min: i64,
    },
}

/// Thresholds for the warnings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WarningPolicy {
    /// Minimum rows in each subset.
    pub min_subset_rows: usize,
    /// Largest allowed difference of a class's share between subsets.
    pub max_class_share_diff: f64,
    /// Ratios below this or above `1 - this` are extreme.
    pub extreme_ratio: f64,
}

impl Default for WarningPolicy {
    fn default() -> Self {
        Self {
            min_subset_rows: 10,
            max_class_share_diff: 0.1,
            extreme_ratio: 0.05,
        }
    }
}

/// Looks at a split and says what is uneven about it.
pub fn assess(
    input: &SplitInput<'_>,
    split: &SplitIndices,
    ratio: Option<f64>,
    policy: &WarningPolicy,
) -> Vec<SplitWarning> {
    let mut w = Vec::new();
    for (subset, rows) in [
        (Subset::Train, split.train.len()),
        (Subset::Test, split.test.len()),
    ] {
        if rows < policy.min_subset_rows {
            w.push(SplitWarning::SmallSubset {
                subset,
                rows,
                minimum: policy.min_subset_rows,
            });
        }
    }
    if let Some(r) = ratio {
        if r < policy.extreme_ratio || r > 1.0 - policy.extreme_ratio {
            w.push(SplitWarning::ExtremeRatio { ratio: r });
        }
    }
    if let Some(labels) = input.labels {
        let count = |idx: &[u32]| {
            let mut m: BTreeMap<i64, usize> = BTreeMap::new();
            for &i in idx {
                if let Some(&l) = labels.get(i as usize) {
                    if l.is_finite() && l.fract() == 0.0 {
                        *m.entry(l as i64).or_default() += 1;
                    }
                }
            }
            m
        };
        let (tr, te) = (count(&split.train), count(&split.test));
        let classes: std::collections::BTreeSet<i64> =
            tr.keys().chain(te.keys()).copied().collect();
        // Only meaningful for a label with few distinct values (classification).
        if classes.len() <= 50 {
            for c in classes {
                let a = tr.get(&c).copied().unwrap_or(0);
                let b = te.get(&c).copied().unwrap_or(0);
                if a == 0 {
                    w.push(SplitWarning::MissingClass {
                        subset: Subset::Train,
                        class: c,
                    });
                }
                if b == 0 {
                    w.push(SplitWarning::MissingClass {
                        subset: Subset::Test,
                        class: c,
                    });
                }
                if !split.train.is_empty() && !split.test.is_empty() {
                    let sa = a as f64 / split.train.len() as f64;
                    let sb = b as f64 / split.test.len() as f64;
                    if (sa - sb).abs() > policy.max_class_share_diff {
                        w.push(SplitWarning::ClassProportions {
                            class: c,
                            train_share: sa,
                            test_share: sb,
                        });
                    }
                }
            }
        }
    }
    if let Some(times) = input.times {
        let get = |i: &u32| times.get(*i as usize).copied();
        let train_max = split.train.iter().filter_map(get).max();
        let test_min = split.test.iter().filter_map(get).min();
        if let (Some(a), Some(b)) = (train_max, test_min) {
            if a > b {
                w.push(SplitWarning::OverlappingTimes {
                    train_max: a,
                    test_min: b,
                });
            }
        }
    }
    w
}
