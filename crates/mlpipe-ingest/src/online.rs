//! Online ingestion: a pass-through for streamed records. Each accepted record is handed on
//! at once to a [`RecordSink`] (online feature preparation) and buffered; a background task
//! persists the buffer as a new raw batch when it holds `max_rows` records or its oldest
//! record is `max_age` old, and when every [`OnlineIngestor`] is dropped or
//! [`OnlineTask::shutdown`] is called, so nothing accepted is lost on a clean shutdown.
//!
//! Each batch gets a new [`BatchId`], a catalogue entry (format `online`, source
//! `online:<dataset>` unless configured), its refused records in quarantine, a lineage
//! link from the source, an audit record, and — with `announce` — a `raw-data-extracted`
//! event. A flush that fails keeps the buffer (in memory, up to `max_buffered`, then
//! `push` waits) and is tried again a
//! second later, at an explicit [`OnlineIngestor::flush`], and at shutdown; if the last
//! try fails, [`OnlineTask::wait`]/[`OnlineTask::shutdown`] return the error.
//!
//! Await [`OnlineTask::wait`] or [`OnlineTask::shutdown`] before the runtime ends: a task
//! cancelled with its runtime cannot flush.
//!
//! ```
//! # async fn f() -> Result<(), mlpipe_ingest::IngestError> {
//! use std::sync::Arc;
//! use arrow_schema::{DataType, Field, Schema};
//! use mlpipe_core::{broker::InProcessBroker, store::Stores, Row};
//! use mlpipe_ingest::online::{channel_sink, OnlineConfig, OnlineIngestion};
//! let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
//! let (sink, mut downstream) = channel_sink(1024);
//! let mut config = OnlineConfig::new("clicks", schema);
//! config.sink = Some(sink);
//! let (ingestor, task) =
//!     OnlineIngestion::start(Stores::in_memory(), Arc::new(InProcessBroker::new()), config)?;
//! ingestor.push(Row::new().with("x", 1.5)).await?;
//! assert!(downstream.recv().await.is_some()); // handed on at once
//! drop(ingestor);                              // the last ingestor: flush and stop
//! let written = task.wait().await?;
//! assert_eq!(written.rows, 1);
//! # Ok(()) }
//! ```

use crate::error::{IngestError, Result};
use crate::rows::RowHasher;
use crate::service::GROUP;
use crate::typing::{check_row, RowTyper};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use async_trait::async_trait;
use mlpipe_core::broker::{Broker, BrokerExt};
use mlpipe_core::events::{Event, RawDataExtracted};
use mlpipe_core::store::{
    AuditRecord, BatchInfo, BatchMeta, LineageLink, Node, QuarantinedRecord, Stores,
};
use mlpipe_core::{BatchId, Envelope, Row};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Receives every accepted record as soon as it is pushed.
#[async_trait]
pub trait RecordSink: Send + Sync {
    /// Takes one record (already checked against the schema).
    async fn record(&self, row: &Row) -> mlpipe_core::Result<()>;

    /// Called once when the online ingestion stops, after every record was handed over
    /// and the last raw batch was persisted: a sink that keeps records persists them
    /// here. Its error is the task's error. Does nothing by default.
    async fn close(&self) -> mlpipe_core::Result<()> {
        Ok(())
    }
}

/// A [`RecordSink`] that sends each record into a bounded channel.
pub struct ChannelSink(mpsc::Sender<Row>);

#[async_trait]
impl RecordSink for ChannelSink {
    async fn record(&self, row: &Row) -> mlpipe_core::Result<()> {
        self.0.send(row.clone()).await.map_err(|_| {
            mlpipe_core::Error::invalid("the downstream receiver of online records was dropped")
        })
    }
}

/// A channel sink and its receiving end (for a consumer that prefers a `Receiver`).
///
/// When the channel is full, `push` waits for the consumer (backpressure); when the
/// receiver is dropped, `push` returns an error after the record was buffered.
pub fn channel_sink(capacity: usize) -> (Arc<dyn RecordSink>, mpsc::Receiver<Row>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (Arc::new(ChannelSink(tx)), rx)
}

