//! Batch scoring: score every row of a feature set (or of raw batches, through the same
//! fitted pipeline) with a deployed version, save the scores, publish `scores-generated`.

use crate::error::Result;
use crate::loaded::ModelCache;
use async_trait::async_trait;
use mlpipe_core::broker::{Broker, BrokerExt};
use mlpipe_core::events::*;
use mlpipe_core::service::{handler_error, EventHandler, HandlerError};
use mlpipe_core::store::*;
use mlpipe_core::table::to_matrix;
use mlpipe_core::{BatchId, Envelope, EventId, ModelRef, RequestId, RunId};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Consumer group of batch scoring.
pub const GROUP: &str = "mlpipe-batch-score";

/// What a batch-scoring run did.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchScoreReport {
    /// The run (scores are stored under it).
    pub run_id: RunId,
    /// Rows scored.
    pub rows: u64,
    /// Raw batches scored.
    pub batches: Vec<BatchId>,
}

/// Scores stored features in bulk.
pub struct BatchScoringService {
    stores: Stores,
    broker: Arc<dyn Broker>,
    cache: ModelCache,
}

impl BatchScoringService {
    /// A batch-scoring service.
    pub fn new(stores: Stores, broker: Arc<dyn Broker>, cache: ModelCache) -> Self {
        Self {
            stores,
            broker,
            cache,
        }
    }

    /// Scores every stored feature row of `m`'s feature set.
    pub async fn score_features(
        &self,
        m: &ModelRef,
        cause: Option<&EventId>,
    ) -> Result<BatchScoreReport> {
        let loaded = self.cache.get(m).await?;
        let fs = loaded.artefact.feature_set_id.clone();
        let batches = self.stores.features.batches(&fs).await?;
        let run_id = match cause {
            Some(c) => RunId::new(format!(
                "score-{}",
                &hex::encode(Sha256::digest(format!("{c}|{m}").as_bytes()))[..24]
            )),
            None => RunId::generate(),
        };
        let key_col = loaded.features.key_column();
        let mut rows = 0u64;
        for b in &batches {
            let data = self
                .stores
                .features
                .read(&fs, Some(std::slice::from_ref(b)))
                .await?;
            let x = to_matrix(&data, loaded.features.feature_names())?;
            let keys: Vec<String> = {
                let mut out = Vec::new();
                for part in &data {
                    if let Some(col) = part.column_by_name(&key_col) {
                        for i in 0..part.num_rows() {
                            out.push(match mlpipe_core::table::value_at(col.as_ref(), i)? {
                                mlpipe_core::Value::Str(s) => s,
                                v => format!("{v:?}"),
                            });
                        }
                    }
                }
                out
            };
            let model = loaded.clone();
            let scores = tokio::task::spawn_blocking(move || model.model.predict_batch(x.view()))
                .await
                .map_err(|e| mlpipe_core::Error::backend("batch-score", e))??;
            let now = chrono::Utc::now();
            let records: Vec<ScoreRecord> = scores
                .into_iter()
                .enumerate()
                .map(|(i, score)| {
                    let key = keys.get(i).cloned();
                    ScoreRecord {
                        request_id: RequestId::new(format!("{run_id}:{b}:{i}")),
                        run_id: Some(run_id.clone()),
                        model: m.clone(),
                        entity_key: key,
                        score,
                        latency_us: None,
                        created_at: now,
                    }
                })
                .collect();
            rows += records.len() as u64;
            for chunk in records.chunks(5_000) {
                self.stores.scores.put(chunk.to_vec()).await?;
            }
        }
        self.stores
            .lineage
            .link(LineageLink::new(
                Node::Model(m.clone()),
                Node::ScoreRun(run_id.clone()),
                "scored_by",
            ))
            .await?;
        let event = Event::ScoresGenerated(ScoresGenerated {
            run_id: run_id.clone(),
            model: m.clone(),
            feature_set_id: fs,
            batch_ids: batches.clone(),
            rows,
        });
        let env = Envelope::after(event, cause, run_id.as_str());
        self.broker.publish_event(&env).await?;
        tracing::info!(model = %m, run = %run_id, rows, "batch scores stored");
        Ok(BatchScoreReport {
            run_id,
            rows,
            batches,
        })
    }
}

/// Consumes `model-deployed` under [`GROUP`]; started with
/// [`StageExt::start`](mlpipe_core::service::StageExt::start).
impl mlpipe_core::service::Stage for BatchScoringService {
    fn group(&self) -> &str {
        GROUP
    }
    fn topics(&self) -> Vec<Topic> {
        vec![Topic::ModelDeployed]
    }
    fn broker(&self) -> Arc<dyn Broker> {
        self.broker.clone()
    }
}

#[async_trait]
impl EventHandler for BatchScoringService {
    async fn handle(&self, env: Envelope, _attempt: u32) -> std::result::Result<(), HandlerError> {
        let Event::ModelDeployed(e) = &env.event else {
            return Ok(());
        };
        match self.score_features(&e.model, Some(&env.id)).await {
            Ok(_) => Ok(()),
            // A model that fails validation fails it again; a store failure may pass.
            Err(e) => {
                let t = e.is_transient();
                Err(handler_error(e, t))
            }
        }
    }
}
