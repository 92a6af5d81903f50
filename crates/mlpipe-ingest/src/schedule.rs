//! Scheduled ingestion: announce a source on an interval or a cron expression.
//!
//! A schedule does not read anything itself: at each tick it publishes
//! `source-data-available` for its source, and the ingestion service (in this process or
//! any worker) ingests it like any other announcement. With [`Dedupe::PerContent`]
//! an unchanged file is not ingested twice.
//!
//! [`Dedupe::PerContent`]: crate::Dedupe::PerContent
//!
//! ```
//! use mlpipe_ingest::Schedule;
//! let every = Schedule::parse("every 15m")?;
//! let nightly = Schedule::parse("0 30 2 * * *")?; // sec min hour day month weekday
//! let t = chrono::DateTime::parse_from_rfc3339("2026-01-01T02:00:00Z").unwrap().to_utc();
//! assert_eq!(every.next_after(t).map(|n| n.to_rfc3339()), Some("2026-01-01T02:15:00+00:00".into()));
//! assert_eq!(nightly.next_after(t).map(|n| n.to_rfc3339()), Some("2026-01-01T02:30:00+00:00".into()));
//! # Ok::<(), mlpipe_ingest::IngestError>(())
//! ```

use crate::error::{IngestError, Result};
use crate::service::announce_source;
use chrono::{DateTime, Utc};
use mlpipe_core::broker::Broker;
use mlpipe_core::events::SourceRef;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// When to announce a source.
#[derive(Clone, Debug)]
pub enum Schedule {
    /// At a fixed interval from the start.
    Every(Duration),
    /// At the times of a cron expression (UTC; seconds field first:
    /// `sec min hour day-of-month month day-of-week [year]`).
    Cron(Box<cron::Schedule>),
}

impl Schedule {
    /// Parses `every <n><s|m|h|d>` (e.g. `every 30s`, `every 15m`) or a cron expression.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        if let Some(rest) = t.strip_prefix("every ") {
            let rest = rest.trim();
            let (num, unit) = rest.split_at(
                rest.find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len()),
            );
            let n: u64 = num
                .parse()
                .map_err(|_| bad(text, "expected a number after `every`"))?;
            let secs = match unit.trim() {
                "s" | "sec" | "secs" | "seconds" => n,
                "m" | "min" | "mins" | "minutes" => n * 60,
                "h" | "hour" | "hours" => n * 3600,
                "d" | "day" | "days" => n * 86_400,
                other => {
                    return Err(bad(
                        text,
                        &format!("unknown unit `{other}` (use s, m, h or d)"),
                    ))
                }
            };
            if secs == 0 {
                return Err(bad(text, "the interval must be positive"));
            }
            return Ok(Self::Every(Duration::from_secs(secs)));
        }
        cron::Schedule::from_str(t)
            .map(|s| Self::Cron(Box::new(s)))
            .map_err(|e| {
                bad(
                    text,
                    &format!("not `every <n><unit>` and not a cron expression: {e}"),
                )
            })
    }

    /// The first tick strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Every(d) => chrono::Duration::from_std(*d).ok().map(|d| t + d),
            Self::Cron(c) => c.after(&t).next(),
        }
    }
}

fn bad(text: &str, why: &str) -> IngestError {
    IngestError::InvalidOption(format!("schedule `{text}`: {why}"))
}

/// A source announced on a schedule (section `[[ingest.schedules]]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledSource {
    /// Dataset the data belongs to.
    pub dataset: String,
    /// `every 15m` or a cron expression.
    pub schedule: String,
    /// The source to announce.
    pub source: SourceRef,
}

/// Running schedules; stop them with [`shutdown`](Self::shutdown).
pub struct ScheduleHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl ScheduleHandle {
    /// Stops every schedule and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Starts announcing each source on its schedule. Every schedule is parsed first, so a
/// bad one is an error before anything runs. A failed announcement is logged and tried
/// again at the next tick.
pub fn start_schedules(
    broker: Arc<dyn Broker>,
    sources: &[ScheduledSource],
) -> Result<ScheduleHandle> {
    let parsed: Vec<(ScheduledSource, Schedule)> = sources
        .iter()
        .map(|s| Ok((s.clone(), Schedule::parse(&s.schedule)?)))
        .collect::<Result<_>>()?;
    let (stop, stopped) = watch::channel(false);
    let tasks = parsed
        .into_iter()
        .map(|(src, schedule)| {
            let broker = broker.clone();
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                loop {
                    let now = Utc::now();
                    let Some(next) = schedule.next_after(now) else {
                        tracing::info!(dataset = %src.dataset, "schedule has no further ticks");
                        return;
                    };
                    let wait = (next - now).to_std().unwrap_or_default();
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stopped.changed() => return,
                    }
                    match announce_source(broker.as_ref(), &src.dataset, src.source.clone()).await {
                        Ok(id) => tracing::info!(dataset = %src.dataset, event = %id, "scheduled source announced"),
                        Err(e) => tracing::warn!(dataset = %src.dataset, error = %e, "scheduled announcement failed; will retry at the next tick"),
                    }
                }
            })
        })
        .collect();
    Ok(ScheduleHandle { stop, tasks })
}
