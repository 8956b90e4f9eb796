//! CTS `ListTraces`: `GET /v3/{project_id}/traces`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::response::IntoResponse;
use axum::response::Response;
use http::StatusCode;

use super::{TraceResource, query_parameters, with_resource};
use crate::cts::{self, Trace, TraceQuery};
use crate::errors::ApiError;
use crate::server::App;
use crate::verify::Caller;

/// Lists the traces of the caller's account that the project's region stores. Any user of
/// the account may read them.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    Path(project_id): Path<String>,
    query: Result<Query<TraceQuery>, QueryRejection>,
) -> Response {
    let query = match query_parameters(query) {
        Ok(query) => query,
        Err(error) => return error.into_response(),
    };
    let now = app.now();
    let world = app.world();
    let region = world
        .account(&caller.domain_id)
        .and_then(|account| account.projects.iter().find(|p| p.id == project_id))
        .map(|project| project.name.clone());
    let resource = TraceResource {
        resource_type: "trace",
        resource_id: project_id.clone(),
        resource_name: String::new(),
        region: region.clone(),
    };
    let Some(region) = region else {
        // NOTE: CTS's code for a project outside the caller's account is not documented;
        // IAM.0002 is IAM's "not authorized" code.
        return with_resource(ApiError::forbidden("cts:trace:list"), resource);
    };

    let visible: Vec<&Trace> = world
        .traces
        .iter()
        .filter(|trace| trace.domain_id == caller.domain_id && trace.region == region)
        .collect();
    match cts::list_traces(&visible, &query, now) {
        Ok(page) => with_resource(Json(page), resource),
        // NOTE: CTS.0001 replaces CTS's undocumented code for an invalid parameter.
        Err(message) => with_resource(ApiError::flat(StatusCode::BAD_REQUEST, "CTS.0001", message), resource),
    }
}
