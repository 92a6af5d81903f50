//! Hyper-parameter search: every candidate of a grid, or `n_iter` seeded random draws,
//! cross-validated in parallel (rayon), ranked by one metric. The [`SearchReport`] keeps
//! every candidate's per-fold scores, mean and standard deviation and names the best;
//! [`SearchReport::record`] trains the candidates on all rows, registers them as versions
//! of a model line and saves each one's cross-validated scores as an evaluation.

use crate::cv::{cross_validate_on, CvResult};
use crate::error::{EvalError, Result};
use crate::metrics::{Evaluator, Evaluators};
use mlpipe_core::store::{
    EvaluationRecord, LineageLink, ModelRegistry, NewCandidate, Node, Stores,
};
use mlpipe_core::{ModelId, ModelRef, RunId, SplitId};
use mlpipe_models::{Algorithms, TrainingData};
use mlpipe_split::{rng, FoldStrategy, SplitInput};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A distribution a random search draws one hyper-parameter from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Distribution {
    /// One of these values, equally likely.
    Choice {
        /// The values.
        values: Vec<serde_json::Value>,
    },
    /// A float uniform in [low, high).
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// A float whose logarithm is uniform in [ln low, ln high) (e.g. a regularisation
    /// strength); both bounds positive.
    LogUniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// An integer uniform in [low, high).
    Int {
        /// Lower bound (inclusive).
        low: i64,
        /// Upper bound (exclusive).
        high: i64,
    },
}

/// The candidates a search tries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamSpace {
    /// Every combination, in scikit-learn's `ParameterGrid` order (names sorted, the last
    /// one varying fastest).
    Grid(BTreeMap<String, Vec<serde_json::Value>>),
    /// `n_iter` draws, each parameter (in name order) from its distribution, with the
    /// portable ChaCha8 generator seeded by `seed`.
    Random {
        /// Distribution per parameter.
        distributions: BTreeMap<String, Distribution>,
        /// Number of candidates.
        n_iter: usize,
        /// Seed.
        seed: u64,
    },
}

/// A float uniform in [0, 1) with 53 random bits.
fn uniform01(r: &mut rand_chacha::ChaCha8Rng) -> f64 {
    rng::below(r, 1 << 53) as f64 / (1u64 << 53) as f64
}

impl ParamSpace {
    /// The candidates' parameters, as JSON objects.
    pub fn candidates(&self) -> Result<Vec<serde_json::Value>> {
        match self {
            ParamSpace::Grid(grid) => {
                let mut out = vec![serde_json::Map::new()];
                for (name, values) in grid {
                    if values.is_empty() {
                        return Err(EvalError::Search(format!(
                            "the grid gives `{name}` no values; give at least one"
                        )));
                    }
                    out = out
                        .into_iter()
                        .flat_map(|m| {
                            values.iter().map(move |v| {
                                let mut m = m.clone();
                                m.insert(name.clone(), v.clone());
                                m
                            })
                        })
                        .collect();
                }
                Ok(out.into_iter().map(serde_json::Value::Object).collect())
            }
            ParamSpace::Random {
                distributions,
                n_iter,
                seed,
            } => {
                let mut r = rng::rng(*seed);
                let mut out = Vec::with_capacity(*n_iter);
                for _ in 0..*n_iter {
                    let mut m = serde_json::Map::new();
                    for (name, d) in distributions {
                        let v = match d {
                            Distribution::Choice { values } => {
                                if values.is_empty() {
                                    return Err(EvalError::Search(format!(
                                        "`{name}` chooses among no values"
                                    )));
                                }
                                values[rng::below(&mut r, values.len() as u64) as usize].clone()
                            }
                            Distribution::Uniform { low, high } if low < high => {
                                serde_json::json!(low + (high - low) * uniform01(&mut r))
                            }
                            Distribution::LogUniform { low, high } if 0.0 < *low && low < high => {
                                let (a, b) = (low.ln(), high.ln());
                                serde_json::json!((a + (b - a) * uniform01(&mut r)).exp())
                            }
                            Distribution::Int { low, high } if low < high => {
                                let span = high.abs_diff(*low);
                                serde_json::json!(low.wrapping_add(rng::below(&mut r, span) as i64))
                            }
                            other => {
                                return Err(EvalError::Search(format!(
                                    "`{name}`: {other:?} is empty (low must be below high, and positive for log-uniform)"
                                )))
                            }
                        };
                        m.insert(name.clone(), v);
                    }
                    out.push(serde_json::Value::Object(m));
                }
                Ok(out)
            }
        }
    }
}

