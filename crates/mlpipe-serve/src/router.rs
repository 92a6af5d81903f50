//! The model router: a chain of responsibility over the live versions of a model. A
//! request naming a version goes to that version only; otherwise the default answers, and
//! when it fails the request is handed to the next live version (marked as a fallback).
//!
//! Every answer is recorded (score store, `prediction-served`) off the request path by a
//! background [`ServedLog`].

use crate::error::{Result, ServeError};
use crate::loaded::{LoadedModel, ModelCache};
use async_trait::async_trait;
use mlpipe_core::broker::{Broker, BrokerExt, SubscribeOptions};
use mlpipe_core::events::*;
use mlpipe_core::service::{spawn_handler, EventHandler, HandlerError, ServiceHandle};
use mlpipe_core::store::*;
use mlpipe_core::{Envelope, ModelId, ModelRef, ModelVersion, RequestId, Row, Score};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// A scoring request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreRequest {
    /// Id of the request (generated when absent).
    #[serde(default)]
    pub request_id: Option<RequestId>,
    /// The model line.
    pub model: ModelId,
    /// A specific live version, or the default when absent.
    #[serde(default)]
    pub version: Option<ModelVersion>,
    /// Raw features; when empty, features come from the online store by `entity_key`.
    #[serde(default)]
    pub features: Row,
    /// The entity scored.
    #[serde(default)]
    pub entity_key: Option<String>,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreResponse {
    /// The request.
    pub request_id: RequestId,
    /// The version that answered.
    pub model: ModelRef,
    /// The score.
    pub score: Score,
    /// Time spent answering, in microseconds.
    pub latency_us: u64,
    /// Whether a version other than the one asked for (or the default) answered.
    pub fallback: bool,
}

/// The links of one model line: live versions, the default first.
struct Chain {
    links: Vec<Arc<LoadedModel>>,
}

/// Routes requests to live versions.
#[derive(Clone)]
pub struct ModelRouter {
    stores: Stores,
    cache: ModelCache,
    chains: Arc<RwLock<HashMap<ModelId, Arc<Chain>>>>,
    log: Option<ServedLog>,
}

impl ModelRouter {
    /// A router loading models through `cache`; answers are recorded through `log`.
    pub fn new(stores: Stores, cache: ModelCache, log: Option<ServedLog>) -> Self {
        Self {
            stores,
            cache,
            chains: Arc::default(),
            log,
        }
    }

    /// Reloads the live versions of `model` from the registry.
    pub async fn refresh(&self, model: &ModelId) -> Result<()> {
        let live = self
            .stores
            .registry
            .live(model)
            .await?
            .ok_or_else(|| ServeError::NotDeployed(model.clone()))?;
        let mut order = vec![live.default];
        order.extend(live.live.iter().filter(|v| **v != live.default));
        let mut links = Vec::new();
        for v in order {
            let m = ModelRef {
                model: model.clone(),
                version: v,
            };
            match self.cache.get(&m).await {
                Ok(l) => links.push(l),
                Err(e) => {
                    tracing::error!(model = %m, error = %e, "live version cannot be loaded; leaving it out of the chain")
                }
            }
        }
        if links.is_empty() {
            return Err(ServeError::NotDeployed(model.clone()));
        }
        self.chains
            .write()
            .insert(model.clone(), Arc::new(Chain { links }));
        Ok(())
    }

    async fn chain(&self, model: &ModelId) -> Result<Arc<Chain>> {
        if let Some(c) = self.chains.read().get(model) {
            return Ok(c.clone());
        }
        self.refresh(model).await?;
        self.chains
            .read()
            .get(model)
            .cloned()
            .ok_or_else(|| ServeError::NotDeployed(model.clone()))
    }

    /// The live version `version` of `model` (the default when `None`), loaded.
    pub async fn link(
        &self,
        model: &ModelId,
        version: Option<ModelVersion>,
    ) -> Result<Arc<LoadedModel>> {
        let chain = self.chain(model).await?;
        let found = match version {
            None => chain.links.first(),
            Some(v) => chain.links.iter().find(|l| l.model_ref.version == v),
        };
        found.cloned().ok_or_else(|| {
            let live: Vec<String> = chain
                .links
                .iter()
                .map(|l| l.model_ref.version.to_string())
                .collect();
            ServeError::VersionNotLive(
                ModelRef {
                    model: model.clone(),
                    version: version.unwrap_or(ModelVersion(0)),
                },
                live.join(", "),
            )
        })
    }

    /// The versions that would answer a request for `model`, in order.
    pub async fn live_versions(&self, model: &ModelId) -> Result<Vec<ModelRef>> {
        Ok(self
            .chain(model)
            .await?
            .links
            .iter()
            .map(|l| l.model_ref.clone())
            .collect())
    }

    async fn features_of(
        &self,
        link: &LoadedModel,
        req: &ScoreRequest,
    ) -> Result<Option<Vec<f64>>> {
        if !req.features.is_empty() {
            return Ok(None);
        }
        let key = req.entity_key.as_ref().ok_or_else(|| {
            ServeError::BadRequest("a request needs features or an entity_key".into())
        })?;
        let fs = link.artefact.feature_set_id.as_str();
        let v = self
            .stores
            .online
            .get_many(fs, std::slice::from_ref(key))
            .await?;
        match v.into_iter().next().flatten() {
            Some(f) => Ok(Some(f.values)),
            None => Err(ServeError::BadRequest(format!(
                "entity `{key}` has no features in the online store of {fs}"
            ))),
        }
    }

    fn answer(
        &self,
        link: &LoadedModel,
        req: &ScoreRequest,
        online: Option<&[f64]>,
    ) -> Result<Score> {
        match online {
            Some(x) => link.score_features(x),
            None => link.score_row(&req.features),
        }
    }

