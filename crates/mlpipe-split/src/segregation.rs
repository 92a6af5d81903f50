//! The segregation API that training and evaluation call: a feature set, a strategy and
//! its parameters in; the training subset with labels and the evaluation subset with or
//! without labels out, plus warnings. Every split is recorded and linked in lineage, and
//! asking again with the same parameters returns the same split.

use crate::error::{Result, SplitError};
use crate::strategy::{SplitIndices, SplitInput, SplitStrategy};
use crate::warnings::{assess, SplitWarning, WarningPolicy};
use mlpipe_core::store::*;
use mlpipe_core::table::{column_values, to_matrix};
use mlpipe_core::{BatchId, FeatureSetId, SplitId};
use ndarray::{Array1, Array2, Axis};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Features with labels (training, or evaluation with labels).
#[derive(Clone, Debug)]
pub struct LabeledSet {
    /// Feature set the columns come from.
    pub feature_set_id: FeatureSetId,
    /// The split the rows come from.
    pub split_id: SplitId,
    /// Column names.
    pub feature_names: Vec<String>,
    /// Rows × features.
    pub x: Array2<f64>,
    /// One label per row.
    pub y: Array1<f64>,
    /// Entity key per row.
    pub keys: Vec<String>,
    /// Row indices into the split's concatenated features.
    pub rows: Vec<u32>,
}

/// Features without labels: what a model sees when it is evaluated blind or scored.
/// There is no label field to read by mistake.
#[derive(Clone, Debug)]
pub struct UnlabeledSet {
    /// Feature set the columns come from.
    pub feature_set_id: FeatureSetId,
    /// The split the rows come from.
    pub split_id: SplitId,
    /// Column names.
    pub feature_names: Vec<String>,
    /// Rows × features.
    pub x: Array2<f64>,
    /// Entity key per row.
    pub keys: Vec<String>,
    /// Row indices into the split's concatenated features.
    pub rows: Vec<u32>,
}

/// A split and its data, as returned by [`SegregationApi::split`].
#[derive(Clone, Debug)]
pub struct Segregated {
    /// The recorded split.
    pub record: SplitRecord,
    /// What is uneven about it.
    pub warnings: Vec<SplitWarning>,
    data: Arc<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    names: Vec<String>,
    x: Array2<f64>,
    y: Option<Array1<f64>>,
    keys: Vec<String>,
}

impl Segregated {
    /// The split's id.
    pub fn id(&self) -> &SplitId {
        &self.record.id
    }

    fn labeled(&self, rows: &[u32]) -> Result<LabeledSet> {
        let y = self
            .data
            .y
            .as_ref()
            .ok_or_else(|| SplitError::NeedsLabels("labeled subset".into()))?;
        let idx: Vec<usize> = rows.iter().map(|&i| i as usize).collect();
        Ok(LabeledSet {
            feature_set_id: self.record.feature_set_id.clone(),
            split_id: self.record.id.clone(),
            feature_names: self.data.names.clone(),
            x: self.data.x.select(Axis(0), &idx),
            y: y.select(Axis(0), &idx),
            keys: idx.iter().map(|&i| self.data.keys[i].clone()).collect(),
            rows: rows.to_vec(),
        })
    }

    /// The training subset with labels.
    pub fn training(&self) -> Result<LabeledSet> {
        self.labeled(&self.record.train)
    }

    /// The evaluation subset with labels.
    pub fn evaluation(&self) -> Result<LabeledSet> {
        self.labeled(&self.record.test)
    }

    /// The evaluation subset without labels.
    pub fn evaluation_unlabeled(&self) -> UnlabeledSet {
        let idx: Vec<usize> = self.record.test.iter().map(|&i| i as usize).collect();
        UnlabeledSet {
            feature_set_id: self.record.feature_set_id.clone(),
            split_id: self.record.id.clone(),
            feature_names: self.data.names.clone(),
            x: self.data.x.select(Axis(0), &idx),
            keys: idx.iter().map(|&i| self.data.keys[i].clone()).collect(),
            rows: self.record.test.clone(),
        }
    }
}

/// The segregation API.
#[derive(Clone)]
pub struct SegregationApi {
    features: Arc<dyn FeatureStore>,
    lineage: Arc<dyn LineageStore>,
    policy: WarningPolicy,
}

impl SegregationApi {
    /// An API over the feature store, recording splits in the lineage store.
    pub fn new(features: Arc<dyn FeatureStore>, lineage: Arc<dyn LineageStore>) -> Self {
        Self {
            features,
            lineage,
            policy: WarningPolicy::default(),
        }
    }

    /// Changes the warning thresholds.
    pub fn with_policy(mut self, policy: WarningPolicy) -> Self {
        self.policy = policy;
        self
    }

