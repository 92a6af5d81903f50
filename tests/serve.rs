//! The Open Inference Protocol v2 over HTTP, with a real HTTP client against a real
//! server on loopback: health, server and model metadata, inference with one tensor per
//! field or one `[n, k]` tensor giving the probabilities the in-process router gives, and
//! every mistake a 4xx with a JSON body naming what is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mlpipe::core::events::SourceRef;
use mlpipe::core::{Config, ModelId, Row, Value};
use mlpipe::serve::{ScoreRequest, ServeConfig};
use mlpipe::PipelineBuilder;
use serde_json::{json, Value as Json};
use std::path::Path;
use std::time::Duration;

const FIELDS: [&str; 4] = [
    "sepal length (cm)",
    "sepal width (cm)",
    "petal length (cm)",
    "petal width (cm)",
];
const ROWS: [[f64; 4]; 3] = [
    [5.1, 3.5, 1.4, 0.2],
    [6.4, 3.2, 4.5, 1.5],
    [6.3, 3.3, 6.0, 2.5],
];

struct Served {
    pipeline: mlpipe::Pipeline,
    server: mlpipe::serve::ScoringServer,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn served(max_body_bytes: usize) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
data_dir = "{}"
[backends]
metadata_url = "memory://"
data_url = "memory://"
[features.datasets.iris]
label = "target"
transform = [{{ kind = "standard_scaler" }}]
[training.datasets.iris]
split = {{ strategy = "stratified", train_ratio = 0.7, seed = 1 }}
candidates = [{{ name = "logistic", kind = "logistic_regression", params = {{ C = 1.0 }} }}]
[evaluation]
metrics = ["accuracy"]
[evaluation.selection]
metric = "accuracy"
"#,
        dir.path().display()
    );
    let config = Config::from_toml_str(&text, std::iter::empty()).unwrap();
    let pipeline = PipelineBuilder::new().start(&config).await.unwrap();
    let source = SourceRef {
        uri: Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/iris.csv")
            .display()
            .to_string(),
        format: "csv".into(),
        options: Default::default(),
    };
    let end = tokio::time::timeout(Duration::from_secs(30), pipeline.run("iris", source))
        .await
        .unwrap()
        .unwrap();
    assert!(end.deployed().is_some());
    let server = pipeline
        .serve(&ServeConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            max_body_bytes,
            ..ServeConfig::default()
        })
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr());
    Served {
        pipeline,
        server,
        base,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Served {
    async fn get(&self, path: &str) -> (u16, Json) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Json::Null))
    }

    async fn post(&self, path: &str, body: String) -> (u16, Json) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Json::Null))
    }

    /// The probabilities the in-process router gives each row.
    async fn in_process(&self) -> Vec<Vec<f64>> {
        let mut out = Vec::new();
        for r in ROWS {
            let mut row = Row::new();
            for (f, v) in FIELDS.iter().zip(r) {
                row.insert(f.to_string(), Value::Float(v));
            }
            let s = self
                .pipeline
                .router
                .score(ScoreRequest {
                    request_id: None,
                    model: ModelId::new("iris"),
                    version: None,
                    features: row,
                    entity_key: None,
                })
                .await
                .unwrap();
            match s.score {
                mlpipe::core::Score::Probabilities { probabilities, .. } => out.push(probabilities),
                other => panic!("{other:?}"),
            }
        }
        out
    }
}

