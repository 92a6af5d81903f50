//! Schedules (a fixed interval or a cron expression) and jobs run on them, for stages
//! triggered by time: scheduled ingestion, scheduled retraining.
//!
//! ```
//! use mlpipe_core::schedule::Schedule;
//! let every = Schedule::parse("every 15m")?;
//! let nightly = Schedule::parse("0 30 2 * * *")?; // sec min hour day month weekday
//! let t = chrono::DateTime::parse_from_rfc3339("2026-01-01T02:00:00Z").map_err(|e| mlpipe_core::Error::Config(e.to_string()))?.to_utc();
//! assert_eq!(every.next_after(t).map(|n| n.to_rfc3339()), Some("2026-01-01T02:15:00+00:00".into()));
//! assert_eq!(nightly.next_after(t).map(|n| n.to_rfc3339()), Some("2026-01-01T02:30:00+00:00".into()));
//! # Ok::<(), mlpipe_core::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::service::ServiceHandle;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::watch;

/// When to run something.
#[derive(Clone, Debug)]
pub enum Schedule {
    /// At a fixed interval, aligned to the Unix epoch (`every 15m` ticks at :00, :15,
    /// :30 and :45 UTC).
    Every(Duration),
    /// At the times of a cron expression (UTC; seconds field first:
    /// `sec min hour day-of-month month day-of-week [year]`).
    Cron(Box<cron::Schedule>),
}

fn bad(text: &str, why: &str) -> Error {
    Error::Config(format!("schedule `{text}`: {why}"))
}

impl Schedule {
    /// Parses `every <n><s|m|h|d>` (e.g. `every 30s`, `every 15m`) or a cron expression.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        if let Some(rest) = t.strip_prefix("every ") {
            let rest = rest.trim();
            let split = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let (num, unit) = rest.split_at(split);
            let n: u64 = num
                .parse()
                .map_err(|_| bad(text, "expected a number after `every`"))?;
            let secs = match unit.trim() {
                "s" | "sec" | "secs" | "seconds" => n,
                "m" | "min" | "mins" | "minutes" => n.saturating_mul(60),
                "h" | "hour" | "hours" => n.saturating_mul(3600),
                "d" | "day" | "days" => n.saturating_mul(86_400),
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
            Self::Every(d) => {
                // Aligned to the Unix epoch, like cron: `every 15m` ticks at :00, :15,
                // :30 and :45 in every process, so workers agree on the ticks.
                let step = i64::try_from(d.as_micros()).ok().filter(|s| *s > 0)?;
                let next = (t.timestamp_micros().div_euclid(step) + 1).checked_mul(step)?;
                DateTime::from_timestamp_micros(next)
            }
            Self::Cron(c) => c.after(&t).next(),
        }
    }
}

/// Runs `job` at every tick of `schedule` until the returned handle is shut down, passing
/// the tick's time. A tick that comes while the previous run is still going waits for it
/// (runs never overlap); the job logs its own failures and is simply run again at the next
/// tick.
///
/// Ticks of a cron schedule are the same instants in every process, so a job that names
/// its work after the tick (see [`tick_id`]) can run in several workers at once without
/// doing the work twice.
pub fn spawn_scheduled<F, Fut>(name: &str, schedule: Schedule, job: F) -> ServiceHandle
where
    F: Fn(DateTime<Utc>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (stop, mut stopped) = watch::channel(false);
    let label = name.to_string();
    let task = tokio::spawn(async move {
        loop {
            let now = Utc::now();
            let Some(next) = schedule.next_after(now) else {
                tracing::info!(job = %label, "schedule has no further ticks");
                return;
            };
            let wait = (next - now).to_std().unwrap_or_default();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stopped.changed() => return,
            }
            tracing::debug!(job = %label, tick = %next, "scheduled run");
            job(next).await;
        }
    });
    ServiceHandle::from_parts(name, stop, vec![task])
}

/// A stable id for the work of one tick: the same `name` and tick give the same id in
/// every process (a UUID-shaped hash), so duplicate announcements collapse — in the
/// broker's duplicate window and in the idempotent stages.
pub fn tick_id(name: &str, tick: DateTime<Utc>) -> crate::EventId {
    crate::EventId::derived(&format!("{name}|{}", tick.to_rfc3339()))
}