    async fn load(&self, fs: &FeatureSetId, batches: &[BatchId]) -> Result<Loaded> {
        let rec = self.features.feature_set(fs).await?;
        let data = self.features.read(fs, Some(batches)).await?;
        if mlpipe_core::table::num_rows(&data) == 0 {
            return Err(SplitError::NoRows);
        }
        let x = to_matrix(&data, &rec.feature_names)?;
        let y = match &rec.label {
            Some(l) => Some(Array1::from(column_values(&data, l)?)),
            None => None,
        };
        let keys = match &rec.key {
            Some(k) => {
                let mut out = Vec::new();
                for b in &data {
                    let col = b.column_by_name(k).ok_or_else(|| {
                        SplitError::Label(format!("key column `{k}` is not in the features"))
                    })?;
                    for i in 0..b.num_rows() {
                        out.push(match mlpipe_core::table::value_at(col.as_ref(), i)? {
                            mlpipe_core::Value::Str(s) => s,
                            v => format!("{v:?}"),
                        });
                    }
                }
                out
            }
            None => (0..x.nrows()).map(|i| format!("row-{i}")).collect(),
        };
        Ok(Loaded {
            names: rec.feature_names,
            x,
            y,
            keys,
        })
    }

    /// Splits the features of `fs` (of the given raw batches, or all of them) with
    /// `strategy`, records the split and returns it with its data and warnings.
    pub async fn split(
        &self,
        fs: &FeatureSetId,
        batches: Option<&[BatchId]>,
        strategy: &dyn SplitStrategy,
    ) -> Result<Segregated> {
        let batch_ids = match batches {
            Some(b) => b.to_vec(),
            None => self.features.batches(fs).await?,
        };
        let data = self.load(fs, &batch_ids).await?;
        let params = strategy.params();
        let id = split_id(fs, &batch_ids, strategy.name(), &params);
        let input = SplitInput {
            rows: data.x.nrows(),
            labels: data.y.as_ref().and_then(|y| y.as_slice()),
            times: None,
            groups: None,
        };
        let indices = match self.lineage.split(&id).await {
            Ok(existing) => SplitIndices {
                train: existing.train,
                test: existing.test,
            },
            Err(mlpipe_core::Error::NotFound { .. }) => strategy.split(&input)?,
            Err(e) => return Err(e.into()),
        };
        check_indices(&indices, input.rows)?;
        let warnings = assess(&input, &indices, strategy.train_ratio(), &self.policy);
        for w in &warnings {
            tracing::warn!(split = %id, warning = ?w, "uneven split");
        }
        let record = SplitRecord {
            id: id.clone(),
            feature_set_id: fs.clone(),
            batch_ids,
            strategy: strategy.name().to_string(),
            params,
            train: indices.train,
            test: indices.test,
            created_at: chrono::Utc::now(),
        };
        self.lineage.put_split(record.clone()).await?;
        self.lineage
            .link(LineageLink::new(
                Node::FeatureSet(fs.clone()),
                Node::Split(id.clone()),
                "split_of",
            ))
            .await?;
        Ok(Segregated {
            record,
            warnings,
            data: Arc::new(data),
        })
    }

    /// A recorded split by id, with its data.
    pub async fn get(&self, id: &SplitId) -> Result<Segregated> {
        let record = self.lineage.split(id).await?;
        let data = self.load(&record.feature_set_id, &record.batch_ids).await?;
        let input = SplitInput {
            rows: data.x.nrows(),
            labels: data.y.as_ref().and_then(|y| y.as_slice()),
            times: None,
            groups: None,
        };
        let indices = SplitIndices {
            train: record.train.clone(),
            test: record.test.clone(),
        };
        check_indices(&indices, input.rows)?;
        let warnings = assess(&input, &indices, None, &self.policy);
        Ok(Segregated {
            record,
            warnings,
            data: Arc::new(data),
        })
    }
}

fn check_indices(s: &SplitIndices, rows: usize) -> Result<()> {
    let mut seen = vec![false; rows];
    for &i in s.train.iter().chain(&s.test) {
        let slot = seen.get_mut(i as usize).ok_or_else(|| {
            SplitError::InvalidParameter(format!("row {i} is out of range for {rows} rows"))
        })?;
        if *slot {
            return Err(SplitError::InvalidParameter(format!(
                "row {i} is in the split twice (subsets must be disjoint)"
            )));
        }
        *slot = true;
    }
    Ok(())
}

fn split_id(
    fs: &FeatureSetId,
    batches: &[BatchId],
    strategy: &str,
    params: &serde_json::Value,
) -> SplitId {
    let text =
        serde_json::json!({"fs": fs, "batches": batches, "strategy": strategy, "params": params})
            .to_string();
    SplitId::new(format!(
        "split-{}",
        &hex::encode(Sha256::digest(text.as_bytes()))[..32]
    ))
}
