//! Parquet files, read with the parquet crate's Arrow reader in bounded record batches.
//!
//! The data is raw, so it keeps the file's own schema: columns are typed as stored, nothing
//! is cast (the raw stores hold any Arrow type; `mlpipe-parquet` writes them back with the
//! same Arrow writer). Parquet values are typed by the file, so no row is quarantined.
//! The checksum is the XXH3-128 of the file's bytes, taken in a streaming pass after the
//! data is read.
//!
//! # Outcomes for awkward files
//! - missing file → [`IngestError::Missing`]; unreadable → [`IngestError::Unreadable`];
//! - zero bytes → [`IngestError::Empty`];
//! - not a Parquet file, or a corrupt one → [`IngestError::NotParquet`];
//! - a valid file with no rows → an empty batch with the file's schema.

use crate::error::{IngestError, Result};
use crate::feed::{open_file, FileFeed, Msg, Tx};
use crate::jsonl::HashingReader;
use crate::source::{Chunk, Source};
use arrow_schema::SchemaRef;
use async_trait::async_trait;
use mlpipe_core::store::BatchSummary;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How to read a Parquet file.
#[derive(Clone, Debug)]
pub struct ParquetOptions {
    /// Rows per record batch read (default 65,536).
    pub chunk_rows: usize,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        Self {
            chunk_rows: 64 * 1024,
        }
    }
}

impl ParquetOptions {
    /// Reads options from string pairs (as carried by a `SourceRef`): `chunk_rows`.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Result<Self> {
        let mut o = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "chunk_rows" => {
                    o.chunk_rows = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        IngestError::InvalidOption(format!(
                            "chunk_rows must be a positive integer, got `{v}`"
                        ))
                    })?
                }
                other => {
                    return Err(IngestError::InvalidOption(format!(
                        "unknown Parquet option `{other}` (known: chunk_rows)"
                    )))
                }
            }
        }
        Ok(o)
    }
}

/// A Parquet file as a [`Source`].
pub struct ParquetSource {
    feed: FileFeed,
}

impl ParquetSource {
    /// A Parquet file at `path`.
    pub fn new(path: impl Into<PathBuf>, options: ParquetOptions) -> Self {
        let chunk_rows = options.chunk_rows.max(1);
        Self {
            feed: FileFeed::new(path.into(), move |p, tx, summary, _read| {
                read_file(p, chunk_rows, tx, summary)
            }),
        }
    }
}

#[async_trait]
impl Source for ParquetSource {
    fn identity(&self) -> String {
        self.feed.identity()
    }

    fn format(&self) -> &str {
        "parquet"
    }

    async fn schema(&mut self) -> Result<SchemaRef> {
        self.feed.schema().await
    }

    async fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        self.feed.next_chunk().await
    }

    fn summary(&self) -> BatchSummary {
        self.feed.summary()
    }
}

fn read_file(path: &Path, chunk_rows: usize, tx: &Tx, summary: &Mutex<BatchSummary>) -> Result<()> {
    let not_parquet = |e: parquet::errors::ParquetError| IngestError::NotParquet {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let file = open_file(path)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(not_parquet)?;
    let schema = builder.schema().clone();
    let reader = builder
        .with_batch_size(chunk_rows)
        .build()
        .map_err(not_parquet)?;
    if tx.blocking_send(Ok(Msg::Schema(schema))).is_err() {
        return Ok(());
    }
    for batch in reader {
        let batch = batch.map_err(|e| IngestError::NotParquet {
            path: path.to_path_buf(),
            reason: format!("corrupt data: {e}"),
        })?;
        let chunk = Chunk {
            batch,
            quarantined: Vec::new(),
        };
        if tx.blocking_send(Ok(Msg::Chunk(chunk))).is_err() {
            return Ok(());
        }
    }
    // The checksum of the bytes as stored, in a streaming pass (bounded memory).
    let mut hashing = HashingReader::new(open_file(path)?);
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(|e| IngestError::Unreadable {
        path: path.to_path_buf(),
        source: e,
    })?;
    if let Ok(mut s) = summary.lock() {
        *s = hashing.summary();
    }
    Ok(())
}
