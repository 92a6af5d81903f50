//! The segregation error type.

/// Everything that can go wrong splitting data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    /// A parameter is out of range.
    #[error("invalid split parameter: {0}")]
    InvalidParameter(String),
    /// The strategy needs labels and the features have none.
    #[error("strategy `{0}` needs labels, but the feature set has no label column")]
    NeedsLabels(String),
    /// Nothing to split.
    #[error("there are no rows to split")]
    NoRows,
    /// A label or column is not usable.
    #[error("label problem: {0}")]
    Label(String),
    /// A store failed.
    #[error(transparent)]
    Core(#[from] mlpipe_core::Error),
}

/// Result alias of this crate.
pub type Result<T, E = SplitError> = std::result::Result<T, E>;
