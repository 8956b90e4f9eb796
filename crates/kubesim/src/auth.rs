//! The request pipeline's authentication and authorization stage. Every resource request is
//! described by a [`RequestAttributes`] and passed to an [`Authorizer`] before any verb
//! runs. The simulator installs [`TokenRbac`]: requests without credentials act as a cluster
//! administrator, as on an insecure local port, and requests with a ServiceAccount bearer
//! token, or impersonating a user with `Impersonate-User`, are held to RBAC.

use crate::error::ApiError;
use crate::sim::Sim;
use http::{HeaderMap, header};
use serde_json::json;
use std::sync::Arc;

/// The identity of a request's sender, from its credentials.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserInfo {
    pub username: String,
    pub groups: Vec<String>,
}

/// The action a resource request performs, in the terms RBAC rules use.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestAttributes {
    pub user: UserInfo,
    /// get, list, watch, create, update, patch, delete or deletecollection.
    pub verb: &'static str,
    pub group: String,
    pub version: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
}

/// Authenticates a request and decides whether it may run.
pub trait Authorizer: Send + Sync {
    /// Identifies the caller from the request headers; an error is sent as the response
    /// (401 for bad credentials).
    fn authenticate(&self, headers: &HeaderMap) -> Result<UserInfo, ApiError>;

    /// Decides whether the described request may run; an error (403) is sent as the response.
    fn authorize(&self, request: &RequestAttributes) -> Result<(), ApiError>;
}

/// Admits every request as an anonymous cluster administrator, as an insecure local API
/// server does.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Authorizer for AllowAll {
    fn authenticate(&self, _headers: &HeaderMap) -> Result<UserInfo, ApiError> {
        Ok(UserInfo { username: "system:admin".into(), groups: vec!["system:masters".into(), "system:authenticated".into()] })
    }

    fn authorize(&self, _request: &RequestAttributes) -> Result<(), ApiError> {
        Ok(())
    }
}

/// ServiceAccount bearer tokens checked against RBAC; requests without credentials are
/// admitted as `system:admin` in `system:masters`.
pub struct TokenRbac {
    sim: Arc<Sim>,
}

impl TokenRbac {
    pub(crate) fn new(sim: Arc<Sim>) -> Self {
        Self { sim }
    }
}

fn unauthorized() -> ApiError {
    ApiError::new(401, "Unauthorized", "Unauthorized")
}

/// Applies `Impersonate-User` and `Impersonate-Group` headers (kubectl `--as`, `--as-group`)
/// for a caller in `system:masters`, who may impersonate anyone; others get 403.
fn impersonate(caller: UserInfo, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
    let Some(username) = headers.get("impersonate-user").and_then(|v| v.to_str().ok()) else {
        return Ok(caller);
    };
    if !caller.groups.iter().any(|g| g == "system:masters") {
        return Err(ApiError::forbidden(format!("users \"{username}\" is forbidden: User \"{}\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope", caller.username)));
    }
    let mut user = match username.strip_prefix("system:serviceaccount:").and_then(|rest| rest.split_once(':')) {
        Some((namespace, name)) => crate::tokens::service_account_user(namespace, name),
        None => UserInfo { username: username.to_string(), groups: vec!["system:authenticated".into()] },
    };
    for group in headers.get_all("impersonate-group").iter().filter_map(|v| v.to_str().ok()) {
        if !user.groups.iter().any(|g| g == group) {
            user.groups.push(group.to_string());
        }
    }
    Ok(user)
}

impl Authorizer for TokenRbac {
    fn authenticate(&self, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
        let caller = match headers.get(header::AUTHORIZATION) {
            None => AllowAll.authenticate(headers)?,
            Some(value) => {
                let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or_else(unauthorized)?;
                self.sim.authenticate_token(token.trim()).ok_or_else(unauthorized)?
            }
        };
        impersonate(caller, headers)
    }

    fn authorize(&self, request: &RequestAttributes) -> Result<(), ApiError> {
        if crate::rbac::authorize(&self.sim.lock(), request) {
            return Ok(());
        }
        let resource = if request.subresource.is_empty() { request.resource.clone() } else { format!("{}/{}", request.resource, request.subresource) };
        Err(ApiError::forbidden(crate::rbac::forbidden_message(request))
            .with_details(json!({"name": request.name, "group": request.group, "kind": resource})))
    }
}
