//! Cross-validation over any [`FoldStrategy`] (k-fold, stratified k-fold, or any split
//! strategy as one hold-out fold through [`mlpipe_split::HoldOut`]).
//!
//! For each fold a fresh trainer of the model kind learns from the fold's training rows
//! and is scored on its evaluation rows with every evaluator. The mean and the
//! population standard deviation (NumPy's `std`, as in scikit-learn's `cv_results_`) are
//! reported per metric.

use crate::error::{EvalError, Result};
use crate::metrics::Evaluator;
use mlpipe_models::{Algorithms, TrainingData};
use mlpipe_split::{FoldStrategy, SplitInput};
use ndarray::Axis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The cross-validated scores of one model kind with one set of hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CvResult {
    /// Model kind.
    pub kind: String,
    /// Hyper-parameters.
    pub params: serde_json::Value,
    /// Score per fold, per metric.
    pub fold_scores: BTreeMap<String, Vec<f64>>,
    /// Mean over folds, per metric.
    pub mean: BTreeMap<String, f64>,
    /// Population standard deviation over folds, per metric.
    pub std: BTreeMap<String, f64>,
    /// What failed (a fold that could not train, a metric that could not be computed);
    /// a metric that failed on any fold has no mean.
    pub problems: Vec<String>,
}

/// Mean and population standard deviation.
pub(crate) fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
    (m, var.sqrt())
}

/// Cross-validates `kind` with `params` on `data`: one model per fold of `folds`, each
/// scored with every evaluator on the fold's evaluation rows.
pub fn cross_validate(
    algorithms: &Algorithms,
    kind: &str,
    params: &serde_json::Value,
    data: &TrainingData<'_>,
    folds: &dyn FoldStrategy,
    evaluators: &[Box<dyn Evaluator>],
) -> Result<CvResult> {
    if evaluators.is_empty() {
        return Err(EvalError::Search(
            "cross-validation needs at least one metric".into(),
        ));
    }
    let y = data.y.to_vec();
    let input = SplitInput {
        rows: data.x.nrows(),
        labels: Some(&y),
        times: None,
        groups: None,
    };
    let splits = folds.folds(&input)?;
    cross_validate_on(algorithms, kind, params, data, &splits, evaluators)
}

/// [`cross_validate`] on folds computed already (a search computes them once for every
/// candidate).
pub fn cross_validate_on(
    algorithms: &Algorithms,
    kind: &str,
    params: &serde_json::Value,
    data: &TrainingData<'_>,
    splits: &[mlpipe_split::SplitIndices],
    evaluators: &[Box<dyn Evaluator>],
) -> Result<CvResult> {
    let trainer = algorithms.trainer(kind, params)?;
    let mut fold_scores: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut failed: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    for (i, fold) in splits.iter().enumerate() {
        let train: Vec<usize> = fold.train.iter().map(|&r| r as usize).collect();
        let test: Vec<usize> = fold.test.iter().map(|&r| r as usize).collect();
        let (xt, yt) = (
            data.x.select(Axis(0), &train),
            data.y.select(Axis(0), &train),
        );
        let (xe, ye) = (data.x.select(Axis(0), &test), data.y.select(Axis(0), &test));
        let fold_data = TrainingData {
            x: xt.view(),
            y: yt.view(),
            feature_names: data.feature_names,
            feature_set_id: data.feature_set_id,
        };
        let scores = trainer
            .train(&fold_data)
            .and_then(|m| m.predict_batch(xe.view()));
        let scores = match scores {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("fold {i}: {e}"));
                failed.extend(evaluators.iter().map(|e| e.name().to_string()));
                continue;
            }
        };
        let truth = ye.to_vec();
        let train_truth = yt.to_vec();
        let input = crate::metrics::EvalInput::new(&truth, &scores)
            .with_features(xe.view())
            .with_training_truth(&train_truth);
        for e in evaluators {
            match e.evaluate_input(&input) {
                Ok(v) => fold_scores.entry(e.name().to_string()).or_default().push(v),
                Err(err) => {
                    problems.push(format!("fold {i}: {err}"));
                    failed.push(e.name().to_string());
                }
            }
        }
    }
    let mut mean = BTreeMap::new();
    let mut std = BTreeMap::new();
    for (m, v) in &fold_scores {
        if !failed.contains(m) && v.len() == splits.len() && !v.is_empty() {
            let (a, s) = mean_std(v);
            mean.insert(m.clone(), a);
            std.insert(m.clone(), s);
        }
    }
    Ok(CvResult {
        kind: kind.to_string(),
        params: params.clone(),
        fold_scores,
        mean,
        std,
        problems,
    })
}
