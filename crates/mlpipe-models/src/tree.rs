//! CART decision tree for classification (Gini impurity, exact thresholds at midpoints
//! between distinct values, as scikit-learn's `DecisionTreeClassifier`).
//!
//! Training presorts every feature once and keeps, for each node, the node's rows sorted by
//! every feature in one contiguous range; a split stably partitions those ranges. Each
//! level costs O(rows × features), and the split search and the partition run across
//! features in parallel.

use crate::error::{ModelError, Result};
use crate::facade::*;
use mlpipe_core::{FeatureSetId, Score};
use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

const KIND: &str = "decision_tree";

/// Hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TreeParams {
    /// Maximum depth (`None`: grow until leaves are pure or too small).
    pub max_depth: Option<usize>,
    /// Fewest rows a node needs to be split.
    pub min_samples_split: usize,
    /// Fewest rows each child must keep.
    pub min_samples_leaf: usize,
}

impl Default for TreeParams {
    fn default() -> Self {
        Self {
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
        }
    }
}

/// The decision-tree trainer.
#[derive(Clone, Debug, Default)]
pub struct DecisionTree(pub TreeParams);

/// A node of a fitted tree, stored flat: children are indices into the node list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TreeNode {
    /// An inner node: `x[feature] <= threshold` goes left.
    Split {
        /// Feature index.
        feature: usize,
        /// Threshold.
        threshold: f64,
        /// Left child.
        left: usize,
        /// Right child.
        right: usize,
    },
    /// A leaf with the class distribution of its training rows.
    Leaf {
        /// Probability per class.
        value: Vec<f64>,
    },
}

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

struct Work {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
}

fn grow(x: ArrayView2<'_, f64>, y: &[usize], k: usize, p: &TreeParams) -> Vec<TreeNode> {
    let (n, m) = x.dim();
    // Column-major copy: each feature contiguous.
    let cols: Vec<Vec<f64>> = x.axis_iter(Axis(1)).map(|c| c.to_vec()).collect();
    let mut order: Vec<Vec<u32>> = cols
        .par_iter()
        .map(|c| {
            let mut idx: Vec<u32> = (0..n as u32).collect();
            idx.sort_by(|&a, &b| c[a as usize].total_cmp(&c[b as usize]).then(a.cmp(&b)));
            idx
        })
        .collect();
    let mut goes_left = vec![false; n];
    let mut nodes = vec![TreeNode::Leaf { value: vec![] }];
    let mut stack = vec![Work {
        node: 0,
        start: 0,
        end: n,
        depth: 0,
    }];
    while let Some(w) = stack.pop() {
        let len = w.end - w.start;
        let mut counts = vec![0usize; k];
        for &i in &order[0][w.start..w.end] {
            counts[y[i as usize]] += 1;
        }
        let pure = counts.iter().filter(|&&c| c > 0).count() <= 1;
        let leaf = |counts: &[usize]| TreeNode::Leaf {
            value: counts.iter().map(|&c| c as f64 / len as f64).collect(),
        };
        if pure
            || len < p.min_samples_split
            || len < 2 * p.min_samples_leaf
            || p.max_depth.is_some_and(|d| w.depth >= d)
        {
            nodes[w.node] = leaf(&counts);
            continue;
        }
        let best = (0..m)
            .into_par_iter()
            .with_min_len(if len > 20_000 { 1 } else { m.max(1) })
            .filter_map(|j| {
                best_split(
                    &cols[j],
                    &order[j][w.start..w.end],
                    y,
                    &counts,
                    p.min_samples_leaf,
                )
                .map(|(g, t, nl)| (j, g, t, nl))
            })
            .reduce_with(|a, b| {
                if b.1 > a.1 || (b.1 == a.1 && b.0 < a.0) {
                    b
                } else {
                    a
                }
            });
        let Some((feature, _gain, threshold, n_left)) = best else {
            nodes[w.node] = leaf(&counts);
            continue;
        };
        for &i in &order[feature][w.start..w.end] {
            goes_left[i as usize] = cols[feature][i as usize] <= threshold;
        }
        order.par_iter_mut().for_each(|o| {
            let seg = &mut o[w.start..w.end];
            let mut right = Vec::with_capacity(seg.len() - n_left);
            let mut li = 0;
            for r in 0..seg.len() {
                let i = seg[r];
                if goes_left[i as usize] {
                    seg[li] = i;
                    li += 1;
                } else {
                    right.push(i);
                }
            }
            seg[li..].copy_from_slice(&right);
        });
        let left = nodes.len();
        nodes.push(TreeNode::Leaf { value: vec![] });
        let right = nodes.len();
        nodes.push(TreeNode::Leaf { value: vec![] });
        nodes[w.node] = TreeNode::Split {
            feature,
            threshold,
            left,
            right,
        };
        let mid = w.start + n_left;
        stack.push(Work {
            node: right,
            start: mid,
            end: w.end,
            depth: w.depth + 1,
        });
        stack.push(Work {
            node: left,
            start: w.start,
            end: mid,
            depth: w.depth + 1,
        });
    }
    nodes
}

