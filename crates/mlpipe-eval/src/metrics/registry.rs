//! Evaluators by name: the [`Evaluators`] registry the evaluation service, cross-validation
//! and the hyper-parameter search read metric names from, and the input an evaluator may
//! read beyond truths and scores ([`EvalInput`]: the evaluation rows' features for
//! clustering quality, the training series for forecast errors).

use super::classification::{Accuracy, Average, BalancedAccuracy, PrfKind, PrfMetric};
use super::clustering::{calinski_harabasz, davies_bouldin, silhouette_score, Inertia};
use super::curves::{AveragePrecision, RocAuc, RocAucOvr};
use super::forecast::ForecastErrors;
use super::probabilistic::{BrierScore, LogLoss};
use super::regression::{RegressionMetric, RegressionScore};
use super::{check_lengths, Evaluator};
use crate::error::{EvalError, Result};
use mlpipe_core::Score;
use ndarray::ArrayView2;
use std::collections::HashMap;
use std::sync::Arc;

/// What an evaluator is given: the truths and scores of the evaluation rows, and where the
/// caller has them, those rows' features and the training subset's labels.
#[derive(Clone, Copy, Debug)]
pub struct EvalInput<'a> {
    /// One truth per evaluation row.
    pub truth: &'a [f64],
    /// One score per evaluation row.
    pub scores: &'a [Score],
    /// The evaluation rows' features (rows × features), for clustering quality.
    pub features: Option<ArrayView2<'a, f64>>,
    /// The labels of the training rows in order: the training series, for MASE.
    pub training_truth: Option<&'a [f64]>,
}

impl<'a> EvalInput<'a> {
    /// Truths and scores only.
    pub fn new(truth: &'a [f64], scores: &'a [Score]) -> Self {
        Self {
            truth,
            scores,
            features: None,
            training_truth: None,
        }
    }

    /// With the evaluation rows' features.
    pub fn with_features(mut self, x: ArrayView2<'a, f64>) -> Self {
        self.features = Some(x);
        self
    }

    /// With the training series.
    pub fn with_training_truth(mut self, y: &'a [f64]) -> Self {
        self.training_truth = Some(y);
        self
    }
}

type MakeEvaluator = Arc<dyn Fn() -> Box<dyn Evaluator> + Send + Sync>;

/// Metrics by name, as `[evaluation] metrics`, the selection policy and searches name
/// them. The built-ins register here exactly as a user's own evaluators do.
///
/// ```
/// use mlpipe_core::Score;
/// use mlpipe_eval::{EvalInput, Evaluator, Evaluators};
///
/// /// Share of rows predicted exactly.
/// struct ExactShare;
/// impl Evaluator for ExactShare {
///     fn name(&self) -> &str { "exact_share" }
///     fn evaluate(&self, truth: &[f64], scores: &[Score]) -> mlpipe_eval::Result<f64> {
///         let hits = truth.iter().zip(scores).filter(|(t, s)| s.as_f64() == Some(**t)).count();
///         Ok(hits as f64 / truth.len().max(1) as f64)
///     }
/// }
///
/// let mut metrics = Evaluators::builtin();
/// metrics.register("exact_share", || Box::new(ExactShare));
/// let e = metrics.get("exact_share").unwrap();
/// let scores = [Score::Value { value: 1.0 }, Score::Value { value: 3.0 }];
/// assert_eq!(e.evaluate_input(&EvalInput::new(&[1.0, 2.0], &scores)).unwrap(), 0.5);
/// assert!(metrics.get("exact_shar").is_err());
/// ```
#[derive(Clone, Default)]
pub struct Evaluators {
    makers: HashMap<String, MakeEvaluator>,
}

impl std::fmt::Debug for Evaluators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluators")
            .field("names", &self.names())
            .finish()
    }
}

impl Evaluators {
    /// Every metric of the library (see the table in [`crate::metrics`]).
    pub fn builtin() -> Self {
        let mut r = Self::default();
        r.register("accuracy", || Box::new(Accuracy));
        r.register("balanced_accuracy", || Box::new(BalancedAccuracy));
        r.register("roc_auc", || Box::new(RocAuc));
        r.register("roc_auc_ovr", || Box::new(RocAucOvr { weighted: false }));
        r.register("roc_auc_ovr_weighted", || {
            Box::new(RocAucOvr { weighted: true })
        });
        r.register("average_precision", || Box::new(AveragePrecision));
        r.register("log_loss", || Box::new(LogLoss));
        r.register("brier_score", || Box::new(BrierScore));
        r.register("inertia", || Box::new(Inertia));
        for m in RegressionMetric::ALL {
            r.register(m.name(), move || Box::new(RegressionScore(m)));
        }
        for (kind, word) in [
            (PrfKind::Precision, "precision"),
            (PrfKind::Recall, "recall"),
            (PrfKind::F1, "f1"),
        ] {
            for (average, suffix) in [
                (Average::Binary { pos_label: 1 }, ""),
                (Average::Macro, "_macro"),
                (Average::Weighted, "_weighted"),
                (Average::Micro, "_micro"),
            ] {
                r.register(&format!("{word}{suffix}"), move || {
                    Box::new(PrfMetric::new(kind, average))
                });
            }
        }
        for q in [
            ClusterQuality::Silhouette,
            ClusterQuality::DaviesBouldin,
            ClusterQuality::CalinskiHarabasz,
        ] {
            r.register(q.name(), move || Box::new(q));
        }
        for f in [ForecastError::Mae, ForecastError::Rmse, ForecastError::Mase] {
            r.register(f.name(), move || Box::new(f));
        }
        r
    }

