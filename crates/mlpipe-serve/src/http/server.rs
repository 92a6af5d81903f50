//! The HTTP server: the Open Inference Protocol v2 REST routes over the model router,
//! with its limits as tower layers — a request body limit (413), a per-request timeout
//! (504) and a concurrency limit that sheds what it cannot take (503 with
//! `Retry-After`). Every error is a JSON body `{"error": "..."}` naming what is wrong.

use super::metadata::{document, MetadataCache};
use super::oip::{self, InferRequest, InferResponse, OutputTensor};
use crate::error::ServeError;
use crate::router::{ModelRouter, ScoreRequest};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use mlpipe_core::store::Stores;
use mlpipe_core::{ModelId, ModelVersion, RequestId, Score};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;

/// Server settings (section `[serve]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Largest request body in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Longest a request may take, in milliseconds (longer: 504).
    pub timeout_ms: u64,
    /// Requests handled at once; more are shed with 503 and `Retry-After`.
    pub concurrency: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 4 << 20,
            timeout_ms: 5_000,
            concurrency: 256,
        }
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct ServerState {
    router: Arc<ModelRouter>,
    stores: Stores,
    meta: MetadataCache,
}

impl ServerState {
    /// Serving through `router`, reading metadata from `stores`.
    pub fn new(router: Arc<ModelRouter>, stores: Stores) -> Self {
        Self {
            router,
            stores,
            meta: MetadataCache::default(),
        }
    }
}

/// An error response: the status and `{"error": message}`.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.1 }).to_string();
        let mut r = (self.0, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.0 == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}

impl From<ServeError> for ApiError {
    fn from(e: ServeError) -> Self {
        let status = match &e {
            ServeError::NotDeployed(_) | ServeError::VersionNotLive(..) => StatusCode::NOT_FOUND,
            _ if e.is_client_error() => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %e, "request failed");
        }
        ApiError(status, e.to_string())
    }
}

fn json(status: StatusCode, v: &impl Serialize) -> Response {
    match serde_json::to_vec(v) {
        Ok(body) => {
            let mut r = (status, body).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Err(e) => ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn version_of(v: Option<&str>) -> Result<Option<ModelVersion>, ApiError> {
    match v {
        None => Ok(None),
        Some(s) => s
            .trim_start_matches('v')
            .parse::<u32>()
            .map(|n| Some(ModelVersion(n)))
            .map_err(|_| {
                ApiError(
                    StatusCode::BAD_REQUEST,
                    format!("version `{s}` is not a version number (e.g. 3 or v3)"),
                )
            }),
    }
}

async fn live() -> Response {
    json(StatusCode::OK, &serde_json::json!({ "live": true }))
}

async fn ready() -> Response {
    json(StatusCode::OK, &serde_json::json!({ "ready": true }))
}

async fn server_metadata() -> Response {
    json(
        StatusCode::OK,
        &serde_json::json!({
            "name": "mlpipe",
            "version": env!("CARGO_PKG_VERSION"),
            "extensions": [],
        }),
    )
}

async fn model_metadata_at(
    s: &ServerState,
    name: &str,
    version: Option<&str>,
) -> Result<Response, ApiError> {
    let model = ModelId::new(name);
    let link = s.router.link(&model, version_of(version)?).await?;
    let meta = s.meta.get(&s.stores, &link).await?;
    let versions = match version {
        Some(_) => vec![link.model_ref.version.0.to_string()],
        None => s
            .router
            .live_versions(&model)
            .await?
            .iter()
            .map(|m| m.version.0.to_string())
            .collect(),
    };
    Ok(json(StatusCode::OK, &document(name, versions, &meta)))
}

async fn model_metadata(
    State(s): State<ServerState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    model_metadata_at(&s, &name, None).await
}

async fn version_metadata(
    State(s): State<ServerState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    model_metadata_at(&s, &name, Some(&version)).await
}

async fn model_ready_at(s: &ServerState, name: &str, version: Option<&str>) -> Response {
    let model = ModelId::new(name);
    let ok = match version_of(version) {
        Ok(v) => s.router.link(&model, v).await.is_ok(),
        Err(e) => return e.into_response(),
    };
    json(
        if ok {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        },
        &serde_json::json!({ "name": name, "ready": ok }),
    )
}

async fn model_ready(State(s): State<ServerState>, Path(name): Path<String>) -> Response {
    model_ready_at(&s, &name, None).await
}

async fn version_ready(
    State(s): State<ServerState>,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    model_ready_at(&s, &name, Some(&version)).await
}

fn predict_value(s: &Score) -> serde_json::Value {
    match s {
        Score::Class { label } => (*label).into(),
        Score::Probabilities { .. } => s.class().map(Into::into).unwrap_or_default(),
        Score::Value { value } => (*value).into(),
        Score::Cluster { cluster, .. } => (*cluster).into(),
        Score::Forecast(f) => f.mean.first().copied().map(Into::into).unwrap_or_default(),
        Score::Ranked { items } => items
            .first()
            .map(|i| serde_json::Value::String(i.item.clone()))
            .unwrap_or_default(),
    }
}

fn outputs(scores: &[Score], wanted: Option<&[oip::RequestedOutput]>) -> Vec<OutputTensor> {
    let n = scores.len() as i64;
    let wants = |name: &str| wanted.is_none_or(|w| w.iter().any(|o| o.name == name));
    let mut out = Vec::new();
    if wants("predict") {
        let datatype = match scores.first() {
            Some(Score::Value { .. }) | Some(Score::Forecast(_)) => "FP64",
            Some(Score::Ranked { .. }) => "BYTES",
            _ => "INT64",
        };
        out.push(OutputTensor {
            name: "predict".into(),
            shape: vec![n],
            datatype: datatype.into(),
            data: scores.iter().map(predict_value).collect(),
        });
    }
    let probs: Option<Vec<&Vec<f64>>> = scores
        .iter()
        .map(|s| match s {
            Score::Probabilities { probabilities, .. } => Some(probabilities),
            _ => None,
        })
        .collect();
    if let Some(p) = probs.filter(|p| !p.is_empty()) {
        let k = p[0].len();
        if wants("predict_proba") && p.iter().all(|r| r.len() == k) {
            out.push(OutputTensor {
                name: "predict_proba".into(),
                shape: vec![n, k as i64],
                datatype: "FP64".into(),
                data: p
                    .iter()
                    .flat_map(|r| r.iter().map(|v| (*v).into()))
                    .collect(),
            });
        }
    }
    out
}

async fn infer_at(
    s: &ServerState,
    name: &str,
    version: Option<&str>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| ApiError(e.status(), e.body_text()))?;
    let req: InferRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("the body is not an inference request: {e}"),
        )
    })?;
    let model = ModelId::new(name);
    let version = version_of(version)?;
    let link = s.router.link(&model, version).await?;
    let meta = s.meta.get(&s.stores, &link).await?;
    let rows = oip::rows(&req, &meta.inputs)?;
    let id = req
        .id
        .clone()
        .unwrap_or_else(|| RequestId::generate().to_string());
    let n = rows.len();
    let mut scores = Vec::with_capacity(n);
    let mut answered = Vec::with_capacity(n);
    let mut fallback = false;
    for (i, row) in rows.into_iter().enumerate() {
        let request_id = if n == 1 {
            RequestId::new(id.clone())
        } else {
            RequestId::new(format!("{id}:{i}"))
        };
        let r = s
            .router
            .score(ScoreRequest {
                request_id: Some(request_id),
                model: model.clone(),
                version,
                features: row,
                entity_key: None,
            })
            .await
            .map_err(|e| match e {
                ServeError::BadRequest(m) => ServeError::BadRequest(format!("row {i}: {m}")),
                other => other,
            })?;
        fallback |= r.fallback;
        answered.push(r.model.version.0);
        scores.push(r.score);
    }
    let first = answered
        .first()
        .copied()
        .unwrap_or(link.model_ref.version.0);
    let mut parameters = serde_json::Map::new();
    parameters.insert("answered_by".into(), answered.clone().into());
    parameters.insert("fallback".into(), fallback.into());
    let resp = InferResponse {
        model_name: name.to_string(),
        model_version: first.to_string(),
        id,
        parameters,
        outputs: outputs(&scores, req.outputs.as_deref()),
    };
    Ok(json(StatusCode::OK, &resp))
}

