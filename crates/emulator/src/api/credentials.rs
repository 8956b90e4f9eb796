//! IAM permanent access keys: `/v3.0/OS-CREDENTIAL/credentials`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{TraceResource, query_parameters, with_resource};
use crate::errors::ApiError;
use crate::ids::format_key_time;
use crate::server::App;
use crate::state::{AccessKey, CreateKeyError, KeyStatus, World};
use crate::verify::Caller;

/// Maximum length of a key description, in characters.
const MAX_DESCRIPTION_CHARS: usize = 255;

/// Decides whether `caller` may act on keys of `target_user_id`. A user may always manage
/// its own keys, and other users' keys need the admin flag. A non-admin gets 403 whether or
/// not the target exists, so the response reveals nothing. An admin gets 404 for a user
/// outside its account.
pub(crate) fn authorize(world: &World, caller: &Caller, target_user_id: &str, action: &str) -> Result<(), ApiError> {
    if caller.user_id == target_user_id {
        return Ok(());
    }
    if !caller.may_manage_others {
        return Err(ApiError::forbidden(action));
    }
    match world.user(target_user_id) {
        Some(user) if user.domain_id == caller.domain_id => Ok(()),
        _ => Err(ApiError::not_found(format_args!("user {target_user_id}"))),
    }
}

/// Looks up a key the caller may act on. Keys of other accounts are reported missing.
fn authorized_key<'w>(world: &'w World, caller: &Caller, access_key: &str, action: &str) -> Result<&'w AccessKey, ApiError> {
    let missing = || ApiError::not_found(format_args!("access key {access_key}"));
    let key = world.key(access_key).ok_or_else(missing)?;
    let owner = world.user(&key.user_id).ok_or_else(missing)?;
    if owner.domain_id != caller.domain_id {
        return Err(missing());
    }
    authorize(world, caller, &key.user_id, action)?;
    Ok(key)
}

fn key_resource(key: &str) -> TraceResource {
    TraceResource {
        resource_type: "credential",
        resource_id: key.to_string(),
        resource_name: key.to_string(),
        region: None,
    }
}

fn key_json(key: &AccessKey) -> Value {
    json!({
        "user_id": key.user_id,
        "access": key.access_key_id,
        "status": key.status.as_str(),
        "create_time": format_key_time(key.create_time),
        "description": key.description,
    })
}

fn check_description(description: &str) -> Result<(), ApiError> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::invalid_body(format_args!(
            "description is longer than {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    Ok(())
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(ApiError::invalid_body)
}

#[derive(Deserialize)]
struct CreateRequest {
    credential: CreateOption,
}

#[derive(Deserialize)]
struct CreateOption {
    user_id: String,
    #[serde(default)]
    description: Option<String>,
}

/// `POST /v3.0/OS-CREDENTIAL/credentials`. The only response that carries a secret key.
pub(crate) async fn create(State(app): State<Arc<App>>, Extension(caller): Extension<Caller>, body: Bytes) -> Response {
    let request: CreateRequest = match parse(&body) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    let user_id = request.credential.user_id;
    let description = request.credential.description.unwrap_or_default();
    let resource = TraceResource {
        resource_type: "user",
        resource_id: user_id.clone(),
        resource_name: user_id.clone(),
        region: None,
    };
    let result = (|| {
        check_description(&description)?;
        let now = app.now();
        let mut world = app.world();
        authorize(&world, &caller, &user_id, "iam:credentials:createCredential")?;
        let key = world
            .create_key(&user_id, &description, KeyStatus::Active, None, now)
            .map_err(|error| match error {
                CreateKeyError::QuotaExceeded => ApiError::key_quota_exceeded(),
                CreateKeyError::UserNotFound | CreateKeyError::DuplicateAccessKeyId => {
                    ApiError::not_found(format_args!("user {user_id}"))
                }
            })?;
        let mut credential = key_json(key);
        credential["secret"] = json!(key.secret_access_key.expose());
        Ok::<_, ApiError>((key.access_key_id.clone(), json!({ "credential": credential })))
    })();

    match result {
        Ok((access_key_id, body)) => {
            let resource = TraceResource {
                resource_id: access_key_id.clone(),
                resource_name: access_key_id,
                resource_type: "credential",
                region: None,
            };
            with_resource((StatusCode::CREATED, Json(body)), resource)
        }
        Err(error) => with_resource(error, resource),
    }
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    user_id: Option<String>,
}

/// `GET /v3.0/OS-CREDENTIAL/credentials[?user_id=]`. Without `user_id`, the caller's keys.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let query = match query_parameters(query) {
        Ok(query) => query,
        Err(error) => return error.into_response(),
    };
    let user_id = query.user_id.unwrap_or_else(|| caller.user_id.clone());
    let world = app.world();
    let resource = TraceResource {
        resource_type: "user",
        resource_id: user_id.clone(),
        resource_name: world.user(&user_id).map(|u| u.name.clone()).unwrap_or_default(),
        region: None,
    };
    if let Err(error) = authorize(&world, &caller, &user_id, "iam:credentials:listCredentials") {
        return with_resource(error, resource);
    }
    let credentials: Vec<Value> = world.keys_of(&user_id).into_iter().map(key_json).collect();
    with_resource(Json(json!({ "credentials": credentials })), resource)
}

