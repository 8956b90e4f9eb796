//! The emulated cloud API: routes, the gateway in front of them, and the handlers.

mod credentials;
mod gateway;
mod identity;
mod traces;

use std::sync::Arc;

use axum::Router;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;

use crate::errors::ApiError;
use crate::operation as route;
use crate::server::App;

pub(crate) use gateway::{DropConnection, PeerAddr};

/// Resource a handler acted on, for the trace of the call.
#[derive(Debug, Clone, Default)]
pub(crate) struct TraceResource {
    pub resource_type: &'static str,
    pub resource_id: String,
    pub resource_name: String,
    /// Region whose CTS records the call, when it is not the account's IAM trace region.
    pub region: Option<String>,
}

/// Largest request body accepted: AK/SK signing covers bodies up to 12 MB.
pub(crate) const MAX_BODY_BYTES: usize = 12 * 1024 * 1024;

/// Builds the router of the cloud API.
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            route::CREDENTIALS,
            get(credentials::list).post(credentials::create),
        )
        .route(
            route::CREDENTIAL,
            get(credentials::show)
                .put(credentials::update)
                .delete(credentials::delete),
        )
        .route(route::AUTH_DOMAINS, get(identity::list_auth_domains))
        .route(route::PROJECTS, get(identity::list_projects))
        .route(route::OS_USER, get(identity::show_user))
        .route(route::KEYSTONE_USER, get(identity::keystone_show_user))
        .route(route::TRACES, get(traces::list))
        .route_layer(middleware::from_fn_with_state(app.clone(), gateway::gateway))
        .fallback(unknown_api)
        .method_not_allowed_fallback(unknown_api)
        .with_state(app)
}

/// Attaches the trace resource to a response.
pub(crate) fn with_resource(response: impl IntoResponse, resource: TraceResource) -> Response {
    let mut response = response.into_response();
    response.extensions_mut().insert(resource);
    response
}

async fn unknown_api() -> Response {
    // NOTE: APIGW.0101 is the gateway's code for a path that matches no published API; the
    // exact message of the IAM gateway is not documented.
    ApiError::flat(
        StatusCode::NOT_FOUND,
        "APIGW.0101",
        "The API does not exist or has not been published in the environment.",
    )
    .into_response()
}

/// Unwraps query parameters, turning axum's plain-text rejection into an IAM error body.
pub(crate) fn query_parameters<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(parameters)| parameters)
        .map_err(|rejection| {
            ApiError::flat(
                StatusCode::BAD_REQUEST,
                "IAM.0011",
                format!("Invalid query string: {}", rejection.body_text()),
            )
        })
}

/// `http://<Host>` of the request, for the `links` objects of keystone responses.
pub(crate) fn base_url(headers: &http::HeaderMap) -> String {
    let host = headers
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}
