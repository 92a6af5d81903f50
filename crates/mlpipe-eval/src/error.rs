//! The evaluation error type.

/// Everything that can go wrong evaluating candidates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// No rows to evaluate.
    #[error("{metric}: no rows to evaluate")]
    Empty {
        /// The metric.
        metric: String,
    },
    /// Truths and scores differ in length.
    #[error("{metric}: {truths} truths but {scores} scores")]
    Length {
        /// The metric.
        metric: String,
        /// Truth count.
        truths: usize,
        /// Score count.
        scores: usize,
    },
    /// The metric is undefined for this input (e.g. ROC AUC with one class in the truth).
    #[error("{metric} is undefined here: {reason}")]
    Undefined {
        /// The metric.
        metric: String,
        /// Why.
        reason: String,
    },
    /// A score of the wrong kind for the metric, or a non-finite score.
    #[error("{metric}: {reason}")]
    BadScore {
        /// The metric.
        metric: String,
        /// What is wrong.
        reason: String,
    },
    /// The configuration names an unknown metric.
    #[error("unknown metric `{0}`")]
    UnknownMetric(String),
    /// Writing a report failed.
    #[error(
        "could not write the report {path}: {source}; check that the reports directory is writable"
    )]
    Report {
        /// The report's path.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A search or cross-validation was set up wrongly.
    #[error("search: {0}")]
    Search(String),
    /// Loading or running a model failed.
    #[error(transparent)]
    Model(#[from] mlpipe_models::ModelError),
    /// A split failed.
    #[error(transparent)]
    Split(#[from] mlpipe_split::SplitError),
    /// A store or the broker failed.
    #[error(transparent)]
    Core(#[from] mlpipe_core::Error),
}

impl EvalError {
    /// Whether evaluating again can succeed: a store failure that may pass, a report that
    /// could not be written, a model or split failure that may pass; not a metric that is
    /// undefined for the data or unknown.
    pub fn is_transient(&self) -> bool {
        match self {
            EvalError::Report { .. } => true,
            EvalError::Model(e) => e.is_transient(),
            EvalError::Split(e) => e.is_transient(),
            EvalError::Core(e) => e.may_pass_later(),
            _ => false,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = EvalError> = std::result::Result<T, E>;
