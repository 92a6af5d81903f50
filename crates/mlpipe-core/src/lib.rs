//! # mlpipe-core
//!
//! The contracts every mlpipe stage and backend shares: typed ids, the error type, data
//! types (Arrow batches, [`Row`]s, `ndarray` matrices and explicit conversions between
//! them), typed [`Score`]s, the ten pipeline [`events`], the [`broker::Broker`] and store
//! traits with in-memory implementations, configuration, tracing set-up and (feature
//! `testkit`) the conformance suites every backend must pass.
//!
//! No network dependencies live here: real backends are separate crates.

#![forbid(unsafe_code)]

pub mod broker;
pub mod config;
pub mod error;
pub mod events;
pub mod ids;
pub mod schedule;
pub mod score;
pub mod service;
pub mod store;
pub mod table;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod text_numbers;
pub mod value;

pub use arrow_array::RecordBatch;
pub use arrow_schema::{Schema, SchemaRef};
pub use config::Config;
pub use error::{Error, Result};
pub use events::{Envelope, Event, Topic};
pub use ids::*;
pub use score::{ClassLabel, Forecast, RankedItem, Score};
pub use value::{Row, Value};

/// Re-exported so users name the same versions the core uses.
pub use {arrow_array, arrow_schema, ndarray};
