//! Online scoring over HTTP: the Open Inference Protocol v2 (KServe "v2", also spoken by
//! Triton and Seldon MLServer), so their clients work against mlpipe unchanged.
//!
//! | route | answer |
//! |---|---|
//! | `GET /v2/health/live`, `GET /v2/health/ready` | 200 |
//! | `GET /v2` | server metadata |
//! | `GET /v2/models/{name}[/versions/{v}]` | inputs (the raw fields, `-1` batch dimension) and outputs |
//! | `GET /v2/models/{name}[/versions/{v}]/ready` | 200 when live, 404 otherwise |
//! | `POST /v2/models/{name}[/versions/{v}]/infer` | `predict` and, for classifiers, `predict_proba` `[n, classes]` |
//!
//! A request runs the version's fitted feature pipeline row path and its model, the code
//! batch scoring runs. The response's `parameters.answered_by` names the version that
//! answered each row.

pub mod metadata;
pub mod oip;
mod server;

pub use server::{app, ApiError, ScoringServer, ServeConfig, ServerState};
