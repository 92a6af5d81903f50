//! Scheduled ingestion: announce a source on an interval or a cron expression.
//!
//! A schedule does not read anything itself: at each tick it publishes
//! `source-data-available` for its source, and the ingestion service (in this process or
//! any worker) ingests it like any other announcement. With [`Dedupe::PerContent`]
//! an unchanged file is not ingested twice.
//!
//! [`Dedupe::PerContent`]: crate::Dedupe::PerContent
//!
//! Schedules are `every <n><s|m|h|d>` or a cron expression (see
//! [`mlpipe_core::schedule::Schedule`]); in configuration:
//!
//! ```toml
//! [[ingest.schedules]]
//! dataset = "sales"
//! schedule = "0 0 * * * *"   # at the top of every hour
//! source = { uri = "/data/sales.csv", format = "csv" }
//! ```

use crate::error::{IngestError, Result};
use mlpipe_core::broker::{Broker, BrokerExt};
use mlpipe_core::events::{Event, SourceDataAvailable, SourceRef};
use mlpipe_core::schedule::{spawn_scheduled, tick_id};
use mlpipe_core::service::ServiceHandle;
use mlpipe_core::Envelope;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use mlpipe_core::schedule::Schedule;

/// A source announced on a schedule (section `[[ingest.schedules]]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledSource {
    /// Dataset the data belongs to.
    pub dataset: String,
    /// `every 15m` or a cron expression.
    pub schedule: String,
    /// The source to announce.
    #[serde(deserialize_with = "strict_source")]
    pub source: SourceRef,
}

/// A source as configuration writes it: like [`SourceRef`], but a misspelt key is an
/// error (the event type itself stays open to fields added later).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceConfig {
    uri: String,
    format: String,
    #[serde(default)]
    options: std::collections::BTreeMap<String, String>,
}

fn strict_source<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SourceRef, D::Error> {
    let s = SourceConfig::deserialize(d)?;
    Ok(SourceRef {
        uri: s.uri,
        format: s.format,
        options: s.options,
    })
}

/// Starts announcing each source on its schedule. Every schedule is parsed first, so a
/// bad one is an error before anything runs. A failed announcement is logged and tried
/// again at the next tick.
///
/// The announcement of a tick has an id derived from the dataset, the source and the
/// tick, so every ingest worker may run the schedules: the copies carry one id, and the
/// ingestion of one event id is one batch. Stop them like any service, with
/// [`ServiceHandle::shutdown`].
pub fn start_schedules(
    broker: Arc<dyn Broker>,
    sources: &[ScheduledSource],
) -> Result<Vec<ServiceHandle>> {
    let parsed: Vec<(ScheduledSource, Schedule)> = sources
        .iter()
        .map(|s| {
            let schedule = Schedule::parse(&s.schedule)
                .map_err(|e| IngestError::InvalidOption(e.to_string()))?;
            Ok((s.clone(), schedule))
        })
        .collect::<Result<_>>()?;
    let handles = parsed
        .into_iter()
        .map(|(src, schedule)| {
            let broker = broker.clone();
            let name = format!("ingest-schedule-{}", src.dataset);
            spawn_scheduled(&name, schedule, move |tick| {
                let broker = broker.clone();
                let src = src.clone();
                let id = tick_id(&format!("ingest|{}|{}", src.dataset, src.source.uri), tick);
                async move {
                    let env = Envelope {
                        id,
                        occurred_at: tick,
                        caused_by: None,
                        event: Event::SourceDataAvailable(SourceDataAvailable {
                            dataset: src.dataset.clone(),
                            source: src.source.clone(),
                        }),
                    };
                    match broker.publish_event(&env).await {
                        Ok(()) => tracing::info!(dataset = %src.dataset, event = %env.id, "scheduled source announced"),
                        Err(e) => tracing::warn!(dataset = %src.dataset, error = %e, "scheduled announcement failed; will retry at the next tick"),
                    }
                }
            })
        })
        .collect();
    Ok(handles)
}
