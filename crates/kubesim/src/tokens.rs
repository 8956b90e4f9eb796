//! ServiceAccount tokens: issued through the TokenRequest subresource or the Rust handle, and
//! valid while the ServiceAccount they were issued for exists with the same uid. Tokens are
//! opaque random strings, not signed JWTs; clients pass them through without reading them.

use crate::auth::UserInfo;
use crate::error::{ApiError, ApiResult};
use crate::sim::Sim;
use crate::store::key;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone)]
struct Binding {
    namespace: String,
    name: String,
    uid: String,
}

/// Tokens issued so far, by token string.
#[derive(Debug, Default)]
pub struct Tokens {
    issued: Mutex<HashMap<String, Binding>>,
}

/// Builds the identity kube-apiserver gives a ServiceAccount token.
pub fn service_account_user(namespace: &str, name: &str) -> UserInfo {
    UserInfo {
        username: format!("system:serviceaccount:{namespace}:{name}"),
        groups: vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{namespace}"), "system:authenticated".into()],
    }
}

impl Sim {
    /// Issues a token for an existing ServiceAccount.
    pub fn issue_token(&self, namespace: &str, name: &str) -> ApiResult<String> {
        let uid = {
            let state = self.lock();
            let account = state
                .get(&key("", "serviceaccounts", namespace, name))
                .ok_or_else(|| ApiError::not_found("serviceaccounts", name))?;
            crate::meta::uid_of(account).to_string()
        };
        let token = format!("kubesim.{}", uuid::Uuid::new_v4().simple());
        let binding = Binding { namespace: namespace.into(), name: name.into(), uid };
        self.tokens.issued.lock().unwrap_or_else(|p| p.into_inner()).insert(token.clone(), binding);
        Ok(token)
    }

    /// Finds the user of a bearer token, or `None` when the token is unknown or its
    /// ServiceAccount was deleted.
    pub fn authenticate_token(&self, token: &str) -> Option<UserInfo> {
        let binding = self.tokens.issued.lock().unwrap_or_else(|p| p.into_inner()).get(token).cloned()?;
        let state = self.lock();
        let account = state.get(&key("", "serviceaccounts", &binding.namespace, &binding.name))?;
        (crate::meta::uid_of(account) == binding.uid).then(|| service_account_user(&binding.namespace, &binding.name))
    }

    /// Issues a token for a TokenRequest (`POST .../serviceaccounts/<name>/token`) and returns
    /// the TokenRequest with its status filled in.
    pub fn token_request(&self, namespace: &str, name: &str, body: &Value) -> ApiResult<Value> {
        let token = self.issue_token(namespace, name)?;
        let seconds = body.pointer("/spec/expirationSeconds").and_then(Value::as_i64).unwrap_or(3600);
        // NOTE: tokens do not expire; expirationTimestamp only reports the requested lifetime.
        let expires = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_secs(seconds))
            .unwrap_or_else(|_| jiff::Timestamp::now())
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let mut response = json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": null},
            "spec": body.get("spec").cloned().unwrap_or_else(|| json!({})),
            "status": {"token": token, "expirationTimestamp": expires},
        });
        response["spec"]["expirationSeconds"] = json!(seconds);
        Ok(response)
    }
}
