//! The evaluation service: on `model-trained`, evaluates every candidate on the split's
//! evaluation subset, saves the metrics against each model, applies the selection policy,
//! marks the winner ready and publishes `model-ready`.

use crate::error::{EvalError, Result};
use crate::metrics::evaluator;
use crate::selection::{Candidate, SelectionPolicy, Verdict};
use async_trait::async_trait;
use mlpipe_core::broker::{Broker, BrokerExt, SubscribeOptions};
use mlpipe_core::events::*;
use mlpipe_core::service::{spawn_handler, EventHandler, HandlerError, ServiceHandle};
use mlpipe_core::store::*;
use mlpipe_core::{Envelope, EventId, ModelRef, RunId, SplitId};
use mlpipe_models::Algorithms;
use mlpipe_split::SegregationApi;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Consumer group of the evaluation service.
pub const GROUP: &str = "mlpipe-evaluate";

/// Evaluation settings (section `[evaluation]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluationConfig {
    /// Metrics computed for every candidate.
    pub metrics: Vec<String>,
    /// How the winner is chosen.
    pub selection: SelectionPolicy,
}

impl Default for EvaluationConfig {
    fn default() -> Self {
        Self {
            metrics: vec!["accuracy".into(), "roc_auc".into()],
            selection: SelectionPolicy::default(),
        }
    }
}

/// What an evaluation run found.
#[derive(Clone, Debug, PartialEq)]
pub struct EvaluationReport {
    /// The run.
    pub run_id: RunId,
    /// Metrics per candidate.
    pub metrics: Vec<(ModelRef, BTreeMap<String, f64>)>,
    /// The winner, or why there is none.
    pub verdict: Verdict<ModelRef>,
}

/// Evaluates candidates and chooses one.
pub struct EvaluationService {
    stores: Stores,
    broker: Arc<dyn Broker>,
    algorithms: Arc<Algorithms>,
    config: EvaluationConfig,
}

impl EvaluationService {
    /// An evaluation service.
    pub fn new(
        stores: Stores,
        broker: Arc<dyn Broker>,
        algorithms: Arc<Algorithms>,
        config: EvaluationConfig,
    ) -> Self {
        Self {
            stores,
            broker,
            algorithms,
            config,
        }
    }

    /// Evaluates `candidates` on the evaluation subset of `split`.
    pub async fn evaluate(
        &self,
        candidates: &[ModelRef],
        split: &SplitId,
        cause: Option<&EventId>,
    ) -> Result<EvaluationReport> {
        let evaluators = self
            .config
            .metrics
            .iter()
            .map(|m| evaluator(m))
            .collect::<Result<Vec<_>>>()?;
        let seg = SegregationApi::new(self.stores.features.clone(), self.stores.lineage.clone());
        let eval = seg.get(split).await?.evaluation()?;
        let truth: Vec<f64> = eval.y.to_vec();
        let run_id = match cause {
            Some(c) => RunId::new(format!(
                "eval-{}",
                &hex::encode(Sha256::digest(c.as_str().as_bytes()))[..24]
            )),
            None => RunId::generate(),
        };
        let mut results = Vec::new();
        for m in candidates {
            let bytes = self.stores.registry.artefact(m).await?;
            let (_, model) = self.algorithms.load_bytes(&bytes)?;
            let scores = model.predict_batch(eval.x.view())?;
            let mut metrics = BTreeMap::new();
            let mut problems = Vec::new();
            for e in &evaluators {
                match e.evaluate(&truth, &scores) {
                    Ok(v) => {
                        metrics.insert(e.name().to_string(), v);
                    }
                    Err(err) => problems.push(err.to_string()),
                }
            }
            self.stores
                .registry
                .put_evaluation(EvaluationRecord {
                    run_id: run_id.clone(),
                    model: m.clone(),
                    split_id: Some(split.clone()),
                    metrics: metrics.clone(),
                    details: serde_json::json!({"rows": truth.len(), "problems": problems}),
                    created_at: chrono::Utc::now(),
                })
                .await?;
            self.stores
                .lineage
                .link(LineageLink::new(
                    Node::Model(m.clone()),
                    Node::Evaluation(run_id.clone()),
                    "evaluated_in",
                ))
                .await?;
            results.push((m.clone(), metrics));
        }
        let deployed = self.deployed_metric(candidates).await?;
        let cands: Vec<Candidate<ModelRef>> = results
            .iter()
            .map(|(m, x)| Candidate {
                id: m.clone(),
                metrics: x.clone(),
            })
            .collect();
        let verdict = self.config.selection.select(&cands, deployed);
        let node = Node::Evaluation(run_id.clone());
        match &verdict {
            Verdict::Winner(m, v) => {
                self.stores.registry.mark_ready(m).await?;
                self.stores
                    .lineage
                    .audit(AuditRecord::now(GROUP, "model.ready", &Node::Model(m.clone()), serde_json::json!({"metric": self.config.selection.metric, "value": v, "run": run_id})))
                    .await?;
                let event = Event::ModelReady(ModelReady {
                    model: m.clone(),
                    evaluation_run: run_id.clone(),
                    metric: self.config.selection.metric.clone(),
                    value: *v,
                });
                let env = match cause {
                    Some(c) => Envelope::caused_by(event, c),
                    None => Envelope::new(event),
                };
                self.broker.publish_event(&env).await?;
            }
            Verdict::NoWinner(reasons) => {
                tracing::warn!(run = %run_id, ?reasons, "no candidate qualifies for deployment");
                self.stores
                    .lineage
                    .audit(AuditRecord::now(
                        GROUP,
                        "selection.none",
                        &node,
                        serde_json::json!({"reasons": reasons}),
                    ))
                    .await?;
            }
        }
        Ok(EvaluationReport {
            run_id,
            metrics: results,
            verdict,
        })
    }

    /// The selection metric of the version live now for the candidates' model line.
    async fn deployed_metric(&self, candidates: &[ModelRef]) -> Result<Option<f64>> {
        let Some(first) = candidates.first() else {
            return Ok(None);
        };
        let Some(live) = self.stores.registry.live(&first.model).await? else {
            return Ok(None);
        };
        let current = ModelRef {
            model: first.model.clone(),
            version: live.default,
        };
        let evals = self.stores.registry.evaluations(&current).await?;
        Ok(evals
            .last()
            .and_then(|e| e.metrics.get(&self.config.selection.metric).copied()))
    }

    /// Subscribes to `model-trained`.
    pub async fn start(
        self: Arc<Self>,
        options: SubscribeOptions,
    ) -> mlpipe_core::Result<ServiceHandle> {
        spawn_handler(
            self.broker.clone(),
            Topic::ModelTrained,
            GROUP,
            options,
            1,
            self,
        )
        .await
    }
}

#[async_trait]
impl EventHandler for EvaluationService {
    async fn handle(&self, env: Envelope, _attempt: u32) -> std::result::Result<(), HandlerError> {
        let Event::ModelTrained(e) = &env.event else {
            return Ok(());
        };
        if e.candidates.is_empty() {
            return Err(Box::new(EvalError::Undefined {
                metric: "selection".into(),
                reason: format!(
                    "training run {} produced no candidates: {:?}",
                    e.run_id, e.failed
                ),
            }));
        }
        self.evaluate(&e.candidates, &e.split_id, Some(&env.id))
            .await?;
        Ok(())
    }
}
