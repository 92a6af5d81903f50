//! The training error type.

/// Everything that can go wrong training or loading a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// Training data has no rows.
    #[error("cannot train {kind} on zero rows")]
    NoRows {
        /// Model kind.
        kind: String,
    },
    /// A classifier saw only one class.
    #[error("{kind} needs at least two classes in the training labels, found only {class}")]
    OneClass {
        /// Model kind.
        kind: String,
        /// The only class.
        class: i64,
    },
    /// Features contain NaN or infinities.
    #[error("feature `{feature}` contains NaN or infinite values; impute or clip before training {kind}")]
    NonFinite {
        /// Model kind.
        kind: String,
        /// Feature name.
        feature: String,
    },
    /// Labels of the wrong kind (e.g. fractional classes).
    #[error("labels unsuitable for {kind}: {reason}")]
    Labels {
        /// Model kind.
        kind: String,
        /// What is wrong.
        reason: String,
    },
    /// More features than the model can learn from the data it was given.
    #[error("{kind} cannot learn {features} features from {rows} rows: {hint}")]
    TooManyFeatures {
        /// Model kind.
        kind: String,
        /// Features given.
        features: usize,
        /// Rows given.
        rows: usize,
        /// What to do about it.
        hint: String,
    },
    /// Input width differs from what the model was trained on.
    #[error("model expects {expected} features, got {got}")]
    Width {
        /// Trained width.
        expected: usize,
        /// Given width.
        got: usize,
    },
    /// Hyper-parameters are invalid.
    #[error("invalid hyper-parameters for {kind}: {reason}")]
    Params {
        /// Model kind.
        kind: String,
        /// What is wrong.
        reason: String,
    },
    /// No trainer or loader of this kind is registered.
    #[error("unknown model kind `{kind}` (known: {known})")]
    UnknownKind {
        /// Requested kind.
        kind: String,
        /// Registered kinds.
        known: String,
    },
    /// An artefact cannot be loaded.
    #[error("artefact cannot be loaded: {0}")]
    Artefact(String),
    /// Numerical trouble (singular system, no convergence).
    #[error("{kind} failed numerically: {reason}")]
    Numeric {
        /// Model kind.
        kind: String,
        /// What happened.
        reason: String,
    },
    /// An iterative fit stopped because its attempt was cancelled (timed out or
    /// superseded by a retry, which resumes from its checkpoint).
    #[error("training of {kind} was cancelled; a retry resumes from the last checkpoint")]
    Cancelled {
        /// Model kind.
        kind: String,
    },
    /// A candidate ran out of time.
    #[error("training of candidate `{name}` timed out after {seconds} s; raise timeout_secs or train on fewer rows")]
    Timeout {
        /// Candidate name.
        name: String,
        /// Budget.
        seconds: f64,
    },
    /// A split failed.
    #[error(transparent)]
    Split(#[from] mlpipe_split::SplitError),
    /// A store or the broker failed.
    #[error(transparent)]
    Core(#[from] mlpipe_core::Error),
}

impl ModelError {
    /// Whether training again can succeed: a timeout, a cancelled task, a store failure
    /// that may pass; not bad parameters, labels, data or an unknown kind.
    pub fn is_transient(&self) -> bool {
        match self {
            ModelError::Timeout { .. } | ModelError::Cancelled { .. } => true,
            ModelError::Split(e) => e.is_transient(),
            ModelError::Core(e) => e.may_pass_later(),
            _ => false,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
