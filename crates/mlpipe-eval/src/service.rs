//! The evaluation service: on `model-trained`, evaluates every candidate on the split's
//! evaluation subset with every configured evaluator, saves the metrics (and curves)
//! against each model, applies the selection policy, marks the winner ready and publishes
//! `model-ready` — or records why nothing qualifies (`selection.none` in the audit trail).
//! With `reports_dir` set it writes an HTML report of the run there.

use crate::error::{EvalError, Result};
use crate::metrics::{EvalInput, Evaluator, Evaluators};
use crate::report::{CandidateReport, Curves, RunReport};
use crate::search::{Search, SearchReport};
use crate::selection::{Candidate, SelectionPolicy, Verdict};
use async_trait::async_trait;
use mlpipe_core::broker::{Broker, BrokerExt};
use mlpipe_core::events::*;
use mlpipe_core::service::{handler_error, EventHandler, HandlerError};
use mlpipe_core::store::*;
use mlpipe_core::{Envelope, EventId, ModelId, ModelRef, RunId, SplitId};
use mlpipe_models::{Algorithms, TrainingData};
use mlpipe_split::{FoldStrategy, SegregationApi};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use crate::GROUP;

/// Evaluation settings (section `[evaluation]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluationConfig {
    /// Metrics computed for every candidate.
    pub metrics: Vec<String>,
    /// How the winner is chosen. Its metric and the metrics of its thresholds are
    /// computed even when `metrics` does not list them.
    pub selection: SelectionPolicy,
    /// Directory the HTML report of each run is written to (`<dir>/<run id>.html`); no
    /// report when unset. The facade sets it to `<data_dir>/reports`.
    pub reports_dir: Option<PathBuf>,
    /// Bins of the calibration curve.
    pub calibration_bins: usize,
}

impl Default for EvaluationConfig {
    fn default() -> Self {
        Self {
            metrics: vec!["accuracy".into(), "roc_auc".into()],
            selection: SelectionPolicy::default(),
            reports_dir: None,
            calibration_bins: 10,
        }
    }
}

impl EvaluationConfig {
    /// Every metric a run computes: `metrics`, then the selection metric and the metrics
    /// of its thresholds, each once.
    pub fn metric_names(&self) -> Vec<String> {
        let mut names = self.metrics.clone();
        let extra = std::iter::once(&self.selection.metric)
            .chain(self.selection.minimums.keys())
            .chain(self.selection.maximums.keys());
        for m in extra {
            if !names.contains(m) {
                names.push(m.clone());
            }
        }
        names
    }

    /// The built-in evaluators of [`Self::metric_names`]; an unknown name is an error.
    pub fn evaluators(&self) -> Result<Vec<Box<dyn Evaluator>>> {
        self.evaluators_in(&Evaluators::builtin())
    }