/// Settings of one online ingestion.
#[derive(Clone)]
pub struct OnlineConfig {
    /// Logical dataset of the batches.
    pub dataset: String,
    /// Schema every record is checked and typed against.
    pub schema: SchemaRef,
    /// Records (accepted + refused) that trigger a flush (default 10,000).
    pub max_rows: usize,
    /// Age of the oldest buffered record that triggers a flush (default 5 s).
    pub max_age: Duration,
    /// Publish `raw-data-extracted` for each batch (default true).
    pub announce: bool,
    /// Source identity in the catalogue and lineage (default `online:<dataset>`).
    pub source: Option<String>,
    /// Where accepted records go at once (default none).
    pub sink: Option<Arc<dyn RecordSink>>,
    /// Records buffered at most while the store keeps failing (default 10 × `max_rows`).
    /// Beyond it the task stops taking records, so `push` waits (back-pressure) until a
    /// retried flush succeeds: memory stays bounded and nothing is dropped.
    pub max_buffered: Option<usize>,
}

impl OnlineConfig {
    /// Defaults for `dataset` typed by `schema`.
    pub fn new(dataset: impl Into<String>, schema: SchemaRef) -> Self {
        Self {
            dataset: dataset.into(),
            schema,
            max_rows: 10_000,
            max_age: Duration::from_secs(5),
            announce: true,
            source: None,
            sink: None,
            max_buffered: None,
        }
    }

    fn buffer_limit(&self) -> usize {
        self.max_buffered
            .unwrap_or_else(|| self.max_rows.saturating_mul(10))
            .max(self.max_rows)
    }
}

/// What an online ingestion persisted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OnlineSummary {
    /// The batches written, in order.
    pub batches: Vec<BatchInfo>,
    /// Records stored.
    pub rows: u64,
    /// Records quarantined.
    pub quarantined: u64,
}

enum Cmd {
    Row(Row),
    Bad { row: Row, reason: String },
    Flush(oneshot::Sender<Result<Option<BatchInfo>>>),
}

/// Starts online ingestion.
pub struct OnlineIngestion;

impl OnlineIngestion {
    /// Starts the background task (needs a Tokio runtime) and returns the handle to push
    /// records with and the task to wait for.
    pub fn start(
        stores: Stores,
        broker: Arc<dyn Broker>,
        config: OnlineConfig,
    ) -> Result<(OnlineIngestor, OnlineTask)> {
        if config.max_rows == 0 || config.max_age.is_zero() {
            return Err(IngestError::InvalidOption(
                "online ingestion needs max_rows > 0 and max_age > 0".into(),
            ));
        }
        let typer = RowTyper::new(config.schema.clone())?;
        let (tx, rx) = mpsc::channel(config.max_rows.clamp(16, 4096));
        let (stop_tx, stop_rx) = oneshot::channel();
        let ingestor = OnlineIngestor {
            tx,
            schema: config.schema.clone(),
            sink: config.sink.clone(),
        };
        let identity = config
            .source
            .clone()
            .unwrap_or_else(|| format!("online:{}", config.dataset));
        let worker = Worker {
            stores,
            broker,
            config,
            identity,
            typer,
            pending: Vec::new(),
            bad: Vec::new(),
            hasher: RowHasher::default(),
            buffered: 0,
            seen: 0,
            written: OnlineSummary::default(),
            failing: false,
        };
        let handle = tokio::spawn(worker.run(rx, stop_rx));
        Ok((
            ingestor,
            OnlineTask {
                handle,
                stop: stop_tx,
            },
        ))
    }
}

/// Pushes records into an online ingestion. Clone it freely; when the last clone is
/// dropped the task flushes and stops.
#[derive(Clone)]
pub struct OnlineIngestor {
    tx: mpsc::Sender<Cmd>,
    schema: SchemaRef,
    sink: Option<Arc<dyn RecordSink>>,
}

