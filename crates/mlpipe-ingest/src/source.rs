//! The `Source` trait: anything that yields typed record batches, plus the rows it refused.

use crate::error::Result;
use async_trait::async_trait;
use mlpipe_core::store::{BatchSummary, QuarantinedRecord};
use mlpipe_core::{RecordBatch, SchemaRef};

/// One piece of a source: typed rows, and the rows that failed validation.
#[derive(Debug)]
pub struct Chunk {
    /// Rows that parsed and matched the schema.
    pub batch: RecordBatch,
    /// Rows that did not, with the reason.
    pub quarantined: Vec<QuarantinedRecord>,
}

/// A source of data to ingest.
///
/// Implement it to add a source: `schema` once, then `next_chunk` until it returns `None`,
/// then `summary`. Chunks are bounded in size so memory stays bounded however large the
/// source is.
#[async_trait]
pub trait Source: Send {
    /// A stable identity of the source (a URI or path), recorded in the catalogue and lineage.
    fn identity(&self) -> String;
    /// Format name recorded in the catalogue (`csv`, `jsonl`, …).
    fn format(&self) -> &str;
    /// The schema rows are typed by (explicit, or inferred from the data).
    async fn schema(&mut self) -> Result<SchemaRef>;
    /// The next chunk, or `None` at the end.
    async fn next_chunk(&mut self) -> Result<Option<Chunk>>;
    /// Checksum and size of everything read; complete after the last chunk.
    fn summary(&self) -> BatchSummary;
    /// Bytes read so far and, when known, the total (for progress bars). `None` when the
    /// source cannot say.
    fn position(&self) -> Option<(u64, Option<u64>)> {
        None
    }
}
