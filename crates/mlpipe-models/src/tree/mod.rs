//! The tree family: CART decision trees for classification ([`DecisionTree`], as
//! scikit-learn's `DecisionTreeClassifier`) and regression ([`regressor`]), grown by one
//! presorted grower (`cart`) that the random forests use too, over one flat node list
//! ([`TreeNode`]).

pub(crate) mod cart;
mod classifier;
pub(crate) mod nodes;
pub mod regressor;

pub use classifier::{DecisionTree, TreeModel, TreeState};
pub use nodes::{TreeNode, TreeParams};