/// A hyper-parameter search of one model kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// Model kind (from [`Algorithms`]).
    pub kind: String,
    /// The candidates.
    pub space: ParamSpace,
    /// Parameters every candidate shares; the space's values override them.
    #[serde(default)]
    pub fixed: serde_json::Value,
    /// The metric candidates are ranked by (its mean over folds).
    pub metric: String,
    /// Further metrics to report.
    #[serde(default)]
    pub metrics: Vec<String>,
}

/// What a search found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchReport {
    /// Model kind.
    pub kind: String,
    /// Fold strategy name and parameters.
    pub folds: serde_json::Value,
    /// Number of folds.
    pub n_folds: usize,
    /// Ranking metric.
    pub metric: String,
    /// Whether larger values of `metric` are better.
    pub higher_is_better: bool,
    /// Every candidate, in the order tried.
    pub candidates: Vec<CvResult>,
    /// Index of the best candidate, if any has the ranking metric.
    pub best: Option<usize>,
}

impl Search {
    fn evaluators(&self, registry: &Evaluators) -> Result<Vec<Box<dyn Evaluator>>> {
        let mut names = vec![self.metric.clone()];
        for m in &self.metrics {
            if !names.contains(m) {
                names.push(m.clone());
            }
        }
        names.iter().map(|n| registry.get(n)).collect()
    }

    fn merged(&self, p: &serde_json::Value) -> serde_json::Value {
        let mut base = match &self.fixed {
            serde_json::Value::Object(m) => m.clone(),
            _ => serde_json::Map::new(),
        };
        if let serde_json::Value::Object(m) = p {
            for (k, v) in m {
                base.insert(k.clone(), v.clone());
            }
        }
        serde_json::Value::Object(base)
    }

    /// Cross-validates every candidate on `data` with `folds` (the folds are computed once
    /// and shared), candidates in parallel, and ranks them.
    pub fn run(
        &self,
        algorithms: &Algorithms,
        data: &TrainingData<'_>,
        folds: &dyn FoldStrategy,
    ) -> Result<SearchReport> {
        self.run_with(algorithms, &Evaluators::builtin(), data, folds)
    }

    /// [`run`](Self::run) with the metrics named from `evaluators`.
    pub fn run_with(
        &self,
        algorithms: &Algorithms,
        evaluators: &Evaluators,
        data: &TrainingData<'_>,
        folds: &dyn FoldStrategy,
    ) -> Result<SearchReport> {
        let evaluators = self.evaluators(evaluators)?;
        let higher = evaluators
            .first()
            .map(|e| e.higher_is_better())
            .unwrap_or(true);
        let params: Vec<serde_json::Value> = self
            .space
            .candidates()?
            .iter()
            .map(|p| self.merged(p))
            .collect();
        if params.is_empty() {
            return Err(EvalError::Search("the search has no candidates".into()));
        }
        let y = data.y.to_vec();
        let input = SplitInput {
            rows: data.x.nrows(),
            labels: Some(&y),
            times: None,
            groups: None,
        };
        let splits = folds.folds(&input)?;
        let candidates: Vec<CvResult> = params
            .par_iter()
            .map(|p| {
                cross_validate_on(algorithms, &self.kind, p, data, &splits, &evaluators)
                    .unwrap_or_else(|e| CvResult {
                        kind: self.kind.clone(),
                        params: p.clone(),
                        fold_scores: BTreeMap::new(),
                        mean: BTreeMap::new(),
                        std: BTreeMap::new(),
                        problems: vec![e.to_string()],
                    })
            })
            .collect();
        let mut best: Option<(usize, f64)> = None;
        for (i, c) in candidates.iter().enumerate() {
            if let Some(&v) = c.mean.get(&self.metric) {
                let better = match best {
                    None => true,
                    Some((_, b)) => (higher && v > b) || (!higher && v < b),
                };
                if v.is_finite() && better {
                    best = Some((i, v));
                }
            }
        }
        Ok(SearchReport {
            kind: self.kind.clone(),
            folds: serde_json::json!({"strategy": folds.name(), "params": folds.params()}),
            n_folds: splits.len(),
            metric: self.metric.clone(),
            higher_is_better: higher,
            candidates,
            best: best.map(|(i, _)| i),
        })
    }
}

impl SearchReport {
    /// The best candidate's parameters.
    pub fn best_params(&self) -> Option<&serde_json::Value> {
        self.best
            .and_then(|i| self.candidates.get(i))
            .map(|c| &c.params)
    }

