//! The Open Inference Protocol (KServe "v2") REST bodies, and decoding an inference
//! request into raw rows: one tensor per raw field, or one FP64/FP32 `[n, k]` tensor whose
//! columns are the fields in the order the model metadata declares. Every malformed body
//! is a [`ServeError::BadRequest`] whose message names the tensor (and the row) at fault.

use crate::error::{Result, ServeError};
use mlpipe_core::{Row, Value};
use serde::{Deserialize, Serialize};

/// A tensor's declared element type.
pub type Datatype = String;

/// `POST /v2/models/{name}[/versions/{v}]/infer` body.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct InferRequest {
    /// Echoed in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Request parameters (passed through; not interpreted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
    /// The input tensors.
    pub inputs: Vec<InputTensor>,
    /// Requested outputs (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<RequestedOutput>>,
}

/// One input tensor.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct InputTensor {
    /// Tensor name: a raw field, or any name for the `[n, k]` form.
    pub name: String,
    /// Shape, e.g. `[3]` or `[3, 30]`.
    pub shape: Vec<i64>,
    /// `FP64`, `FP32`, `INT64`, `INT32`, `BOOL`, `BYTES`, …
    pub datatype: Datatype,
    /// Tensor parameters (not interpreted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
    /// Row-major data, flat or nested.
    pub data: serde_json::Value,
}

/// An output the client asks for.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RequestedOutput {
    /// Output name (`predict`, `predict_proba`).
    pub name: String,
}

/// The inference response.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct InferResponse {
    /// The model.
    pub model_name: String,
    /// The version that answered.
    pub model_version: String,
    /// The request's id (generated when the request had none).
    pub id: String,
    /// What mlpipe adds: which version answered each row and whether it fell back.
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// The output tensors.
    pub outputs: Vec<OutputTensor>,
}

/// One output tensor.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct OutputTensor {
    /// `predict` or `predict_proba`.
    pub name: String,
    /// Shape.
    pub shape: Vec<i64>,
    /// Element type.
    pub datatype: Datatype,
    /// Row-major data, flat.
    pub data: Vec<serde_json::Value>,
}

/// A tensor in model metadata.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct TensorMetadata {
    /// Name.
    pub name: String,
    /// Element type.
    pub datatype: Datatype,
    /// Shape, `-1` for the batch dimension.
    pub shape: Vec<i64>,
}

/// `GET /v2/models/{name}[/versions/{v}]` body.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ModelMetadata {
    /// Model name.
    pub name: String,
    /// Live versions, the default first.
    pub versions: Vec<String>,
    /// `mlpipe`.
    pub platform: String,
    /// One tensor per raw field the feature pipeline reads.
    pub inputs: Vec<TensorMetadata>,
    /// `predict`, and `predict_proba` for classifiers.
    pub outputs: Vec<TensorMetadata>,
}

fn bad(msg: String) -> ServeError {
    ServeError::BadRequest(msg)
}

/// Flattens row-major `data` (nested arrays are flattened in order).
fn flatten(name: &str, v: &serde_json::Value, out: &mut Vec<serde_json::Value>) -> Result<()> {
    match v {
        serde_json::Value::Array(items) => {
            for i in items {
                flatten(name, i, out)?;
            }
            Ok(())
        }
        serde_json::Value::Object(_) => Err(bad(format!(
            "input `{name}`: `data` holds an object; it must be a flat or nested array of values"
        ))),
        other => {
            out.push(other.clone());
            Ok(())
        }
    }
}

/// The value of one element, checked against the tensor's datatype.
fn element(name: &str, datatype: &str, i: usize, v: &serde_json::Value) -> Result<Value> {
    let wrong = |what: &str| {
        bad(format!(
            "input `{name}` element {i}: {what} is not a {datatype} value"
        ))
    };
    match datatype {
        "FP64" | "FP32" | "FP16" => v
            .as_f64()
            .map(Value::Float)
            .ok_or_else(|| wrong(&v.to_string())),
        "INT64" | "INT32" | "INT16" | "INT8" | "UINT64" | "UINT32" | "UINT16" | "UINT8" => v
            .as_i64()
            .map(Value::Int)
            .ok_or_else(|| wrong(&v.to_string())),
        "BOOL" => v
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| wrong(&v.to_string())),
        "BYTES" => match v {
            serde_json::Value::String(s) => Ok(Value::Str(s.clone())),
            other => Err(wrong(&other.to_string())),
        },
        other => Err(bad(format!(
            "input `{name}`: datatype `{other}` is not supported (FP64, FP32, FP16, INT8…INT64, UINT8…UINT64, BOOL, BYTES)"
        ))),
    }
}

fn shape_len(t: &InputTensor) -> Result<usize> {
    if t.shape.is_empty() || t.shape.iter().any(|d| *d < 0) {
        return Err(bad(format!(
            "input `{}`: shape {:?} must be one or more non-negative sizes",
            t.name, t.shape
        )));
    }
    Ok(t.shape.iter().map(|d| *d as usize).product())
}

