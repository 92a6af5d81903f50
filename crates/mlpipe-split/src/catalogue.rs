//! Strategies by name and parameters, as written in configuration.

use crate::columns::SplitColumns;
use crate::error::{Result, SplitError};
use crate::folds::{FoldStrategy, KFold, StratifiedKFold};
use crate::group::GroupSplit;
use crate::strategy::{RandomSplit, SequentialSplit, SplitStrategy};
use crate::stratified::StratifiedSplit;
use crate::time::TimeSplit;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Names of the built-in split strategies.
pub const SPLIT_STRATEGIES: &[&str] = &["random", "sequential", "stratified", "time", "group"];
/// Names of the built-in fold strategies (besides every split strategy, as a hold-out fold).
pub const FOLD_STRATEGIES: &[&str] = &["kfold", "stratified_kfold"];

/// Parses a strategy's parameters (`null` is no parameters) into its struct.
///
/// Custom strategies registered in a [`SplitRegistry`] use it to read their parameters
/// with the error every built-in gives.
pub fn parse_params<T: for<'de> Deserialize<'de>>(
    name: &str,
    params: &serde_json::Value,
) -> Result<T> {
    let v = if params.is_null() {
        serde_json::json!({})
    } else {
        params.clone()
    };
    serde_json::from_value(v).map_err(|e| {
        SplitError::InvalidParameter(format!("parameters of split strategy `{name}`: {e}"))
    })
}

type MakeSplit = Arc<dyn Fn(&serde_json::Value) -> Result<Box<dyn SplitStrategy>> + Send + Sync>;
type MakeFolds = Arc<dyn Fn(&serde_json::Value) -> Result<Box<dyn FoldStrategy>> + Send + Sync>;

/// Split and fold strategies by name, as configuration names them.
///
/// The built-ins register here exactly as a user's own strategies do; every stage that
/// splits (preparation's `fit_split`, training, evaluation, the segregation API's checks)
/// asks the registry it was given, so a strategy registered once works everywhere.
///
/// ```
/// use mlpipe_split::{FnSplit, SplitIndices, SplitRegistry};
/// let mut splits = SplitRegistry::builtin();
/// splits.register_split("even_odd", |_params| {
///     Ok(Box::new(FnSplit::new("even_odd", serde_json::Value::Null, |input| {
///         let (train, test) = (0..input.rows as u32).partition(|i| i % 2 == 0);
///         Ok(SplitIndices { train, test })
///     })))
/// });
/// assert!(splits.strategy("even_odd", &serde_json::Value::Null).is_ok());
/// // Every split strategy is also a hold-out fold.
/// assert!(splits.fold_strategy("even_odd", &serde_json::Value::Null).is_ok());
/// let err = splits.strategy("evne_odd", &serde_json::Value::Null).err().map(|e| e.to_string());
/// assert!(err.is_some_and(|e| e.contains("evne_odd") && e.contains("even_odd")));
/// ```
#[derive(Clone, Default)]
pub struct SplitRegistry {
    splits: HashMap<String, MakeSplit>,
    folds: HashMap<String, MakeFolds>,
}

impl std::fmt::Debug for SplitRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SplitRegistry")
            .field("splits", &self.split_names())
            .field("folds", &self.fold_names())
            .finish()
    }
}

impl SplitRegistry {
    /// Every built-in strategy: `random`, `sequential`, `stratified`, `time`, `group`,
    /// and the fold strategies `kfold` and `stratified_kfold`.
    pub fn builtin() -> Self {
        let mut r = Self::default();
        r.register_split("random", |p| {
            Ok(Box::new(parse_params::<RandomSplit>("random", p)?))
        });
        r.register_split("sequential", |p| {
            Ok(Box::new(parse_params::<SequentialSplit>("sequential", p)?))
        });
        r.register_split("stratified", |p| {
            Ok(Box::new(parse_params::<StratifiedSplit>("stratified", p)?))
        });
        r.register_split("time", |p| {
            Ok(Box::new(parse_params::<TimeSplit>("time", p)?))
        });
        r.register_split("group", |p| {
            Ok(Box::new(parse_params::<GroupSplit>("group", p)?))
        });
        r.register_folds("kfold", |p| {
            Ok(Box::new(parse_params::<KFold>("kfold", p)?))
        });
        r.register_folds("stratified_kfold", |p| {
            Ok(Box::new(parse_params::<StratifiedKFold>(
                "stratified_kfold",
                p,
            )?))
        });
        r
    }

