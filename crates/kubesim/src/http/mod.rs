//! HTTP routing: discovery, the resource API under `/api` and `/apis`, and the simulator's
//! own control API under `/simulator/v1`, a prefix kube-apiserver never serves.

mod control;
mod events_view;
mod resources;
mod scale;
mod watch;

pub use scale::has_scale;

use crate::auth::Authorizer;
use crate::error::ApiError;
use crate::sim::Sim;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, Uri, header};
use serde_json::Value;
use std::sync::Arc;

/// State shared by every handler.
pub struct App {
    pub sim: Arc<Sim>,
    pub authorizer: Arc<dyn Authorizer>,
    /// `host:port` the server listens on, reported in `/api`.
    pub address: String,
}

pub fn json_response(code: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(bytes))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

pub fn router(app: Arc<App>) -> Router {
    Router::new().fallback(dispatch).with_state(app)
}

async fn dispatch(State(app): State<Arc<App>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    tracing::debug!(%method, %uri, "request");

    let response = match segments.as_slice() {
        ["version"] => Ok(json_response(StatusCode::OK, &crate::discovery::version())),
        ["healthz" | "readyz" | "livez"] => Ok((StatusCode::OK, "ok").into_response()),
        ["simulator", "v1", rest @ ..] => control::handle(&app, &method, rest, &body),
        ["api"] => Ok(json_response(StatusCode::OK, &crate::discovery::core_versions(&app.address))),
        ["apis"] => Ok(json_response(StatusCode::OK, &crate::discovery::group_list(&app.sim.lock().registry))),
        ["api", "v1"] => discovery_list(&app, "", "v1"),
        ["apis", group] => {
            let registry = &app.sim.lock().registry;
            crate::discovery::group(registry, group)
                .map(|g| json_response(StatusCode::OK, &g))
                .ok_or_else(|| ApiError::new(404, "NotFound", "the server could not find the requested resource"))
        }
        ["apis", group, version] => discovery_list(&app, group, version),
        ["api", "v1", rest @ ..] => resources::handle(&app, "", "v1", rest, &method, &uri, &headers, body).await,
        ["apis", group, version, rest @ ..] => resources::handle(&app, group, version, rest, &method, &uri, &headers, body).await,
        ["openapi", "v3"] => Ok(json_response(StatusCode::OK, &crate::openapi::root(&app.sim.lock().registry))),
        ["openapi", "v3", "api", version] => openapi_document(&app, "", version),
        ["openapi", "v3", "apis", group, version] => openapi_document(&app, group, version),
        ["openapi", ..] => Err(ApiError::not_implemented("OpenAPI v2 and schema documents")),
        _ => Err(ApiError::new(404, "NotFound", "the server could not find the requested resource")),
    };
    response.unwrap_or_else(|error| {
        if error.code >= 500 {
            tracing::warn!(%method, %uri, code = error.code, message = %error.message, "request failed");
        }
        error.into_response()
    })
}

fn discovery_list(app: &App, group: &str, version: &str) -> Result<Response, ApiError> {
    let registry = &app.sim.lock().registry;
    crate::discovery::resource_list(registry, group, version)
        .map(|list| json_response(StatusCode::OK, &list))
        .ok_or_else(|| ApiError::new(404, "NotFound", "the server could not find the requested resource"))
}

fn openapi_document(app: &App, group: &str, version: &str) -> Result<Response, ApiError> {
    let registry = &app.sim.lock().registry;
    crate::openapi::group_version(registry, group, version)
        .map(|doc| json_response(StatusCode::OK, &doc))
        .ok_or_else(|| ApiError::new(404, "NotFound", "the server could not find the requested resource"))
}
