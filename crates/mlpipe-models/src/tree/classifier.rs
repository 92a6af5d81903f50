//! CART decision tree for classification (Gini impurity, exact thresholds at midpoints
//! between distinct values, as scikit-learn's `DecisionTreeClassifier`).
//!
//! Training uses the presorted grower of the crate's `cart` module: every feature is sorted once,
//! each level costs O(rows × features), and the split search and the partition run across
//! features in parallel. Regression trees live in [`super::regressor`].

use super::cart::{self, GrowParams, Presorted, Target};
use super::nodes::{check_nodes, leaf_of, TreeNode, TreeParams};
use crate::error::{ModelError, Result};
use crate::facade::*;
use mlpipe_core::{FeatureSetId, Score};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

const KIND: &str = "decision_tree";

/// The decision-tree trainer.
#[derive(Clone, Debug, Default)]
pub struct DecisionTree(pub TreeParams);

/// Learned parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeState {
    /// Class labels, ascending.
    pub classes: Vec<i64>,
    /// Nodes; the root is node 0.
    pub nodes: Vec<TreeNode>,
}

/// A fitted decision tree.
#[derive(Clone, Debug)]
pub struct TreeModel {
    state: TreeState,
    params: TreeParams,
    feature_set_id: FeatureSetId,
    input: Vec<String>,
}

impl Trainer for DecisionTree {
    fn kind(&self) -> &str {
        KIND
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>> {
        let p = &self.0;
        if p.min_samples_leaf == 0 || p.min_samples_split < 2 || p.max_depth == Some(0) {
            return Err(ModelError::Params {
                kind: KIND.into(),
                reason:
                    "min_samples_leaf ≥ 1, min_samples_split ≥ 2 and max_depth ≥ 1 are required"
                        .into(),
            });
        }
        check_training(KIND, data)?;
        let (classes, y) = classes_of(KIND, data.y)?;
        let nodes = grow(data.x, &y, classes.len(), p);
        Ok(Box::new(TreeModel {
            state: TreeState { classes, nodes },
            params: p.clone(),
            feature_set_id: data.feature_set_id.clone(),
            input: data.feature_names.to_vec(),
        }))
    }
}

fn grow(x: ArrayView2<'_, f64>, y: &[usize], k: usize, p: &TreeParams) -> Vec<TreeNode> {
    let pre = Presorted::new(x);
    let w = vec![1.0; x.nrows()];
    let gp = GrowParams {
        max_depth: p.max_depth,
        min_samples_split: p.min_samples_split,
        min_samples_leaf: p.min_samples_leaf,
        max_features: x.ncols(),
    };
    cart::grow(
        &pre.cols,
        pre.order,
        Target::Classes { y, k },
        &w,
        &gp,
        &mut mlpipe_split::rng::rng(0),
    )
}

impl TreeModel {
    /// Rebuilds a model from its artefact, checking the tree is well formed.
    pub fn from_artefact(a: &ModelArtefact) -> Result<Self> {
        let state: TreeState = a.learned_as()?;
        let params: TreeParams = serde_json::from_value(a.params.clone())
            .map_err(|e| ModelError::Artefact(format!("params of {KIND}: {e}")))?;
        check_nodes(
            KIND,
            &state.nodes,
            a.input_schema.len(),
            state.classes.len(),
        )?;
        Ok(Self {
            state,
            params,
            feature_set_id: a.feature_set_id.clone(),
            input: a.input_schema.clone(),
        })
    }

    /// The learned tree.
    pub fn state(&self) -> &TreeState {
        &self.state
    }

    fn leaf(&self, x: &[f64]) -> &[f64] {
        leaf_of(&self.state.nodes, x)
    }

    /// Class probabilities of one row of the right width (the leaf it falls into), without
    /// building a [`Score`].
    pub fn probabilities(&self, x: &[f64]) -> &[f64] {
        self.leaf(x)
    }

    fn score(&self, x: &[f64]) -> Score {
        Score::Probabilities {
            classes: self.state.classes.clone(),
            probabilities: self.leaf(x).to_vec(),
        }
    }
}

impl Model for TreeModel {
    fn kind(&self) -> &str {
        KIND
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

    fn predict_proba_row(&self, x: &[f64], out: &mut [f64]) -> Result<bool> {
        check_width(self.input.len(), x.len())?;
        let leaf = self.leaf(x);
        if leaf.len() != out.len() {
            return Ok(false);
        }
        out.copy_from_slice(leaf);
        Ok(true)
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Option<ndarray::Array2<f64>>> {
        check_width(self.input.len(), x.ncols())?;
        let mut out = ndarray::Array2::zeros((x.nrows(), self.state.classes.len()));
        ndarray::Zip::from(out.rows_mut())
            .and(x.rows())
            .par_for_each(|mut o, r| {
                let leaf = match r.as_slice() {
                    Some(s) => self.leaf(s),
                    None => self.leaf(&r.to_vec()),
                };
                for (o, p) in o.iter_mut().zip(leaf) {
                    *o = *p;
                }
            });
        Ok(Some(out))
    }

    fn artefact(&self) -> Result<ModelArtefact> {
        ModelArtefact::with_state(
            KIND,
            self.feature_set_id.clone(),
            self.input.clone(),
            serde_json::to_value(&self.params).unwrap_or_default(),
            &self.state,
        )
    }
}
