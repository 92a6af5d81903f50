//! The plumbing shared by file sources: a blocking reader thread sends the schema, then
//! bounded chunks, through a small channel, so reading (and parsing) runs beside the
//! consumer and memory stays bounded by the channel.

use crate::error::{IngestError, Result};
use crate::source::Chunk;
use arrow_schema::SchemaRef;
use mlpipe_core::store::BatchSummary;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What a reader thread sends: the schema once, then chunks.
pub(crate) enum Msg {
    Schema(SchemaRef),
    Chunk(Chunk),
}

/// The sending side a reader writes to.
pub(crate) type Tx = mpsc::Sender<Result<Msg>>;

type Reader =
    Box<dyn FnOnce(&Path, &Tx, &Mutex<BatchSummary>, &Arc<AtomicU64>) -> Result<()> + Send>;

/// A file read by a blocking thread, started on first use.
pub(crate) struct FileFeed {
    path: PathBuf,
    reader: Option<Reader>,
    rx: Option<mpsc::Receiver<Result<Msg>>>,
    schema: Option<SchemaRef>,
    summary: Arc<Mutex<BatchSummary>>,
    /// Bytes the reader has read so far (it adds to it as it goes).
    read: Arc<AtomicU64>,
    /// The file's size, looked up once.
    total: std::sync::OnceLock<Option<u64>>,
}

impl FileFeed {
    /// A feed of `path` read by `reader`, which sends the schema then the chunks, and
    /// fills in the summary (checksum, bytes) when it is done.
    pub(crate) fn new(
        path: PathBuf,
        reader: impl FnOnce(&Path, &Tx, &Mutex<BatchSummary>, &Arc<AtomicU64>) -> Result<()>
            + Send
            + 'static,
    ) -> Self {
        Self {
            path,
            reader: Some(Box::new(reader)),
            rx: None,
            schema: None,
            summary: Arc::new(Mutex::new(BatchSummary::default())),
            read: Arc::new(AtomicU64::new(0)),
            total: std::sync::OnceLock::new(),
        }
    }

    /// Bytes read so far, and the file's size.
    pub(crate) fn position(&self) -> Option<(u64, Option<u64>)> {
        let total = *self
            .total
            .get_or_init(|| std::fs::metadata(&self.path).ok().map(|m| m.len()));
        Some((self.read.load(Ordering::Relaxed), total))
    }

    /// The canonical path, as the source's identity.
    pub(crate) fn identity(&self) -> String {
        std::fs::canonicalize(&self.path)
            .unwrap_or_else(|_| self.path.clone())
            .display()
            .to_string()
    }

    async fn recv(&mut self) -> Result<Option<Msg>> {
        if let Some(reader) = self.reader.take() {
            let (tx, rx) = mpsc::channel(2);
            let path = self.path.clone();
            let summary = self.summary.clone();
            let read = self.read.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = reader(&path, &tx, &summary, &read) {
                    let _ = tx.blocking_send(Err(e));
                }
            });
            self.rx = Some(rx);
        }
        match self.rx.as_mut() {
            Some(rx) => rx.recv().await.transpose(),
            None => Ok(None),
        }
    }

    /// The schema (the reader's first message).
    pub(crate) async fn schema(&mut self) -> Result<SchemaRef> {
        if let Some(s) = &self.schema {
            return Ok(s.clone());
        }
        match self.recv().await? {
            Some(Msg::Schema(s)) => {
                self.schema = Some(s.clone());
                Ok(s)
            }
            _ => Err(IngestError::Empty(self.path.display().to_string())),
        }
    }

    /// The next chunk, or `None` at the end.
    pub(crate) async fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        self.schema().await?;
        match self.recv().await? {
            Some(Msg::Chunk(c)) => Ok(Some(c)),
            Some(Msg::Schema(_)) | None => Ok(None),
        }
    }

    /// Checksum and size of what was read (complete after the last chunk).
    pub(crate) fn summary(&self) -> BatchSummary {
        self.summary.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Opens a file with the typed errors every file source shares (missing, unreadable, empty).
pub(crate) fn open_file(path: &Path) -> Result<std::fs::File> {
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => IngestError::Missing {
            path: path.to_path_buf(),
        },
        _ => IngestError::Unreadable {
            path: path.to_path_buf(),
            source: e,
        },
    })?;
    let meta = file.metadata().map_err(|e| IngestError::Unreadable {
        path: path.to_path_buf(),
        source: e,
    })?;
    if meta.is_dir() {
        return Err(IngestError::Unreadable {
            path: path.to_path_buf(),
            source: std::io::Error::other("it is a directory, not a file"),
        });
    }
    if meta.len() == 0 {
        return Err(IngestError::Empty(path.display().to_string()));
    }
    Ok(file)
}
