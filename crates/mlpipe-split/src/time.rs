//! Time-ordered split: train on the past, evaluate on the future, with an optional gap.

use crate::error::{Result, SplitError};
use crate::strategy::{
    check_ratio, rows_u32, train_count, SplitIndices, SplitInput, SplitStrategy,
};
use serde::{Deserialize, Serialize};

/// Orders rows by their timestamp (ties by row) and trains on the earliest
/// `train_ratio` of them. Rows sharing the last training timestamp all stay in training,
/// so no instant is in both subsets. With a gap, evaluation starts at least `gap_micros`
/// after the last training time; rows inside the gap are in neither subset (they are
/// reported by the split's sizes, not silently reused).
///
/// Both subsets come back in time order.
///
/// ```
/// use mlpipe_split::{SplitInput, SplitStrategy, TimeSplit};
/// let times = [50, 10, 40, 20, 30, 60];
/// let s = TimeSplit { train_ratio: 0.5, gap_micros: 15 }
///     .split(&SplitInput { rows: 6, times: Some(&times), ..Default::default() })?;
/// assert_eq!(s.train, vec![1, 3, 4]); // times 10, 20, 30
/// assert_eq!(s.test, vec![0, 5]); // 40 is inside the gap; 50, 60 follow it
/// # Ok::<(), mlpipe_split::SplitError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSplit {
    /// Share of rows (before the gap is removed) for training, in (0, 1).
    pub train_ratio: f64,
    /// Minimum distance between the last training time and the first evaluation time,
    /// in microseconds (0: none).
    #[serde(default)]
    pub gap_micros: i64,
}

impl SplitStrategy for TimeSplit {
    fn name(&self) -> &str {
        "time"
    }
    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
    fn train_ratio(&self) -> Option<f64> {
        Some(self.train_ratio)
    }
    fn split(&self, input: &SplitInput<'_>) -> Result<SplitIndices> {
        check_ratio(self.train_ratio)?;
        if self.gap_micros < 0 {
            return Err(SplitError::InvalidParameter(format!(
                "gap must not be negative, got {} µs",
                self.gap_micros
            )));
        }
        let n = rows_u32(input.rows)?;
        let times = input.times.ok_or_else(|| SplitError::NeedsColumn {
            strategy: self.name().into(),
            what: "time",
        })?;
        if times.len() != input.rows {
            return Err(SplitError::InvalidParameter(format!(
                "{} timestamps for {} rows",
                times.len(),
                input.rows
            )));
        }
        let mut order: Vec<u32> = (0..n).collect();
        order.sort_by_key(|&i| (times[i as usize], i));
        let mut k = train_count(input.rows, self.train_ratio);
        if k == 0 {
            return Ok(SplitIndices {
                train: Vec::new(),
                test: order,
            });
        }
        let last = times[order[k - 1] as usize];
        while k < order.len() && times[order[k] as usize] == last {
            k += 1;
        }
        let start = last.saturating_add(self.gap_micros);
        let test: Vec<u32> = order[k..]
            .iter()
            .copied()
            .filter(|&i| times[i as usize] >= start && times[i as usize] > last)
            .collect();
        order.truncate(k);
        Ok(SplitIndices { train: order, test })
    }
}