/// Decodes the inputs into one raw row per batch element. `fields` are the raw fields the
/// model metadata declares, in order.
pub fn rows(req: &InferRequest, fields: &[TensorMetadata]) -> Result<Vec<Row>> {
    if req.inputs.is_empty() {
        return Err(bad("the request has no inputs".into()));
    }
    // One [n, k] tensor of every field, in metadata order.
    if let [t] = req.inputs.as_slice() {
        if t.shape.len() == 2 && fields.len() > 1 && !fields.iter().any(|f| f.name == t.name) {
            if !matches!(t.datatype.as_str(), "FP64" | "FP32") {
                return Err(bad(format!(
                    "input `{}`: a [n, k] tensor of every field must be FP64 or FP32, not {}",
                    t.name, t.datatype
                )));
            }
            let (n, k) = (t.shape[0].max(0) as usize, t.shape[1].max(0) as usize);
            if k != fields.len() {
                return Err(bad(format!(
                    "input `{}`: shape [{n}, {k}] has {k} columns; the model reads {} fields ({})",
                    t.name,
                    fields.len(),
                    fields
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let mut flat = Vec::with_capacity(n * k);
            flatten(&t.name, &t.data, &mut flat)?;
            if flat.len() != n * k {
                return Err(bad(format!(
                    "input `{}`: shape [{n}, {k}] needs {} values, `data` has {}",
                    t.name,
                    n * k,
                    flat.len()
                )));
            }
            let mut out = Vec::with_capacity(n);
            for r in 0..n {
                let mut row = Row::new();
                for (j, f) in fields.iter().enumerate() {
                    let v = element(&t.name, &t.datatype, r * k + j, &flat[r * k + j])?;
                    row.insert(f.name.clone(), v);
                }
                out.push(row);
            }
            return Ok(out);
        }
    }
    // One tensor per field.
    let mut n: Option<usize> = None;
    let mut columns = Vec::with_capacity(req.inputs.len());
    for t in &req.inputs {
        let len = shape_len(t)?;
        let rows_here = t.shape[0] as usize;
        if len != rows_here {
            return Err(bad(format!(
                "input `{}`: shape {:?} is not one value per row; give each field as [n] or [n, 1]",
                t.name, t.shape
            )));
        }
        match n {
            None => n = Some(rows_here),
            Some(m) if m != rows_here => {
                return Err(bad(format!(
                    "input `{}` has {rows_here} rows, the other inputs {m}",
                    t.name
                )))
            }
            Some(_) => {}
        }
        let mut flat = Vec::with_capacity(len);
        flatten(&t.name, &t.data, &mut flat)?;
        if flat.len() != len {
            return Err(bad(format!(
                "input `{}`: shape {:?} needs {len} values, `data` has {}",
                t.name,
                t.shape,
                flat.len()
            )));
        }
        let values = flat
            .iter()
            .enumerate()
            .map(|(i, v)| element(&t.name, &t.datatype, i, v))
            .collect::<Result<Vec<_>>>()?;
        columns.push((t.name.clone(), values));
    }
    for f in fields {
        if !columns.iter().any(|(c, _)| c == &f.name) {
            return Err(bad(format!(
                "input `{}` is missing: the model reads the fields {}, as one tensor each or as one [n, {}] FP64 tensor",
                f.name,
                fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", "),
                fields.len()
            )));
        }
    }
    let n = n.unwrap_or(0);
    let mut out = vec![Row::new(); n];
    for (name, values) in columns {
        for (row, v) in out.iter_mut().zip(values) {
            row.insert(name.clone(), v);
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fields() -> Vec<TensorMetadata> {
        ["a", "b"]
            .iter()
            .map(|n| TensorMetadata {
                name: n.to_string(),
                datatype: "FP64".into(),
                shape: vec![-1],
            })
            .collect()
    }

    fn req(body: serde_json::Value) -> InferRequest {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn both_layouts_give_the_same_rows() {
        let per_field = req(serde_json::json!({"inputs": [
            {"name": "a", "shape": [2], "datatype": "FP64", "data": [1.0, 2.0]},
            {"name": "b", "shape": [2, 1], "datatype": "FP64", "data": [[3.0], [4.0]]}
        ]}));
        let matrix = req(serde_json::json!({"inputs": [
            {"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [[1.0, 3.0], [2.0, 4.0]]}
        ]}));
        let a = rows(&per_field, &fields()).unwrap();
        let b = rows(&matrix, &fields()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a[1].f64("b"), Some(4.0));
    }

    #[test]
    fn mistakes_name_the_tensor() {
        let cases = [
            (
                serde_json::json!({"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [1.0]}]}),
                "`a`",
            ),
            (
                serde_json::json!({"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": ["x"]}]}),
                "`a` element 0",
            ),
            (
                serde_json::json!({"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1.0]}]}),
                "`b` is missing",
            ),
            (
                serde_json::json!({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}),
                "3 columns",
            ),
            (
                serde_json::json!({"inputs": [{"name": "a", "shape": [1], "datatype": "COMPLEX", "data": [1]}]}),
                "COMPLEX",
            ),
            (serde_json::json!({"inputs": []}), "no inputs"),
        ];
        for (body, want) in cases {
            let err = rows(&req(body.clone()), &fields()).unwrap_err().to_string();
            assert!(err.contains(want), "{body} → {err}");
        }
    }
}
