//! Random forests: `random_forest` (classification, Gini, class probabilities averaged over
//! the trees) and `random_forest_regressor` (squared error, leaf means averaged), as
//! scikit-learn's `RandomForestClassifier` / `RandomForestRegressor`.
//!
//! Each tree learns from a bootstrap sample (drawn as per-row counts used as weights, like
//! scikit-learn) and examines `max_features` random features per node (default `sqrt` for
//! classification, all for regression). The features are presorted once for the whole
//! forest; trees grow in parallel with rayon. Every tree's randomness comes from a ChaCha8
//! stream seeded from `seed`, so a seed gives the same forest on every platform and thread
//! count (the random streams differ from scikit-learn's, so forests are statistically, not
//! bitwise, equivalent).

use crate::error::{ModelError, Result};
use crate::facade::*;
use crate::tree::cart::{self, GrowParams, Presorted, Target};
use crate::tree::nodes::{check_nodes, leaf_of};
use crate::tree::TreeNode;
use mlpipe_core::{FeatureSetId, Score};
use ndarray::ArrayView2;
use rand_chacha::rand_core::RngCore;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

const CLASSIFIER: &str = "random_forest";
const REGRESSOR: &str = "random_forest_regressor";

/// Features examined per node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MaxFeatures {
    /// A number of features.
    Count(usize),
    /// A share of the features, in `(0, 1]`.
    Fraction(f64),
    /// `"sqrt"`, `"log2"` or `"all"`.
    Named(String),
}

/// Hyper-parameters of both forests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForestParams {
    /// Number of trees.
    pub n_estimators: usize,
    /// Maximum depth of each tree (`None`: unlimited).
    pub max_depth: Option<usize>,
    /// Fewest rows a node needs to be split.
    pub min_samples_split: usize,
    /// Fewest rows each child must keep.
    pub min_samples_leaf: usize,
    /// Features examined per node (`None`: `sqrt` for classification, all for regression).
    pub max_features: Option<MaxFeatures>,
    /// Learn each tree from a bootstrap sample (otherwise from every row).
    pub bootstrap: bool,
    /// Seed of the random streams.
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        Self {
            n_estimators: 100,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: None,
            bootstrap: true,
            seed: 0,
        }
    }
}

/// The random-forest classifier trainer.
#[derive(Clone, Debug, Default)]
pub struct RandomForest(pub ForestParams);

/// The random-forest regressor trainer.
#[derive(Clone, Debug, Default)]
pub struct RandomForestRegressor(pub ForestParams);

/// Learned parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForestState {
    /// Class labels, ascending (empty for regression).
    pub classes: Vec<i64>,
    /// The trees, each a flat node list rooted at node 0.
    pub trees: Vec<Vec<TreeNode>>,
}

/// A fitted forest of either kind.
#[derive(Clone, Debug)]
pub struct ForestModel {
    kind: &'static str,
    state: ForestState,
    params: ForestParams,
    feature_set_id: FeatureSetId,
    input: Vec<String>,
}

fn resolve_max_features(kind: &str, p: &ForestParams, m: usize) -> Result<usize> {
    let bad = |reason: String| ModelError::Params {
        kind: kind.into(),
        reason,
    };
    let classifier = kind == CLASSIFIER;
    let k = match &p.max_features {
        None if classifier => (m as f64).sqrt() as usize,
        None => m,
        Some(MaxFeatures::Count(c)) if *c >= 1 => *c,
        Some(MaxFeatures::Fraction(f)) if *f > 0.0 && *f <= 1.0 => (f * m as f64) as usize,
        Some(MaxFeatures::Named(s)) if s == "sqrt" => (m as f64).sqrt() as usize,
        Some(MaxFeatures::Named(s)) if s == "log2" => (m as f64).log2() as usize,
        Some(MaxFeatures::Named(s)) if s == "all" => m,
        Some(other) => {
            return Err(bad(format!(
                "max_features must be a count ≥ 1, a fraction in (0, 1], \"sqrt\", \"log2\" or \"all\"; got {other:?}"
            )))
        }
    };
    Ok(k.clamp(1, m.max(1)))
}