impl OnlineIngestor {
    /// Checks `row` against the schema, buffers it for persistence, then hands it to the
    /// sink.
    ///
    /// A row that does not fit is kept in the quarantine of the next batch (not handed on)
    /// and [`IngestError::Rejected`] says why. [`IngestError::OnlineStopped`] when the task
    /// has stopped. A sink error is returned after the row was buffered, so it is still
    /// persisted.
    pub async fn push(&self, row: Row) -> Result<()> {
        let stopped = || IngestError::OnlineStopped("the online ingestion task has stopped".into());
        match check_row(&self.schema, &row) {
            Ok(()) => {
                let copy = self.sink.as_ref().map(|_| row.clone());
                self.tx.send(Cmd::Row(row)).await.map_err(|_| stopped())?;
                if let (Some(sink), Some(row)) = (&self.sink, copy) {
                    sink.record(&row).await?;
                }
                Ok(())
            }
            Err(reason) => {
                self.tx
                    .send(Cmd::Bad {
                        row,
                        reason: reason.clone(),
                    })
                    .await
                    .map_err(|_| stopped())?;
                Err(IngestError::Rejected(reason))
            }
        }
    }

    /// Persists what is buffered now; `None` when nothing was.
    pub async fn flush(&self) -> Result<Option<BatchInfo>> {
        let stopped = || IngestError::OnlineStopped("the online ingestion task has stopped".into());
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::Flush(tx)).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

/// The background task of an online ingestion.
pub struct OnlineTask {
    handle: tokio::task::JoinHandle<Result<OnlineSummary>>,
    stop: oneshot::Sender<()>,
}

impl OnlineTask {
    /// Waits until every [`OnlineIngestor`] is dropped and the last records are persisted.
    pub async fn wait(self) -> Result<OnlineSummary> {
        let OnlineTask { handle, stop } = self;
        // Keep the stop signal unsent while waiting.
        let result = handle.await;
        drop(stop);
        result.map_err(|e| IngestError::OnlineStopped(format!("the online task failed: {e}")))?
    }

