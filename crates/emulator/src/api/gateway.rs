//! The gateway in front of every API route: injected faults, signature verification and
//! CTS trace recording, in that order.

use std::net::SocketAddr;
use std::sync::Arc;

use akguard_hwcloud::signing::Authorization;
use axum::Json;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use jiff::Timestamp;

use super::{MAX_BODY_BYTES, TraceResource};
use crate::cts::{Trace, TraceDomain, TraceUser, rating_for};
use crate::errors::ApiError;
use crate::faults::FaultOutcome;
use crate::operation::Operation;
use crate::server::App;
use crate::state::World;
use crate::verify::{SignedRequest, verify};

/// Address of the client, set by the accept loop on every request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerAddr(pub SocketAddr);

/// Marks a response that the accept loop must replace by closing the connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

/// Everything a trace needs besides what the handler reports.
struct CallInfo {
    operation: Operation,
    request_id: String,
    source_ip: String,
    resource_url: String,
    time: Timestamp,
}

pub(crate) async fn gateway(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let operation = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|path| Operation::from_route(request.method(), path.as_str()));
    let Some(operation) = operation else {
        return next.run(request).await;
    };
    let call = CallInfo {
        operation,
        request_id: uuid::Uuid::new_v4().simple().to_string(),
        source_ip: request
            .extensions()
            .get::<PeerAddr>()
            .map(|peer| peer.0.ip().to_string())
            .unwrap_or_default(),
        resource_url: request.uri().path().to_string(),
        time: app.now(),
    };

    let mut response = handle(&app, &call, request, next).await;
    if response.extensions().get::<DropConnection>().is_none() {
        if let Ok(value) = HeaderValue::from_str(&call.request_id) {
            response.headers_mut().insert("X-Request-Id", value);
        }
    }
    response
}

async fn handle(app: &App, call: &CallInfo, request: Request, next: Next) -> Response {
    let decision = app.faults().decide(call.operation, &mut || rand::random::<f64>());
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    let claimed_key = header_value_of(&request, "Authorization")
        .and_then(|value| Authorization::parse(&value).ok())
        .map(|authorization| authorization.access_key_id);
    let injected = match decision.outcome {
        FaultOutcome::Pass => None,
        FaultOutcome::Throttle => Some(ApiError::throttled()),
        FaultOutcome::Respond(status) => Some(ApiError::for_status(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        )),
        FaultOutcome::Drop => {
            tracing::info!(operation = call.operation.name(), "dropping connection (injected fault)");
            let mut response = Response::new(Body::empty());
            response.extensions_mut().insert(DropConnection);
            return response;
        }
    };
    if let Some(error) = injected {
        return reject(app, call, claimed_key.as_deref(), error);
    }

    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            let error = ApiError::flat(
                StatusCode::PAYLOAD_TOO_LARGE,
                "APIGW.0201",
                format!("Request body is larger than {MAX_BODY_BYTES} bytes or could not be read."),
            );
            return reject(app, call, claimed_key.as_deref(), error);
        }
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
    };
    let verification = verify(&mut app.world(), &signed, call.time);
    let caller = match verification.result {
        Ok(caller) => caller,
        Err(failure) => {
            tracing::info!(
                operation = call.operation.name(),
                access_key_id = verification.claimed_access_key_id.as_deref().unwrap_or(""),
                source_ip = %call.source_ip,
                reason = ?failure_kind(&failure),
                "rejected request"
            );
            return reject(app, call, verification.claimed_access_key_id.as_deref(), failure.to_api_error());
        }
    };

    let mut request = Request::from_parts(parts, Body::from(body));
    request.extensions_mut().insert(caller.clone());
    let response = next.run(request).await;

    let status = response.status().as_u16();
    let resource = response.extensions().get::<TraceResource>().cloned().unwrap_or_default();
    let error_code = response.extensions().get::<ApiError>().map(ApiError::code);
    tracing::info!(
        operation = call.operation.name(),
        status,
        access_key_id = %caller.access_key_id,
        user_id = %caller.user_id,
        source_ip = %call.source_ip,
        "served request"
    );
    let mut world = app.world();
    let trace = build_trace(&world, call, Some(&caller.access_key_id), status, error_code, resource);
    world.record_trace(trace);
    response
}

/// Names the failure without its details, for logs.
fn failure_kind(failure: &crate::verify::AuthFailure) -> &'static str {
    use crate::verify::AuthFailure::*;
    match failure {
        MissingAuthorization => "missing authorization",
        Malformed(_) => "malformed authorization",
        UnknownKey => "unknown access key",
        Locked => "access key locked",
        Expired { .. } => "clock skew",
        BadSignature => "bad signature",
        DomainMismatch => "domain mismatch",
        Inactive { .. } => "inactive access key",
        UserDisabled { .. } => "user disabled",
    }
}

fn header_value_of(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

/// Builds a gateway error response, whose body carries the request ID, and records the trace.
fn reject(app: &App, call: &CallInfo, claimed_key: Option<&str>, error: ApiError) -> Response {
    let status = error.status;
    let body = error.to_json(Some(&call.request_id));
    let mut world = app.world();
    let trace = build_trace(
        &world,
        call,
        claimed_key,
        status.as_u16(),
        Some(error.code()),
        TraceResource::default(),
    );
    world.record_trace(trace);
    (status, Json(body)).into_response()
}

/// Builds the trace of one call. The calling user is filled in when the named key exists,
/// even when the call failed, so an audit of a key also finds its rejected attempts.
fn build_trace(
    world: &World,
    call: &CallInfo,
    access_key_id: Option<&str>,
    status: u16,
    error_code: Option<String>,
    resource: TraceResource,
) -> Trace {
    let key = access_key_id.and_then(|id| world.key(id));
    let user = key.and_then(|key| world.user(&key.user_id));
    let account = user.and_then(|user| world.account(&user.domain_id));

    let trace_user = match (key, user, account) {
        (Some(key), Some(user), Some(account)) => Some(TraceUser {
            id: user.id.clone(),
            name: user.name.clone(),
            user_name: user.name.clone(),
            domain: TraceDomain {
                id: account.id.clone(),
                name: account.name.clone(),
            },
            account_id: account.id.clone(),
            access_key_id: key.access_key_id.clone(),
            principal_id: user.id.clone(),
            principal_urn: format!("iam::{}:user:{}", account.id, user.name),
            principal_is_root_user: user.is_domain_owner.to_string(),
            user_type: if user.is_domain_owner { "Root" } else { "User" }.to_string(),
        }),
        _ => None,
    };
    let region = match (&resource.region, account) {
        (Some(region), _) => region.clone(),
        (None, Some(account)) => account.iam_trace_region.clone(),
        (None, None) => String::new(),
    };
    let millis = call.time.as_millisecond();

    Trace {
        trace_id: uuid::Uuid::new_v4().to_string(),
        trace_name: call.operation.name().to_string(),
        trace_rating: rating_for(status).to_string(),
        trace_type: "ApiCall".to_string(),
        service_type: call.operation.service_type().to_string(),
        resource_type: resource.resource_type.to_string(),
        resource_id: resource.resource_id,
        resource_name: resource.resource_name,
        source_ip: call.source_ip.clone(),
        time: millis,
        record_time: millis,
        code: status.to_string(),
        message: error_code.unwrap_or_default(),
        request_id: call.request_id.clone(),
        api_version: call.operation.api_version().to_string(),
        resource_url: call.resource_url.clone(),
        read_only: call.operation.read_only(),
        user: trace_user,
        region,
        domain_id: account.map(|a| a.id.clone()).unwrap_or_default(),
    }
}