    /// The evaluators of [`Self::metric_names`] from `registry`; an unknown name is
    /// [`EvalError::UnknownMetric`] naming it and the registered ones.
    pub fn evaluators_in(&self, registry: &Evaluators) -> Result<Vec<Box<dyn Evaluator>>> {
        self.metric_names()
            .iter()
            .map(|m| registry.get(m))
            .collect()
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
    /// Metrics that could not be computed, per candidate, with why.
    pub problems: BTreeMap<ModelRef, Vec<String>>,
    /// The HTML report written for the run, if reports are configured.
    pub report_path: Option<PathBuf>,
    /// The metrics table as terminal text.
    pub table: String,
}

/// Evaluates candidates and chooses one.
pub struct EvaluationService {
    stores: Stores,
    broker: Arc<dyn Broker>,
    algorithms: Arc<Algorithms>,
    evaluators: Arc<Evaluators>,
    splits: Arc<mlpipe_split::SplitRegistry>,
    config: EvaluationConfig,
}

/// What one candidate scored on the evaluation rows (computed, not yet recorded).
struct Scored {
    metrics: BTreeMap<String, f64>,
    problems: Vec<String>,
    curves: Curves,
}

/// Scores the evaluation rows with the model of `artefact` and computes every evaluator:
/// the pure step of an evaluation, which records nothing.
fn score_candidate(
    algorithms: &Algorithms,
    evaluators: &[Box<dyn Evaluator>],
    artefact: &[u8],
    eval: &mlpipe_split::LabeledSet,
    training_truth: &[f64],
    calibration_bins: usize,
) -> Scored {
    let truth = eval
        .y
        .as_slice()
        .map(<[f64]>::to_vec)
        .unwrap_or_else(|| eval.y.to_vec());
    let mut metrics = BTreeMap::new();
    let mut problems = Vec::new();
    let mut curves = Curves::default();
    let scores = algorithms
        .load_bytes(artefact)
        .and_then(|(_, model)| model.predict_batch(eval.x.view()));
    match scores {
        Ok(scores) => {
            let input = EvalInput::new(&truth, &scores)
                .with_features(eval.x.view())
                .with_training_truth(training_truth);
            for e in evaluators {
                match e.evaluate_input(&input) {
                    Ok(v) => {
                        metrics.insert(e.name().to_string(), v);
                    }
                    Err(err) => problems.push(err.to_string()),
                }
            }
            curves = Curves::of(&truth, &scores, calibration_bins);
        }
        Err(err) => problems.push(format!("the model could not score: {err}")),
    }
    Scored {
        metrics,
        problems,
        curves,
    }
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
            evaluators: Arc::new(Evaluators::builtin()),
            splits: Arc::new(mlpipe_split::SplitRegistry::builtin()),
            config,
        }
    }

    /// The metrics named in the configuration come from `evaluators` (default: the
    /// built-ins).
    pub fn with_evaluators(mut self, evaluators: Arc<Evaluators>) -> Self {
        self.evaluators = evaluators;
        self
    }

    /// The split strategies recorded `fit_split`s are rebuilt from when a search splits
    /// folds (default: the built-ins).
    pub fn with_splits(mut self, splits: Arc<mlpipe_split::SplitRegistry>) -> Self {
        self.splits = splits;
        self
    }

    fn segregation(&self) -> SegregationApi {
        SegregationApi::new(self.stores.features.clone(), self.stores.lineage.clone())
            .with_strategies(self.splits.clone())
    }

    /// Evaluates `candidates` on the evaluation subset of `split`.
    pub async fn evaluate(
        &self,
        candidates: &[ModelRef],
        split: &SplitId,
        cause: Option<&EventId>,
    ) -> Result<EvaluationReport> {
        let evaluators = self.config.evaluators_in(&self.evaluators)?;
        let policy = &self.config.selection;
        if let Some(e) = evaluators.iter().find(|e| e.name() == policy.metric) {
            if e.higher_is_better() != policy.higher_is_better {
                tracing::warn!(
                    metric = %policy.metric,
                    "the selection policy ranks {} with higher_is_better = {}, but for this metric {} is better; set higher_is_better = {}",
                    policy.metric,
                    policy.higher_is_better,
                    if e.higher_is_better() { "higher" } else { "lower" },
                    e.higher_is_better()
                );
            }
        }
        let (eval, training_truth) = self.evaluation_rows(split).await?;
        let truth: Vec<f64> = eval.y.to_vec();
        let run_id = match cause {
            Some(c) => RunId::new(format!(
                "eval-{}",
                &hex::encode(Sha256::digest(c.as_str().as_bytes()))[..24]
            )),
            None => RunId::generate(),
        };
        let report_path = self
            .config
            .reports_dir
            .as_ref()
            .map(|d| d.join(format!("{run_id}.html")));
        let mut results = Vec::new();
        let mut problems_by = BTreeMap::new();
        let mut rows = Vec::new();
        for m in candidates {
            let bytes = self.stores.registry.artefact(m).await?;
            let record = self.stores.registry.get(m).await?;
            let Scored {
                metrics,
                problems,
                curves,
            } = score_candidate(
                &self.algorithms,
                &evaluators,
                &bytes,
                &eval,
                &training_truth,
                self.config.calibration_bins,
            );
            self.record_candidate(
                m,
                &run_id,
                split,
                &metrics,
                &problems,
                &curves,
                truth.len(),
                &report_path,
            )
            .await?;
            rows.push(CandidateReport {
                name: m.to_string(),
                description: format!("{} {}", record.kind, record.params),
                metrics: metrics.clone(),
                problems: problems.clone(),
                curves,
            });
            problems_by.insert(m.clone(), problems);
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
        let verdict = match self.config.selection.select(&cands, deployed) {
            Verdict::NoWinner(reasons) => Verdict::NoWinner(self.explain(reasons, &problems_by)),
            w => w,
        };
        let node = Node::Evaluation(run_id.clone());
        let report = self.run_report(&run_id, split, truth.len(), deployed, rows, &verdict);
        let table = report.text();
        tracing::info!(run = %run_id, "evaluation results\n{table}");
        if let Some(path) = &report_path {
            self.write_report(path, &report.html(), &node).await?;
        }
        self.record_verdict(&verdict, candidates, &run_id, deployed, cause)
            .await?;
        Ok(EvaluationReport {
            run_id,
            metrics: results,
            verdict,
            problems: problems_by,
            report_path,
            table,
        })
    }

    /// Runs a hyper-parameter search on the training subset of `split` (cross-validated
    /// with `folds`), records every candidate in the registry as a version of `model`
    /// with its cross-validated scores ([`SearchReport::record`]), then evaluates the
    /// recorded candidates on the split's evaluation subset like trained candidates:
    /// every configured metric, the selection policy, `model-ready` for a winner, and the
    /// report. The search runs on the rayon pool and blocks the calling task while it
    /// trains.
    pub async fn search(
        &self,
        search: &Search,
        split: &SplitId,
        folds: &dyn FoldStrategy,
        model: &ModelId,
        cause: Option<&EventId>,
    ) -> Result<(SearchReport, EvaluationReport)> {
        let set = Arc::new(self.segregation().get(split).await?.training()?);
        // The folds are cut here, then the candidates train on the blocking pool, so a
        // long search does not hold up this runtime's other tasks.
        let cut = mlpipe_split::SplitInput {
            rows: set.x.nrows(),
            labels: set.y.as_slice(),
            ..Default::default()
        };
        let fixed = FixedFolds {
            name: folds.name().to_string(),
            params: folds.params(),
            folds: folds.folds(&cut)?,
        };
        let (job_set, job_search, algorithms, evaluators) = (
            set.clone(),
            search.clone(),
            self.algorithms.clone(),
            self.evaluators.clone(),
        );
        let report = tokio::task::spawn_blocking(move || {
            let data = TrainingData {
                x: job_set.x.view(),
                y: job_set.y.view(),
                feature_names: &job_set.feature_names,
                feature_set_id: &job_set.feature_set_id,
            };
            job_search.run_with(&algorithms, &evaluators, &data, &fixed)
        })
        .await
        .map_err(|e| EvalError::Search(format!("the search task failed: {e}")))??;
        let data = TrainingData {
            x: set.x.view(),
            y: set.y.view(),
            feature_names: &set.feature_names,
            feature_set_id: &set.feature_set_id,
        };
        tracing::info!(kind = %search.kind, metric = %search.metric, "search results\n{}", report.table());
        let run_id = match cause {
            Some(c) => RunId::new(format!(
                "search-{}",
                &hex::encode(Sha256::digest(c.as_str().as_bytes()))[..24]
            )),
            None => RunId::generate(),
        };
        let versions = report
            .record(
                &self.stores,
                &self.algorithms,
                &data,
                model,
                &run_id,
                Some(split),
            )
            .await?;
        let evaluation = self.evaluate(&versions, split, cause).await?;
        Ok((report, evaluation))
    }

    /// The split's evaluation rows and the training subset's labels. A feature set
    /// without labels (k-means on unlabeled rows) is still evaluated: clustering quality
    /// reads the features only, and metrics that need truths say why they have no value.
    async fn evaluation_rows(
        &self,
        split: &SplitId,
    ) -> Result<(mlpipe_split::LabeledSet, Vec<f64>)> {
        let segregated = self.segregation().get(split).await?;
        match segregated.evaluation() {
            Ok(eval) => Ok((eval, segregated.training()?.y.to_vec())),
            Err(mlpipe_split::SplitError::NeedsLabels(_)) => {
                let u = segregated.evaluation_unlabeled();
                let n = u.x.nrows();
                let eval = mlpipe_split::LabeledSet {
                    feature_set_id: u.feature_set_id,
                    split_id: u.split_id,
                    feature_names: u.feature_names,
                    x: u.x,
                    y: ndarray::Array1::from_elem(n, f64::NAN),
                    keys: u.keys,
                    rows: u.rows,
                };
                Ok((eval, Vec::new()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Saves one candidate's metrics against it and links it to the run.
    #[allow(clippy::too_many_arguments)]
    async fn record_candidate(
        &self,
        m: &ModelRef,
        run_id: &RunId,
        split: &SplitId,
        metrics: &BTreeMap<String, f64>,
        problems: &[String],
        curves: &Curves,
        rows: usize,
        report_path: &Option<PathBuf>,
    ) -> Result<()> {
        self.stores
            .registry
            .put_evaluation(EvaluationRecord {
                run_id: run_id.clone(),
                model: m.clone(),
                split_id: Some(split.clone()),
                metrics: metrics.clone(),
                details: serde_json::json!({
                    "rows": rows,
                    "problems": problems,
                    "curves": curves,
                    "report": report_path,
                }),
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
        Ok(())
    }

    /// The run's report (pure: nothing is written).
    fn run_report(
        &self,
        run_id: &RunId,
        split: &SplitId,
        rows: usize,
        deployed: Option<f64>,
        candidates: Vec<CandidateReport>,
        verdict: &Verdict<ModelRef>,
    ) -> RunReport {
        let policy = &self.config.selection;
        let mut report = RunReport {
            title: format!("Evaluation run {run_id}"),
            context: vec![
                ("run".into(), run_id.to_string()),
                ("split".into(), split.to_string()),
                ("evaluation rows".into(), rows.to_string()),
                (
                    "selection".into(),
                    format!(
                        "best {} ({} is better), minimums {:?}, maximums {:?}, margin {} over the deployed version",
                        policy.metric,
                        if policy.higher_is_better { "higher" } else { "lower" },
                        policy.minimums,
                        policy.maximums,
                        policy.margin
                    ),
                ),
                (
                    "deployed version's metric".into(),
                    deployed.map_or_else(|| "none deployed".into(), |d| format!("{d:.4}")),
                ),
            ],
            candidates,
            winner: None,
            verdict: Vec::new(),
        };
        match verdict {
            Verdict::Winner(m, v) => {
                report.winner = Some(m.to_string());
                report.verdict = vec![format!(
                    "{m} wins with {} {v:.4}; it is marked ready and model-ready is published.",
                    policy.metric
                )];
            }
            Verdict::NoWinner(reasons) => {
                report.verdict = std::iter::once("No candidate qualifies:".to_string())
                    .chain(reasons.iter().cloned())
                    .collect();
            }
        }
        report
    }

    /// Records the verdict: the winner marked ready, audited and announced
    /// (`model-ready`), or why none qualifies, audited and announced (`model-rejected`).
    async fn record_verdict(
        &self,
        verdict: &Verdict<ModelRef>,
        candidates: &[ModelRef],
        run_id: &RunId,
        deployed: Option<f64>,
        cause: Option<&EventId>,
    ) -> Result<()> {
        match verdict {
            Verdict::Winner(m, v) => {
                self.stores.registry.mark_ready(m).await?;
                self.stores
                    .lineage
                    .audit(AuditRecord::now(
                        GROUP,
                        "model.ready",
                        &Node::Model(m.clone()),
                        serde_json::json!({"metric": self.config.selection.metric, "value": v, "run": run_id}),
                    ))
                    .await?;
                let event = Event::ModelReady(ModelReady {
                    model: m.clone(),
                    evaluation_run: run_id.clone(),
                    metric: self.config.selection.metric.clone(),
                    value: *v,
                });
                let env = Envelope::after(event, cause, &m.to_string());
                self.broker.publish_event(&env).await?;
            }
            Verdict::NoWinner(reasons) => {
                tracing::warn!(run = %run_id, ?reasons, "no candidate qualifies for deployment");
                self.stores
                    .lineage
                    .audit(AuditRecord::now(
                        GROUP,
                        "selection.none",
                        &Node::Evaluation(run_id.clone()),
                        serde_json::json!({"reasons": reasons, "deployed_metric": deployed}),
                    ))
                    .await?;
                if let Some(first) = candidates.first() {
                    let event = Event::ModelRejected(ModelRejected {
                        model: first.model.clone(),
                        evaluation_run: run_id.clone(),
                        candidates: candidates.to_vec(),
                        reasons: reasons.clone(),
                    });
                    let env = Envelope::after(event, cause, run_id.as_str());
                    self.broker.publish_event(&env).await?;
                }
            }
        }
        Ok(())
    }

    /// Adds to each "has no <metric>" reason why the metric could not be computed.
    fn explain(
        &self,
        reasons: Vec<String>,
        problems: &BTreeMap<ModelRef, Vec<String>>,
    ) -> Vec<String> {
        reasons
            .into_iter()
            .map(|r| {
                let hit = problems
                    .iter()
                    .find(|(m, p)| !p.is_empty() && r.starts_with(&format!("{m}: has no")));
                match hit {
                    Some((_, p)) => format!("{r} ({})", p.join("; ")),
                    None => r,
                }
            })
            .collect()
    }

    async fn write_report(&self, path: &std::path::Path, html: &str, node: &Node) -> Result<()> {
        let io = |source| EvalError::Report {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        tokio::fs::write(path, html).await.map_err(io)?;
        self.stores
            .lineage
            .audit(AuditRecord::now(
                GROUP,
                "report.written",
                node,
                serde_json::json!({"path": path}),
            ))
            .await?;
        Ok(())
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
}

/// Consumes `model-trained` under [`GROUP`]; started with
/// [`StageExt::start`](mlpipe_core::service::StageExt::start).
impl mlpipe_core::service::Stage for EvaluationService {
    fn group(&self) -> &str {
        GROUP
    }
    fn topics(&self) -> Vec<Topic> {
        vec![Topic::ModelTrained]
    }
    fn broker(&self) -> Arc<dyn Broker> {
        self.broker.clone()
    }
}

#[async_trait]
impl EventHandler for EvaluationService {
    async fn handle(&self, env: Envelope, _attempt: u32) -> std::result::Result<(), HandlerError> {
        let Event::ModelTrained(e) = &env.event else {
            return Ok(());
        };
        if e.candidates.is_empty() {
            // No redelivery brings candidates.
            return Err(handler_error(
                EvalError::Undefined {
                    metric: "selection".into(),
                    reason: format!(
                        "training run {} produced no candidates: {:?}",
                        e.run_id, e.failed
                    ),
                },
                false,
            ));
        }
        match self
            .evaluate(&e.candidates, &e.split_id, Some(&env.id))
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

/// Folds cut once, replayed as a [`FoldStrategy`] (so they can move to another thread).
struct FixedFolds {
    name: String,
    params: serde_json::Value,
    folds: Vec<mlpipe_split::SplitIndices>,
}

impl FoldStrategy for FixedFolds {
    fn name(&self) -> &str {
        &self.name
    }
    fn params(&self) -> serde_json::Value {
        self.params.clone()
    }
    fn folds(
        &self,
        _input: &mlpipe_split::SplitInput<'_>,
    ) -> mlpipe_split::Result<Vec<mlpipe_split::SplitIndices>> {
        Ok(self.folds.clone())
    }
}
