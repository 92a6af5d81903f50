//! The monitoring service: follows `prediction-served` and keeps, per model version, how
//! often it served and how fast, and when it was deployed.

use crate::stats::{LatencyHistogram, LatencySummary};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mlpipe_core::broker::Broker;
use mlpipe_core::events::*;
use mlpipe_core::service::{EventHandler, HandlerError};
use mlpipe_core::store::*;

use mlpipe_core::{Envelope, ModelRef};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Consumer group of the monitoring service.
pub const GROUP: &str = "mlpipe-monitor";

/// What is known about one version in production.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelStats {
    /// The version.
    pub model: ModelRef,
    /// When it was last deployed, if it was.
    pub deployed_at: Option<DateTime<Utc>>,
    /// Requests answered.
    pub served: u64,
    /// Of which as a fallback for another version.
    pub fallbacks: u64,
    /// Serving latency.
    pub latency: LatencySummary,
}

#[derive(Default)]
struct Entry {
    latency: LatencyHistogram,
    fallbacks: u64,
    deployed_at: Option<DateTime<Utc>>,
}

/// Serving statistics per version.
pub struct MonitoringService {
    stores: Stores,
    broker: Arc<dyn Broker>,
    stats: RwLock<BTreeMap<ModelRef, Entry>>,
}

impl MonitoringService {
    /// A monitoring service.
    pub fn new(stores: Stores, broker: Arc<dyn Broker>) -> Self {
        Self {
            stores,
            broker,
            stats: RwLock::new(BTreeMap::new()),
        }
    }

    /// Records one served prediction.
    pub fn observe(&self, e: &PredictionServed) {
        let mut g = self.stats.write();
        let entry = g.entry(e.model.clone()).or_default();
        entry.latency.record(e.latency_us);
        if e.fallback {
            entry.fallbacks += 1;
        }
    }

    /// Statistics of every version seen, ordered by model and version.
    pub fn summary(&self) -> Vec<ModelStats> {
        self.stats
            .read()
            .iter()
            .map(|(m, e)| ModelStats {
                model: m.clone(),
                deployed_at: e.deployed_at,
                served: e.latency.summary().count,
                fallbacks: e.fallbacks,
                latency: e.latency.summary(),
            })
            .collect()
    }

    /// Looks up when `m` last became the default.
    async fn learn_deployment(&self, m: &ModelRef) -> mlpipe_core::Result<()> {
        let at = self
            .stores
            .registry
            .deployments(&m.model)
            .await?
            .into_iter()
            .rev()
            .find(|d| d.default == m.version)
            .map(|d| d.at);
        self.stats.write().entry(m.clone()).or_default().deployed_at = at;
        Ok(())
    }
}

/// Consumes `prediction-served` and `model-deployed` under [`GROUP`]; started with
/// [`StageExt::start`](mlpipe_core::service::StageExt::start).
impl mlpipe_core::service::Stage for MonitoringService {
    fn group(&self) -> &str {
        GROUP
    }
    fn topics(&self) -> Vec<Topic> {
        vec![Topic::PredictionServed, Topic::ModelDeployed]
    }
    fn broker(&self) -> Arc<dyn Broker> {
        self.broker.clone()
    }
}

#[async_trait]
impl EventHandler for MonitoringService {
    async fn handle(&self, env: Envelope, _attempt: u32) -> Result<(), HandlerError> {
        match &env.event {
            Event::PredictionServed(e) => {
                let first = !self.stats.read().contains_key(&e.model);
                self.observe(e);
                if first {
                    self.learn_deployment(&e.model).await?;
                }
            }
            Event::ModelDeployed(e) => self.learn_deployment(&e.model).await?,
            _ => {}
        }
        Ok(())
    }
}
