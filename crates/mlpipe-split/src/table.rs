//! Splitting a table itself, not a stored feature set: the preparation stage uses it to
//! fit feature steps on the training rows only (a pipeline's `fit_split`), and the rows
//! it picks are the rows the segregation API later gives training under the same split
//! of the same rows.

use crate::catalogue::SplitConfig;
use crate::error::{Result, SplitError};
use crate::segregation::{check_indices, column_text, column_times, has_column};
use crate::strategy::{SplitIndices, SplitInput};
use arrow_array::RecordBatch;
use mlpipe_core::store::FeatureSetRecord;
use mlpipe_core::table::column_values;
use mlpipe_core::BatchId;

/// Where a feature set records the split its steps were fitted on, inside its stored
/// pipeline ([`FeatureSetRecord::pipeline`]).
pub const FIT_SPLIT_POINTER: &str = "/definition/fit_split";

impl SplitConfig {
    /// Divides the rows of `data` as [`SegregationApi::split_with`] divides a feature
    /// table with the same rows in the same order: labels from `label_column` or else
    /// `default_label`, times and groups from their columns.
    ///
    /// [`SegregationApi::split_with`]: crate::SegregationApi::split_with
    pub fn split_table(
        &self,
        data: &[RecordBatch],
        default_label: Option<&str>,
    ) -> Result<SplitIndices> {
        let rows = mlpipe_core::table::num_rows(data);
        if rows == 0 {
            return Err(SplitError::NoRows);
        }
        let labels = match self.label_column.as_deref().or(default_label) {
            Some(l) => {
                has_column(data, l)?;
                Some(column_values(data, l)?)
            }
            None => None,
        };
        let times = match &self.time_column {
            Some(t) => Some(column_times(data, t)?),
            None => None,
        };
        let groups = match &self.group_column {
            Some(g) => Some(column_text(data, g)?),
            None => None,
        };
        let input = SplitInput {
            rows,
            labels: labels.as_deref(),
            times: times.as_deref(),
            groups: groups.as_deref(),
        };
        let indices = self.build()?.split(&input)?;
        check_indices(&indices, rows)?;
        Ok(indices)
    }

    /// The split a stored feature set's steps were fitted on (its pipeline's
    /// `fit_split`), if any.
    pub fn fitted_on(record: &FeatureSetRecord) -> Result<Option<SplitConfig>> {
        match record.pipeline.pointer(FIT_SPLIT_POINTER) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(|e| {
                SplitError::InvalidParameter(format!(
                    "feature set {}: its recorded fit split cannot be read: {e}",
                    record.id
                ))
            }),
        }
    }

    /// Refuses to split `batches` of the feature set `record` with this split when the
    /// evaluation rows would include rows its steps were fitted on: the feature set was
    /// fitted on the training part of another split, or of the same split over other
    /// rows (its fitted-on batch together with later ones).
    pub fn check_against_fit(&self, record: &FeatureSetRecord, batches: &[BatchId]) -> Result<()> {
        let Some(fitted) = Self::fitted_on(record)? else {
            return Ok(());
        };
        let id = &record.id;
        if &fitted != self {
            return Err(SplitError::InvalidParameter(format!(
                "feature set {id} was fitted on the training part of split {}; splitting it \
                 with {} would put rows the features were fitted on into the evaluation \
                 subset. Use the same split for training, or prepare the features again \
                 with this one as `fit_split`",
                describe(&fitted),
                describe(self)
            )));
        }
        let fitted_batches = &record.fitted_on;
        let mixes = batches.iter().any(|b| fitted_batches.contains(b))
            && batches.iter().any(|b| !fitted_batches.contains(b));
        if mixes {
            return Err(SplitError::InvalidParameter(format!(
                "feature set {id} was fitted on the training part of batch(es) {fitted_batches:?}; \
                 split them on their own, or only batches added later, not together: \
                 the split of a longer table puts other rows into evaluation"
            )));
        }
        Ok(())
    }
}

fn describe(s: &SplitConfig) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| s.strategy.clone())
}
