//! The facade's error: any stage's error, unchanged underneath.

/// Errors of the assembled pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Core contracts, stores, broker, configuration.
    #[error(transparent)]
    Core(#[from] mlpipe_core::Error),
    /// Ingestion.
    #[error(transparent)]
    Ingest(#[from] mlpipe_ingest::IngestError),
    /// Feature preparation.
    #[error(transparent)]
    Features(#[from] mlpipe_features::FeatureError),
    /// Segregation.
    #[error(transparent)]
    Split(#[from] mlpipe_split::SplitError),
    /// Training and models.
    #[error(transparent)]
    Model(#[from] mlpipe_models::ModelError),
    /// Evaluation.
    #[error(transparent)]
    Eval(#[from] mlpipe_eval::EvalError),
    /// Deployment and scoring.
    #[error(transparent)]
    Serve(#[from] mlpipe_serve::ServeError),
    /// A stage gave up on an event of a followed run (it is on the dead-letter topic, and
    /// in the audit trail as `dead_letter`).
    #[error("the {stage} stage failed on {topic} after {attempts} attempt(s): {reason}")]
    Stage {
        /// The stage (`prepare`, `train`, …).
        stage: String,
        /// The topic of the event it failed on.
        topic: String,
        /// The stage's error message.
        reason: String,
        /// Deliveries tried (1: a permanent error, dead-lettered at once).
        attempts: u32,
    },
}

/// Result alias of the facade.
pub type Result<T, E = Error> = std::result::Result<T, E>;
