//! # mlpipe-serve
//!
//! Deployment and scoring: the [`Deployer`] validates a ready model and makes it live in
//! one step (keeping the previous default live behind it); the [`ModelRouter`] answers
//! single requests through a chain of live versions; the [`BatchScoringService`] scores
//! stored features in bulk. Offline and online scores are identical for the same input:
//! both run the fitted pipeline and the model's per-row code.

#![forbid(unsafe_code)]

pub mod batch;
pub mod deploy;
mod error;
pub mod http;
mod loaded;
pub mod router;

pub use batch::{BatchScoreReport, BatchScoringService};
pub use deploy::Deployer;
pub use error::{Result, ServeError};
pub use http::{ScoringServer, ServeConfig, ServerState};
pub use loaded::{LoadedModel, ModelCache};
pub use router::{ModelRouter, ScoreRequest, ScoreResponse, ServedLog};
