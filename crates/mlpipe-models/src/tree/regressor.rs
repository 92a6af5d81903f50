//! CART regression tree (squared error, leaves predict the mean of their training rows), as
//! scikit-learn's `DecisionTreeRegressor` with its default `criterion="squared_error"`.
//! Grown by the presorted grower of the crate's `cart` module.

use super::cart::{self, GrowParams, Presorted, Target};
use super::nodes::{check_nodes, leaf_of, TreeNode, TreeParams};
use crate::error::{ModelError, Result};
use crate::facade::*;
use mlpipe_core::{FeatureSetId, Score};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

const KIND: &str = "decision_tree_regressor";

/// The regression-tree trainer (same hyper-parameters as the classifier).
#[derive(Clone, Debug, Default)]
pub struct DecisionTreeRegressor(pub TreeParams);

/// Learned parameters: the flat node list, every leaf holding one value (the mean).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionTreeState {
    /// Nodes; the root is node 0.
    pub nodes: Vec<TreeNode>,
}

/// A fitted regression tree.
#[derive(Clone, Debug)]
pub struct RegressionTreeModel {
    state: RegressionTreeState,
    params: TreeParams,
    feature_set_id: FeatureSetId,
    input: Vec<String>,
}

pub(crate) fn check_tree_params(kind: &str, p: &TreeParams) -> Result<()> {
    if p.min_samples_leaf == 0 || p.min_samples_split < 2 || p.max_depth == Some(0) {
        return Err(ModelError::Params {
            kind: kind.into(),
            reason: "min_samples_leaf ≥ 1, min_samples_split ≥ 2 and max_depth ≥ 1 are required"
                .into(),
        });
    }
    Ok(())
}

impl Trainer for DecisionTreeRegressor {
    fn kind(&self) -> &str {
        KIND
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>> {
        let p = &self.0;
        check_tree_params(KIND, p)?;
        check_regression(KIND, data)?;
        let pre = Presorted::new(data.x);
        let y = data.y.to_vec();
        let w = vec![1.0; y.len()];
        let gp = GrowParams {
            max_depth: p.max_depth,
            min_samples_split: p.min_samples_split,
            min_samples_leaf: p.min_samples_leaf,
            max_features: data.x.ncols(),
        };
        let nodes = cart::grow(
            &pre.cols,
            pre.order,
            Target::Values(&y),
            &w,
            &gp,
            &mut mlpipe_split::rng::rng(0),
        );
        Ok(Box::new(RegressionTreeModel {
            state: RegressionTreeState { nodes },
            params: p.clone(),
            feature_set_id: data.feature_set_id.clone(),
            input: data.feature_names.to_vec(),
        }))
    }
}

impl RegressionTreeModel {
    /// Rebuilds a model from its artefact, checking the tree is well formed.
    pub fn from_artefact(a: &ModelArtefact) -> Result<Self> {
        let state: RegressionTreeState = a.learned_as()?;
        let params: TreeParams = serde_json::from_value(a.params.clone())
            .map_err(|e| ModelError::Artefact(format!("params of {KIND}: {e}")))?;
        check_nodes(KIND, &state.nodes, a.input_schema.len(), 1)?;
        Ok(Self {
            state,
            params,
            feature_set_id: a.feature_set_id.clone(),
            input: a.input_schema.clone(),
        })
    }

    /// The learned tree.
    pub fn state(&self) -> &RegressionTreeState {
        &self.state
    }

    /// The prediction for one row of the right width.
    pub fn predict_value(&self, x: &[f64]) -> f64 {
        leaf_of(&self.state.nodes, x)
            .first()
            .copied()
            .unwrap_or(f64::NAN)
    }
}

impl Model for RegressionTreeModel {
    fn kind(&self) -> &str {
        KIND
    }

    fn n_features(&self) -> usize {
        self.input.len()
    }

    fn predict_batch(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Score>> {
        score_rows(self.input.len(), x, |r| Score::Value {
            value: self.predict_value(r),
        })
    }

    fn predict_row(&self, x: &[f64]) -> Result<Score> {
        check_width(self.input.len(), x.len())?;
        Ok(Score::Value {
            value: self.predict_value(x),
        })
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
