//! # mlpipe
//!
//! Production machine-learning pipelines in Rust: ingest → prepare features → split →
//! train → evaluate → deploy → score → monitor, offline and online, stages joined only by
//! a message broker and stores, every part a trait an application can replace.
//!
//! This facade re-exports the stage crates and assembles them. [`PipelineBuilder`] holds
//! the registries of parts (feature steps, model kinds, split strategies, evaluators) and
//! the backend openers by URL scheme (the embedded default: Parquet files and SQLite under
//! one data directory, an in-process broker); an application registers its own parts on
//! it once, and [`Pipeline`], `mlpipe worker` ([`cli::main`]) and serving are built from
//! it. The stages are one table, [`stages::STAGES`].
//!
//! ```no_run
//! # async fn f() -> mlpipe::Result<()> {
//! let config = mlpipe::core::Config::load(std::path::Path::new("mlpipe.toml"))?;
//! let pipeline = mlpipe::Pipeline::start(&config).await?;
//! // … announce data with mlpipe::ingest::announce_source, score with pipeline.router …
//! pipeline.shutdown().await;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod backends;
mod builder;
mod check;
pub mod cli;
pub mod dead_letters;
mod error;
pub mod online;
mod parts;
mod pipeline;
pub mod run;
pub mod stages;
pub mod telemetry;

pub use backends::{
    open_broker, open_stores, scheme_of, Backends, DataStores, MetadataStores, Opening, Schemes,
};
pub use builder::PipelineBuilder;
pub use error::{Error, Result};
pub use parts::Parts;
pub use pipeline::{Pipeline, StageConfig, SECTIONS};
pub use run::{RunEnd, RunHandle, Runs, StageOutcome};

pub use mlpipe_core as core;
pub use mlpipe_eval as eval;
pub use mlpipe_features as features;
pub use mlpipe_ingest as ingest;
pub use mlpipe_models as models;
pub use mlpipe_monitor as monitor;
#[cfg(feature = "nats")]
pub use mlpipe_nats as nats;
pub use mlpipe_parquet as parquet;
#[cfg(feature = "redis")]
pub use mlpipe_redis as redis;
pub use mlpipe_serve as serve;
pub use mlpipe_split as split;
pub use mlpipe_sql as sql;
