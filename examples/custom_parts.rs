//! Your own parts in every stage: in one file you can copy, a custom extractor, a custom
//! transformer, a custom model kind (trainer, model and artefact loader), a custom split
//! strategy and a custom evaluator, each registered once on a [`PipelineBuilder`] and
//! named in `examples/custom_parts.toml`. The builder then runs them everywhere: in the
//! pipeline, in `mlpipe worker` and in serving.
//!
//! - `cargo run --example custom_parts` runs the whole pipeline in one process on the
//!   breast-cancer data and scores a few rows online through the router;
//! - `cargo run --example custom_parts -- worker all --config FILE` is the same program as
//!   a user's own `mlpipe` binary ([`mlpipe::cli::main`] with this builder): its workers
//!   know the custom parts.
//!
//! | part | name in TOML | what it is |
//! |---|---|---|
//! | extractor | `ratio` | a new feature, one raw column over another |
//! | transformer | `max_abs_scaler` | scikit-learn's `MaxAbsScaler` |
//! | model kind | `nearest_centroid` | scikit-learn's `NearestCentroid` (euclidean or manhattan) |
//! | split strategy | `every_nth` | every n-th row held out for evaluation |
//! | evaluator | `mcc` | Matthews correlation coefficient |

use mlpipe::core::events::SourceRef;
use mlpipe::core::table::{column_names, column_to_f64};
use mlpipe::core::{Config, RecordBatch, Row, Score};
use mlpipe::eval::{EvalError, Evaluator};
use mlpipe::features::{Extractor, FeatureError, FittedExtractor, FittedTransformer, Transformer};
use mlpipe::models::{
    check_training, check_width, classes_of, Model, ModelArtefact, ModelError, Trainer,
    TrainingData,
};
use mlpipe::split::{parse_params, SplitIndices, SplitInput, SplitStrategy};
use mlpipe::{PipelineBuilder, RunEnd};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The dataset of the example.
pub const DATASET: &str = "breast-cancer";

// ---------------------------------------------------------------------------------------
// 1. An extractor: `numerator / denominator` of two raw columns, as one feature `name`.

/// Parameters of the `ratio` extractor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ratio {
    /// Raw column on top.
    pub numerator: String,
    /// Raw column below.
    pub denominator: String,
    /// Name of the feature.
    pub name: String,
}

impl Ratio {
    fn value(&self, num: f64, den: f64) -> Result<f64, FeatureError> {
        if den == 0.0 || !num.is_finite() || !den.is_finite() {
            return Err(FeatureError::BadValues {
                step: "ratio".into(),
                column: self.denominator.clone(),
                what: format!("a value that gives no ratio ({num} / {den})"),
            });
        }
        Ok(num / den)
    }

    fn column(batch: &RecordBatch, name: &str) -> Result<Vec<f64>, FeatureError> {
        let col = batch
            .column_by_name(name)
            .ok_or_else(|| FeatureError::MissingColumn {
                column: name.into(),
                available: column_names(batch).join(", "),
            })?;
        Ok(column_to_f64(col.as_ref())?)
    }
}

impl Extractor for Ratio {
    fn kind(&self) -> &str {
        "ratio"
    }
    fn fit(&self, raw: &[RecordBatch]) -> Result<Box<dyn FittedExtractor>, FeatureError> {
        let first = raw.first().ok_or_else(|| FeatureError::EmptyData {
            step: "ratio".into(),
        })?;
        Self::column(first, &self.numerator)?;
        Self::column(first, &self.denominator)?;
        Ok(Box::new(self.clone()))
    }
}