fn proba(resp: &Json) -> Vec<Vec<f64>> {
    let out = resp["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "predict_proba")
        .expect("predict_proba");
    assert_eq!(out["datatype"], "FP64");
    assert_eq!(out["shape"], json!([3, 3]));
    let flat: Vec<f64> = out["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    flat.chunks(3).map(<[f64]>::to_vec).collect()
}

fn close(a: &[Vec<f64>], b: &[Vec<f64>]) {
    for (x, y) in a.iter().zip(b) {
        for (p, q) in x.iter().zip(y) {
            assert!((p - q).abs() <= 1e-12, "{a:?} vs {b:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_of_the_open_inference_protocol_get_the_routers_answers() {
    let s = served(4 << 20).await;
    assert_eq!(s.get("/v2/health/live").await.0, 200);
    assert_eq!(s.get("/v2/health/ready").await.0, 200);
    let (code, meta) = s.get("/v2").await;
    assert_eq!((code, meta["name"].as_str()), (200, Some("mlpipe")));

    // Model metadata: the raw fields, label left out, -1 for the batch dimension.
    let (code, m) = s.get("/v2/models/iris").await;
    assert_eq!(code, 200, "{m}");
    let inputs: Vec<(&str, &str)> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["datatype"].as_str().unwrap()))
        .collect();
    assert_eq!(
        inputs,
        FIELDS.iter().map(|f| (*f, "FP64")).collect::<Vec<_>>()
    );
    assert!(m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["shape"] == json!([-1])));
    assert_eq!(m["versions"], json!(["1"]));
    assert_eq!(
        m["outputs"][0],
        json!({"name": "predict", "datatype": "INT64", "shape": [-1]})
    );
    assert_eq!(
        m["outputs"][1],
        json!({"name": "predict_proba", "datatype": "FP64", "shape": [-1, 3]})
    );
    assert_eq!(s.get("/v2/models/iris/ready").await.0, 200);
    assert_eq!(s.get("/v2/models/iris/versions/1/ready").await.0, 200);

    let want = s.in_process().await;
    // One tensor per field.
    let inputs: Vec<Json> = FIELDS
        .iter()
        .enumerate()
        .map(|(j, f)| json!({"name": f, "shape": [3], "datatype": "FP64", "data": ROWS.iter().map(|r| r[j]).collect::<Vec<_>>()}))
        .collect();
    let (code, r) = s
        .post(
            "/v2/models/iris/infer",
            json!({"id": "req-7", "inputs": inputs}).to_string(),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["id"], "req-7");
    assert_eq!(
        (r["model_name"].as_str(), r["model_version"].as_str()),
        (Some("iris"), Some("1"))
    );
    assert_eq!(r["parameters"]["answered_by"], json!([1, 1, 1]));
    assert_eq!(r["outputs"][0]["name"], "predict");
    assert_eq!(r["outputs"][0]["datatype"], "INT64");
    assert_eq!(r["outputs"][0]["data"], json!([0, 1, 2]));
    close(&proba(&r), &want);
    // One [n, k] tensor, nested, at a pinned version.
    let matrix =
        json!({"inputs": [{"name": "input-0", "shape": [3, 4], "datatype": "FP64", "data": ROWS}]});
    let (code, r) = s
        .post("/v2/models/iris/versions/1/infer", matrix.to_string())
        .await;
    assert_eq!(code, 200, "{r}");
    close(&proba(&r), &want);
    // Only the outputs asked for.
    let only = json!({"inputs": [{"name": "x", "shape": [3, 4], "datatype": "FP64", "data": ROWS}], "outputs": [{"name": "predict"}]});
    let (_, r) = s.post("/v2/models/iris/infer", only.to_string()).await;
    assert_eq!(r["outputs"].as_array().map(Vec::len), Some(1));

    // Served scores are in the score store under the request's id.
    s.pipeline.flush_served().await;
    let stored = s
        .pipeline
        .stores
        .scores
        .get(&mlpipe::core::RequestId::new("req-7:1"))
        .await
        .unwrap();
    let stored = stored.expect("the served score is stored");
    assert_eq!(stored.model.version.0, 1);
    s.server.shutdown().await;
    s.pipeline.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mistake_is_a_4xx_naming_what_is_wrong() {
    let s = served(2048).await;
    let field = |name: &str, datatype: &str, data: Json| json!({"name": name, "shape": [1], "datatype": datatype, "data": data});
    let all = |bad: Json| {
        let mut inputs: Vec<Json> = FIELDS[1..]
            .iter()
            .map(|f| field(f, "FP64", json!([1.0])))
            .collect();
        inputs.push(bad);
        json!({ "inputs": inputs }).to_string()
    };
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("/v2/models/nope/infer", all(field(FIELDS[0], "FP64", json!([1.0]))), 404, "nope"),
        ("/v2/models/iris/versions/9/infer", all(field(FIELDS[0], "FP64", json!([1.0]))), 404, "9"),
        ("/v2/models/iris/versions/x/infer", all(field(FIELDS[0], "FP64", json!([1.0]))), 400, "`x`"),
        ("/v2/models/iris/infer", "{\"inputs\": [".into(), 400, "not an inference request"),
        ("/v2/models/iris/infer", all(field(FIELDS[0], "FP64", json!(["wide"]))), 400, "sepal length (cm)"),
        ("/v2/models/iris/infer", all(field(FIELDS[0], "COMPLEX", json!([1.0]))), 400, "COMPLEX"),
        ("/v2/models/iris/infer", json!({"inputs": [field(FIELDS[1], "FP64", json!([1.0]))]}).to_string(), 400, "is missing"),
        ("/v2/models/iris/infer", json!({"inputs": [{"name": "m", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}).to_string(), 400, "3 columns"),
        ("/v2/models/iris/infer", "x".repeat(4096), 413, "length limit"),
    ];
    for (path, body, want, word) in cases {
        let (code, r) = s.post(path, body.clone()).await;
        let msg = r["error"].as_str().unwrap_or_default();
        assert_eq!(code, want, "{path} {} → {r}", &body[..body.len().min(80)]);
        assert!(msg.contains(word), "{path}: `{word}` not in {msg:?}");
    }
    assert_eq!(s.get("/v2/models/nope").await.0, 404);
    assert_eq!(s.get("/v2/models/nope/ready").await.0, 404);
    let (code, r) = s.get("/nowhere").await;
    assert_eq!(code, 404);
    assert!(r["error"].as_str().is_some());
    // The server still answers after all of that.
    assert_eq!(s.get("/v2/health/ready").await.0, 200);
    s.server.shutdown().await;
    s.pipeline.shutdown().await;
}