    /// Stops taking records (later pushes fail), persists everything pushed so far, and
    /// returns what was written.
    pub async fn shutdown(self) -> Result<OnlineSummary> {
        let _ = self.stop.send(());
        self.handle
            .await
            .map_err(|e| IngestError::OnlineStopped(format!("the online task failed: {e}")))?
    }
}

struct Worker {
    stores: Stores,
    broker: Arc<dyn Broker>,
    config: OnlineConfig,
    identity: String,
    typer: RowTyper,
    /// Typed data not yet persisted (more than one piece after a failed flush).
    pending: Vec<RecordBatch>,
    bad: Vec<QuarantinedRecord>,
    hasher: RowHasher,
    buffered: usize,
    seen: u64,
    written: OnlineSummary,
    /// The last flush failed.
    failing: bool,
}

/// Delay before a failed flush is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

impl Worker {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Cmd>,
        mut stop: oneshot::Receiver<()>,
    ) -> Result<OnlineSummary> {
        let mut deadline: Option<Instant> = None;
        let mut stop_seen = false;
        let limit = self.config.buffer_limit();
        loop {
            let sleep_until = deadline.unwrap_or_else(Instant::now);
            // Back-pressure: while the store fails and the buffer is full, take no more
            // records (pushers wait on the bounded channel) until a retry succeeds.
            let full = self.failing && self.buffered >= limit;
            tokio::select! {
                biased;
                signal = &mut stop, if !stop_seen => {
                    stop_seen = true;
                    if signal.is_ok() {
                        // Refuse new records; the ones already queued are still taken.
                        rx.close();
                    }
                }
                cmd = rx.recv(), if !full => match cmd {
                    Some(Cmd::Row(row)) => {
                        self.seen += 1;
                        self.hasher.add(&row);
                        if let Err(reason) = self.typer.push_row(&row) {
                            self.quarantine(&row, reason);
                        }
                        self.buffered += 1;
                    }
                    Some(Cmd::Bad { row, reason }) => {
                        self.seen += 1;
                        self.hasher.add(&row);
                        self.quarantine(&row, reason);
                        self.buffered += 1;
                    }
                    Some(Cmd::Flush(ack)) => {
                        let r = self.flush().await;
                        deadline = self.retry_deadline(&r);
                        let _ = ack.send(r);
                        continue;
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(sleep_until), if deadline.is_some() => {
                    let r = self.flush().await;
                    deadline = self.retry_deadline(&r);
                    continue;
                }
            }
            if self.buffered > 0 && deadline.is_none() {
                deadline = Some(Instant::now() + self.config.max_age);
            }
            // While the store fails, retries follow the deadline, not every new record.
            if self.buffered >= self.config.max_rows && !self.failing {
                let r = self.flush().await;
                deadline = self.retry_deadline(&r);
            }
        }
        self.flush().await?;
        if let Some(sink) = &self.config.sink {
            sink.close().await?;
        }
        Ok(self.written)
    }

    fn quarantine(&mut self, row: &Row, reason: String) {
        self.bad.push(QuarantinedRecord {
            row: self.seen,
            raw: serde_json::to_string(row).unwrap_or_default(),
            reason,
        });
    }

    /// After a flush: no deadline when the buffer is empty, a retry after [`RETRY_AFTER`]
    /// (or `max_age` if shorter) when a failed flush left it full.
    fn retry_deadline<T>(&mut self, r: &Result<T>) -> Option<Instant> {
        self.failing = r.is_err();
        if let Err(e) = r {
            tracing::warn!(dataset = %self.config.dataset, error = %e,
                buffered = self.buffered, "online flush failed; the buffer is kept and tried again");
            return Some(Instant::now() + self.config.max_age.min(RETRY_AFTER));
        }
        (self.buffered > 0).then(|| Instant::now() + self.config.max_age)
    }

    /// Persists the buffer as one new raw batch; on failure keeps it for the next try.
    async fn flush(&mut self) -> Result<Option<BatchInfo>> {
        if !self.typer.is_empty() {
            self.pending.push(self.typer.finish()?);
        }
        if self.buffered == 0 {
            return Ok(None);
        }
        let id = BatchId::generate();
        let meta = BatchMeta {
            dataset: self.config.dataset.clone(),
            source: self.identity.clone(),
            format: "online".into(),
            parent_event: None,
            idempotency_key: None,
        };
        let mut writer = self
            .stores
            .raw
            .create(&id, meta, self.config.schema.clone())
            .await?;
        let written = async {
            for b in &self.pending {
                if b.num_rows() > 0 {
                    writer.write(b.clone()).await?;
                }
            }
            if !self.bad.is_empty() {
                writer.quarantine(self.bad.clone()).await?;
            }
            Ok::<_, mlpipe_core::Error>(())
        }
        .await;
        if let Err(e) = written {
            let _ = writer.abort().await;
            return Err(e.into());
        }
        let info = writer.commit(self.hasher.summary()).await?;
        self.pending.clear();
        self.bad.clear();
        self.hasher = RowHasher::default();
        self.buffered = 0;
        self.written.rows += info.rows;
        self.written.quarantined += info.quarantined;
        self.written.batches.push(info.clone());
        // The batch is stored: a failure to record lineage or announce it must not store
        // it twice, so it is logged, not retried.
        if let Err(e) = self.after_commit(&info).await {
            tracing::warn!(batch = %info.id, error = %e, "online batch stored, but lineage or announcement failed");
        }
        tracing::info!(batch = %info.id, dataset = %self.config.dataset, rows = info.rows,
            quarantined = info.quarantined, "online raw batch stored");
        Ok(Some(info))
    }

    async fn after_commit(&self, info: &BatchInfo) -> mlpipe_core::Result<()> {
        let node = Node::RawBatch(info.id.clone());
        self.stores
            .lineage
            .link(LineageLink::new(
                Node::Source(self.identity.clone()),
                node.clone(),
                "ingested_from",
            ))
            .await?;
        self.stores
            .lineage
            .audit(AuditRecord::now(
                GROUP,
                "raw_batch.created",
                &node,
                serde_json::json!({
                    "dataset": self.config.dataset, "source": self.identity, "rows": info.rows,
                    "quarantined": info.quarantined, "checksum": info.summary.checksum,
                    "online": true,
                }),
            ))
            .await?;
        if self.config.announce {
            let event = Event::RawDataExtracted(RawDataExtracted {
                dataset: info.meta.dataset.clone(),
                batch_id: info.id.clone(),
                rows: info.rows,
                quarantined: info.quarantined,
            });
            self.broker.publish_event(&Envelope::new(event)).await?;
        }
        Ok(())
    }
}
