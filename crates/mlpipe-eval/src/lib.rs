//! # mlpipe-eval
//!
//! Candidate evaluation: [`Evaluator`]s (accuracy, ROC AUC…), the [`SelectionPolicy`]
//! (best by a metric, above thresholds, beating the deployed version by a margin) and the
//! [`EvaluationService`] that saves metrics against each model and publishes
//! `model-ready` for the winner.

#![forbid(unsafe_code)]

mod error;
pub mod metrics;
pub mod selection;
pub mod service;

pub use error::{EvalError, Result};
pub use metrics::{evaluator, Accuracy, Evaluator, RocAuc};
pub use selection::{Candidate, SelectionPolicy, Verdict};
pub use service::{EvaluationConfig, EvaluationReport, EvaluationService};
