//! # mlpipe-ingest
//!
//! The ingestion stage: [`Source`]s (CSV today) read into typed Arrow batches with bad rows
//! quarantined, persisted **unchanged** as one immutable raw batch per dataset arrival, with
//! lineage and audit, announced with `raw-data-extracted`.
//!
//! ```no_run
//! # async fn f(stores: mlpipe_core::store::Stores, broker: std::sync::Arc<dyn mlpipe_core::broker::Broker>) -> Result<(), mlpipe_ingest::IngestError> {
//! use mlpipe_ingest::{CsvOptions, CsvSource, IngestConfig, IngestionService};
//! let service = IngestionService::new(stores, broker, IngestConfig::default());
//! let mut source = CsvSource::new("data/iris.csv", CsvOptions::default());
//! let report = service.ingest("iris", &mut source, None).await?;
//! println!("batch {} with {} rows", report.batch.id, report.batch.rows);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

pub mod csv;
mod error;
pub mod service;
mod source;

pub use crate::csv::{CsvOptions, CsvSource};
pub use error::{IngestError, Result};
pub use service::{
    announce_source, open_source, Dedupe, IngestConfig, IngestReport, IngestionService,
};
pub use source::{Chunk, Source};