    /// Registers an evaluator under `name` (replacing one of that name). The evaluator's
    /// own [`Evaluator::name`] is what its values are saved under; keep the two equal.
    pub fn register(
        &mut self,
        name: &str,
        make: impl Fn() -> Box<dyn Evaluator> + Send + Sync + 'static,
    ) -> &mut Self {
        self.makers.insert(name.to_string(), Arc::new(make));
        self
    }

    /// The evaluator `name`; an unknown name is [`EvalError::UnknownMetric`] listing the
    /// registered ones.
    pub fn get(&self, name: &str) -> Result<Box<dyn Evaluator>> {
        match self.makers.get(name) {
            Some(make) => Ok(make()),
            None => Err(EvalError::UnknownMetric(format!(
                "{name} (registered: {})",
                self.names().join(", ")
            ))),
        }
    }

    /// Whether `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.makers.contains_key(name)
    }

    /// Every registered name, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.makers.keys().cloned().collect();
        v.sort_unstable();
        v
    }
}

/// Clustering quality of cluster scores over the evaluation rows' features (the truth is
/// not used): silhouette and Calinski–Harabasz (higher is better), Davies–Bouldin (lower
/// is better), each computed as scikit-learn computes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterQuality {
    /// `silhouette`: mean silhouette coefficient.
    Silhouette,
    /// `davies_bouldin`: Davies–Bouldin index.
    DaviesBouldin,
    /// `calinski_harabasz`: variance ratio criterion.
    CalinskiHarabasz,
}

impl ClusterQuality {
    /// The metric's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Silhouette => "silhouette",
            Self::DaviesBouldin => "davies_bouldin",
            Self::CalinskiHarabasz => "calinski_harabasz",
        }
    }
}

impl Evaluator for ClusterQuality {
    fn name(&self) -> &str {
        ClusterQuality::name(*self)
    }
    fn higher_is_better(&self) -> bool {
        !matches!(self, Self::DaviesBouldin)
    }
    fn evaluate(&self, _truth: &[f64], _scores: &[Score]) -> Result<f64> {
        Err(EvalError::Undefined {
            metric: ClusterQuality::name(*self).into(),
            reason: "clustering quality needs the evaluation rows' features; call \
                     evaluate_input with EvalInput::with_features"
                .into(),
        })
    }
    fn evaluate_input(&self, input: &EvalInput<'_>) -> Result<f64> {
        let name = ClusterQuality::name(*self);
        let Some(x) = input.features else {
            return self.evaluate(input.truth, input.scores);
        };
        check_lengths(name, x.nrows(), input.scores.len())?;
        let labels = input
            .scores
            .iter()
            .map(|s| match s {
                Score::Cluster { cluster, .. } => Ok(*cluster as i64),
                other => Err(EvalError::BadScore {
                    metric: name.into(),
                    reason: format!("needs cluster scores, got a {} score", other.kind()),
                }),
            })
            .collect::<Result<Vec<i64>>>()?;
        match self {
            Self::Silhouette => silhouette_score(x, &labels),
            Self::DaviesBouldin => davies_bouldin(x, &labels),
            Self::CalinskiHarabasz => calinski_harabasz(x, &labels),
        }
    }
}

/// Errors of forecasts against the observed values: each evaluation row's prediction is
/// the point forecast at the horizon that row asks for (the last step of its forecast).
/// `forecast_mae` and `forecast_rmse` compare those with the truths; `mase` scales the MAE
/// by the in-sample MAE of the naive forecast on the training series (Hyndman & Koehler).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForecastError {
    /// `forecast_mae`.
    Mae,
    /// `forecast_rmse`.
    Rmse,
    /// `mase`.
    Mase,
}

impl ForecastError {
    /// The metric's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mae => "forecast_mae",
            Self::Rmse => "forecast_rmse",
            Self::Mase => "mase",
        }
    }

    fn points(self, truth: &[f64], scores: &[Score]) -> Result<Vec<f64>> {
        check_lengths(self.name(), truth.len(), scores.len())?;
        scores
            .iter()
            .map(|s| match s {
                Score::Forecast(f) => f.mean.last().copied().ok_or_else(|| EvalError::BadScore {
                    metric: self.name().into(),
                    reason: "a forecast has no steps".into(),
                }),
                other => Err(EvalError::BadScore {
                    metric: self.name().into(),
                    reason: format!("needs forecast scores, got a {} score", other.kind()),
                }),
            })
            .collect()
    }
}

impl Evaluator for ForecastError {
    fn name(&self) -> &str {
        ForecastError::name(*self)
    }
    fn higher_is_better(&self) -> bool {
        false
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        let points = self.points(truth, scores)?;
        match self {
            Self::Mae => RegressionMetric::Mae.compute(truth, &points),
            Self::Rmse => RegressionMetric::Rmse.compute(truth, &points),
            Self::Mase => Err(EvalError::Undefined {
                metric: "mase".into(),
                reason: "MASE needs the training series; call evaluate_input with \
                         EvalInput::with_training_truth"
                    .into(),
            }),
        }
    }
    fn evaluate_input(&self, input: &EvalInput<'_>) -> Result<f64> {
        match (self, input.training_truth) {
            (Self::Mase, Some(train)) => {
                let points = self.points(input.truth, input.scores)?;
                Ok(ForecastErrors::new(input.truth, &points, train, 1)?.mase)
            }
            _ => self.evaluate(input.truth, input.scores),
        }
    }
}