fn train_forest(
    kind: &'static str,
    p: &ForestParams,
    data: &TrainingData<'_>,
) -> Result<ForestModel> {
    if p.n_estimators == 0
        || p.min_samples_leaf == 0
        || p.min_samples_split < 2
        || p.max_depth == Some(0)
    {
        return Err(ModelError::Params {
            kind: kind.into(),
            reason: "n_estimators ≥ 1, min_samples_leaf ≥ 1, min_samples_split ≥ 2 and max_depth ≥ 1 are required".into(),
        });
    }
    let classifier = kind == CLASSIFIER;
    let (classes, y_class, y_value) = if classifier {
        check_training(kind, data)?;
        let (c, y) = classes_of(kind, data.y)?;
        (c, y, Vec::new())
    } else {
        check_regression(kind, data)?;
        (Vec::new(), Vec::new(), data.y.to_vec())
    };
    let (n, m) = data.x.dim();
    let gp = GrowParams {
        max_depth: p.max_depth,
        min_samples_split: p.min_samples_split,
        min_samples_leaf: p.min_samples_leaf,
        max_features: resolve_max_features(kind, p, m)?,
    };
    let target = if classifier {
        Target::Classes {
            y: &y_class,
            k: classes.len(),
        }
    } else {
        Target::Values(&y_value)
    };
    let pre = Presorted::new(data.x);
    let mut master = mlpipe_split::rng::rng(p.seed);
    let seeds: Vec<u64> = (0..p.n_estimators).map(|_| master.next_u64()).collect();
    let trees = seeds
        .par_iter()
        .map(|&seed| {
            let mut rng = mlpipe_split::rng::rng(seed);
            let mut w = vec![if p.bootstrap { 0.0 } else { 1.0 }; n];
            if p.bootstrap {
                for _ in 0..n {
                    w[mlpipe_split::rng::below(&mut rng, n as u64) as usize] += 1.0;
                }
            }
            let order = pre.order_for(&w);
            cart::grow(&pre.cols, order, target, &w, &gp, &mut rng)
        })
        .collect();
    Ok(ForestModel {
        kind,
        state: ForestState { classes, trees },
        params: p.clone(),
        feature_set_id: data.feature_set_id.clone(),
        input: data.feature_names.to_vec(),
    })
}

impl Trainer for RandomForest {
    fn kind(&self) -> &str {
        CLASSIFIER
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>> {
        Ok(Box::new(train_forest(CLASSIFIER, &self.0, data)?))
    }
}

impl Trainer for RandomForestRegressor {
    fn kind(&self) -> &str {
        REGRESSOR
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>> {
        Ok(Box::new(train_forest(REGRESSOR, &self.0, data)?))
    }
}

impl ForestModel {
    /// Rebuilds a forest of either kind from its artefact, checking every tree.
    pub fn from_artefact(a: &ModelArtefact) -> Result<Self> {
        let kind = match a.kind.as_str() {
            CLASSIFIER => CLASSIFIER,
            REGRESSOR => REGRESSOR,
            other => {
                return Err(ModelError::Artefact(format!(
                    "`{other}` is not a random forest kind"
                )))
            }
        };
        let state: ForestState = a.learned_as()?;
        let params: ForestParams = serde_json::from_value(a.params.clone())
            .map_err(|e| ModelError::Artefact(format!("params of {kind}: {e}")))?;
        let leaf_len = if kind == CLASSIFIER {
            if state.classes.len() < 2 {
                return Err(ModelError::Artefact(format!(
                    "{kind}: needs at least two classes"
                )));
            }
            state.classes.len()
        } else {
            1
        };
        if state.trees.is_empty() {
            return Err(ModelError::Artefact(format!("{kind}: no trees")));
        }
        for t in &state.trees {
            check_nodes(kind, t, a.input_schema.len(), leaf_len)?;
        }
        Ok(Self {
            kind,
            state,
            params,
            feature_set_id: a.feature_set_id.clone(),
            input: a.input_schema.clone(),
        })
    }

    /// The learned trees.
    pub fn state(&self) -> &ForestState {
        &self.state
    }

    /// The leaf values of one row of the right width averaged over the trees: class
    /// probabilities, or a one-element vector holding the regression value.
    pub fn average(&self, x: &[f64]) -> Vec<f64> {
        let mut acc = vec![0.0; self.state.classes.len().max(1)];
        for t in &self.state.trees {
            for (a, v) in acc.iter_mut().zip(leaf_of(t, x)) {
                *a += v;
            }
        }
        let k = self.state.trees.len() as f64;
        acc.iter_mut().for_each(|a| *a /= k);
        acc
    }

    fn score(&self, x: &[f64]) -> Score {
        let avg = self.average(x);
        if self.kind == CLASSIFIER {
            Score::Probabilities {
                classes: self.state.classes.clone(),
                probabilities: avg,
            }
        } else {
            Score::Value {
                value: avg.first().copied().unwrap_or(f64::NAN),
            }
        }
    }
}

impl Model for ForestModel {
    fn kind(&self) -> &str {
        self.kind
    }

    fn n_features(&self) -> usize {
        self.input.len()
    }

    fn predict_batch(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Score>> {
        score_rows(self.input.len(), x, |r| self.score(r))
    }

    fn predict_row(&self, x: &[f64]) -> Result<Score> {
        check_width(self.input.len(), x.len())?;
        Ok(self.score(x))
    }

    fn artefact(&self) -> Result<ModelArtefact> {
        ModelArtefact::with_state(
            self.kind,
            self.feature_set_id.clone(),
            self.input.clone(),
            serde_json::to_value(&self.params).unwrap_or_default(),
            &self.state,
        )
    }
}
