//! The segregation API that training and evaluation call: a feature set, a strategy and
//! its parameters in; the training subset with labels and the evaluation subset with or
//! without labels out, plus warnings. Every split is recorded and linked in lineage, and
//! asking again with the same parameters returns the same split.

use crate::catalogue::SplitRegistry;
pub use crate::columns::SplitColumns;
use crate::columns::{check_indices, column_text, column_times, has_column};
use crate::error::{Result, SplitError};
use crate::folds::FoldStrategy;
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
    times: Option<Vec<i64>>,
    groups: Option<Vec<String>>,
}

impl Loaded {
    fn input(&self) -> SplitInput<'_> {
        SplitInput {
            rows: self.x.nrows(),
            labels: self.y.as_ref().and_then(|y| y.as_slice()),
            times: self.times.as_deref(),
            groups: self.groups.as_deref(),
        }
    }
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
    strategies: Arc<SplitRegistry>,
}

impl SegregationApi {
    /// An API over the feature store, recording splits in the lineage store.
    pub fn new(features: Arc<dyn FeatureStore>, lineage: Arc<dyn LineageStore>) -> Self {
        Self {
            features,
            lineage,
            policy: WarningPolicy::default(),
            strategies: Arc::new(SplitRegistry::builtin()),
        }
    }

    /// The strategies a feature set's recorded `fit_split` is rebuilt from when a split
    /// is checked against it (default: the built-ins).
    pub fn with_strategies(mut self, strategies: Arc<SplitRegistry>) -> Self {
        self.strategies = strategies;
        self
    }

