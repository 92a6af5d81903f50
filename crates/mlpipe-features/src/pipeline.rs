//! [`FeaturePipeline`]: an ordered chain of extract → transform → select steps, fitted
//! into an immutable, serialisable [`FittedPipeline`] whose [`FeatureSetId`] is a content
//! hash of its definition and fitted state.

use crate::error::{FeatureError, Result};
use crate::registry::{StepRegistry, StepSpec};
use crate::step::{FittedExtractor, FittedTransformer};
use arrow_array::{ArrayRef, Float64Array, StringArray};
use arrow_schema::{DataType, Field, Schema};
use mlpipe_core::table::{column_names, column_to_f64, concat, value_at};
use mlpipe_core::{FeatureSetId, RecordBatch, Row, Value};
use ndarray::{concatenate, Array1, Array2, Axis};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Name of the key column in feature tables when the pipeline has no key column.
pub const ROW_KEY: &str = "__key";

/// What a feature pipeline does, as written in configuration (section `[features]` or
/// per dataset).
///
/// ```toml
/// label = "target"
/// extract = [{ kind = "numeric" }]
/// transform = [{ kind = "standard_scaler" }]
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PipelineDef {
    /// Label column, carried beside the features (never a feature itself).
    pub label: Option<String>,
    /// Entity key column (never a feature); rows are keyed `row-<n>` without one.
    pub key: Option<String>,
    /// Extraction steps; none means `numeric` over every numeric column.
    #[serde(default)]
    pub extract: Vec<StepSpec>,
    /// Transformation steps, in order.
    #[serde(default)]
    pub transform: Vec<StepSpec>,
    /// Optional selection strategy, applied last.
    pub select: Option<StepSpec>,
    /// Fit every step on the training part of this split only, then transform every row:
    /// statistics, categories and selections never see the evaluation rows (no leakage
    /// into evaluation). The rows are the ones the segregation API gives training under
    /// the same split, so training must use this split (the trainer refuses another).
    ///
    /// ```toml
    /// fit_split = { strategy = "stratified", train_ratio = 0.8, seed = 7 }
    /// ```
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_split: Option<mlpipe_split::SplitConfig>,
}

/// A definition bound to the registry that knows its steps.
#[derive(Clone)]
pub struct FeaturePipeline {
    def: PipelineDef,
    registry: Arc<StepRegistry>,
    splits: Arc<mlpipe_split::SplitRegistry>,
}

#[derive(Serialize, Deserialize)]
struct FittedStep {
    kind: String,
    state: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
struct FittedSpec {
    definition: PipelineDef,
    extractors: Vec<FittedStep>,
    transforms: Vec<FittedStep>,
}

impl FeaturePipeline {
    /// A pipeline of `def`, with steps from `registry`.
    pub fn new(def: PipelineDef, registry: Arc<StepRegistry>) -> Self {
        Self {
            def,
            registry,
            splits: Arc::new(mlpipe_split::SplitRegistry::builtin()),
        }
    }

    /// The split strategies `fit_split` is built from (default: the built-ins).
    pub fn with_splits(mut self, splits: Arc<mlpipe_split::SplitRegistry>) -> Self {
        self.splits = splits;
        self
    }

    /// The definition.
    pub fn definition(&self) -> &PipelineDef {
        &self.def
    }

    fn extract_specs(&self) -> Vec<StepSpec> {
        let reserved: Vec<String> = self
            .def
            .label
            .iter()
            .chain(self.def.key.iter())
            .cloned()
            .collect();
        let specs = if self.def.extract.is_empty() {
            vec![StepSpec::new("numeric")]
        } else {
            self.def.extract.clone()
        };
        specs
            .into_iter()
            .map(|mut s| {
                if s.kind == "numeric" && !s.params.contains_key("columns") {
                    s.params
                        .insert("exclude".into(), serde_json::json!(reserved));
                }
                s
            })
            .collect()
    }

    /// The rows of `data` in the training part of `split`.
    fn training_rows(
        &self,
        split: &mlpipe_split::SplitConfig,
        data: &RecordBatch,
    ) -> Result<RecordBatch> {
        // Training later splits the stored feature table, which keeps only the key, the
        // label and the features: the split may read no other column, or the two splits
        // would differ.
        let refuse = |what: &str| Err(FeatureError::Definition(format!("fit_split: {what}")));
        if split.label_column.is_some() && split.label_column != self.def.label {
            return refuse("`label_column` must be the pipeline's label (or left out)");
        }
        if split.time_column.is_some() {
            return refuse(
                "a time column is not kept in the feature table, so training could not \
                 split it the same way; on time-ordered rows use `sequential`",
            );
        }
        if split.group_column.is_some() && split.group_column != self.def.key {
            return refuse(
                "`group_column` must be the pipeline's key: no other column is kept in \
                 the feature table for training to split it the same way",
            );
        }
        let s = split
            .split_table(
                &self.splits,
                std::slice::from_ref(data),
                self.def.label.as_deref(),
            )
            .map_err(|e| FeatureError::Definition(format!("fit_split: {e}")))?;
        let rows = arrow_array::UInt32Array::from(s.train);
        Ok(arrow_select::take::take_record_batch(data, &rows).map_err(mlpipe_core::Error::from)?)
    }