/// `GET /v3.0/OS-CREDENTIAL/credentials/{access_key}`, the only view with `last_use_time`.
pub(crate) async fn show(State(app): State<Arc<App>>, Extension(caller): Extension<Caller>, Path(access_key): Path<String>) -> Response {
    let world = app.world();
    let resource = key_resource(&access_key);
    match authorized_key(&world, &caller, &access_key, "iam:credentials:getCredential") {
        Ok(key) => {
            let mut credential = key_json(key);
            credential["last_use_time"] = json!(format_key_time(key.last_use_time()));
            with_resource(Json(json!({ "credential": credential })), resource)
        }
        Err(error) => with_resource(error, resource),
    }
}

#[derive(Deserialize)]
struct UpdateRequest {
    credential: UpdateOption,
}

#[derive(Deserialize)]
struct UpdateOption {
    status: Option<String>,
    description: Option<String>,
}

/// `PUT /v3.0/OS-CREDENTIAL/credentials/{access_key}`: status and/or description.
pub(crate) async fn update(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    Path(access_key): Path<String>,
    body: Bytes,
) -> Response {
    let resource = key_resource(&access_key);
    let result = (|| {
        let request: UpdateRequest = parse(&body)?;
        let option = request.credential;
        let status = match option.status.as_deref() {
            None => None,
            Some(value) => Some(KeyStatus::parse(value).ok_or_else(|| {
                ApiError::invalid_body(format_args!("status must be active or inactive, got {value:?}"))
            })?),
        };
        if status.is_none() && option.description.is_none() {
            return Err(ApiError::invalid_body("missing status and description: give one or both"));
        }
        if let Some(description) = &option.description {
            check_description(description)?;
        }

        let mut world = app.world();
        authorized_key(&world, &caller, &access_key, "iam:credentials:updateCredential")?;
        let key = world
            .keys
            .get_mut(&access_key)
            .expect("authorized_key found the key under the same lock");
        if let Some(status) = status {
            key.status = status;
        }
        if let Some(description) = option.description {
            key.description = description;
        }
        Ok(json!({ "credential": key_json(key) }))
    })();
    match result {
        Ok(body) => with_resource(Json(body), resource),
        Err(error) => with_resource(error, resource),
    }
}

/// `DELETE /v3.0/OS-CREDENTIAL/credentials/{access_key}`, 204 without a body.
pub(crate) async fn delete(State(app): State<Arc<App>>, Extension(caller): Extension<Caller>, Path(access_key): Path<String>) -> Response {
    let resource = key_resource(&access_key);
    let mut world = app.world();
    if let Err(error) = authorized_key(&world, &caller, &access_key, "iam:credentials:deleteCredential") {
        return with_resource(error, resource);
    }
    world.keys.remove(&access_key);
    with_resource(StatusCode::NO_CONTENT, resource)
}
