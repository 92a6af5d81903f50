//! Splitting a table itself, not a stored feature set: the preparation stage uses it to
//! fit feature steps on the training rows only (a pipeline's `fit_split`), and the rows
//! it picks are the rows the segregation API later gives training under the same split
//! of the same rows.

use crate::catalogue::{SplitConfig, SplitRegistry};
use crate::columns::{check_indices, column_text, column_times, has_column, SplitColumns};
use crate::error::{Result, SplitError};
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
    /// `default_label`, times and groups from their columns. The strategy comes from
    /// `registry`.
    ///
    /// [`SegregationApi::split_with`]: crate::SegregationApi::split_with
    pub fn split_table(
        &self,
        registry: &SplitRegistry,
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
        let indices = self.build_in(registry)?.split(&input)?;
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
}

/// What decides the rows a split picks, defaults filled in: two splits that agree here
/// divide the same rows the same way.
#[derive(Debug, PartialEq)]
struct Resolved {
    strategy: String,
    params: serde_json::Value,
    label: Option<String>,
    time: Option<String>,
    group: Option<String>,
}

impl Resolved {
    fn new(
        strategy: &str,
        params: serde_json::Value,
        columns: &SplitColumns,
        record: &FeatureSetRecord,
    ) -> Self {
        Self {
            strategy: strategy.to_string(),
            params,
            label: columns.label.clone().or_else(|| record.label.clone()),
            time: columns.time.clone(),
            group: columns.group.clone(),
        }
    }
}

/// For a feature set fitted on the training part of a split (`fit_split`), refuses a
/// split or folds (`strategy` by name and parameters, reading `columns`) of `batches`
/// that would put fitted rows into evaluation: another split of the fitted-on batches,
/// or the same split over other rows (the fitted-on batches with others, or in another
/// order). Batches the steps never saw may be split in any way.
pub(crate) fn check_fit(
    registry: &SplitRegistry,
    record: &FeatureSetRecord,
    batches: &[BatchId],
    strategy: &str,
    params: serde_json::Value,
    columns: &SplitColumns,
) -> Result<()> {
    let Some(fitted) = SplitConfig::fitted_on(record)? else {
        return Ok(());
    };
    let id = &record.id;
    let fitted_on = &record.fitted_on;
    if !batches.iter().any(|b| fitted_on.contains(b)) {
        return Ok(());
    }
    if batches != fitted_on.as_slice() {
        return Err(SplitError::InvalidParameter(format!(
            "feature set {id} was fitted on the training part of batch(es) {fitted_on:?} \
             alone; split exactly those, or only batches added later, not {batches:?}: \
             a split of other rows would put fitted rows into evaluation"
        )));
    }
    let built = fitted.build_in(registry)?;
    let want = Resolved::new(built.name(), built.params(), &fitted.columns(), record);
    let got = Resolved::new(strategy, params, columns, record);
    if want != got {
        return Err(SplitError::InvalidParameter(format!(
            "feature set {id} was fitted on the training part of split {}; splitting it \
             with {} {} would put rows the features were fitted on into the evaluation \
             subset. Use the same split for training, or prepare the features again with \
             this one as `fit_split`",
            describe(&fitted),
            strategy,
            serde_json::json!({"params": got.params, "columns": columns})
        )));
    }
    Ok(())
}