/// The fitted `ratio` is its parameters: there is nothing to learn.
impl FittedExtractor for Ratio {
    fn kind(&self) -> &str {
        "ratio"
    }
    fn output_names(&self) -> Vec<String> {
        vec![self.name.clone()]
    }
    fn extract_batch(&self, raw: &RecordBatch) -> Result<Array2<f64>, FeatureError> {
        let num = Self::column(raw, &self.numerator)?;
        let den = Self::column(raw, &self.denominator)?;
        let v = num
            .iter()
            .zip(&den)
            .map(|(n, d)| self.value(*n, *d))
            .collect::<Result<Vec<f64>, _>>()?;
        Array2::from_shape_vec((v.len(), 1), v).map_err(|e| FeatureError::Shape(e.to_string()))
    }
    fn extract_row(&self, row: &Row, out: &mut Vec<f64>) -> Result<(), FeatureError> {
        let get = |c: &str| {
            row.f64(c).ok_or_else(|| FeatureError::MissingColumn {
                column: c.into(),
                available: "the fields of the request".into(),
            })
        };
        out.push(self.value(get(&self.numerator)?, get(&self.denominator)?)?);
        Ok(())
    }
    fn state(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

// ---------------------------------------------------------------------------------------
// 2. A transformer: each feature divided by its largest absolute value (MaxAbsScaler).

/// The `max_abs_scaler` transformer (no parameters).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxAbsScaler {}

/// The fitted scaler: one divisor per feature (1 where a feature is all zeros).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedMaxAbs {
    names: Vec<String>,
    scale: Vec<f64>,
}

impl Transformer for MaxAbsScaler {
    fn kind(&self) -> &str {
        "max_abs_scaler"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Box<dyn FittedTransformer>, FeatureError> {
        if x.nrows() == 0 {
            return Err(FeatureError::EmptyData {
                step: "max_abs_scaler".into(),
            });
        }
        let mut scale = Vec::with_capacity(x.ncols());
        for (j, col) in x.axis_iter(Axis(1)).enumerate() {
            if col.iter().any(|v| !v.is_finite()) {
                return Err(FeatureError::BadValues {
                    step: "max_abs_scaler".into(),
                    column: names.get(j).cloned().unwrap_or_default(),
                    what: "NaN or infinity".into(),
                });
            }
            let m = col.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            scale.push(if m == 0.0 { 1.0 } else { m });
        }
        Ok(Box::new(FittedMaxAbs {
            names: names.to_vec(),
            scale,
        }))
    }
}

impl FittedTransformer for FittedMaxAbs {
    fn kind(&self) -> &str {
        "max_abs_scaler"
    }
    fn output_names(&self) -> Vec<String> {
        self.names.clone()
    }
    fn input_width(&self) -> usize {
        self.scale.len()
    }
    fn transform_batch(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, FeatureError> {
        let mut out = x.to_owned();
        for (mut col, s) in out.axis_iter_mut(Axis(1)).zip(&self.scale) {
            col.mapv_inplace(|v| v / s);
        }
        Ok(out)
    }
    fn transform_row(&self, input: &[f64], out: &mut Vec<f64>) -> Result<(), FeatureError> {
        // The same division as the batch path, so both give the same bits.
        out.extend(input.iter().zip(&self.scale).map(|(v, s)| v / s));
        Ok(())
    }
    fn state(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

// ---------------------------------------------------------------------------------------
// 3. A model kind: the class of the nearest class centroid (NearestCentroid).

/// Hyper-parameters of `nearest_centroid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearestCentroid {
    /// `euclidean` (centroids are class means) or `manhattan` (class medians), as in
    /// scikit-learn.
    #[serde(default = "euclidean")]
    pub metric: String,
}

fn euclidean() -> String {
    "euclidean".into()
}

/// A fitted `nearest_centroid`: one centroid per class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CentroidModel {
    params: NearestCentroid,
    classes: Vec<i64>,
    centroids: Vec<Vec<f64>>,
    #[serde(skip)]
    fs: Option<mlpipe::core::FeatureSetId>,
    #[serde(skip)]
    names: Vec<String>,
}

impl NearestCentroid {
    fn checked(self) -> Result<Self, ModelError> {
        match self.metric.as_str() {
            "euclidean" | "manhattan" => Ok(self),
            other => Err(ModelError::Params {
                kind: "nearest_centroid".into(),
                reason: format!("metric must be `euclidean` or `manhattan`, not `{other}`"),
            }),
        }
    }
}

impl Trainer for NearestCentroid {
    fn kind(&self) -> &str {
        "nearest_centroid"
    }
    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>, ModelError> {
        check_training("nearest_centroid", data)?;
        let (classes, idx) = classes_of("nearest_centroid", data.y)?;
        let mut centroids = Vec::with_capacity(classes.len());
        for c in 0..classes.len() {
            let rows: Vec<usize> = (0..idx.len()).filter(|&i| idx[i] == c).collect();
            let members = data.x.select(Axis(0), &rows);
            let centre: Vec<f64> = members
                .axis_iter(Axis(1))
                .map(|col| {
                    let mut v = col.to_vec();
                    if self.metric == "manhattan" {
                        v.sort_by(f64::total_cmp);
                        let n = v.len();
                        if n % 2 == 1 {
                            v[n / 2]
                        } else {
                            (v[n / 2 - 1] + v[n / 2]) / 2.0
                        }
                    } else {
                        v.iter().sum::<f64>() / n_of(&v)
                    }
                })
                .collect();
            centroids.push(centre);
        }
        Ok(Box::new(CentroidModel {
            params: self.clone(),
            classes,
            centroids,
            fs: Some(data.feature_set_id.clone()),
            names: data.feature_names.to_vec(),
        }))
    }
}

fn n_of(v: &[f64]) -> f64 {
    v.len().max(1) as f64
}

impl CentroidModel {
    fn classify(&self, x: &[f64]) -> Score {
        let manhattan = self.params.metric == "manhattan";
        let distance = |c: &[f64]| -> f64 {
            let d = x.iter().zip(c).map(|(a, b)| {
                if manhattan {
                    (a - b).abs()
                } else {
                    (a - b) * (a - b)
                }
            });
            d.sum()
        };
        let mut best = (f64::INFINITY, 0);
        for (i, c) in self.centroids.iter().enumerate() {
            let d = distance(c);
            if d < best.0 {
                best = (d, i);
            }
        }
        Score::Class {
            label: self.classes[best.1],
        }
    }

