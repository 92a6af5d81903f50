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
    /// The strategy needs a column the caller did not name (times for a time-ordered
    /// split, groups for a group-aware split).
    #[error("strategy `{strategy}` needs a {what} column: name it in the split columns")]
    NeedsColumn {
        /// The strategy.
        strategy: String,
        /// What kind of column (time, group).
        what: &'static str,
    },
    /// A named column is not in the feature set.
    #[error("column `{0}` is not in the feature set; check the name in the split request")]
    UnknownColumn(String),
    /// A label or column is not usable.
    #[error("label problem: {0}")]
    Label(String),
    /// No strategy of this name is registered.
    #[error("unknown {what} `{name}` (registered: {known}); register it in the SplitRegistry or fix the name")]
    UnknownStrategy {
        /// "split strategy" or "fold strategy".
        what: String,
        /// The name asked for.
        name: String,
        /// The registered names, comma-separated.
        known: String,
    },
    /// A store failed.
    #[error(transparent)]
    Core(#[from] mlpipe_core::Error),
}

impl SplitError {
    /// Whether asking again can succeed: a store failure that may pass (or a record not
    /// visible yet); not a bad parameter, column or label, which fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            SplitError::Core(e) => e.may_pass_later(),
            _ => false,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = SplitError> = std::result::Result<T, E>;
