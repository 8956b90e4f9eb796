//! Identity discovery: the caller's account, projects by region, and user details.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::response::Response;
use http::HeaderMap;
use serde_json::{Value, json};

use super::credentials::authorize;
use super::{TraceResource, base_url, with_resource};
use crate::errors::ApiError;
use crate::ids::format_user_time;
use crate::server::App;
use crate::state::User;
use crate::verify::Caller;

/// `GET /v3/auth/domains`: the account the calling key belongs to.
pub(crate) async fn list_auth_domains(Extension(caller): Extension<Caller>, headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    let body = json!({
        "domains": [{
            "enabled": true,
            "id": caller.domain_id,
            "name": caller.domain_name,
            "description": "",
            "links": { "self": format!("{base}/v3/domains/{}", caller.domain_id) },
        }],
        "links": { "self": format!("{base}/v3/auth/domains") },
    });
    let resource = TraceResource {
        resource_type: "domain",
        resource_id: caller.domain_id.clone(),
        resource_name: caller.domain_name.clone(),
        region: None,
    };
    with_resource(Json(body), resource)
}

/// `GET /v3/projects[?name=<region>]`: the caller's projects, filtered by `name`,
/// `domain_id` and `enabled` when given.
pub(crate) async fn list_projects(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let base = base_url(&headers);
    let world = app.world();
    let projects: Vec<Value> = world
        .account(&caller.domain_id)
        .map(|account| account.projects.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|project| query.get("name").is_none_or(|name| *name == project.name))
        .filter(|_| query.get("domain_id").is_none_or(|id| *id == caller.domain_id))
        .filter(|_| query.get("enabled").is_none_or(|enabled| enabled == "true"))
        .map(|project| {
            json!({
                "id": project.id,
                "name": project.name,
                "domain_id": caller.domain_id,
                "parent_id": caller.domain_id,
                "description": "",
                "enabled": true,
                "is_domain": false,
                "links": {
                    "self": format!("{base}/v3/projects/{}", project.id),
                    "previous": null,
                    "next": null,
                },
            })
        })
        .collect();
    let body = json!({
        "projects": projects,
        "links": { "self": format!("{base}/v3/projects"), "previous": null, "next": null },
    });
    let resource = TraceResource {
        resource_type: "project",
        resource_id: String::new(),
        resource_name: query.get("name").cloned().unwrap_or_default(),
        region: None,
    };
    with_resource(Json(body), resource)
}

/// Finds a user the caller may read: itself, or any user of its account for an admin.
fn readable_user(app: &App, caller: &Caller, user_id: &str) -> Result<User, ApiError> {
    let world = app.world();
    authorize(&world, caller, user_id, "iam:users:getUser")?;
    world
        .user(user_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format_args!("user {user_id}")))
}

fn user_resource(user_id: &str) -> TraceResource {
    TraceResource {
        resource_type: "user",
        resource_id: user_id.to_string(),
        resource_name: user_id.to_string(),
        region: None,
    }
}

/// `GET /v3.0/OS-USER/users/{user_id}`: user details, including `is_domain_owner`.
pub(crate) async fn show_user(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Response {
    let mut resource = user_resource(&user_id);
    let user = match readable_user(&app, &caller, &user_id) {
        Ok(user) => user,
        Err(error) => return with_resource(error, resource),
    };
    resource.resource_name = user.name.clone();
    let base = base_url(&headers);
    let body = json!({
        "user": {
            "enabled": user.enabled,
            "id": user.id,
            "domain_id": user.domain_id,
            "name": user.name,
            "links": { "self": format!("{base}/v3.0/OS-USER/users/{}", user.id), "previous": null, "next": null },
            "xuser_id": "",
            "xuser_type": "",
            "areacode": "",
            "email": "",
            "phone": "",
            "pwd_status": false,
            "update_time": null,
            "create_time": format_user_time(user.create_time),
            "last_login_time": null,
            "pwd_strength": "high",
            "is_domain_owner": user.is_domain_owner,
            "access_mode": "default",
            "description": "",
        }
    });
    with_resource(Json(body), resource)
}

/// `GET /v3/users/{user_id}`: the keystone view of a user.
pub(crate) async fn keystone_show_user(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Response {
    let mut resource = user_resource(&user_id);
    let user = match readable_user(&app, &caller, &user_id) {
        Ok(user) => user,
        Err(error) => return with_resource(error, resource),
    };
    resource.resource_name = user.name.clone();
    let base = base_url(&headers);
    let body = json!({
        "user": {
            "pwd_status": false,
            "domain_id": user.domain_id,
            "last_project_id": null,
            "name": user.name,
            "description": "",
            "password_expires_at": null,
            "links": { "self": format!("{base}/v3/users/{}", user.id), "previous": null, "next": null },
            "id": user.id,
            "enabled": user.enabled,
            "access_mode": "default",
        }
    });
    with_resource(Json(body), resource)
}