    /// Rebuilds the model from its artefact (what the model cache and serving call).
    pub fn from_artefact(a: &ModelArtefact) -> Result<Self, ModelError> {
        let mut m: CentroidModel = a.learned_as()?;
        m.params = m.params.checked()?;
        let width = a.input_schema.len();
        if m.centroids.is_empty() || m.centroids.iter().any(|c| c.len() != width) {
            return Err(ModelError::Artefact(format!(
                "nearest_centroid: every centroid needs {width} values, one per input feature"
            )));
        }
        if m.classes.len() != m.centroids.len() {
            return Err(ModelError::Artefact(
                "nearest_centroid: one class per centroid".into(),
            ));
        }
        m.fs = Some(a.feature_set_id.clone());
        m.names = a.input_schema.clone();
        Ok(m)
    }
}

impl Model for CentroidModel {
    fn kind(&self) -> &str {
        "nearest_centroid"
    }
    fn n_features(&self) -> usize {
        self.centroids.first().map_or(0, Vec::len)
    }
    fn predict_batch(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Score>, ModelError> {
        check_width(self.n_features(), x.ncols())?;
        Ok(x.axis_iter(Axis(0))
            .map(|r| self.classify(&r.to_vec()))
            .collect())
    }
    fn predict_row(&self, x: &[f64]) -> Result<Score, ModelError> {
        check_width(self.n_features(), x.len())?;
        Ok(self.classify(x))
    }
    fn artefact(&self) -> Result<ModelArtefact, ModelError> {
        let fs = self
            .fs
            .clone()
            .ok_or_else(|| ModelError::Artefact("the model has no feature set".into()))?;
        ModelArtefact::with_state(
            "nearest_centroid",
            fs,
            self.names.clone(),
            self.params.params(),
            self,
        )
    }
}

// ---------------------------------------------------------------------------------------
// 4. A split strategy: every `every`-th row (0, n, 2n, …) is held out for evaluation.

/// The `every_nth` split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EveryNth {
    /// One row in `every` is held out (at least 2).
    pub every: u32,
}

impl SplitStrategy for EveryNth {
    fn name(&self) -> &str {
        "every_nth"
    }
    fn params(&self) -> serde_json::Value {
        serde_json::json!({ "every": self.every })
    }
    fn train_ratio(&self) -> Option<f64> {
        Some(1.0 - 1.0 / f64::from(self.every.max(1)))
    }
    fn split(&self, input: &SplitInput<'_>) -> mlpipe::split::Result<SplitIndices> {
        if self.every < 2 {
            return Err(mlpipe::split::SplitError::InvalidParameter(format!(
                "every_nth: `every` must be at least 2, got {}",
                self.every
            )));
        }
        let (test, train) = (0..input.rows as u32).partition(|i| i % self.every == 0);
        Ok(SplitIndices { train, test })
    }
}

// ---------------------------------------------------------------------------------------
// 5. An evaluator: the Matthews correlation coefficient (multi-class, as scikit-learn).

/// The `mcc` metric.
pub struct Mcc;

impl Evaluator for Mcc {
    fn name(&self) -> &str {
        "mcc"
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> mlpipe::eval::Result<f64> {
        if truth.is_empty() {
            return Err(EvalError::Empty {
                metric: "mcc".into(),
            });
        }
        if truth.len() != scores.len() {
            return Err(EvalError::Length {
                metric: "mcc".into(),
                truths: truth.len(),
                scores: scores.len(),
            });
        }
        let pred: Vec<i64> = scores
            .iter()
            .map(|s| {
                s.class().ok_or_else(|| EvalError::BadScore {
                    metric: "mcc".into(),
                    reason: format!("a {} score has no class", s.kind()),
                })
            })
            .collect::<Result<_, _>>()?;
        let truth: Vec<i64> = truth.iter().map(|t| *t as i64).collect();
        let mut classes: Vec<i64> = truth.iter().chain(&pred).copied().collect();
        classes.sort_unstable();
        classes.dedup();
        let k = classes.len();
        let at = |c: i64| classes.binary_search(&c).unwrap_or(0);
        let mut t_sum = vec![0.0; k];
        let mut p_sum = vec![0.0; k];
        let mut correct = 0.0;
        for (t, p) in truth.iter().zip(&pred) {
            t_sum[at(*t)] += 1.0;
            p_sum[at(*p)] += 1.0;
            if t == p {
                correct += 1.0;
            }
        }
        let n = truth.len() as f64;
        let tp: f64 = t_sum.iter().zip(&p_sum).map(|(a, b)| a * b).sum();
        let cov_ytyp = correct * n - tp;
        let cov_ypyp = n * n - p_sum.iter().map(|v| v * v).sum::<f64>();
        let cov_ytyt = n * n - t_sum.iter().map(|v| v * v).sum::<f64>();
        if cov_ypyp * cov_ytyt == 0.0 {
            return Ok(0.0);
        }
        Ok(cov_ytyp / (cov_ytyt * cov_ypyp).sqrt())
    }
}

// ---------------------------------------------------------------------------------------
// Registering the five parts, once.

/// The builtin parts plus the five of this example.
pub fn builder() -> PipelineBuilder {
    let mut b = PipelineBuilder::new();
    b.steps().register_extractor(
        "ratio",
        |p| {
            Ok(Box::new(mlpipe::features::parse_params::<Ratio>(
                "ratio", p,
            )?))
        },
        |s| {
            Ok(Box::new(mlpipe::features::parse_params::<Ratio>(
                "ratio", s,
            )?))
        },
    );
    b.steps().register_transformer(
        "max_abs_scaler",
        |p| {
            Ok(Box::new(mlpipe::features::parse_params::<MaxAbsScaler>(
                "max_abs_scaler",
                p,
            )?))
        },
        |s| {
            Ok(Box::new(mlpipe::features::parse_params::<FittedMaxAbs>(
                "max_abs_scaler",
                s,
            )?))
        },
    );
    b.algorithms().register(
        "nearest_centroid",
        |p| {
            let params: NearestCentroid = mlpipe::models::parse_params("nearest_centroid", p)?;
            Ok(Box::new(params.checked()?))
        },
        |a| Ok(Box::new(CentroidModel::from_artefact(a)?)),
    );
    b.splits().register_split("every_nth", |p| {
        Ok(Box::new(parse_params::<EveryNth>("every_nth", p)?))
    });
    b.evaluators().register("mcc", || Box::new(Mcc));
    b
}

/// What a run of the example did, for the tests.
#[derive(Debug)]
pub struct Report {
    /// How the run ended.
    pub end: RunEnd,
    /// The feature names of the feature set trained on.
    pub feature_names: Vec<String>,
    /// The training rows of the split.
    pub train_rows: Vec<u32>,
    /// Rows in the feature set.
    pub rows: usize,
    /// The deployed version's stored metrics.
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// The kind of the deployed version.
    pub kind: String,
    /// The largest absolute value of any stored feature, per feature (1 after the
    /// `max_abs_scaler`, for the feature holding the largest magnitude).
    pub max_abs: Vec<f64>,
    /// Online answers for the first rows of the CSV (class, truth).
    pub answers: Vec<(Option<i64>, i64)>,
}

/// Collects what the run stored: feature names, split, metrics, the deployed kind.
pub async fn inspect(
    stores: &mlpipe::core::store::Stores,
    end: RunEnd,
) -> Result<Report, BoxError> {
    let deployed = end.deployed().ok_or("nothing was deployed")?.clone();
    let record = stores.registry.get(&deployed).await?;
    let split_id = record.training["split_id"]
        .as_str()
        .map(mlpipe::core::SplitId::new)
        .ok_or("the version records no split")?;
    let split = stores.lineage.split(&split_id).await?;
    let fs = stores.features.feature_set(&split.feature_set_id).await?;
    let table = stores.features.read(&fs.id, None).await?;
    let x = mlpipe::core::table::to_matrix(&table, &fs.feature_names)?;
    let max_abs = x
        .axis_iter(Axis(1))
        .map(|c| c.iter().fold(0.0_f64, |m, v| m.max(v.abs())))
        .collect();
    let metrics = stores
        .registry
        .evaluations(&deployed)
        .await?
        .pop()
        .map(|e| e.metrics)
        .unwrap_or_default();
    Ok(Report {
        end,
        feature_names: fs.feature_names,
        rows: split.train.len() + split.test.len(),
        train_rows: split.train,
        metrics,
        kind: record.kind,
        max_abs,
        answers: Vec::new(),
    })
}

/// The first `n` records of the CSV as raw rows (label removed) with their label.
pub async fn sample_rows(csv: &Path, n: usize) -> Result<Vec<(Row, i64)>, BoxError> {
    use mlpipe::ingest::{CsvOptions, CsvSource, Source};
    let mut src = CsvSource::new(
        csv,
        CsvOptions {
            chunk_rows: n,
            ..Default::default()
        },
    );
    let chunk = src.next_chunk().await?.ok_or("empty CSV")?;
    let mut out = Vec::new();
    for mut row in mlpipe::core::table::rows_of(&chunk.batch)?
        .into_iter()
        .take(n)
    {
        let truth = row
            .remove("target")
            .and_then(|v| v.as_f64())
            .ok_or("a row without a target")? as i64;
        out.push((row, truth));
    }
    Ok(out)
}

/// Scores rows through `router` (the feature pipeline's row path, then the model).
pub async fn answers(
    router: &mlpipe::serve::ModelRouter,
    csv: &Path,
) -> Result<Vec<(Option<i64>, i64)>, BoxError> {
    let mut out = Vec::new();
    for (row, truth) in sample_rows(csv, 20).await? {
        let r = router
            .score(mlpipe::serve::ScoreRequest {
                request_id: None,
                model: mlpipe::core::ModelId::new(DATASET),
                version: None,
                features: row,
                entity_key: None,
            })
            .await?;
        out.push((r.score.class(), truth));
    }
    Ok(out)
}

/// The source the example announces.
pub fn source(csv: &Path) -> SourceRef {
    SourceRef {
        uri: csv.display().to_string(),
        format: "csv".into(),
        options: Default::default(),
    }
}

/// Runs the whole pipeline in this process with the custom parts.
pub async fn run(config_path: &Path, data_dir: &Path, csv: &Path) -> Result<Report, BoxError> {
    let mut config = Config::load(config_path)?;
    config.data_dir = data_dir.to_path_buf();
    let pipeline = builder().start(&config).await?;
    let mut run = pipeline.follow(DATASET, source(csv)).await?;
    while let Some(outcome) = run.next().await {
        match &outcome {
            mlpipe::StageOutcome::Completed { stage, event } => {
                println!("[{stage:>8}] {}", event.topic())
            }
            mlpipe::StageOutcome::Failed { stage, reason, .. } => {
                println!("[{stage:>8}] failed: {reason}")
            }
        }
    }
    let end = run.outcome().await?;
    let mut report = inspect(&pipeline.stores, end).await?;
    report.answers = answers(&pipeline.router, csv).await?;
    pipeline.shutdown().await;
    Ok(report)
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// With arguments, this is a user's own `mlpipe` command line built with the custom
/// parts (`custom_parts worker all --config FILE`); without, it runs the example.
fn main() -> std::process::ExitCode {
    if std::env::args_os().len() > 1 {
        return mlpipe::cli::main(builder());
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let data_dir = std::env::var("MLPIPE__DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_path("mlpipe-data-custom"));
    let result = runtime.block_on(run(
        &repo_path("examples/custom_parts.toml"),
        &data_dir,
        &repo_path("data/breast_cancer.csv"),
    ));
    match result {
        Ok(r) => {
            println!("features: {}", r.feature_names.join(", "));
            println!(
                "split every_nth: {} training rows of {}",
                r.train_rows.len(),
                r.rows
            );
            println!("deployed {} with {:?}", r.kind, r.metrics);
            let right = r.answers.iter().filter(|(p, t)| *p == Some(*t)).count();
            println!("online: {right} of {} rows right", r.answers.len());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("custom_parts: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// Checks each custom part left its mark on what the run stored.
    fn check(r: &Report) {
        // The extractor's feature is in the feature set, beside the numeric columns.
        assert!(
            r.feature_names.contains(&"area_growth".to_string()),
            "{:?}",
            r.feature_names
        );
        assert_eq!(r.feature_names.len(), 31);
        // The transformer scaled every feature into [-1, 1], each reaching 1.
        assert!(
            r.max_abs.iter().all(|m| (*m - 1.0).abs() < 1e-12),
            "{:?}",
            r.max_abs
        );
        // The split's training rows are exactly the rows every_nth keeps.
        let want: Vec<u32> = (0..r.rows as u32).filter(|i| i % 5 != 0).collect();
        assert_eq!(r.rows, 569);
        assert_eq!(r.train_rows, want);
        // The custom model was trained, chosen by the custom metric, and deployed.
        assert_eq!(r.kind, "nearest_centroid");
        let mcc = r
            .metrics
            .get("mcc")
            .copied()
            .expect("the custom metric is stored");
        assert!(mcc > 0.6 && mcc <= 1.0, "mcc {mcc}");
        assert!(r.metrics["accuracy"] > 0.85, "{:?}", r.metrics);
        assert!(matches!(r.end, RunEnd::Deployed(_)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_custom_part_runs_in_the_pipeline() {
        let dir = tempfile::tempdir().unwrap();
        let csv = repo_path("data/breast_cancer.csv");
        let r = run(&repo_path("examples/custom_parts.toml"), dir.path(), &csv)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        check(&r);
        // The custom model answers online through the router, on the custom features.
        assert_eq!(r.answers.len(), 20);
        let right = r.answers.iter().filter(|(p, t)| *p == Some(*t)).count();
        assert!(right >= 16, "{right} of 20 right: {:?}", r.answers);
    }

    /// Reference values of sklearn.metrics.matthews_corrcoef (scikit-learn 1.7), computed
    /// once: ([1,1,1,0,0,0], [1,0,1,0,0,1]) → 0.3333333333333333 and
    /// ([0,1,2,0,1,2], [0,1,1,0,0,2]) → 0.5222329678670935.
    #[test]
    fn mcc_matches_scikit_learn() {
        let class =
            |v: &[i64]| -> Vec<Score> { v.iter().map(|&label| Score::Class { label }).collect() };
        let v = Mcc
            .evaluate(&[1.0, 1.0, 1.0, 0.0, 0.0, 0.0], &class(&[1, 0, 1, 0, 0, 1]))
            .unwrap();
        assert!((v - 0.333_333_333_333_333_3).abs() < 1e-12, "{v}");
        let v = Mcc
            .evaluate(&[0.0, 1.0, 2.0, 0.0, 1.0, 2.0], &class(&[0, 1, 1, 0, 0, 2]))
            .unwrap();
        assert!((v - 0.522_232_967_867_093_5).abs() < 1e-12, "{v}");
        assert!(matches!(
            Mcc.evaluate(&[], &[]),
            Err(EvalError::Empty { .. })
        ));
        assert!(matches!(
            Mcc.evaluate(&[1.0], &[Score::Value { value: 1.0 }]),
            Err(EvalError::BadScore { .. })
        ));
    }

    /// The same row through the custom extractor and transformer, batch and row path.
    #[test]
    fn custom_steps_give_the_same_bits_on_both_paths() {
        let ratio = Ratio {
            numerator: "a".into(),
            denominator: "b".into(),
            name: "r".into(),
        };
        let row: Row = [
            ("a".to_string(), mlpipe::core::Value::Float(3.0)),
            ("b".to_string(), mlpipe::core::Value::Float(7.0)),
        ]
        .into_iter()
        .collect();
        let mut out = Vec::new();
        ratio.extract_row(&row, &mut out).unwrap();
        assert_eq!(out, vec![3.0 / 7.0]);
        let x = ndarray::array![[1.0, -4.0], [0.5, 2.0], [-3.0, 0.0]];
        let fitted = MaxAbsScaler {}
            .fit(x.view(), &["p".into(), "q".into()], None)
            .unwrap();
        let batch = fitted.transform_batch(x.view()).unwrap();
        for (i, r) in x.axis_iter(Axis(0)).enumerate() {
            let mut o = Vec::new();
            fitted.transform_row(&r.to_vec(), &mut o).unwrap();
            assert_eq!(o, batch.row(i).to_vec());
        }
        assert_eq!(batch.row(2).to_vec(), vec![-1.0, 0.0]);
        // Zero denominators are a typed error, never an infinity.
        let zero: Row = [
            ("a".to_string(), mlpipe::core::Value::Float(1.0)),
            ("b".to_string(), mlpipe::core::Value::Float(0.0)),
        ]
        .into_iter()
        .collect();
        assert!(matches!(
            ratio.extract_row(&zero, &mut out),
            Err(FeatureError::BadValues { .. })
        ));
    }

    /// When this test binary is started with `MLPIPE_CUSTOM_PARTS_CLI` set, it is the
    /// user's command line: the arguments in that variable, with the custom parts.
    #[test]
    fn cli_child() {
        let Ok(args) = std::env::var("MLPIPE_CUSTOM_PARTS_CLI") else {
            return;
        };
        let argv = std::iter::once("custom_parts".to_string())
            .chain(args.split('\u{1f}').map(str::to_string));
        let code = mlpipe::cli::main_from(builder(), argv);
        assert_eq!(code, std::process::ExitCode::SUCCESS);
    }

    /// The same configuration through `worker all` of a user binary built on the CLI
    /// function (this program, started as its own process), on NATS with SQLite and
    /// Parquet files shared with this test, which announces the source and follows the
    /// run over the broker.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_custom_part_runs_in_a_worker_process() {
        let Ok(nats) = std::env::var("MLPIPE_TEST_NATS_URL") else {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED every_custom_part_runs_in_a_worker_process: set MLPIPE_TEST_NATS_URL (e.g. nats://127.0.0.1:4222) to run it"
            );
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let prefix = mlpipe::core::testkit::unique("parts");
        let base = std::fs::read_to_string(repo_path("examples/custom_parts.toml")).unwrap();
        let text = base.replace(
            "data_dir = \"mlpipe-data-custom\"",
            &format!(
                "data_dir = \"{}\"\n\n[backends]\nbroker_url = \"{nats}?prefix={prefix}\"\n\n[broker]\nack_wait_ms = 10000\nbackoff_ms = [200, 500]\n\n[log]\nfilter = \"warn\"",
                dir.path().display()
            ),
        );
        let config_path = dir.path().join("mlpipe.toml");
        std::fs::write(&config_path, &text).unwrap();
        let config = Config::from_toml_str(&text, std::iter::empty()).unwrap();

        let log = std::fs::File::create(dir.path().join("worker.log")).unwrap();
        let args = [
            "worker",
            "all",
            "--config",
            &config_path.display().to_string(),
        ]
        .join("\u{1f}");
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tests::cli_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("MLPIPE_CUSTOM_PARTS_CLI", args)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The test harness writes `test tests::cli_child ... ` before it.
                if line.contains("ready ingest,") {
                    let _ = tx.send(line);
                }
            }
        });
        let worker_log =
            || std::fs::read_to_string(dir.path().join("worker.log")).unwrap_or_default();
        let ready = rx.recv_timeout(Duration::from_secs(60));
        assert!(ready.is_ok(), "the worker did not start:\n{}", worker_log());

        // This process runs no stage: it announces and follows over NATS.
        let services = builder().assemble(&config).await.unwrap();
        let runs = mlpipe::Runs::start(services.broker.clone()).await.unwrap();
        let csv = repo_path("data/breast_cancer.csv");
        let started = Instant::now();
        let handle = runs
            .announce(&services.config, DATASET, source(&csv))
            .await
            .unwrap();
        let end = tokio::time::timeout(Duration::from_secs(240), handle.outcome())
            .await
            .unwrap_or_else(|_| panic!("no outcome in 240 s; worker log:\n{}", worker_log()))
            .unwrap_or_else(|e| panic!("{e}; worker log:\n{}", worker_log()));
        eprintln!(
            "worker run ended in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let mut report = inspect(&services.stores, end).await.unwrap();
        // The model the worker deployed loads here too, custom kind and custom steps.
        let router =
            mlpipe::serve::ModelRouter::new(services.stores.clone(), services.cache.clone(), None);
        report.answers = answers(&router, &csv).await.unwrap();
        check(&report);
        let right = report
            .answers
            .iter()
            .filter(|(p, t)| *p == Some(*t))
            .count();
        assert!(right >= 16, "{right} of 20 right");

        // SIGTERM: the worker finishes and exits cleanly.
        let term = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        let status = child.wait().unwrap();
        assert!(status.success(), "worker exit {status}:\n{}", worker_log());
        runs.shutdown().await;
        let b = mlpipe::nats::NatsBroker::connect_url(&format!("{nats}?prefix={prefix}"))
            .await
            .unwrap();
        let _ = b.delete_streams().await;
    }
}