    /// Fits every step on `raw`, in order (on the training part of `fit_split` only,
    /// when the definition has one), and returns the fitted pipeline.
    pub fn fit(&self, raw: &[RecordBatch]) -> Result<FittedPipeline> {
        let data = if raw.is_empty() {
            return Err(FeatureError::EmptyData {
                step: "pipeline".into(),
            });
        } else {
            concat(raw)?
        };
        if data.num_rows() == 0 {
            return Err(FeatureError::EmptyData {
                step: "pipeline".into(),
            });
        }
        let data = match &self.def.fit_split {
            Some(split) => self.training_rows(split, &data)?,
            None => data,
        };
        let labels = match &self.def.label {
            Some(l) => Some(label_values(&data, l)?),
            None => None,
        };
        let mut extractors = Vec::new();
        for spec in self.extract_specs() {
            extractors.push(
                self.registry
                    .extractor(&spec)?
                    .fit(std::slice::from_ref(&data))?,
            );
        }
        let mut x = extract_all(&extractors, &data)?;
        let mut names: Vec<String> = extractors.iter().flat_map(|e| e.output_names()).collect();
        let mut transforms: Vec<Box<dyn FittedTransformer>> = Vec::new();
        for spec in &self.def.transform {
            let t = self.registry.transformer(spec)?.fit(
                x.view(),
                &names,
                labels.as_ref().map(|y| y.view()),
            )?;
            x = t.transform_batch(x.view())?;
            names = t.output_names();
            transforms.push(t);
        }
        if let Some(spec) = &self.def.select {
            let sel = self.registry.selector(spec)?;
            let chosen = sel.select(x.view(), &names, labels.as_ref().map(|y| y.view()))?;
            transforms.push(Box::new(crate::builtin::select::ColumnSubset {
                selector: spec.kind.clone(),
                input: names.clone(),
                kept: chosen.kept,
                scores: chosen.scores,
            }));
        }
        FittedPipeline::assemble(self.def.clone(), extractors, transforms)
    }
}

fn label_values(data: &RecordBatch, label: &str) -> Result<Array1<f64>> {
    let col = data
        .column_by_name(label)
        .ok_or_else(|| FeatureError::MissingColumn {
            column: label.to_string(),
            available: column_names(data).join(", "),
        })?;
    let y = column_to_f64(col.as_ref()).map_err(|_| {
        FeatureError::Label(format!(
            "label `{label}` must be numeric (class numbers or values), found {}",
            col.data_type()
        ))
    })?;
    Ok(Array1::from(y))
}

fn extract_all(extractors: &[Box<dyn FittedExtractor>], data: &RecordBatch) -> Result<Array2<f64>> {
    let parts: Vec<Array2<f64>> = extractors
        .iter()
        .map(|e| e.extract_batch(data))
        .collect::<Result<_>>()?;
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    concatenate(Axis(1), &views).map_err(|e| FeatureError::Shape(e.to_string()))
}

/// A fitted, immutable feature pipeline: the one definition of features for training,
/// batch scoring and online scoring.
pub struct FittedPipeline {
    def: PipelineDef,
    extractors: Vec<Box<dyn FittedExtractor>>,
    transforms: Vec<Box<dyn FittedTransformer>>,
    names: Vec<String>,
    id: FeatureSetId,
    json: serde_json::Value,
}

impl std::fmt::Debug for FittedPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FittedPipeline")
            .field("id", &self.id)
            .field("features", &self.names)
            .finish()
    }
}

impl FittedPipeline {
    fn assemble(
        def: PipelineDef,
        extractors: Vec<Box<dyn FittedExtractor>>,
        transforms: Vec<Box<dyn FittedTransformer>>,
    ) -> Result<Self> {
        let mut names: Vec<String> = extractors.iter().flat_map(|e| e.output_names()).collect();
        for t in &transforms {
            if t.input_width() != names.len() {
                return Err(FeatureError::Shape(format!(
                    "step {} expects {} columns but the step before it gives {}",
                    t.kind(),
                    t.input_width(),
                    names.len()
                )));
            }
            names = t.output_names();
        }
        let spec = FittedSpec {
            definition: def.clone(),
            extractors: extractors
                .iter()
                .map(|e| FittedStep {
                    kind: e.kind().to_string(),
                    state: e.state(),
                })
                .collect(),
            transforms: transforms
                .iter()
                .map(|t| FittedStep {
                    kind: t.kind().to_string(),
                    state: t.state(),
                })
                .collect(),
        };
        let json = serde_json::to_value(&spec)
            .map_err(|e| mlpipe_core::Error::serde("fitted pipeline", e))?;
        // serde_json::Value keeps object keys sorted, so this text is canonical.
        let text = json.to_string();
        let digest = Sha256::digest(text.as_bytes());
        let id = FeatureSetId::new(format!("fs-{}", &hex::encode(digest)[..32]));
        Ok(Self {
            def,
            extractors,
            transforms,
            names,
            id,
            json,
        })
    }

