//! The step factory: builds any step from its name and parameters (as written in
//! configuration), and rebuilds fitted steps from their serialised state. Users register
//! their own steps next to the built-ins.
//!
//! Rebuilding a fitted step only parses data into a registered type: loading a feature
//! set never runs code that came with it.

use crate::builtin::{
    categorical, datetime, discretize, hashing, impute, kbest, numeric, poly, power, scale,
    scalers, select,
};
use crate::error::{FeatureError, Result};
use crate::step::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A step as written in configuration: its kind and parameters.
///
/// In TOML: `{ kind = "standard_scaler", with_mean = true }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepSpec {
    /// Factory name.
    pub kind: String,
    /// Parameters, passed to the factory.
    #[serde(flatten)]
    pub params: BTreeMap<String, serde_json::Value>,
}

impl StepSpec {
    /// A spec with no parameters.
    pub fn new(kind: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            params: BTreeMap::new(),
        }
    }

    /// Adds a parameter.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.params.insert(
            key.to_string(),
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        );
        self
    }

    pub(crate) fn params_value(&self) -> serde_json::Value {
        serde_json::Value::Object(self.params.clone().into_iter().collect())
    }
}

type Build<T> = Arc<dyn Fn(&serde_json::Value) -> Result<Box<T>> + Send + Sync>;

/// Factories of every known step.
#[derive(Clone, Default)]
pub struct StepRegistry {
    extractors: HashMap<String, Build<dyn Extractor>>,
    fitted_extractors: HashMap<String, Build<dyn FittedExtractor>>,
    transformers: HashMap<String, Build<dyn Transformer>>,
    fitted_transformers: HashMap<String, Build<dyn FittedTransformer>>,
    selectors: HashMap<String, Build<dyn Selector>>,
}

fn load<T: for<'de> Deserialize<'de>>(kind: &str, v: &serde_json::Value) -> Result<T> {
    crate::builtin::params(kind, v)
}

use crate::builtin::state::load_state;

impl std::fmt::Debug for StepRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn names<V>(m: &HashMap<String, V>) -> Vec<String> {
            let mut v: Vec<String> = m.keys().cloned().collect();
            v.sort_unstable();
            v
        }
        f.debug_struct("StepRegistry")
            .field("extractors", &names(&self.extractors))
            .field("transformers", &names(&self.transformers))
            .field("selectors", &names(&self.selectors))
            .finish()
    }
}

impl StepRegistry {
    /// A registry with every built-in step.
    pub fn builtin() -> Self {
        let mut r = Self::default();
        r.register_extractor(
            "numeric",
            |p| Ok(Box::new(numeric::Numeric(load("numeric", p)?))),
            |s| {
                Ok(Box::new(load_state::<numeric::FittedNumeric>(
                    "numeric", s,
                )?))
            },
        );
        r.register_transformer(
            "standard_scaler",
            |p| Ok(Box::new(scale::StandardScaler(load("standard_scaler", p)?))),
            |s| {
                Ok(Box::new(load_state::<scale::FittedStandardScaler>(
                    "standard_scaler",
                    s,
                )?))
            },
        );
        r.register_extractor(
            "one_hot",
            |p| Ok(Box::new(categorical::OneHot(load("one_hot", p)?))),
            |s| {
                Ok(Box::new(categorical::FittedOneHot::new(load(
                    "one_hot", s,
                )?)?))
            },
        );
        r.register_extractor(
            "ordinal",
            |p| Ok(Box::new(categorical::Ordinal(load("ordinal", p)?))),
            |s| {
                Ok(Box::new(categorical::FittedOrdinal::new(load(
                    "ordinal", s,
                )?)?))
            },
        );
        r.register_extractor(
            "hashing",
            |p| Ok(Box::new(hashing::FeatureHasher(load("hashing", p)?))),
            |s| Ok(Box::new(load_state::<hashing::FittedHasher>("hashing", s)?)),
        );
        r.register_extractor(
            "datetime",
            |p| Ok(Box::new(datetime::DateParts(load("datetime", p)?))),
            |s| {
                Ok(Box::new(load_state::<datetime::FittedDateParts>(
                    "datetime", s,
                )?))
            },
        );
        macro_rules! transformer {
            ($kind:literal, $def:expr, $fitted:ty) => {
                r.register_transformer(
                    $kind,
                    |p| Ok(Box::new($def(load($kind, p)?))),
                    |s| Ok(Box::new(load_state::<$fitted>($kind, s)?)),
                );
            };
        }
        transformer!("imputer", impute::Imputer, impute::FittedImputer);
        transformer!(
            "min_max_scaler",
            scalers::MinMaxScaler,
            scalers::FittedMinMax
        );
        transformer!(
            "robust_scaler",
            scalers::RobustScaler,
            scalers::FittedRobust
        );
        transformer!("power", power::PowerTransform, power::FittedPower);
        transformer!("clip", discretize::Clip, discretize::FittedClip);
        transformer!(
            "bucketize",
            discretize::Bucketize,
            discretize::FittedBucketize
        );
        transformer!("polynomial", poly::Polynomial, poly::FittedPolynomial);
        r.register_transformer(
            "log",
            |p| Ok(Box::new(load::<power::Log1p>("log", p)?)),
            |s| Ok(Box::new(load_state::<power::FittedLog1p>("log", s)?)),
        );
        r.register_selector("k_best_chi2", |p| {
            Ok(Box::new(kbest::KBest {
                score: kbest::KBestScore::Chi2,
                params: load("k_best_chi2", p)?,
            }))
        });
        r.register_selector("k_best_f_classif", |p| {
            Ok(Box::new(kbest::KBest {
                score: kbest::KBestScore::FClassif,
                params: load("k_best_f_classif", p)?,
            }))
        });
        r.register_selector("variance_threshold", |p| {
            Ok(Box::new(load::<kbest::VarianceThreshold>(
                "variance_threshold",
                p,
            )?))
        });
        r.register_selector("columns", |p| {
            Ok(Box::new(load::<select::ExplicitColumns>("columns", p)?))
        });
        r.fitted_transformers.insert(
            "column_subset".into(),
            Arc::new(|s| {
                Ok(Box::new(load_state::<select::ColumnSubset>(
                    "column_subset",
                    s,
                )?))
            }),
        );
        r
    }

