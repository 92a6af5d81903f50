//! Strategies by name and parameters, as written in configuration.

use crate::error::{Result, SplitError};
use crate::folds::{FoldStrategy, KFold, StratifiedKFold};
use crate::group::GroupSplit;
use crate::segregation::SplitColumns;
use crate::strategy::{RandomSplit, SequentialSplit, SplitStrategy};
use crate::stratified::StratifiedSplit;
use crate::time::TimeSplit;
use serde::{Deserialize, Serialize};

/// Names [`strategy`] knows.
pub const SPLIT_STRATEGIES: &[&str] = &["random", "sequential", "stratified", "time", "group"];
/// Names [`fold_strategy`] knows (besides every split strategy, as a hold-out fold).
pub const FOLD_STRATEGIES: &[&str] = &["kfold", "stratified_kfold"];

fn parse<T: for<'de> Deserialize<'de>>(name: &str, params: &serde_json::Value) -> Result<T> {
    let v = if params.is_null() {
        serde_json::json!({})
    } else {
        params.clone()
    };
    serde_json::from_value(v).map_err(|e| {
        SplitError::InvalidParameter(format!("parameters of split strategy `{name}`: {e}"))
    })
}

/// Builds a split strategy from its name and parameters (the fields of the strategy's
/// struct, e.g. `{"train_ratio": 0.7, "seed": 42}` for `random`).
pub fn strategy(name: &str, params: &serde_json::Value) -> Result<Box<dyn SplitStrategy>> {
    Ok(match name {
        "random" => Box::new(parse::<RandomSplit>(name, params)?),
        "sequential" => Box::new(parse::<SequentialSplit>(name, params)?),
        "stratified" => Box::new(parse::<StratifiedSplit>(name, params)?),
        "time" => Box::new(parse::<TimeSplit>(name, params)?),
        "group" => Box::new(parse::<GroupSplit>(name, params)?),
        other => {
            return Err(SplitError::InvalidParameter(format!(
                "unknown split strategy `{other}` (known: {})",
                SPLIT_STRATEGIES.join(", ")
            )))
        }
    })
}

/// Builds a fold strategy from its name and parameters: `kfold`, `stratified_kfold`
/// (`{"k": 5, "shuffle": true, "seed": 1}`), or any split strategy as one hold-out fold.
pub fn fold_strategy(name: &str, params: &serde_json::Value) -> Result<Box<dyn FoldStrategy>> {
    Ok(match name {
        "kfold" => Box::new(parse::<KFold>(name, params)?),
        "stratified_kfold" => Box::new(parse::<StratifiedKFold>(name, params)?),
        other => Box::new(crate::folds::HoldOut(strategy(other, params)?)),
    })
}

/// A split as written in configuration: the strategy's name, the columns it reads, and
/// its parameters inline.
///
/// ```toml
/// strategy = "stratified"
/// train_ratio = 0.7
/// seed = 42
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitConfig {
    /// Strategy name (see [`SPLIT_STRATEGIES`]).
    pub strategy: String,
    /// Timestamp column, for `time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_column: Option<String>,
    /// Group column, for `group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_column: Option<String>,
    /// Label column (default: the feature set's label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    /// The strategy's own parameters.
    #[serde(flatten)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

impl Default for SplitConfig {
    /// A random 70/30 split with seed 42.
    fn default() -> Self {
        let mut params = serde_json::Map::new();
        params.insert("train_ratio".into(), 0.7.into());
        params.insert("seed".into(), 42.into());
        Self {
            strategy: "random".into(),
            time_column: None,
            group_column: None,
            label_column: None,
            params,
        }
    }
}

impl SplitConfig {
    /// The strategy this describes.
    pub fn build(&self) -> Result<Box<dyn SplitStrategy>> {
        strategy(
            &self.strategy,
            &serde_json::Value::Object(self.params.clone()),
        )
    }

    /// The strategy as folds (`kfold`, `stratified_kfold`, or a split as one fold).
    pub fn build_folds(&self) -> Result<Box<dyn FoldStrategy>> {
        fold_strategy(
            &self.strategy,
            &serde_json::Value::Object(self.params.clone()),
        )
    }

    /// The columns the strategy reads.
    pub fn columns(&self) -> SplitColumns {
        SplitColumns {
            label: self.label_column.clone(),
            time: self.time_column.clone(),
            group: self.group_column.clone(),
        }
    }
}
