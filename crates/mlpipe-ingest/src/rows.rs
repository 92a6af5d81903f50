//! In-process records: [`RowSource`] over any `Iterator<Item = Row>` and [`StreamSource`]
//! over any `futures::Stream<Item = Row>`.
//!
//! Both type rows by the rules of [`crate::typing`] against an explicit schema or one
//! inferred from the first rows (kept and ingested first). A row whose values do not fit is
//! quarantined with its position (1-based), the row as JSON for raw text, and the reason.
//! The checksum is the XXH3-128 of the rows' canonical JSON (fields in name order), one row
//! per line; the byte count is the length of that text.
//!
//! With no rows and no explicit schema there is nothing to type an empty batch by:
//! [`IngestError::Empty`]. A stream is read until it ends, so an endless stream belongs to
//! [`crate::online`], not here; inference waits for the first `infer_rows` rows (give a
//! schema to start at once).

use crate::checksum::Checksum;
use crate::error::{IngestError, Result};
use crate::source::{Chunk, Source};
use crate::typing::{check_schema, infer_schema, RowTyper};
use arrow_schema::SchemaRef;
use async_trait::async_trait;
use futures::{Stream, StreamExt};
use mlpipe_core::store::{BatchSummary, QuarantinedRecord};
use mlpipe_core::Row;
use std::collections::VecDeque;

/// How to type in-process rows.
#[derive(Clone, Debug)]
pub struct RowOptions {
    /// Types for the fields; inferred from the first `infer_rows` rows when `None`.
    pub schema: Option<SchemaRef>,
    /// Rows sampled for inference (default 1,000).
    pub infer_rows: usize,
    /// Rows per chunk handed to the store (default 65,536).
    pub chunk_rows: usize,
}

impl Default for RowOptions {
    fn default() -> Self {
        Self {
            schema: None,
            infer_rows: 1_000,
            chunk_rows: 64 * 1024,
        }
    }
}

impl RowOptions {
    /// Options with an explicit schema.
    pub fn with_schema(schema: SchemaRef) -> Self {
        Self {
            schema: Some(schema),
            ..Self::default()
        }
    }
}

/// Rows to JSON lines, hashed and counted: the checksum of in-process sources.
#[derive(Clone, Default)]
pub struct RowHasher {
    checksum: Checksum,
}

impl RowHasher {
    /// Adds one row; returns its canonical JSON (the raw text of a quarantined row).
    pub fn add(&mut self, row: &Row) -> String {
        let json = serde_json::to_string(row).unwrap_or_default();
        self.checksum.update(json.as_bytes());
        self.checksum.update(b"\n");
        json
    }

    /// The checksum and byte count of the rows added so far.
    pub fn summary(&self) -> BatchSummary {
        self.checksum.summary()
    }
}

/// What [`RowSource`] and [`StreamSource`] share: sampling, typing, chunking, hashing.
struct Chunker {
    options: RowOptions,
    sample: VecDeque<Row>,
    typer: Option<RowTyper>,
    bad: Vec<QuarantinedRecord>,
    seen: u64,
    hasher: RowHasher,
    done: bool,
}

impl Chunker {
    fn new(options: RowOptions) -> Self {
        Self {
            options,
            sample: VecDeque::new(),
            typer: None,
            bad: Vec::new(),
            seen: 0,
            hasher: RowHasher::default(),
            done: false,
        }
    }

    /// Whether the schema still needs rows sampled.
    fn sampling(&self) -> bool {
        self.typer.is_none()
            && self.options.schema.is_none()
            && self.sample.len() < self.options.infer_rows.max(1)
    }

    fn fix_schema(&mut self, identity: &str) -> Result<SchemaRef> {
        if let Some(t) = &self.typer {
            return Ok(t.schema().clone());
        }
        let schema = match &self.options.schema {
            Some(s) => {
                check_schema(s)?;
                s.clone()
            }
            None => {
                if self.sample.is_empty() {
                    return Err(IngestError::Empty(identity.to_string()));
                }
                let schema = infer_schema(self.sample.iter().map(|r| r.iter()));
                if schema.fields().is_empty() {
                    return Err(IngestError::Uninferable {
                        source_name: identity.to_string(),
                        reason: format!(
                            "the first {} rows have no fields; give an explicit schema",
                            self.sample.len()
                        ),
                    });
                }
                schema
            }
        };
        self.typer = Some(RowTyper::new(schema.clone())?);
        Ok(schema)
    }