    /// Scores one request.
    pub async fn score(&self, req: ScoreRequest) -> Result<ScoreResponse> {
        let started = Instant::now();
        let chain = self.chain(&req.model).await?;
        let request_id = req.request_id.clone().unwrap_or_else(RequestId::generate);
        let candidates: Vec<&Arc<LoadedModel>> = match req.version {
            Some(v) => {
                let l = chain
                    .links
                    .iter()
                    .find(|l| l.model_ref.version == v)
                    .ok_or_else(|| {
                        let live: Vec<String> = chain
                            .links
                            .iter()
                            .map(|l| l.model_ref.version.to_string())
                            .collect();
                        ServeError::VersionNotLive(
                            ModelRef {
                                model: req.model.clone(),
                                version: v,
                            },
                            live.join(", "),
                        )
                    })?;
                vec![l]
            }
            None => chain.links.iter().collect(),
        };
        let mut errors = Vec::new();
        for (i, link) in candidates.iter().enumerate() {
            let result = match self.features_of(link, &req).await {
                Ok(online) => self.answer(link, &req, online.as_deref()),
                Err(e) => Err(e),
            };
            match result {
                Ok(score) => {
                    let latency_us = started.elapsed().as_micros() as u64;
                    let resp = ScoreResponse {
                        request_id,
                        model: link.model_ref.clone(),
                        score,
                        latency_us,
                        fallback: i > 0,
                    };
                    if let Some(log) = &self.log {
                        log.record(&resp, req.entity_key.clone());
                    }
                    return Ok(resp);
                }
                // The caller's mistake: another version would fail the same way.
                Err(e) if e.is_client_error() => return Err(e),
                Err(e) => {
                    tracing::warn!(model = %link.model_ref, error = %e, "version failed; handing the request on");
                    errors.push(format!("{}: {e}", link.model_ref));
                }
            }
        }
        Err(ServeError::AllFailed(errors.join("; ")))
    }

    /// Subscribes to `model-deployed` so the router follows deployments.
    pub async fn follow_deployments(
        self: Arc<Self>,
        broker: Arc<dyn Broker>,
        group: &str,
        options: SubscribeOptions,
    ) -> mlpipe_core::Result<ServiceHandle> {
        spawn_handler(broker, Topic::ModelDeployed, group, options, 1, self).await
    }
}

#[async_trait]
impl EventHandler for ModelRouter {
    async fn handle(&self, env: Envelope, _attempt: u32) -> std::result::Result<(), HandlerError> {
        if let Event::ModelDeployed(e) = &env.event {
            self.refresh(&e.model.model).await?;
        }
        Ok(())
    }
}

/// Records served answers in the background: score store rows and `prediction-served`
/// events, written in batches so the request path never waits on them.
#[derive(Clone)]
pub struct ServedLog {
    tx: mpsc::UnboundedSender<LogMsg>,
}

enum LogMsg {
    Served(Box<ScoreRecord>, bool),
    Flush(tokio::sync::oneshot::Sender<()>),
}

impl ServedLog {
    /// Starts the background writer (it ends when every clone is dropped).
    pub fn start(stores: Stores, broker: Arc<dyn Broker>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<LogMsg>();
        tokio::spawn(async move {
            let mut buf: Vec<(ScoreRecord, bool)> = Vec::new();
            let mut flushes = Vec::new();
            while let Some(first) = rx.recv().await {
                let mut next = Some(first);
                while let Some(msg) = next.take() {
                    match msg {
                        LogMsg::Served(r, f) => buf.push((*r, f)),
                        LogMsg::Flush(ack) => flushes.push(ack),
                    }
                    if buf.len() < 256 {
                        next = rx.try_recv().ok();
                    }
                }
                if !buf.is_empty() {
                    let (batch, fallbacks): (Vec<ScoreRecord>, Vec<bool>) =
                        std::mem::take(&mut buf).into_iter().unzip();
                    write(&stores, broker.as_ref(), batch, fallbacks).await;
                }
                for ack in flushes.drain(..) {
                    let _ = ack.send(());
                }
            }
        });
        Self { tx }
    }

    fn record(&self, resp: &ScoreResponse, entity_key: Option<String>) {
        let rec = ScoreRecord {
            request_id: resp.request_id.clone(),
            run_id: None,
            model: resp.model.clone(),
            entity_key,
            score: resp.score.clone(),
            latency_us: Some(resp.latency_us),
            created_at: chrono::Utc::now(),
        };
        if self
            .tx
            .send(LogMsg::Served(Box::new(rec), resp.fallback))
            .is_err()
        {
            tracing::error!("served log is closed; a served score was not recorded");
        }
    }

    /// Waits until everything recorded before this call is stored and announced.
    pub async fn flush(&self) {
        let (ack, done) = tokio::sync::oneshot::channel();
        if self.tx.send(LogMsg::Flush(ack)).is_ok() {
            let _ = done.await;
        }
    }
}

async fn write(
    stores: &Stores,
    broker: &dyn Broker,
    batch: Vec<ScoreRecord>,
    fallbacks: Vec<bool>,
) {
    let mut delay = std::time::Duration::from_millis(50);
    for attempt in 1..=5 {
        match stores.scores.put(batch.clone()).await {
            Ok(()) => break,
            Err(e) => {
                tracing::error!(attempt, error = %e, "could not store served scores; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
    for (r, fallback) in batch.iter().zip(fallbacks) {
        let env = Envelope::new(Event::PredictionServed(PredictionServed {
            request_id: r.request_id.clone(),
            model: r.model.clone(),
            latency_us: r.latency_us.unwrap_or(0),
            fallback,
        }));
        if let Err(e) = broker.publish_event(&env).await {
            tracing::error!(error = %e, "could not publish prediction-served");
        }
    }
}