async fn infer(
    State(s): State<ServerState>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    infer_at(&s, &name, None, body).await
}

async fn version_infer(
    State(s): State<ServerState>,
    Path((name, version)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    infer_at(&s, &name, Some(&version), body).await
}

async fn not_found() -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        "no such route; the Open Inference Protocol routes are under /v2".into(),
    )
}

async fn overloaded_or_late(e: tower::BoxError) -> ApiError {
    if e.is::<tower::load_shed::error::Overloaded>() {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is at its concurrency limit; retry shortly".into(),
        )
    } else if e.is::<tower::timeout::error::Elapsed>() {
        ApiError(
            StatusCode::GATEWAY_TIMEOUT,
            "the request took longer than the server's timeout".into(),
        )
    } else {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

/// The application: routes and layers.
pub fn app(state: ServerState, config: &ServeConfig) -> Router {
    let limits = ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(
            overloaded_or_late,
        ))
        .load_shed()
        .concurrency_limit(config.concurrency.max(1))
        .timeout(Duration::from_millis(config.timeout_ms.max(1)));
    Router::new()
        .route("/v2/health/live", get(live))
        .route("/v2/health/ready", get(ready))
        .route("/v2", get(server_metadata))
        .route("/v2/models/{name}", get(model_metadata))
        .route("/v2/models/{name}/ready", get(model_ready))
        .route("/v2/models/{name}/infer", post(infer))
        .route(
            "/v2/models/{name}/versions/{version}",
            get(version_metadata),
        )
        .route(
            "/v2/models/{name}/versions/{version}/ready",
            get(version_ready),
        )
        .route(
            "/v2/models/{name}/versions/{version}/infer",
            post(version_infer),
        )
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(limits)
        .with_state(state)
}

/// A running server.
pub struct ScoringServer {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl ScoringServer {
    /// Binds `config.addr` (port 0 picks a free one) and serves `state`.
    pub async fn start(state: ServerState, config: &ServeConfig) -> crate::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|e| {
                ServeError::BadRequest(format!("cannot listen on {}: {e}", config.addr))
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServeError::BadRequest(format!("no local address: {e}")))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = app(state, config);
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        tracing::info!(%addr, "serving the Open Inference Protocol v2");
        Ok(Self { addr, stop, task })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops taking connections, finishes the requests in flight, and waits.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
