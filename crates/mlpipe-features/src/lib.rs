//! # mlpipe-features
//!
//! Data preparation: [`Extractor`]s (raw → features), [`Transformer`]s (features →
//! features) and [`Selector`]s (features → subset), built by name from configuration
//! through the [`StepRegistry`], chained into a [`FeaturePipeline`] and fitted into an
//! immutable [`FittedPipeline`] whose [`FeatureSetId`](mlpipe_core::FeatureSetId) is a
//! content hash. Every step has a batch path and a row path that give **bit-identical**
//! results: the same definition serves training, batch scoring and online scoring.
//!
//! Built-in steps (registered by name in [`StepRegistry::builtin`], parameters as in
//! scikit-learn, pinned to scikit-learn 1.9 in `tests/sklearn.rs`):
//!
//! | kind | name | scikit-learn counterpart |
//! |---|---|---|
//! | extractor | `numeric`, `one_hot`, `ordinal`, `hashing`, `datetime` | `OneHotEncoder`, `OrdinalEncoder`, `FeatureHasher`, pandas `dt` parts |
//! | transformer | `imputer`, `standard_scaler`, `min_max_scaler`, `robust_scaler`, `log`, `power`, `clip`, `bucketize`, `polynomial` | `SimpleImputer`, `StandardScaler`, `MinMaxScaler`, `RobustScaler`, `log1p`, `PowerTransformer`, `clip`, `KBinsDiscretizer`, `PolynomialFeatures` |
//! | selector | `k_best_chi2`, `k_best_f_classif`, `variance_threshold`, `columns` | `SelectKBest(chi2 / f_classif)`, `VarianceThreshold` |
//!
//! Around the steps: the [data quality report](quality) run before fitting, the
//! [`PreparationService`] (offline features, online replication, combined feature sets
//! joined on a key — [`join`]), and [online preparation](online) of streamed records.
//!
//! ```
//! use mlpipe_core::{Row, table::rows_to_batch};
//! use mlpipe_features::{FeaturePipeline, PipelineDef, StepRegistry, StepSpec};
//! use std::sync::Arc;
//! # use arrow_schema::{Schema, Field, DataType};
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("x", DataType::Float64, true), Field::new("y", DataType::Int64, true)]));
//! let rows: Vec<Row> = (0..4).map(|i| Row::new().with("x", i as f64).with("y", i % 2)).collect();
//! let batch = rows_to_batch(&rows, schema).unwrap();
//! let def = PipelineDef { label: Some("y".into()),
//!     transform: vec![StepSpec::new("standard_scaler")], ..Default::default() };
//! let fitted = FeaturePipeline::new(def, Arc::new(StepRegistry::builtin())).fit(&[batch.clone()]).unwrap();
//! let batch_x = fitted.transform_batch(&batch).unwrap();
//! let row_x = fitted.transform_row(&rows[3]).unwrap();
//! assert_eq!(batch_x.row(3).to_vec(), row_x);
//! ```

#![forbid(unsafe_code)]

pub mod builtin;
mod combine;
mod error;
pub mod join;
pub mod online;
mod pipeline;
pub mod quality;
mod registry;
pub mod service;
pub mod stats;
mod step;
pub mod stored;

pub use builtin::params as parse_params;
pub use error::{FeatureError, Result};
pub use online::{prewarm_online, OnlinePreparer, DEFAULT_MAX_PENDING};
pub use pipeline::{FeaturePipeline, FittedPipeline, PipelineDef, ROW_KEY};
pub use quality::{quality_report, QualityReport, QualityThresholds};
pub use registry::{StepRegistry, StepSpec};
pub use service::{
    load_pipeline, CombinedFeatures, DatasetFeatures, PreparationService, PrepareConfig,
    PrepareReport,
};
pub use step::*;
pub use stored::{load_features, CombinedFeatureSet, StoredFeatures};