    /// The best candidate's mean of the ranking metric.
    pub fn best_score(&self) -> Option<f64> {
        self.best
            .and_then(|i| self.candidates.get(i))
            .and_then(|c| c.mean.get(&self.metric).copied())
    }

    /// The candidates' mean scores as a terminal table (the best marked).
    pub fn table(&self) -> String {
        let rows: Vec<(String, BTreeMap<String, f64>)> = self
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("#{i} {}", c.params), c.mean.clone()))
            .collect();
        let best = self.best.map(|i| rows[i].0.clone());
        crate::text_table(&rows, best.as_deref())
    }

    /// Trains every candidate that has the ranking metric on all of `data`, registers it
    /// as a version of `model` (training run `<run_id>-c<i>`), and saves its
    /// cross-validated scores as an evaluation of run `run_id`: the means under the metric
    /// names, the standard deviations as `<metric>_std`, the per-fold scores, parameters,
    /// rank and fold strategy in the details. The run is audited as `search.completed`.
    /// Returns the registered versions in candidate order.
    pub async fn record(
        &self,
        stores: &Stores,
        algorithms: &Algorithms,
        data: &TrainingData<'_>,
        model: &ModelId,
        run_id: &RunId,
        split_id: Option<&SplitId>,
    ) -> Result<Vec<ModelRef>> {
        let chosen: Vec<usize> = (0..self.candidates.len())
            .filter(|&i| self.candidates[i].mean.contains_key(&self.metric))
            .collect();
        let trained: Vec<Result<(usize, Vec<u8>)>> = chosen
            .par_iter()
            .map(|&i| {
                let c = &self.candidates[i];
                let model = algorithms.trainer(&c.kind, &c.params)?.train(data)?;
                Ok((i, model.artefact()?.to_bytes()?))
            })
            .collect();
        let mut ranked: Vec<usize> = chosen.clone();
        let metric = |i: usize| {
            self.candidates[i]
                .mean
                .get(&self.metric)
                .copied()
                .unwrap_or(f64::NAN)
        };
        ranked.sort_by(|&a, &b| {
            let o = metric(a).total_cmp(&metric(b));
            if self.higher_is_better {
                o.reverse()
            } else {
                o
            }
        });
        let registry: &dyn ModelRegistry = stores.registry.as_ref();
        let mut out = Vec::new();
        for t in trained {
            let (i, artefact) = t?;
            let c = &self.candidates[i];
            let version = registry
                .register(NewCandidate {
                    model: model.clone(),
                    kind: c.kind.clone(),
                    run_id: RunId::new(format!("{run_id}-c{i}")),
                    feature_set_id: data.feature_set_id.clone(),
                    split_id: split_id.cloned(),
                    params: c.params.clone(),
                    training: serde_json::json!({"search_run": run_id, "candidate": i, "rows": data.x.nrows()}),
                    artefact,
                })
                .await?;
            let mut metrics = c.mean.clone();
            for (k, v) in &c.std {
                metrics.insert(format!("{k}_std"), *v);
            }
            let rank = ranked.iter().position(|&r| r == i).map(|p| p + 1);
            registry
                .put_evaluation(EvaluationRecord {
                    run_id: run_id.clone(),
                    model: version.clone(),
                    split_id: split_id.cloned(),
                    metrics,
                    details: serde_json::json!({
                        "evaluation": "cross_validation",
                        "folds": self.folds,
                        "n_folds": self.n_folds,
                        "fold_scores": c.fold_scores,
                        "params": c.params,
                        "rank": rank,
                        "best": self.best == Some(i),
                        "problems": c.problems,
                    }),
                    created_at: chrono::Utc::now(),
                })
                .await?;
            stores
                .lineage
                .link(LineageLink::new(
                    Node::Model(version.clone()),
                    Node::Evaluation(run_id.clone()),
                    "cross_validated_in",
                ))
                .await?;
            out.push(version);
        }
        stores
            .lineage
            .audit(mlpipe_core::store::AuditRecord::now(
                crate::GROUP,
                "search.completed",
                &Node::Evaluation(run_id.clone()),
                serde_json::json!({
                    "kind": self.kind,
                    "metric": self.metric,
                    "candidates": self.candidates.len(),
                    "best_params": self.best_params(),
                    "best_score": self.best_score(),
                    "versions": out,
                }),
            ))
            .await?;
        Ok(out)
    }
}