    /// Registers an extractor: how to build it from parameters and how to rebuild its
    /// fitted form from state.
    pub fn register_extractor(
        &mut self,
        kind: &str,
        build: impl Fn(&serde_json::Value) -> Result<Box<dyn Extractor>> + Send + Sync + 'static,
        load: impl Fn(&serde_json::Value) -> Result<Box<dyn FittedExtractor>> + Send + Sync + 'static,
    ) {
        self.extractors.insert(kind.into(), Arc::new(build));
        self.fitted_extractors.insert(kind.into(), Arc::new(load));
    }

    /// Registers a transformer.
    pub fn register_transformer(
        &mut self,
        kind: &str,
        build: impl Fn(&serde_json::Value) -> Result<Box<dyn Transformer>> + Send + Sync + 'static,
        load: impl Fn(&serde_json::Value) -> Result<Box<dyn FittedTransformer>> + Send + Sync + 'static,
    ) {
        self.transformers.insert(kind.into(), Arc::new(build));
        self.fitted_transformers.insert(kind.into(), Arc::new(load));
    }

    /// Registers a selection strategy.
    pub fn register_selector(
        &mut self,
        kind: &str,
        build: impl Fn(&serde_json::Value) -> Result<Box<dyn Selector>> + Send + Sync + 'static,
    ) {
        self.selectors.insert(kind.into(), Arc::new(build));
    }

    fn unknown(what: &str, kind: &str, known: Vec<&String>) -> FeatureError {
        let mut known: Vec<&str> = known.into_iter().map(String::as_str).collect();
        known.sort_unstable();
        FeatureError::Definition(format!(
            "unknown {what} `{kind}` (known: {})",
            known.join(", ")
        ))
    }

    /// Builds an extractor from its spec.
    pub fn extractor(&self, spec: &StepSpec) -> Result<Box<dyn Extractor>> {
        let f = self.extractors.get(&spec.kind).ok_or_else(|| {
            Self::unknown("extractor", &spec.kind, self.extractors.keys().collect())
        })?;
        f(&spec.params_value())
    }

    /// Builds a transformer from its spec.
    pub fn transformer(&self, spec: &StepSpec) -> Result<Box<dyn Transformer>> {
        let f = self.transformers.get(&spec.kind).ok_or_else(|| {
            Self::unknown(
                "transformer",
                &spec.kind,
                self.transformers.keys().collect(),
            )
        })?;
        f(&spec.params_value())
    }

    /// Builds a selector from its spec.
    pub fn selector(&self, spec: &StepSpec) -> Result<Box<dyn Selector>> {
        let f = self.selectors.get(&spec.kind).ok_or_else(|| {
            Self::unknown("selector", &spec.kind, self.selectors.keys().collect())
        })?;
        f(&spec.params_value())
    }

    /// Rebuilds a fitted extractor from its state.
    pub fn load_extractor(
        &self,
        kind: &str,
        state: &serde_json::Value,
    ) -> Result<Box<dyn FittedExtractor>> {
        let f = self.fitted_extractors.get(kind).ok_or_else(|| {
            Self::unknown(
                "fitted extractor",
                kind,
                self.fitted_extractors.keys().collect(),
            )
        })?;
        f(state)
    }

    /// Rebuilds a fitted transformer from its state.
    pub fn load_transformer(
        &self,
        kind: &str,
        state: &serde_json::Value,
    ) -> Result<Box<dyn FittedTransformer>> {
        let f = self.fitted_transformers.get(kind).ok_or_else(|| {
            Self::unknown(
                "fitted transformer",
                kind,
                self.fitted_transformers.keys().collect(),
            )
        })?;
        f(state)
    }
}
