//! Model metadata as the Open Inference Protocol states it: the raw fields a version's
//! feature pipeline reads (taken from the schema of the raw batch its feature set was
//! fitted on, label left out) and the outputs its scores give.

use super::oip::{ModelMetadata, TensorMetadata};
use crate::error::{Result, ServeError};
use crate::loaded::LoadedModel;
use arrow_schema::DataType;
use mlpipe_core::store::Stores;
use mlpipe_core::{ModelRef, Score};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

/// The OIP datatype of an Arrow type.
pub fn datatype(t: &DataType) -> &'static str {
    match t {
        DataType::Float64 => "FP64",
        DataType::Float32 => "FP32",
        DataType::Float16 => "FP16",
        DataType::Int64 | DataType::Timestamp(..) => "INT64",
        DataType::Int32 => "INT32",
        DataType::Int16 => "INT16",
        DataType::Int8 => "INT8",
        DataType::UInt64 => "UINT64",
        DataType::UInt32 => "UINT32",
        DataType::UInt16 => "UINT16",
        DataType::UInt8 => "UINT8",
        DataType::Boolean => "BOOL",
        _ => "BYTES",
    }
}

/// Inputs and outputs of one live version.
#[derive(Clone, Debug)]
pub struct VersionMetadata {
    /// The raw fields, in the order an `[n, k]` tensor gives them.
    pub inputs: Vec<TensorMetadata>,
    /// `predict` (and `predict_proba`).
    pub outputs: Vec<TensorMetadata>,
}

/// Metadata of loaded versions, computed once per version.
#[derive(Clone, Default)]
pub struct MetadataCache {
    known: Arc<RwLock<HashMap<ModelRef, Arc<VersionMetadata>>>>,
}

impl MetadataCache {
    /// The metadata of `loaded`.
    pub async fn get(&self, stores: &Stores, loaded: &LoadedModel) -> Result<Arc<VersionMetadata>> {
        if let Some(m) = self.known.read().get(&loaded.model_ref) {
            return Ok(m.clone());
        }
        let m = Arc::new(VersionMetadata {
            inputs: inputs(stores, loaded).await?,
            outputs: outputs(loaded),
        });
        self.known
            .write()
            .insert(loaded.model_ref.clone(), m.clone());
        Ok(m)
    }
}

async fn inputs(stores: &Stores, loaded: &LoadedModel) -> Result<Vec<TensorMetadata>> {
    let fs = &loaded.artefact.feature_set_id;
    let record = stores.features.feature_set(fs).await?;
    let Some(batch) = record.fitted_on.first() else {
        // A combined feature set is scored by key: its vectors are in the online store.
        let key = record.key.unwrap_or_else(|| loaded.features.key_column());
        return Ok(vec![TensorMetadata {
            name: key,
            datatype: "BYTES".into(),
            shape: vec![-1],
        }]);
    };
    let info = stores
        .raw
        .info(batch)
        .await
        .map_err(|e| ServeError::Validation {
            model: loaded.model_ref.clone(),
            reason: format!("the raw batch its feature set {fs} was fitted on cannot be read: {e}"),
        })?;
    Ok(info
        .schema
        .fields()
        .iter()
        .filter(|f| Some(f.name()) != record.label.as_ref())
        .map(|f| TensorMetadata {
            name: f.name().clone(),
            datatype: datatype(f.data_type()).into(),
            shape: vec![-1],
        })
        .collect())
}

/// What a version answers, found by scoring one all-zero feature vector (a model that
/// refuses it is declared to answer numbers).
fn outputs(loaded: &LoadedModel) -> Vec<TensorMetadata> {
    let zeros = vec![0.0; loaded.model.n_features()];
    let t = |name: &str, datatype: &str, shape: Vec<i64>| TensorMetadata {
        name: name.into(),
        datatype: datatype.into(),
        shape,
    };
    match loaded.model.predict_row(&zeros) {
        Ok(Score::Probabilities { classes, .. }) => vec![
            t("predict", "INT64", vec![-1]),
            t("predict_proba", "FP64", vec![-1, classes.len() as i64]),
        ],
        Ok(Score::Class { .. }) | Ok(Score::Cluster { .. }) => {
            vec![t("predict", "INT64", vec![-1])]
        }
        Ok(Score::Ranked { .. }) => vec![t("predict", "BYTES", vec![-1])],
        _ => vec![t("predict", "FP64", vec![-1])],
    }
}

/// The metadata document of a model line: its live versions and one version's tensors.
pub fn document(name: &str, versions: Vec<String>, m: &VersionMetadata) -> ModelMetadata {
    ModelMetadata {
        name: name.to_string(),
        versions,
        platform: "mlpipe".into(),
        inputs: m.inputs.clone(),
        outputs: m.outputs.clone(),
    }
}
