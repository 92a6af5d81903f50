//! Writing data as Parquet parts of bounded size, and reading them back.

use crate::error;
use bytes::Bytes;
use mlpipe_core::{Error, RecordBatch, Result};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How data is cut into Parquet files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartOptions {
    /// Rows per part file: bounds the memory a writer holds.
    pub rows_per_part: usize,
    /// Compress with Snappy (fast; on by default).
    pub compress: bool,
}

impl Default for PartOptions {
    fn default() -> Self {
        Self {
            rows_per_part: 128 * 1024,
            compress: true,
        }
    }
}

/// Encodes batches (one schema) as one Parquet file.
pub(crate) fn encode(batches: &[RecordBatch], opts: PartOptions) -> Result<Bytes> {
    let first = batches
        .first()
        .ok_or_else(|| Error::invalid("nothing to encode"))?;
    let mut props = WriterProperties::builder()
        .set_compression(if opts.compress {
            Compression::SNAPPY
        } else {
            Compression::UNCOMPRESSED
        })
        .set_max_row_group_row_count(Some(opts.rows_per_part.max(1)));
    // Measured values (floats) rarely repeat: trying a dictionary first costs a hash of
    // every value for nothing, so float columns are written plain.
    for f in first.schema().fields() {
        if f.data_type().is_floating() {
            props = props.set_column_dictionary_enabled(
                parquet::schema::types::ColumnPath::from(f.name().as_str()),
                false,
            );
        }
    }
    let props = props.build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, first.schema(), Some(props))
        .map_err(|e| error::parquet("open writer", e))?;
    for b in batches {
        w.write(b).map_err(|e| error::parquet("write", e))?;
    }
    w.close().map_err(|e| error::parquet("close", e))?;
    Ok(Bytes::from(out))
}

/// Decodes one Parquet file.
pub(crate) fn decode(data: Bytes) -> Result<Vec<RecordBatch>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(data)
        .map_err(|e| error::parquet("open reader", e))?
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| error::parquet("build reader", e))?;
    reader.map(|b| b.map_err(Error::from)).collect()
}

/// Buffers batches and writes a part file whenever enough rows are buffered.
pub(crate) struct PartWriter {
    store: Arc<dyn ObjectStore>,
    dir: Path,
    opts: PartOptions,
    buffered: Vec<RecordBatch>,
    buffered_rows: usize,
    /// Names (relative to `dir`) of parts written so far, in order.
    pub parts: Vec<String>,
    /// Bytes written so far.
    pub bytes: u64,
    /// Rows written so far (flushed or buffered).
    pub rows: u64,
    /// The part being encoded and stored in the background (at most one, so memory
    /// holds one part in flight plus the one being buffered).
    in_flight: std::sync::Mutex<Option<InFlight>>,
}

type InFlight = tokio::task::JoinHandle<Result<(String, u64)>>;

impl PartWriter {
    pub(crate) fn new(store: Arc<dyn ObjectStore>, dir: Path, opts: PartOptions) -> Self {
        Self {
            store,
            dir,
            opts,
            buffered: Vec::new(),
            buffered_rows: 0,
            parts: Vec::new(),
            bytes: 0,
            rows: 0,
            in_flight: std::sync::Mutex::new(None),
        }
    }

