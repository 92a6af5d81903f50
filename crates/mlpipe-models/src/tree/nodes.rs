//! What every tree of the family shares: the flat node list of a fitted tree, the
//! hyper-parameters of a single tree, and the checks and walk over a node list that the
//! classifier, the regressor and the forests use.

use crate::error::{ModelError, Result};
use serde::{Deserialize, Serialize};

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

/// Checks a flat node list read from an artefact: children after their parent and in
/// range, features below `width`, finite thresholds, leaves of `leaf_len` values.
pub(crate) fn check_nodes(
    kind: &str,
    nodes: &[TreeNode],
    width: usize,
    leaf_len: usize,
) -> Result<()> {
    let n = nodes.len();
    if n == 0 {
        return Err(ModelError::Artefact(format!("{kind}: no nodes")));
    }
    for (i, node) in nodes.iter().enumerate() {
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
            TreeNode::Leaf { value } => value.len() == leaf_len,
        };
        if !ok {
            return Err(ModelError::Artefact(format!(
                "{kind}: node {i} is malformed"
            )));
        }
    }
    Ok(())
}

/// The leaf values `x` falls into (nodes checked by [`check_nodes`]).
pub(crate) fn leaf_of<'a>(nodes: &'a [TreeNode], x: &[f64]) -> &'a [f64] {
    let mut i = 0;
    loop {
        match &nodes[i] {
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