    /// Registers a split strategy under `name` (replacing one of that name): `build`
    /// makes it from its parameters as configuration writes them.
    pub fn register_split(
        &mut self,
        name: &str,
        build: impl Fn(&serde_json::Value) -> Result<Box<dyn SplitStrategy>> + Send + Sync + 'static,
    ) -> &mut Self {
        self.splits.insert(name.into(), Arc::new(build));
        self
    }

    /// Registers a fold strategy (cross-validation) under `name`.
    pub fn register_folds(
        &mut self,
        name: &str,
        build: impl Fn(&serde_json::Value) -> Result<Box<dyn FoldStrategy>> + Send + Sync + 'static,
    ) -> &mut Self {
        self.folds.insert(name.into(), Arc::new(build));
        self
    }

    /// Names of the registered split strategies, sorted.
    pub fn split_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.splits.keys().cloned().collect();
        v.sort_unstable();
        v
    }

    /// Names of the registered fold strategies (split strategies are folds too), sorted.
    pub fn fold_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .folds
            .keys()
            .chain(self.splits.keys())
            .cloned()
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Whether `name` is a registered split or fold strategy.
    pub fn contains(&self, name: &str) -> bool {
        self.splits.contains_key(name) || self.folds.contains_key(name)
    }

    fn unknown(&self, what: &str, name: &str, known: Vec<String>) -> SplitError {
        SplitError::UnknownStrategy {
            what: what.to_string(),
            name: name.to_string(),
            known: known.join(", "),
        }
    }

    /// Builds the split strategy `name` from its parameters (the fields of the strategy's
    /// struct, e.g. `{"train_ratio": 0.7, "seed": 42}` for `random`).
    pub fn strategy(
        &self,
        name: &str,
        params: &serde_json::Value,
    ) -> Result<Box<dyn SplitStrategy>> {
        let f = self
            .splits
            .get(name)
            .ok_or_else(|| self.unknown("split strategy", name, self.split_names()))?;
        f(params)
    }

    /// Builds the fold strategy `name`: a registered fold strategy (`kfold`,
    /// `stratified_kfold` with `{"k": 5, "shuffle": true, "seed": 1}`), or any split
    /// strategy as one hold-out fold.
    pub fn fold_strategy(
        &self,
        name: &str,
        params: &serde_json::Value,
    ) -> Result<Box<dyn FoldStrategy>> {
        if let Some(f) = self.folds.get(name) {
            return f(params);
        }
        match self.splits.get(name) {
            Some(f) => Ok(Box::new(crate::folds::HoldOut(f(params)?))),
            None => Err(self.unknown("fold strategy", name, self.fold_names())),
        }
    }
}

/// Builds a built-in split strategy from its name and parameters
/// ([`SplitRegistry::builtin`]`.strategy(…)`).
pub fn strategy(name: &str, params: &serde_json::Value) -> Result<Box<dyn SplitStrategy>> {
    SplitRegistry::builtin().strategy(name, params)
}

/// Builds a built-in fold strategy ([`SplitRegistry::builtin`]`.fold_strategy(…)`).
pub fn fold_strategy(name: &str, params: &serde_json::Value) -> Result<Box<dyn FoldStrategy>> {
    SplitRegistry::builtin().fold_strategy(name, params)
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
    /// Strategy name, as registered in the [`SplitRegistry`] (built-ins: [`SPLIT_STRATEGIES`]).
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
    /// The built-in strategy this describes (a user's own needs [`Self::build_in`]).
    pub fn build(&self) -> Result<Box<dyn SplitStrategy>> {
        self.build_in(&SplitRegistry::builtin())
    }

    /// The strategy this describes, from `registry`.
    pub fn build_in(&self, registry: &SplitRegistry) -> Result<Box<dyn SplitStrategy>> {
        registry.strategy(
            &self.strategy,
            &serde_json::Value::Object(self.params.clone()),
        )
    }

    /// The strategy as folds (`kfold`, `stratified_kfold`, or a split as one fold), from
    /// `registry`.
    pub fn build_folds_in(&self, registry: &SplitRegistry) -> Result<Box<dyn FoldStrategy>> {
        registry.fold_strategy(
            &self.strategy,
            &serde_json::Value::Object(self.params.clone()),
        )
    }

    /// The built-in strategy as folds.
    pub fn build_folds(&self) -> Result<Box<dyn FoldStrategy>> {
        self.build_folds_in(&SplitRegistry::builtin())
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
