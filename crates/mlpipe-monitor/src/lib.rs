//! # mlpipe-monitor
//!
//! Performance monitoring: the [`MonitoringService`] follows served predictions and keeps,
//! per model version, the deployment time, how many requests it answered (and how many as
//! a fallback), and min / mean / max / percentile latency.

#![forbid(unsafe_code)]

pub mod service;
pub mod stats;

pub use service::{ModelStats, MonitoringService};
pub use stats::{LatencyHistogram, LatencySummary};
