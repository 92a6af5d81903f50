//! The ingestion service: reads a source, persists it unchanged as one immutable raw batch,
//! records lineage and audit, and publishes `raw-data-extracted`.

use crate::csv::{CsvOptions, CsvSource};
use crate::error::{IngestError, Result};
use crate::source::Source;
use async_trait::async_trait;
use mlpipe_core::broker::{Broker, BrokerExt};
use mlpipe_core::events::*;
use mlpipe_core::service::{handler_error, EventHandler, HandlerError};
use mlpipe_core::store::*;
use mlpipe_core::{BatchId, Envelope, EventId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Consumer group of the ingestion service.
pub const GROUP: &str = "mlpipe-ingest";

/// When the same content counts as already ingested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Dedupe {
    /// A redelivered event ingests once; a new event for the same file makes a new batch.
    #[default]
    PerEvent,
    /// A source whose identity and checksum were already ingested is not ingested again.
    PerContent,
}

/// Ingestion settings (section `[ingest]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Largest share of refused rows (0..=1) before the whole batch fails.
    pub max_bad_ratio: f64,
    /// Deduplication policy.
    pub dedupe: Dedupe,
    /// Seconds between progress log lines.
    pub progress_every_secs: u64,
    /// Announcements ingested at the same time (one pipeline per dataset arrival).
    pub concurrency: usize,
    /// Sources announced on a schedule (`[[ingest.schedules]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<crate::schedule::ScheduledSource>,
    /// Per dataset: declared column types (`[ingest.datasets.<name>.schema]`), applied to
    /// every source of the dataset, announced by event or ingested directly.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub datasets: BTreeMap<String, crate::declared::DatasetIngest>,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_bad_ratio: 0.1,
            dedupe: Dedupe::PerEvent,
            progress_every_secs: 5,
            concurrency: 4,
            schedules: Vec::new(),
            datasets: BTreeMap::new(),
        }
    }
}

/// What one ingestion did.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestReport {
    /// The batch in the catalogue.
    pub batch: BatchInfo,
    /// True when nothing was written because the same input was ingested before.
    pub already_ingested: bool,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Progress of the ingestion running (or last finished) in a service, for progress bars.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IngestProgress {
    /// Dataset being ingested.
    pub dataset: String,
    /// Batch being written.
    pub batch: Option<BatchId>,
    /// Good rows so far.
    pub rows: u64,
    /// Quarantined rows so far.
    pub bad_rows: u64,
    /// In-memory (Arrow) bytes of the good rows so far.
    pub bytes: u64,
    /// Rows (good and bad) per second so far.
    pub rows_per_sec: f64,
    /// Source bytes read so far and the source's size, when the source says (CSV does).
    pub source_position: Option<(u64, Option<u64>)>,
    /// True once the batch is committed or failed.
    pub done: bool,
}

/// Reads sources into the raw store.
///
/// Each announcement is its own pipeline; up to [`IngestConfig::concurrency`] run at
/// once (so datasets ingest concurrently), and inside one, parsing is spread over the
/// cores by the source (see [`CsvSource`]).
pub struct IngestionService {
    stores: Stores,
    broker: Arc<dyn Broker>,
    config: IngestConfig,
    progress: tokio::sync::watch::Sender<IngestProgress>,
}

/// Opens a source described by a [`SourceRef`].
pub fn open_source(source: &SourceRef) -> Result<Box<dyn Source>> {
    open_source_declared(source, &BTreeMap::new())
}

/// [`open_source`] with the column types a dataset declares laid over the inferred ones
/// (CSV; JSON lines and Parquet carry their own types, so declaring types for them is an
/// error rather than a setting that does nothing).
pub fn open_source_declared(
    source: &SourceRef,
    declared: &BTreeMap<String, crate::declared::ColumnType>,
) -> Result<Box<dyn Source>> {
    let path = source.uri.strip_prefix("file://").unwrap_or(&source.uri);
    if !declared.is_empty() && source.format != "csv" {
        return Err(IngestError::InvalidOption(format!(
            "declared column types apply to CSV sources; `{}` is {}, whose values carry their types",
            source.uri, source.format
        )));
    }
    match source.format.as_str() {
        "csv" => {
            let mut o = CsvOptions::from_pairs(&source.options)?;
            o.types = declared.clone();
            Ok(Box::new(CsvSource::new(path, o)))
        }
        "jsonl" | "ndjson" => Ok(Box::new(crate::jsonl::JsonlSource::new(
            path,
            crate::jsonl::JsonlOptions::from_pairs(&source.options)?,
        ))),
        "parquet" => Ok(Box::new(crate::parquet_source::ParquetSource::new(
            path,
            crate::parquet_source::ParquetOptions::from_pairs(&source.options)?,
        ))),
        other => Err(IngestError::UnknownFormat(other.to_string())),
    }
}