/// The best threshold on one feature: (Gini proxy to maximise, threshold, rows going left).
fn best_split(
    col: &[f64],
    seg: &[u32],
    y: &[usize],
    total: &[usize],
    min_leaf: usize,
) -> Option<(f64, f64, usize)> {
    let n = seg.len();
    let mut left = vec![0usize; total.len()];
    let mut right: Vec<usize> = total.to_vec();
    let mut sq_left = 0.0f64;
    let mut sq_right: f64 = total.iter().map(|&c| (c * c) as f64).sum();
    let mut best: Option<(f64, f64, usize)> = None;
    for pos in 0..n - 1 {
        let i = seg[pos] as usize;
        let c = y[i];
        sq_left += (2 * left[c] + 1) as f64;
        sq_right -= (2 * right[c] - 1) as f64;
        left[c] += 1;
        right[c] -= 1;
        let nl = pos + 1;
        let nr = n - nl;
        if nl < min_leaf || nr < min_leaf {
            continue;
        }
        let (a, b) = (col[i], col[seg[pos + 1] as usize]);
        if b <= a {
            continue;
        }
        // Weighted Gini impurity is minimised where Σ cₗ²/nₗ + Σ cᵣ²/nᵣ is maximal.
        let proxy = sq_left / nl as f64 + sq_right / nr as f64;
        if best.is_none_or(|(g, _, _)| proxy > g) {
            let mut t = a / 2.0 + b / 2.0;
            if t >= b || !t.is_finite() {
                t = a;
            }
            best = Some((proxy, t, nl));
        }
    }
    best
}

impl TreeModel {
    /// Rebuilds a model from its artefact, checking the tree is well formed.
    pub fn from_artefact(a: &ModelArtefact) -> Result<Self> {
        let state: TreeState = a.learned_as()?;
        let params: TreeParams = serde_json::from_value(a.params.clone())
            .map_err(|e| ModelError::Artefact(format!("params of {KIND}: {e}")))?;
        let width = a.input_schema.len();
        let n = state.nodes.len();
        for (i, node) in state.nodes.iter().enumerate() {
            let ok = match node {
                TreeNode::Split {
                    feature,
                    left,
                    right,
                    threshold,
                } => {
                    *feature < width
                        && *left > i
                        && *right > i
                        && *left < n
                        && *right < n
                        && !threshold.is_nan()
                }
                TreeNode::Leaf { value } => value.len() == state.classes.len(),
            };
            if !ok {
                return Err(ModelError::Artefact(format!(
                    "{KIND}: node {i} is malformed"
                )));
            }
        }
        if n == 0 {
            return Err(ModelError::Artefact(format!("{KIND}: no nodes")));
        }
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
        let mut i = 0;
        loop {
            match &self.state.nodes[i] {
                TreeNode::Leaf { value } => return value,
                TreeNode::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    i = if x[*feature] <= *threshold {
                        *left
                    } else {
                        *right
                    };
                }
            }
        }
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
        check_width(self.input.len(), x.ncols())?;
        Ok(x.axis_iter(Axis(0))
            .into_par_iter()
            .map(|r| match r.as_slice() {
                Some(s) => self.score(s),
                None => self.score(&r.to_vec()),
            })
            .collect())
    }

    fn predict_row(&self, x: &[f64]) -> Result<Score> {
        check_width(self.input.len(), x.len())?;
        Ok(self.score(x))
    }

    fn artefact(&self) -> Result<ModelArtefact> {
        Ok(ModelArtefact::new(
            KIND,
            self.feature_set_id.clone(),
            self.input.clone(),
            serde_json::to_value(&self.params).unwrap_or_default(),
            serde_json::to_value(&self.state).map_err(|e| ModelError::Artefact(e.to_string()))?,
        ))
    }
}
