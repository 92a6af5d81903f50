//! The feature-engineering error type.

/// Everything that can go wrong preparing features.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureError {
    /// A step was asked to fit on no rows.
    #[error("{step} cannot be fitted on empty data; ingest rows first")]
    EmptyData {
        /// The step.
        step: String,
    },
    /// Values the step cannot handle (NaN, infinities…).
    #[error("{step}: column `{column}` contains {what}; add an imputer or clip step before it")]
    BadValues {
        /// The step.
        step: String,
        /// The column.
        column: String,
        /// What was found, e.g. `NaN`.
        what: String,
    },
    /// A column the definition names is not in the data.
    #[error("column `{column}` is not in the data (available: {available})")]
    MissingColumn {
        /// The column.
        column: String,
        /// The columns that are there.
        available: String,
    },
    /// Input of the wrong width or type.
    #[error("{0}")]
    Shape(String),
    /// The label is unsuitable for the step.
    #[error("label problem: {0}")]
    Label(String),
    /// A step name or parameter in the definition is wrong.
    #[error("invalid feature definition: {0}")]
    Definition(String),
    /// A data-quality threshold was crossed.
    #[error("data quality check failed: {0}")]
    Quality(String),
    /// A store, the broker or a conversion failed.
    #[error(transparent)]
    Core(#[from] mlpipe_core::Error),
}

impl FeatureError {
    /// Whether preparing the same batch again can succeed: a store or broker failure
    /// that may pass; not bad data or a bad definition, which fail the same way every time.
    pub fn is_transient(&self) -> bool {
        match self {
            FeatureError::Core(e) => e.may_pass_later(),
            _ => false,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = FeatureError> = std::result::Result<T, E>;
