//! Admin API for tests and the sandbox: seed accounts, read state, set faults, move the
//! clock. It listens only on the address given for it, and only when enabled.
//!
//! | method and path | body | response |
//! |---|---|---|
//! | `POST /admin/seed` | a seed account | 201, the account with every key's secret |
//! | `GET /admin/users` | | the users |
//! | `PATCH /admin/users/{user_id}` | `{"enabled": bool, "admin": bool}` (either) | the user |
//! | `GET /admin/keys` | | the keys, without secrets |
//! | `GET /admin/traces` | | every trace, oldest first |
//! | `GET /admin/faults` | | the fault rules |
//! | `POST /admin/faults` | a fault rule | 201 |
//! | `DELETE /admin/faults` | | 204 |
//! | `GET /admin/clock` | | `{"now": RFC 3339, "manual": bool}` |
//! | `POST /admin/clock/advance` | `{"seconds": N}` | the new time; 409 unless the clock is manual |

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use http::StatusCode;
use jiff::SignedDuration;
use serde::Deserialize;
use serde_json::json;

use crate::faults::FaultRule;
use crate::seed::SeedRequest;
use crate::server::App;

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/admin/seed", post(seed))
        .route("/admin/users", get(users))
        .route("/admin/users/{user_id}", patch(update_user))
        .route("/admin/keys", get(keys))
        .route("/admin/traces", get(traces))
        .route("/admin/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/admin/clock", get(clock))
        .route("/admin/clock/advance", post(advance_clock))
        .with_state(app)
}

fn admin_error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": message.to_string() }))).into_response()
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body)
        .map_err(|error| admin_error(StatusCode::BAD_REQUEST, format_args!("invalid JSON body: {error}")))
}

async fn seed(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let request: SeedRequest = match parse(&body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    match app.seed(&request) {
        Ok(account) => {
            tracing::info!(domain = %account.domain_name, users = account.users.len(), "seeded account");
            let mut response = (StatusCode::CREATED, Json(account.to_json_with_secrets())).into_response();
            // The body contains secret keys: keep it out of any cache.
            response.headers_mut().insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err(error) => admin_error(StatusCode::BAD_REQUEST, error),
    }
}

async fn users(State(app): State<Arc<App>>) -> Response {
    let users: Vec<_> = app.world().users.values().cloned().collect();
    Json(users).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserUpdate {
    enabled: Option<bool>,
    admin: Option<bool>,
}

async fn update_user(State(app): State<Arc<App>>, Path(user_id): Path<String>, body: axum::body::Bytes) -> Response {
    let update: UserUpdate = match parse(&body) {
        Ok(update) => update,
        Err(response) => return response,
    };
    let mut world = app.world();
    let Some(user) = world.users.get_mut(&user_id) else {
        return admin_error(StatusCode::NOT_FOUND, format_args!("user {user_id} not found"));
    };
    if let Some(enabled) = update.enabled {
        user.enabled = enabled;
    }
    if let Some(admin) = update.admin {
        user.admin = admin;
    }
    Json(user.clone()).into_response()
}

async fn keys(State(app): State<Arc<App>>) -> Response {
    let keys: Vec<_> = app.world().keys.values().map(|key| key.view()).collect();
    Json(keys).into_response()
}

async fn traces(State(app): State<Arc<App>>) -> Response {
    Json(app.world().traces.clone()).into_response()
}

async fn faults(State(app): State<Arc<App>>) -> Response {
    Json(app.faults().rules()).into_response()
}

async fn add_fault(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let rule: FaultRule = match parse(&body) {
        Ok(rule) => rule,
        Err(response) => return response,
    };
    match app.faults().add(rule.clone()) {
        Ok(()) => {
            tracing::info!(?rule, "fault rule added");
            (StatusCode::CREATED, Json(rule)).into_response()
        }
        Err(error) => admin_error(StatusCode::BAD_REQUEST, error),
    }
}

async fn clear_faults(State(app): State<Arc<App>>) -> Response {
    app.faults().clear();
    tracing::info!("fault rules cleared");
    StatusCode::NO_CONTENT.into_response()
}

async fn clock(State(app): State<Arc<App>>) -> Response {
    Json(json!({ "now": app.now().to_string(), "manual": app.is_manual_clock() })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    /// Seconds to move forward.
    seconds: i64,
}

async fn advance_clock(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let advance: Advance = match parse(&body) {
        Ok(advance) => advance,
        Err(response) => return response,
    };
    match app.advance_clock(SignedDuration::from_secs(advance.seconds)) {
        Ok(now) => Json(json!({ "now": now.to_string(), "manual": true })).into_response(),
        Err(error) => admin_error(StatusCode::CONFLICT, error),
    }
}