    /// Rebuilds a fitted pipeline from [`FittedPipeline::to_json`] output.
    pub fn from_json(json: &serde_json::Value, registry: &StepRegistry) -> Result<Self> {
        let spec: FittedSpec = serde_json::from_value(json.clone())
            .map_err(|e| FeatureError::Definition(format!("not a fitted pipeline: {e}")))?;
        let extractors = spec
            .extractors
            .iter()
            .map(|s| registry.load_extractor(&s.kind, &s.state))
            .collect::<Result<_>>()?;
        let transforms = spec
            .transforms
            .iter()
            .map(|s| registry.load_transformer(&s.kind, &s.state))
            .collect::<Result<_>>()?;
        Self::assemble(spec.definition, extractors, transforms)
    }

    /// The content-hash id of this feature set.
    pub fn id(&self) -> &FeatureSetId {
        &self.id
    }

    /// The definition it was fitted from.
    pub fn definition(&self) -> &PipelineDef {
        &self.def
    }

    /// Output feature names, in order.
    pub fn feature_names(&self) -> &[String] {
        &self.names
    }

    /// The serialised form (definition + fitted state of every step).
    pub fn to_json(&self) -> &serde_json::Value {
        &self.json
    }

    /// Batch path: raw batch → feature matrix.
    pub fn transform_batch(&self, raw: &RecordBatch) -> Result<Array2<f64>> {
        let mut x = extract_all(&self.extractors, raw)?;
        for t in &self.transforms {
            x = t.transform_batch(x.view())?;
        }
        Ok(x)
    }

    /// Row path: one raw record → feature vector, identical to the batch path's row.
    pub fn transform_row(&self, row: &Row) -> Result<Vec<f64>> {
        let mut cur = Vec::with_capacity(self.names.len().max(8));
        for e in &self.extractors {
            e.extract_row(row, &mut cur)?;
        }
        let mut next = Vec::with_capacity(cur.len());
        for t in &self.transforms {
            t.transform_row(&cur, &mut next)?;
            std::mem::swap(&mut cur, &mut next);
        }
        Ok(cur)
    }

    /// The label values of a raw batch (when the pipeline has a label).
    pub fn labels(&self, raw: &RecordBatch) -> Result<Option<Array1<f64>>> {
        self.def
            .label
            .as_ref()
            .map(|l| label_values(raw, l))
            .transpose()
    }

    /// The entity keys of a raw batch: the key column as text, or `row-<n>`.
    pub fn keys(&self, raw: &RecordBatch) -> Result<Vec<String>> {
        match &self.def.key {
            None => Ok((0..raw.num_rows()).map(|i| format!("row-{i}")).collect()),
            Some(k) => {
                let col = raw
                    .column_by_name(k)
                    .ok_or_else(|| FeatureError::MissingColumn {
                        column: k.clone(),
                        available: column_names(raw).join(", "),
                    })?;
                (0..raw.num_rows())
                    .map(|i| Ok(key_text(&value_at(col.as_ref(), i)?)))
                    .collect()
            }
        }
    }

    /// The entity key of one record (see [`FittedPipeline::keys`]).
    pub fn row_key(&self, row: &Row) -> Option<String> {
        self.def.key.as_ref().and_then(|k| row.get(k)).map(key_text)
    }

    /// The feature table stored offline: key column, feature columns (`Float64`), and the
    /// label column as it was in the raw data.
    pub fn feature_table(&self, raw: &RecordBatch) -> Result<RecordBatch> {
        let x = self.transform_batch(raw)?;
        let keys = self.keys(raw)?;
        let key_name = self.def.key.clone().unwrap_or_else(|| ROW_KEY.to_string());
        let mut fields = vec![Field::new(&key_name, DataType::Utf8, false)];
        let mut cols: Vec<ArrayRef> = vec![Arc::new(StringArray::from(keys))];
        for (j, n) in self.names.iter().enumerate() {
            fields.push(Field::new(n, DataType::Float64, true));
            cols.push(Arc::new(Float64Array::from(x.column(j).to_vec())));
        }
        if let Some(l) = &self.def.label {
            let col = raw
                .column_by_name(l)
                .ok_or_else(|| FeatureError::MissingColumn {
                    column: l.clone(),
                    available: column_names(raw).join(", "),
                })?;
            fields.push(Field::new(l, col.data_type().clone(), true));
            cols.push(col.clone());
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
            .map_err(|e| FeatureError::Core(e.into()))
    }

    /// The key column's name in feature tables.
    pub fn key_column(&self) -> String {
        self.def.key.clone().unwrap_or_else(|| ROW_KEY.to_string())
    }
}

fn key_text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Timestamp(t) => t.to_string(),
        Value::Null => String::new(),
    }
}
