//! The serving error type.

use mlpipe_core::{ModelId, ModelRef};

/// Everything that can go wrong deploying or scoring.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// No version of the model is live.
    #[error("model {0} has no live version; deploy one first")]
    NotDeployed(ModelId),
    /// The requested version is not live.
    #[error("version {0} is not live (live: {1})")]
    VersionNotLive(ModelRef, String),
    /// A model failed validation and was not deployed.
    #[error("model {model} failed validation and was not deployed: {reason}")]
    Validation {
        /// The model.
        model: ModelRef,
        /// Why.
        reason: String,
    },
    /// The request cannot be scored (bad features, unknown entity).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Every link of the chain failed.
    #[error("no live version could answer: {0}")]
    AllFailed(String),
    /// A model failed.
    #[error(transparent)]
    Model(#[from] mlpipe_models::ModelError),
    /// Features failed.
    #[error(transparent)]
    Features(#[from] mlpipe_features::FeatureError),
    /// A store or the broker failed.
    #[error(transparent)]
    Core(#[from] mlpipe_core::Error),
}

impl ServeError {
    /// Whether the same deployment or scoring can succeed later: a store failure that may
    /// pass, a deployment not visible yet; not a model that fails validation.
    pub fn is_transient(&self) -> bool {
        match self {
            ServeError::NotDeployed(_) | ServeError::VersionNotLive(..) => true,
            ServeError::Model(e) => e.is_transient(),
            ServeError::Features(e) => e.is_transient(),
            ServeError::Core(e) => e.may_pass_later(),
            _ => false,
        }
    }

    /// Whether the caller is at fault (HTTP 4xx) rather than the server.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            ServeError::NotDeployed(_)
                | ServeError::VersionNotLive(..)
                | ServeError::BadRequest(_)
                | ServeError::Features(_)
        ) || matches!(
            self,
            ServeError::Model(mlpipe_models::ModelError::Width { .. })
        )
    }
}

/// Result alias of this crate.
pub type Result<T, E = ServeError> = std::result::Result<T, E>;