    /// Types one row; `true` when a chunk is full.
    fn take(&mut self, row: Row) -> bool {
        self.seen += 1;
        let json = self.hasher.add(&row);
        if let Some(t) = self.typer.as_mut() {
            if let Err(reason) = t.push_row(&row) {
                self.bad.push(QuarantinedRecord {
                    row: self.seen,
                    raw: json,
                    reason,
                });
            }
            t.len() + self.bad.len() >= self.options.chunk_rows.max(1)
        } else {
            false
        }
    }

    /// Types sampled rows until a chunk is full; `true` when it is.
    fn drain_sample(&mut self) -> bool {
        while let Some(row) = self.sample.pop_front() {
            if self.take(row) {
                return true;
            }
        }
        false
    }

    fn chunk(&mut self) -> Result<Option<Chunk>> {
        let Some(t) = self.typer.as_mut() else {
            return Ok(None);
        };
        if t.is_empty() && self.bad.is_empty() {
            return Ok(None);
        }
        Ok(Some(Chunk {
            batch: t.finish()?,
            quarantined: std::mem::take(&mut self.bad),
        }))
    }
}

/// An iterator of [`Row`]s as a [`Source`] (format `rows`).
///
/// ```
/// # async fn f() -> Result<(), mlpipe_ingest::IngestError> {
/// use mlpipe_core::Row;
/// use mlpipe_ingest::{RowOptions, RowSource, Source};
/// let rows = (0..3).map(|i| Row::new().with("x", i).with("y", i as f64 / 2.0));
/// let mut source = RowSource::new("memory://example", rows, RowOptions::default());
/// let chunk = source.next_chunk().await?.expect("one chunk");
/// assert_eq!(chunk.batch.num_rows(), 3);
/// # Ok(()) }
/// ```
pub struct RowSource<I> {
    identity: String,
    rows: I,
    chunker: Chunker,
}

impl<I: Iterator<Item = Row> + Send> RowSource<I> {
    /// Rows from `rows`, recorded in the catalogue and lineage as `identity`.
    pub fn new(
        identity: impl Into<String>,
        rows: impl IntoIterator<IntoIter = I>,
        options: RowOptions,
    ) -> Self {
        Self {
            identity: identity.into(),
            rows: rows.into_iter(),
            chunker: Chunker::new(options),
        }
    }
}

#[async_trait]
impl<I: Iterator<Item = Row> + Send> Source for RowSource<I> {
    fn identity(&self) -> String {
        self.identity.clone()
    }

    fn format(&self) -> &str {
        "rows"
    }

    async fn schema(&mut self) -> Result<SchemaRef> {
        while self.chunker.sampling() && !self.chunker.done {
            match self.rows.next() {
                Some(r) => self.chunker.sample.push_back(r),
                None => self.chunker.done = true,
            }
        }
        self.chunker.fix_schema(&self.identity)
    }

    async fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        self.schema().await?;
        if self.chunker.drain_sample() {
            return self.chunker.chunk();
        }
        while !self.chunker.done {
            match self.rows.next() {
                Some(row) => {
                    if self.chunker.take(row) {
                        return self.chunker.chunk();
                    }
                }
                None => self.chunker.done = true,
            }
        }
        self.chunker.chunk()
    }

    fn summary(&self) -> BatchSummary {
        self.chunker.hasher.summary()
    }
}

/// An asynchronous stream of [`Row`]s as a [`Source`] (format `stream`), read until it
/// ends.
pub struct StreamSource<S> {
    identity: String,
    rows: S,
    chunker: Chunker,
}

impl<S: Stream<Item = Row> + Send + Unpin> StreamSource<S> {
    /// Rows from `rows`, recorded in the catalogue and lineage as `identity`.
    pub fn new(identity: impl Into<String>, rows: S, options: RowOptions) -> Self {
        Self {
            identity: identity.into(),
            rows,
            chunker: Chunker::new(options),
        }
    }
}

#[async_trait]
impl<S: Stream<Item = Row> + Send + Unpin> Source for StreamSource<S> {
    fn identity(&self) -> String {
        self.identity.clone()
    }

    fn format(&self) -> &str {
        "stream"
    }

    async fn schema(&mut self) -> Result<SchemaRef> {
        while self.chunker.sampling() && !self.chunker.done {
            match self.rows.next().await {
                Some(r) => self.chunker.sample.push_back(r),
                None => self.chunker.done = true,
            }
        }
        self.chunker.fix_schema(&self.identity)
    }

    async fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        self.schema().await?;
        if self.chunker.drain_sample() {
            return self.chunker.chunk();
        }
        while !self.chunker.done {
            match self.rows.next().await {
                Some(row) => {
                    if self.chunker.take(row) {
                        return self.chunker.chunk();
                    }
                }
                None => self.chunker.done = true,
            }
        }
        self.chunker.chunk()
    }

    fn summary(&self) -> BatchSummary {
        self.chunker.hasher.summary()
    }
}