/// A batch id derived from what triggered the ingestion, so a redelivered event maps to
/// the same batch.
fn batch_id_for(cause: &EventId, identity: &str) -> BatchId {
    BatchId::derived(&format!("{cause}|{identity}"))
}

impl IngestionService {
    /// A service writing to `stores` and announcing on `broker`.
    pub fn new(stores: Stores, broker: Arc<dyn Broker>, config: IngestConfig) -> Self {
        Self {
            stores,
            broker,
            config,
            progress: tokio::sync::watch::channel(IngestProgress::default()).0,
        }
    }

    /// Watches the progress of ingestions (updated after every chunk).
    pub fn progress(&self) -> tokio::sync::watch::Receiver<IngestProgress> {
        self.progress.subscribe()
    }

    /// Ingests `source` as a new raw batch of `dataset` and publishes `raw-data-extracted`.
    ///
    /// `cause` is the event that asked for it (its id makes redelivery idempotent); direct
    /// calls pass `None` and always create a new batch (unless deduplicating by content).
    pub async fn ingest(
        &self,
        dataset: &str,
        source: &mut dyn Source,
        cause: Option<&EventId>,
    ) -> Result<IngestReport> {
        let started = Instant::now();
        let identity = source.identity();
        let id = match cause {
            Some(c) => batch_id_for(c, &identity),
            None => BatchId::generate(),
        };
        if let Ok(existing) = self.stores.raw.info(&id).await {
            tracing::info!(batch = %id, "event already ingested; announcing the existing batch again");
            self.announce(&existing, cause).await?;
            return Ok(IngestReport {
                batch: existing,
                already_ingested: true,
                seconds: started.elapsed().as_secs_f64(),
            });
        }
        let schema = source.schema().await?;
        let meta = BatchMeta {
            dataset: dataset.to_string(),
            source: identity.clone(),
            format: source.format().to_string(),
            parent_event: cause.cloned(),
            idempotency_key: cause.map(|c| format!("{c}|{identity}")),
        };
        let mut writer = self.stores.raw.create(&id, meta, schema).await?;
        let (mut good, mut bad, mut bytes) = (0u64, 0u64, 0u64);
        let mut first_problem = None;
        let report = |good: u64, bad: u64, bytes: u64, done: bool, pos| {
            self.progress.send_replace(IngestProgress {
                dataset: dataset.to_string(),
                batch: Some(id.clone()),
                rows: good,
                bad_rows: bad,
                bytes,
                rows_per_sec: (good + bad) as f64 / started.elapsed().as_secs_f64().max(1e-9),
                source_position: pos,
                done,
            });
        };
        let mut last_log = Instant::now();
        let mut text_columns = mlpipe_core::text_numbers::TextColumns::default();
        loop {
            let chunk = match source.next_chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    let _ = writer.abort().await;
                    report(good, bad, bytes, true, source.position());
                    return Err(e);
                }
            };
            text_columns.observe(&chunk.batch);
            good += chunk.batch.num_rows() as u64;
            bad += chunk.quarantined.len() as u64;
            bytes += chunk.batch.get_array_memory_size() as u64;
            report(good, bad, bytes, false, source.position());
            if first_problem.is_none() {
                first_problem = chunk
                    .quarantined
                    .first()
                    .map(|q| format!("row {}: {}", q.row, q.reason));
            }
            let written = async {
                if chunk.batch.num_rows() > 0 {
                    writer.write(chunk.batch).await?;
                }
                if !chunk.quarantined.is_empty() {
                    writer.quarantine(chunk.quarantined).await?;
                }
                Ok::<_, mlpipe_core::Error>(())
            }
            .await;
            if let Err(e) = written {
                let _ = writer.abort().await;
                return Err(e.into());
            }
            if last_log.elapsed().as_secs() >= self.config.progress_every_secs {
                let secs = started.elapsed().as_secs_f64();
                tracing::info!(
                    batch = %id, rows = good, bad_rows = bad,
                    rows_per_sec = (good + bad) as f64 / secs, "ingesting"
                );
                last_log = Instant::now();
            }
        }
        let total = good + bad;
        report(good, bad, bytes, true, source.position());
        if total > 0 && bad as f64 / total as f64 > self.config.max_bad_ratio {
            let _ = writer.abort().await;
            return Err(IngestError::TooManyBadRows {
                source_name: identity,
                bad,
                total,
                ratio: 100.0 * bad as f64 / total as f64,
                max: 100.0 * self.config.max_bad_ratio,
                first: first_problem.unwrap_or_default(),
            });
        }
        let mut summary = source.summary();
        summary.warnings = text_columns.warnings();
        for w in &summary.warnings {
            tracing::warn!(dataset, batch = %id, "{w}");
        }
        if self.config.dedupe == Dedupe::PerContent {
            let same = self
                .stores
                .raw
                .list(Some(dataset))
                .await?
                .into_iter()
                .find(|b| b.meta.source == identity && b.summary.checksum == summary.checksum);
            if let Some(existing) = same {
                let _ = writer.abort().await;
                self.announce(&existing, cause).await?;
                return Ok(IngestReport {
                    batch: existing,
                    already_ingested: true,
                    seconds: started.elapsed().as_secs_f64(),
                });
            }
        }
        let info = match writer.commit(summary).await {
            Ok(info) => info,
            Err(mlpipe_core::Error::AlreadyExists { .. }) => {
                // A concurrent delivery of the same event won the race: announce its
                // batch, as a redelivery after the commit would.
                let existing = self.stores.raw.info(&id).await?;
                self.announce(&existing, cause).await?;
                return Ok(IngestReport {
                    batch: existing,
                    already_ingested: true,
                    seconds: started.elapsed().as_secs_f64(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let batch_node = Node::RawBatch(info.id.clone());
        self.stores
            .lineage
            .link(LineageLink::new(
                Node::Source(identity.clone()),
                batch_node.clone(),
                "ingested_from",
            ))
            .await?;
        if let Some(c) = cause {
            self.stores
                .lineage
                .link(LineageLink::new(
                    Node::Event(c.clone()),
                    batch_node.clone(),
                    "triggered",
                ))
                .await?;
        }
        self.stores
            .lineage
            .audit(AuditRecord::now(
                GROUP,
                "raw_batch.created",
                &batch_node,
                serde_json::json!({
                    "dataset": dataset, "source": identity, "rows": info.rows,
                    "quarantined": info.quarantined, "checksum": info.summary.checksum,
                }),
            ))
            .await?;
        let seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            batch = %info.id, dataset, rows = info.rows, quarantined = info.quarantined,
            rows_per_sec = total as f64 / seconds.max(1e-9), "raw batch stored"
        );
        self.announce(&info, cause).await?;
        Ok(IngestReport {
            batch: info,
            already_ingested: false,
            seconds,
        })
    }

    async fn announce(&self, info: &BatchInfo, cause: Option<&EventId>) -> Result<()> {
        let event = Event::RawDataExtracted(RawDataExtracted {
            dataset: info.meta.dataset.clone(),
            batch_id: info.id.clone(),
            rows: info.rows,
            quarantined: info.quarantined,
        });
        let env = Envelope::after(event, cause, info.id.as_str());
        self.broker.publish_event(&env).await?;
        Ok(())
    }
}

/// Consumes `source-data-available` under [`GROUP`]; started with
/// [`StageExt::start`](mlpipe_core::service::StageExt::start).
impl mlpipe_core::service::Stage for IngestionService {
    fn group(&self) -> &str {
        GROUP
    }
    fn topics(&self) -> Vec<Topic> {
        vec![Topic::SourceDataAvailable]
    }
    fn concurrency(&self) -> usize {
        self.config.concurrency.max(1)
    }
    fn broker(&self) -> Arc<dyn Broker> {
        self.broker.clone()
    }
}

#[async_trait]
impl EventHandler for IngestionService {
    async fn handle(&self, env: Envelope, _attempt: u32) -> std::result::Result<(), HandlerError> {
        let Event::SourceDataAvailable(e) = &env.event else {
            return Ok(());
        };
        let declared = self
            .config
            .datasets
            .get(&e.dataset)
            .map(|d| d.schema.clone())
            .unwrap_or_default();
        let mut source = open_source_declared(&e.source, &declared).map_err(|e| {
            let t = e.is_transient();
            handler_error(e, t)
        })?;
        match self
            .ingest(&e.dataset, source.as_mut(), Some(&env.id))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let t = e.is_transient();
                Err(handler_error(e, t))
            }
        }
    }
}

/// Publishes `source-data-available` for a file (what a producer does).
pub async fn announce_source(
    broker: &dyn Broker,
    dataset: &str,
    source: SourceRef,
) -> mlpipe_core::Result<EventId> {
    let env = Envelope::new(Event::SourceDataAvailable(SourceDataAvailable {
        dataset: dataset.to_string(),
        source,
    }));
    broker.publish_event(&env).await?;
    Ok(env.id)
}
