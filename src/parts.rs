//! The parts every stage is assembled from: the registries of steps, algorithms, split
//! strategies and evaluators. [`PipelineBuilder`](crate::PipelineBuilder) fills them (the
//! built-ins, then the user's own) and hands the same [`Parts`] to every stage, the
//! worker, the model cache and serving, so a part registered once is seen everywhere.

use mlpipe_eval::Evaluators;
use mlpipe_features::StepRegistry;
use mlpipe_models::Algorithms;
use mlpipe_split::SplitRegistry;
use std::sync::Arc;

/// The shared registries.
#[derive(Clone, Debug)]
pub struct Parts {
    /// Feature steps (extractors, transformers, selectors) by kind.
    pub steps: Arc<StepRegistry>,
    /// Model kinds: trainers and artefact loaders.
    pub algorithms: Arc<Algorithms>,
    /// Split and fold strategies by name.
    pub splits: Arc<SplitRegistry>,
    /// Metrics by name.
    pub evaluators: Arc<Evaluators>,
}

impl Parts {
    /// Every built-in part.
    pub fn builtin() -> Self {
        Self {
            steps: Arc::new(StepRegistry::builtin()),
            algorithms: Arc::new(Algorithms::builtin()),
            splits: Arc::new(SplitRegistry::builtin()),
            evaluators: Arc::new(Evaluators::builtin()),
        }
    }
}

impl Default for Parts {
    fn default() -> Self {
        Self::builtin()
    }
}
