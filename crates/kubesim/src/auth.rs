//! The request pipeline's authentication and authorization stage. Every resource request is
//! described by a [`RequestAttributes`] and passed to an [`Authorizer`] before any verb
//! runs. The simulator installs [`AllowAll`]. ServiceAccount tokens with RBAC can be added
//! as another implementation without touching the handlers.

use crate::error::ApiError;
use http::HeaderMap;

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