    /// Changes the warning thresholds.
    pub fn with_policy(mut self, policy: WarningPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Loads the rows `strategy` (its name and parameters) will divide, after checking
    /// that doing so cannot put rows the feature set was fitted on into evaluation
    /// (`None`: a split recorded earlier, checked when it was made).
    async fn load(
        &self,
        fs: &FeatureSetId,
        batches: &[BatchId],
        columns: &SplitColumns,
        strategy: Option<(&str, serde_json::Value)>,
    ) -> Result<Loaded> {
        let rec = self.features.feature_set(fs).await?;
        if let Some((name, params)) = strategy {
            crate::table::check_fit(&self.strategies, &rec, batches, name, params, columns)?;
        }
        let data = self.features.read(fs, Some(batches)).await?;
        if mlpipe_core::table::num_rows(&data) == 0 {
            return Err(SplitError::NoRows);
        }
        let x = to_matrix(&data, &rec.feature_names)?;
        let label = columns.label.as_ref().or(rec.label.as_ref());
        let y = match label {
            Some(l) => {
                has_column(&data, l)?;
                Some(Array1::from(column_values(&data, l)?))
            }
            None => None,
        };
        let keys = match &rec.key {
            Some(k) => column_text(&data, k)?,
            None => (0..x.nrows()).map(|i| format!("row-{i}")).collect(),
        };
        let times = match &columns.time {
            Some(t) => Some(column_times(&data, t)?),
            None => None,
        };
        let groups = match &columns.group {
            Some(g) => Some(column_text(&data, g)?),
            None => None,
        };
        Ok(Loaded {
            names: rec.feature_names,
            x,
            y,
            keys,
            times,
            groups,
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
        self.split_with(fs, batches, strategy, &SplitColumns::default())
            .await
    }

    async fn batch_ids(
        &self,
        fs: &FeatureSetId,
        batches: Option<&[BatchId]>,
    ) -> Result<Vec<BatchId>> {
        Ok(match batches {
            Some(b) => b.to_vec(),
            None => self.features.batches(fs).await?,
        })
    }

    /// The batches (given, or all of `fs`) and their rows that `strategy` (its name and
    /// parameters) will divide, checked as [`load`](Self::load) checks.
    async fn load_for(
        &self,
        fs: &FeatureSetId,
        batches: Option<&[BatchId]>,
        columns: &SplitColumns,
        strategy: &str,
        params: serde_json::Value,
    ) -> Result<(Vec<BatchId>, Arc<Loaded>)> {
        let batch_ids = self.batch_ids(fs, batches).await?;
        let data = self
            .load(fs, &batch_ids, columns, Some((strategy, params)))
            .await?;
        Ok((batch_ids, Arc::new(data)))
    }

    /// Like [`split`](Self::split), with the label, time and group columns the strategy
    /// reads named in `columns`.
    pub async fn split_with(
        &self,
        fs: &FeatureSetId,
        batches: Option<&[BatchId]>,
        strategy: &dyn SplitStrategy,
        columns: &SplitColumns,
    ) -> Result<Segregated> {
        let mut params = strategy.params();
        let (batch_ids, data) = self
            .load_for(fs, batches, columns, strategy.name(), params.clone())
            .await?;
        if !columns.is_default() {
            params = serde_json::json!({"strategy": params, "columns": columns});
        }
        // The id covers the rows the strategy selects, not only its name and parameters:
        // a custom strategy whose parameters say nothing of what it picks must not reuse
        // a split recorded under the same parameters that picked other rows.
        let indices = strategy.split(&data.input())?;
        let id = split_id(fs, &batch_ids, strategy.name(), &params, &indices);
        let computed = move |_: &SplitInput<'_>| Ok(indices);
        self.record(
            fs,
            batch_ids,
            id,
            strategy.name(),
            params,
            strategy.train_ratio(),
            data,
            computed,
        )
        .await
    }

    /// Cross-validation folds of the features of `fs`: one recorded split per fold (its
    /// parameters say which fold of how many), all sharing one copy of the data.
    pub async fn folds(
        &self,
        fs: &FeatureSetId,
        batches: Option<&[BatchId]>,
        strategy: &dyn FoldStrategy,
        columns: &SplitColumns,
    ) -> Result<Vec<Segregated>> {
        let (batch_ids, data) = self
            .load_for(fs, batches, columns, strategy.name(), strategy.params())
            .await?;
        let folds = strategy.folds(&data.input())?;
        let k = folds.len();
        let mut out = Vec::with_capacity(k);
        for (i, fold) in folds.into_iter().enumerate() {
            let params = serde_json::json!({
                "strategy": strategy.params(), "columns": columns, "fold": i, "folds": k
            });
            let id = split_id(fs, &batch_ids, strategy.name(), &params, &fold);
            let ratio =
                Some(fold.train.len() as f64 / (fold.train.len() + fold.test.len()).max(1) as f64);
            let computed = move |_: &SplitInput<'_>| Ok(fold);
            out.push(
                self.record(
                    fs,
                    batch_ids.clone(),
                    id,
                    strategy.name(),
                    params,
                    ratio,
                    data.clone(),
                    computed,
                )
                .await?,
            );
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        fs: &FeatureSetId,
        batch_ids: Vec<BatchId>,
        id: SplitId,
        strategy: &str,
        params: serde_json::Value,
        ratio: Option<f64>,
        data: Arc<Loaded>,
        compute: impl FnOnce(&SplitInput<'_>) -> Result<SplitIndices>,
    ) -> Result<Segregated> {
        let input = data.input();
        let indices = match self.lineage.split(&id).await {
            Ok(existing) => SplitIndices {
                train: existing.train,
                test: existing.test,
            },
            Err(mlpipe_core::Error::NotFound { .. }) => compute(&input)?,
            Err(e) => return Err(e.into()),
        };
        check_indices(&indices, input.rows)?;
        let warnings = assess(&input, &indices, ratio, &self.policy);
        for w in &warnings {
            tracing::warn!(split = %id, warning = ?w, "uneven split");
        }
        let record = SplitRecord {
            id: id.clone(),
            feature_set_id: fs.clone(),
            batch_ids,
            strategy: strategy.to_string(),
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
            data,
        })
    }

    /// A recorded split by id, with its data.
    pub async fn get(&self, id: &SplitId) -> Result<Segregated> {
        let record = self.lineage.split(id).await?;
        let columns: SplitColumns = record
            .params
            .get("columns")
            .and_then(|c| serde_json::from_value(c.clone()).ok())
            .unwrap_or_default();
        let data = self
            .load(&record.feature_set_id, &record.batch_ids, &columns, None)
            .await?;
        let input = data.input();
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

fn split_id(
    fs: &FeatureSetId,
    batches: &[BatchId],
    strategy: &str,
    params: &serde_json::Value,
    indices: &SplitIndices,
) -> SplitId {
    let mut rows = Sha256::new();
    for (part, ix) in [(b'T', &indices.train), (b'E', &indices.test)] {
        rows.update([part]);
        rows.update((ix.len() as u64).to_le_bytes());
        for i in ix.iter() {
            rows.update(i.to_le_bytes());
        }
    }
    let rows = hex::encode(rows.finalize());
    let text = serde_json::json!({
        "fs": fs, "batches": batches, "strategy": strategy, "params": params, "rows": rows
    })
    .to_string();
    SplitId::new(format!(
        "split-{}",
        &hex::encode(Sha256::digest(text.as_bytes()))[..32]
    ))
}
