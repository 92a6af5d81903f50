//! # mlpipe-ingest
//!
//! The ingestion stage: [`Source`]s read into typed Arrow batches with bad rows
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
//!
//! ## Sources
//!
//! | source | format | schema | quarantine | checksum |
//! |---|---|---|---|---|
//! | [`CsvSource`] | `csv` | explicit or inferred | per row | XXH3-128 of the file bytes |
//! | [`JsonlSource`] | `jsonl` | explicit or inferred | per line | XXH3-128 of the file bytes |
//! | [`ParquetSource`] | `parquet` | the file's own | none (typed by the file) | XXH3-128 of the file bytes |
//! | [`RowSource`] (any `Iterator<Item = Row>`) | `rows` | explicit or inferred | per row | XXH3-128 of the rows' canonical JSON |
//! | [`StreamSource`] (any `Stream<Item = Row>`) | `stream` | explicit or inferred | per row | XXH3-128 of the rows' canonical JSON |
//!
//! [`open_source`] opens the file formats from a `source-data-available` event. Record
//! values are typed by the rules of [`typing`].
//!
//! ## Online ingestion
//!
//! [`OnlineIngestion::start`] gives an [`OnlineIngestor`] to push single records through:
//! each is checked against the schema, handed on at once to a [`RecordSink`] (online
//! feature preparation) and buffered; the buffer becomes a new raw batch by size
//! (`max_rows`), by age (`max_age`), on [`OnlineIngestor::flush`], and when the last
//! ingestor is dropped or [`OnlineTask::shutdown`] is called — see [`online`].
//!
//! ## Adding a source
//!
//! Implement [`Source`]'s five methods:
//! - `identity`: a stable name (URI or path) recorded in the catalogue and lineage; with the
//!   checksum it makes content-based deduplication work;
//! - `format`: a short format name for the catalogue;
//! - `schema`: the schema every chunk has (explicit, inferred from a sample — keep the
//!   sampled records and ingest them first — or the source's own);
//! - `next_chunk`: the next bounded [`Chunk`] — a `RecordBatch` of the good records and the
//!   [`QuarantinedRecord`](mlpipe_core::store::QuarantinedRecord)s (row number, raw text,
//!   reason) of the bad ones — or `None` at the end. Keep chunks bounded (tens of
//!   thousands of rows) so memory stays bounded however large the source is; refuse a bad
//!   record, don't fail the source; return a typed [`IngestError`] for what stops it all;
//! - `summary`: the checksum and byte count of everything read, complete after the last
//!   chunk ([`Checksum`] keeps both, as the built-in sources do).
//!
//! ```
//! use arrow_array::{Int64Array, RecordBatch};
//! use arrow_schema::{DataType, Field, Schema, SchemaRef};
//! use async_trait::async_trait;
//! use mlpipe_core::store::{BatchSummary, QuarantinedRecord};
//! use mlpipe_ingest::{Checksum, Chunk, Result, Source};
//! use std::sync::Arc;
//!
//! /// The numbers 1..=n in chunks of 32; multiples of 13 are refused.
//! struct Numbers { n: i64, next: i64, checksum: Checksum }
//!
//! #[async_trait]
//! impl Source for Numbers {
//!     fn identity(&self) -> String { format!("numbers://1..={}", self.n) }
//!     fn format(&self) -> &str { "numbers" }
//!     async fn schema(&mut self) -> Result<SchemaRef> {
//!         Ok(Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)])))
//!     }
//!     async fn next_chunk(&mut self) -> Result<Option<Chunk>> {
//!         if self.next > self.n {
//!             return Ok(None);
//!         }
//!         let end = (self.next + 31).min(self.n);
//!         let (mut good, mut quarantined) = (Vec::new(), Vec::new());
//!         for x in self.next..=end {
//!             let raw = format!("{x}\n");
//!             self.checksum.update(raw.as_bytes());
//!             if x % 13 == 0 {
//!                 let reason = "unlucky number".to_string();
//!                 quarantined.push(QuarantinedRecord { row: x as u64, raw, reason });
//!             } else {
//!                 good.push(x);
//!             }
//!         }
//!         self.next = end + 1;
//!         let schema = self.schema().await?;
//!         let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(good))])
//!             .map_err(mlpipe_core::Error::from)?;
//!         Ok(Some(Chunk { batch, quarantined }))
//!     }
//!     fn summary(&self) -> BatchSummary {
//!         self.checksum.summary()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<()> {
//! use mlpipe_core::{broker::InProcessBroker, store::Stores};
//! use mlpipe_ingest::{IngestConfig, IngestionService};
//! let stores = Stores::in_memory();
//! let service =
//!     IngestionService::new(stores.clone(), Arc::new(InProcessBroker::new()), IngestConfig::default());
//! let mut source = Numbers { n: 100, next: 1, checksum: Checksum::default() };
//! let report = service.ingest("numbers", &mut source, None).await?;
//! assert_eq!((report.batch.rows, report.batch.quarantined), (93, 7));
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

pub mod checksum;
pub mod csv;
pub mod declared;
mod error;
mod feed;
pub mod jsonl;
pub mod online;
pub mod parquet_source;
pub mod rows;
pub mod schedule;
pub mod service;
mod source;
pub mod typing;

pub use crate::csv::{CsvOptions, CsvSource};
pub use checksum::Checksum;
pub use declared::{ColumnType, DatasetIngest};
pub use error::{IngestError, Result};
pub use jsonl::{JsonlOptions, JsonlSource};
pub use online::{
    channel_sink, OnlineConfig, OnlineIngestion, OnlineIngestor, OnlineSummary, OnlineTask,
    RecordSink,
};
pub use parquet_source::{ParquetOptions, ParquetSource};
pub use rows::{RowOptions, RowSource, StreamSource};
pub use schedule::{start_schedules, Schedule, ScheduledSource};
pub use service::{
    announce_source, open_source, open_source_declared, Dedupe, IngestConfig, IngestProgress,
    IngestReport, IngestionService,
};
pub use source::{Chunk, Source};
