//! The catalogue of model kinds: how to build a trainer from hyper-parameters (as written
//! in configuration) and how to rebuild a model from its artefact. Users register their
//! own kinds beside the built-ins. Loading parses data into a registered type and never
//! executes code from the artefact.

use crate::error::{ModelError, Result};
use crate::facade::{Model, ModelArtefact, Trainer};
use crate::forest::{ForestModel, RandomForest, RandomForestRegressor};
use crate::kmeans::{KMeans, KMeansModel};
use crate::linear::{ElasticNet, LinearModel, LinearRegression, Ridge};
use crate::logistic::{LogisticModel, LogisticRegression};
use crate::naive_bayes::{GaussianNb, GaussianNbModel};
use crate::tree::regressor::{DecisionTreeRegressor, RegressionTreeModel};
use crate::tree::{DecisionTree, TreeModel};
use std::collections::HashMap;
use std::sync::Arc;

type MakeTrainer = Arc<dyn Fn(&serde_json::Value) -> Result<Box<dyn Trainer>> + Send + Sync>;
type LoadModel = Arc<dyn Fn(&ModelArtefact) -> Result<Box<dyn Model>> + Send + Sync>;

/// Model kinds known to this process.
#[derive(Clone, Default)]
pub struct Algorithms {
    trainers: HashMap<String, MakeTrainer>,
    loaders: HashMap<String, LoadModel>,
}

/// Parses a model kind's hyper-parameters (`null` is none), naming the kind in the
/// error: what the trainer factories of [`Algorithms`] call, built-in or not.
pub fn parse_params<T: for<'de> serde::Deserialize<'de>>(
    kind: &str,
    v: &serde_json::Value,
) -> Result<T> {
    let v = if v.is_null() {
        serde_json::json!({})
    } else {
        v.clone()
    };
    serde_json::from_value(v).map_err(|e| ModelError::Params {
        kind: kind.into(),
        reason: e.to_string(),
    })
}

impl std::fmt::Debug for Algorithms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Algorithms")
            .field("kinds", &self.kinds())
            .finish()
    }
}

impl Algorithms {
    /// Every registered kind, sorted.
    pub fn kinds(&self) -> Vec<String> {
        let mut v: Vec<String> = self.trainers.keys().cloned().collect();
        v.sort_unstable();
        v
    }

    /// Every built-in kind.
    pub fn builtin() -> Self {
        let mut a = Self::default();
        a.register(
            "logistic_regression",
            |p| {
                Ok(Box::new(LogisticRegression(parse_params(
                    "logistic_regression",
                    p,
                )?)))
            },
            |art| Ok(Box::new(LogisticModel::from_artefact(art)?)),
        );
        a.register(
            "decision_tree",
            |p| Ok(Box::new(DecisionTree(parse_params("decision_tree", p)?))),
            |art| Ok(Box::new(TreeModel::from_artefact(art)?)),
        );
        a.register(
            crate::arima::KIND,
            |p| {
                Ok(Box::new(crate::arima::ArimaTrainer::try_new(
                    parse_params(crate::arima::KIND, p)?,
                )?))
            },
            |art| Ok(Box::new(crate::arima::ArimaModel::from_artefact(art)?)),
        );
        a.register(
            "decision_tree_regressor",
            |p| {
                Ok(Box::new(DecisionTreeRegressor(parse_params(
                    "decision_tree_regressor",
                    p,
                )?)))
            },
            |art| Ok(Box::new(RegressionTreeModel::from_artefact(art)?)),
        );
        a.register(
            "linear_regression",
            |p| {
                Ok(Box::new(LinearRegression(parse_params(
                    "linear_regression",
                    p,
                )?)))
            },
            |art| Ok(Box::new(LinearModel::from_artefact(art)?)),
        );
        a.register(
            "ridge",
            |p| Ok(Box::new(Ridge(parse_params("ridge", p)?))),
            |art| Ok(Box::new(LinearModel::from_artefact(art)?)),
        );
        a.register(
            "elastic_net",
            |p| Ok(Box::new(ElasticNet(parse_params("elastic_net", p)?))),
            |art| Ok(Box::new(LinearModel::from_artefact(art)?)),
        );
        a.register(
            "gaussian_nb",
            |p| Ok(Box::new(GaussianNb(parse_params("gaussian_nb", p)?))),
            |art| Ok(Box::new(GaussianNbModel::from_artefact(art)?)),
        );
        a.register(
            "random_forest",
            |p| Ok(Box::new(RandomForest(parse_params("random_forest", p)?))),
            |art| Ok(Box::new(ForestModel::from_artefact(art)?)),
        );
        a.register(
            "random_forest_regressor",
            |p| {
                Ok(Box::new(RandomForestRegressor(parse_params(
                    "random_forest_regressor",
                    p,
                )?)))
            },
            |art| Ok(Box::new(ForestModel::from_artefact(art)?)),
        );
        a.register(
            "kmeans",
            |p| Ok(Box::new(KMeans(parse_params("kmeans", p)?))),
            |art| Ok(Box::new(KMeansModel::from_artefact(art)?)),
        );
        a
    }

    /// Registers a kind.
    pub fn register(
        &mut self,
        kind: &str,
        trainer: impl Fn(&serde_json::Value) -> Result<Box<dyn Trainer>> + Send + Sync + 'static,
        loader: impl Fn(&ModelArtefact) -> Result<Box<dyn Model>> + Send + Sync + 'static,
    ) {
        self.trainers.insert(kind.into(), Arc::new(trainer));
        self.loaders.insert(kind.into(), Arc::new(loader));
    }

    fn unknown(&self, kind: &str) -> ModelError {
        let mut known: Vec<&str> = self.trainers.keys().map(String::as_str).collect();
        known.sort_unstable();
        ModelError::UnknownKind {
            kind: kind.into(),
            known: known.join(", "),
        }
    }

    /// A trainer of `kind` with hyper-parameters `params`.
    pub fn trainer(&self, kind: &str, params: &serde_json::Value) -> Result<Box<dyn Trainer>> {
        let f = self.trainers.get(kind).ok_or_else(|| self.unknown(kind))?;
        f(params)
    }

    /// Rebuilds a model from an artefact.
    pub fn load(&self, artefact: &ModelArtefact) -> Result<Box<dyn Model>> {
        let f = self
            .loaders
            .get(&artefact.kind)
            .ok_or_else(|| self.unknown(&artefact.kind))?;
        f(artefact)
    }

    /// Rebuilds a model from artefact bytes.
    pub fn load_bytes(&self, bytes: &[u8]) -> Result<(ModelArtefact, Box<dyn Model>)> {
        let a = ModelArtefact::from_bytes(bytes)?;
        let m = self.load(&a)?;
        Ok((a, m))
    }
}