fn describe(s: &SplitConfig) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| s.strategy.clone())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::strategy::SplitStrategy;

    fn config(text: &str) -> SplitConfig {
        toml::from_str(text).unwrap()
    }

    fn record(fit_split: &str) -> FeatureSetRecord {
        let split = serde_json::to_value(config(fit_split)).unwrap();
        FeatureSetRecord {
            id: mlpipe_core::FeatureSetId::new("fs-1"),
            dataset: "d".into(),
            feature_names: vec!["x".into()],
            label: Some("y".into()),
            key: Some("id".into()),
            pipeline: serde_json::json!({"definition": {"label": "y", "fit_split": split}}),
            fitted_on: vec![BatchId::new("b1")],
            created_at: chrono::Utc::now(),
        }
    }

    /// The segregation API's check of splitting `batches` of `rec` with `split`.
    fn check(rec: &FeatureSetRecord, split: &str, batches: &[&str]) -> Result<()> {
        let batches: Vec<BatchId> = batches.iter().map(|b| BatchId::new(*b)).collect();
        let cfg = config(split);
        let strategy = cfg.build()?;
        check_fit(
            &SplitRegistry::builtin(),
            rec,
            &batches,
            strategy.name(),
            strategy.params(),
            &cfg.columns(),
        )
    }

    #[test]
    fn only_the_fitted_split_of_exactly_the_fitted_rows_passes() {
        let fitted = "strategy = \"random\"\ntrain_ratio = 0.8\nseed = 7";
        let rec = record(fitted);
        assert_eq!(SplitConfig::fitted_on(&rec).unwrap(), Some(config(fitted)));
        check(&rec, fitted, &["b1"]).unwrap();
        // The same split written differently: the label named, keys in another order.
        check(
            &rec,
            "seed = 7\nstrategy = \"random\"\ntrain_ratio = 0.8\nlabel_column = \"y\"",
            &["b1"],
        )
        .unwrap();
        // Another seed, ratio or strategy of the fitted rows is refused.
        for other in [
            "strategy = \"random\"\ntrain_ratio = 0.8\nseed = 8",
            "strategy = \"random\"\ntrain_ratio = 0.7\nseed = 7",
            "strategy = \"stratified\"\ntrain_ratio = 0.8\nseed = 7",
        ] {
            let err = check(&rec, other, &["b1"]).unwrap_err().to_string();
            assert!(
                err.contains("was fitted on the training part of split"),
                "{err}"
            );
        }
        // The fitted batch with another, or twice, is another table: refused.
        for batches in [&["b1", "b2"][..], &["b2", "b1"], &["b1", "b1"]] {
            let err = check(&rec, fitted, batches).unwrap_err().to_string();
            assert!(err.contains("alone"), "{batches:?}: {err}");
        }
        // Batches the steps never saw may be split any way.
        check(
            &rec,
            "strategy = \"sequential\"\ntrain_ratio = 0.5",
            &["b2", "b3"],
        )
        .unwrap();
        // A feature set fitted on every row has nothing to check.
        let mut plain = rec.clone();
        plain.pipeline = serde_json::json!({"definition": {"label": "y"}});
        check(
            &plain,
            "strategy = \"sequential\"\ntrain_ratio = 0.5",
            &["b1"],
        )
        .unwrap();
    }

    #[test]
    fn folds_of_the_fitted_rows_are_refused() {
        let rec = record("strategy = \"random\"\ntrain_ratio = 0.8\nseed = 7");
        let kfold = crate::fold_strategy("kfold", &serde_json::json!({"k": 5})).unwrap();
        let err = check_fit(
            &SplitRegistry::builtin(),
            &rec,
            &[BatchId::new("b1")],
            kfold.name(),
            kfold.params(),
            &SplitColumns::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("kfold"), "{err}");
    }

    #[test]
    fn split_table_gives_the_rows_the_strategy_gives() {
        use arrow_array::Int64Array;
        use std::sync::Arc;
        let y = Int64Array::from((0..50).map(|i| i % 2).collect::<Vec<i64>>());
        let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
            "y",
            arrow_schema::DataType::Int64,
            false,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(y)]).unwrap();
        let cfg = config("strategy = \"stratified\"\ntrain_ratio = 0.6\nseed = 3");
        let got = cfg
            .split_table(&SplitRegistry::builtin(), &[batch], Some("y"))
            .unwrap();
        let labels: Vec<f64> = (0..50).map(|i| f64::from(i % 2)).collect();
        let want = cfg
            .build()
            .unwrap()
            .split(&SplitInput {
                rows: 50,
                labels: Some(&labels),
                times: None,
                groups: None,
            })
            .unwrap();
        assert_eq!(got, want);
        assert_eq!(got.train.len(), 30);
        let err = cfg
            .split_table(&SplitRegistry::builtin(), &[], Some("y"))
            .unwrap_err();
        assert!(matches!(err, SplitError::NoRows));
    }
}