    pub(crate) async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        self.buffered_rows += batch.num_rows();
        self.buffered.push(batch);
        if self.buffered_rows >= self.opts.rows_per_part {
            self.start_part().await?;
        }
        Ok(())
    }

    fn take_in_flight(&self) -> Option<InFlight> {
        self.in_flight.lock().ok().and_then(|mut g| g.take())
    }

    /// Waits for the part in flight and records it.
    async fn settle(&mut self) -> Result<()> {
        if let Some(h) = self.take_in_flight() {
            let (name, bytes) = h.await.map_err(|e| {
                Error::backend("parquet", format!("part writer task failed: {e}"))
            })??;
            self.parts.push(name);
            self.bytes += bytes;
        }
        Ok(())
    }

    /// Starts encoding and storing the buffered rows as the next part, in the
    /// background, once the previous part is stored: the caller goes on producing rows.
    async fn start_part(&mut self) -> Result<()> {
        if self.buffered.is_empty() {
            return Ok(());
        }
        self.settle().await?;
        let batches = std::mem::take(&mut self.buffered);
        self.buffered_rows = 0;
        let opts = self.opts;
        let name = format!("part-{:05}.parquet", self.parts.len());
        let path = self.dir.clone().join(name.as_str());
        let store = self.store.clone();
        let task = tokio::spawn(async move {
            let data = tokio::task::spawn_blocking(move || encode(&batches, opts))
                .await
                .map_err(|e| Error::backend("parquet", format!("encoder task failed: {e}")))??;
            let bytes = data.len() as u64;
            store
                .put(&path, PutPayload::from_bytes(data))
                .await
                .map_err(|e| error::map("write part", e))?;
            Ok((name, bytes))
        });
        if let Ok(mut g) = self.in_flight.lock() {
            *g = Some(task);
        }
        Ok(())
    }

    /// Writes everything buffered and waits until every part is stored.
    pub(crate) async fn flush(&mut self) -> Result<()> {
        self.start_part().await?;
        self.settle().await
    }

    /// Deletes everything this writer wrote (best effort).
    pub(crate) async fn discard(&self) {
        let mut names = self.parts.clone();
        if let Some(h) = self.take_in_flight() {
            if let Ok(Ok((name, _))) = h.await {
                names.push(name);
            }
        }
        for p in &names {
            let _ = self.store.delete(&self.dir.clone().join(p.as_str())).await;
        }
    }
}

/// Reads the parts of `dir` named in a manifest, in order.
pub(crate) async fn read_parts(
    store: &Arc<dyn ObjectStore>,
    dir: &Path,
    parts: &[String],
) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    for p in parts {
        let path = dir.clone().join(p.as_str());
        let data = store
            .get(&path)
            .await
            .map_err(|e| error::map("read part", e))?
            .bytes()
            .await
            .map_err(|e| error::map("read part", e))?;
        let batches = tokio::task::spawn_blocking(move || decode(data))
            .await
            .map_err(|e| Error::backend("parquet", format!("decoder task failed: {e}")))??;
        out.extend(batches);
    }
    Ok(out)
}

/// Writes JSON at `path` only if nothing is there (the commit step).
pub(crate) async fn create_json<T: Serialize>(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    value: &T,
    what: &str,
) -> Result<()> {
    let body = serde_json::to_vec_pretty(value).map_err(|e| Error::serde(what, e))?;
    store
        .put_opts(
            path,
            PutPayload::from(body),
            PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            },
        )
        .await
        .map(|_| ())
        .map_err(|e| error::map(what, e))
}

/// Reads JSON at `path`; `Ok(None)` if absent.
pub(crate) async fn read_json<T: for<'de> Deserialize<'de>>(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    what: &str,
) -> Result<Option<T>> {
    match store.get(path).await {
        Ok(r) => {
            let data = r.bytes().await.map_err(|e| error::map(what, e))?;
            serde_json::from_slice(&data)
                .map(Some)
                .map_err(|e| Error::serde(format!("{what} at {path}"), e))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(error::map(what, e)),
    }
}

/// The names of the "directories" directly under `dir`.
pub(crate) async fn list_dirs(store: &Arc<dyn ObjectStore>, dir: &Path) -> Result<Vec<String>> {
    let listed = match store.list_with_delimiter(Some(dir)).await {
        Ok(l) => l,
        Err(object_store::Error::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(error::map("list", e)),
    };
    Ok(listed
        .common_prefixes
        .into_iter()
        .filter_map(|p| p.filename().map(str::to_string))
        .collect())
}
