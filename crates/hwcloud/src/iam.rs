//! IAM permanent access keys (`/v3.0/OS-CREDENTIAL/credentials`): create, list, show,
//! update, delete, and the lookup by description marker that follows an ambiguous create.

use jiff::Timestamp;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::client::Client;
use crate::error::Error;
use crate::metrics::Service;
use crate::secret::{Credentials, SecretKey};
use crate::timestamps;
use crate::transport::ApiRequest;

const CREDENTIALS: [&str; 2] = ["v3.0", "OS-CREDENTIAL"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessKeyStatus {
    Active,
    Inactive,
}

impl AccessKeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }
}

/// A permanent access key as list, show and update return it (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccessKey {
    #[serde(rename = "access")]
    pub access_key_id: String,
    pub user_id: String,
    pub status: AccessKeyStatus,
    #[serde(default, deserialize_with = "empty_if_null")]
    pub description: String,
    #[serde(deserialize_with = "timestamps::deserialize")]
    pub create_time: Timestamp,
    /// Last time the key signed a request; only show returns it. IAM reports the creation
    /// time for a key that was never used.
    #[serde(default, deserialize_with = "timestamps::deserialize_option")]
    pub last_use_time: Option<Timestamp>,
}

impl AccessKey {
    /// Checks whether IAM reports no use since creation (`last_use_time` equal to `create_time`).
    /// `None` when the response had no `last_use_time` (list and update omit it).
    pub fn never_used(&self) -> Option<bool> {
        self.last_use_time.map(|last_use| last_use <= self.create_time)
    }
}

/// A newly created access key with its secret. IAM returns the secret only once, in the
/// create response, so the caller must store it before anything else.
#[derive(Debug, Clone, Deserialize)]
pub struct CreatedAccessKey {
    #[serde(rename = "access")]
    pub access_key_id: String,
    #[serde(rename = "secret")]
    pub secret_access_key: SecretKey,
    pub user_id: String,
    pub status: AccessKeyStatus,
    #[serde(default, deserialize_with = "empty_if_null")]
    pub description: String,
    #[serde(deserialize_with = "timestamps::deserialize")]
    pub create_time: Timestamp,
}

impl CreatedAccessKey {
    /// Returns credentials that sign with the new key.
    pub fn credentials(&self) -> Credentials {
        Credentials::new(self.access_key_id.clone(), self.secret_access_key.clone())
    }
}

/// Changes to an access key; at least one field must be set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessKeyUpdate {
    pub status: Option<AccessKeyStatus>,
    pub description: Option<String>,
}

impl AccessKeyUpdate {
    pub fn status(status: AccessKeyStatus) -> Self {
        Self {
            status: Some(status),
            description: None,
        }
    }
}

#[derive(Deserialize)]
struct CredentialEnvelope<T> {
    credential: T,
}

#[derive(Deserialize)]
struct CredentialList {
    #[serde(default)]
    credentials: Vec<AccessKey>,
}

fn empty_if_null<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// Rejects an empty id before it turns a call on one key into a call on the collection.
pub(crate) fn require_id(field: &'static str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::Config {
            field,
            message: "must not be empty".into(),
        });
    }
    Ok(())
}

impl Client {
    /// Creates a permanent access key for `user_id` (`CreatePermanentAccessKey`).
    ///
    /// Never retried once the request may have reached IAM: such failures return
    /// [`Error::Ambiguous`]. So does a success response that cannot be read, because the
    /// key then exists without a known secret. The caller runs
    /// [`Client::find_key_by_marker`] with a marker it put in `description` before
    /// creating again. A full quota returns [`Error::QuotaExceeded`].
    pub async fn create_access_key(&self, user_id: &str, description: &str) -> Result<CreatedAccessKey, Error> {
        require_id("user_id", user_id)?;
        let mut request = ApiRequest::new(
            Service::Iam,
            "CreatePermanentAccessKey",
            Method::POST,
            &[CREDENTIALS[0], CREDENTIALS[1], "credentials"],
        )
        .json_body(&json!({"credential": {"user_id": user_id, "description": description}}));
        request.idempotent = false;
        request.secret_in_response = true;

        let created = self
            .send_with(&request, |response| {
                let envelope: CredentialEnvelope<CreatedAccessKey> = response.json(&request)?;
                let created = envelope.credential;
                if created.access_key_id.is_empty() || created.secret_access_key.is_empty() {
                    return Err(Error::invalid_response(
                        request.operation,
                        "the created key has an empty access key ID or secret",
                    ));
                }
                Ok(created)
            })
            .await?;
        tracing::info!(
            user_id,
            access_key_id = %created.access_key_id,
            "created IAM access key"
        );
        Ok(created)
    }

    /// Lists the access keys of `user_id`, or of the signing key's own user when `None`
    /// (`ListPermanentAccessKeys`). The result has no `last_use_time`.
    pub async fn list_access_keys(&self, user_id: Option<&str>) -> Result<Vec<AccessKey>, Error> {
        let mut request = ApiRequest::new(
            Service::Iam,
            "ListPermanentAccessKeys",
            Method::GET,
            &[CREDENTIALS[0], CREDENTIALS[1], "credentials"],
        );
        if let Some(user_id) = user_id {
            require_id("user_id", user_id)?;
            request = request.query("user_id", user_id);
        }
        let list: CredentialList = self.send_json(&request).await?;
        Ok(list.credentials)
    }

    /// Shows one access key, with `last_use_time` (`ShowPermanentAccessKey`).
    pub async fn show_access_key(&self, access_key_id: &str) -> Result<AccessKey, Error> {
        require_id("access_key_id", access_key_id)?;
        let request = ApiRequest::new(
            Service::Iam,
            "ShowPermanentAccessKey",
            Method::GET,
            &[CREDENTIALS[0], CREDENTIALS[1], "credentials", access_key_id],
        );
        let envelope: CredentialEnvelope<AccessKey> = self.send_json(&request).await?;
        Ok(envelope.credential)
    }

    /// Changes the status and/or description of an access key
    /// (`UpdatePermanentAccessKey`). Returns the key as IAM reports it afterwards.
    pub async fn update_access_key(
        &self,
        access_key_id: &str,
        update: &AccessKeyUpdate,
    ) -> Result<AccessKey, Error> {
        require_id("access_key_id", access_key_id)?;
        let mut credential = serde_json::Map::new();
        if let Some(status) = update.status {
            credential.insert("status".into(), status.as_str().into());
        }
        if let Some(description) = &update.description {
            credential.insert("description".into(), description.as_str().into());
        }
        if credential.is_empty() {
            return Err(Error::Config {
                field: "update",
                message: "set a status, a description or both".into(),
            });
        }
        let request = ApiRequest::new(
            Service::Iam,
            "UpdatePermanentAccessKey",
            Method::PUT,
            &[CREDENTIALS[0], CREDENTIALS[1], "credentials", access_key_id],
        )
        .json_body(&json!({ "credential": credential }));

        let envelope: CredentialEnvelope<AccessKey> = self.send_json(&request).await?;
        tracing::info!(
            access_key_id,
            status = update.status.map(AccessKeyStatus::as_str),
            "updated IAM access key"
        );
        Ok(envelope.credential)
    }

    /// Deletes an access key (`DeletePermanentAccessKey`). Deletion cannot be undone.
    pub async fn delete_access_key(&self, access_key_id: &str) -> Result<(), Error> {
        require_id("access_key_id", access_key_id)?;
        let request = ApiRequest::new(
            Service::Iam,
            "DeletePermanentAccessKey",
            Method::DELETE,
            &[CREDENTIALS[0], CREDENTIALS[1], "credentials", access_key_id],
        );
        self.send(&request).await?;
        tracing::info!(access_key_id, "deleted IAM access key");
        Ok(())
    }

    /// Lists the keys of `user_id` whose description contains `marker`, oldest first.
    /// After an [`Error::Ambiguous`] create, a match is the key that create made. Its secret
    /// is lost, so the caller deletes it. No match means the create did not happen.
    pub async fn find_key_by_marker(&self, user_id: &str, marker: &str) -> Result<Vec<AccessKey>, Error> {
        require_id("user_id", user_id)?;
        // An empty marker would match every key, including keys this operator did not create.
        require_id("marker", marker)?;
        let mut matches: Vec<AccessKey> = self
            .list_access_keys(Some(user_id))
            .await?
            .into_iter()
            .filter(|key| key.description.contains(marker))
            .collect();
        matches.sort_by_key(|key| key.create_time);
        Ok(matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_key_parses_and_hides_secret() {
        let body = r#"{"credential":{"access":"P83EVBZJMXCYTMUII6IS","secret":"TTqAHPbhWorg9ozx8Dv9MUyzYnOKDppxzHto5g82","status":"active","user_id":"u1","description":"","create_time":"2023-06-28T08:56:33.710000Z"}}"#;

        let created: CredentialEnvelope<CreatedAccessKey> = serde_json::from_str(body).unwrap();
        let created = created.credential;
        let printed = format!("{created:?} {:?}", created.credentials());

        assert_eq!(created.access_key_id, "P83EVBZJMXCYTMUII6IS");
        assert_eq!(created.secret_access_key.expose().len(), 40);
        assert_eq!(created.create_time.to_string(), "2023-06-28T08:56:33.71Z");
        assert!(!printed.contains("TTqAHPbh"), "secret in Debug output");
        assert!(printed.contains("P83EVBZJMXCYTMUII6IS"));
    }

    #[test]
    fn shown_key_reports_never_used() {
        let body = r#"{"credential":{"user_id":"u1","access":"AK1","status":"inactive","create_time":"2024-03-05T10:11:12.123456Z","last_use_time":"2024-03-05T10:11:12.123456Z","description":null}}"#;

        let key: CredentialEnvelope<AccessKey> = serde_json::from_str(body).unwrap();

        assert_eq!(key.credential.status, AccessKeyStatus::Inactive);
        assert_eq!(key.credential.description, "");
        assert_eq!(key.credential.never_used(), Some(true));
    }

    #[test]
    fn listed_key_has_no_last_use() {
        let body = r#"{"credentials":[{"user_id":"u1","access":"AK1","status":"active","create_time":"2024-03-05T10:11:12.123456Z","description":"akguard rotation=r1"}]}"#;

        let list: CredentialList = serde_json::from_str(body).unwrap();

        assert_eq!(list.credentials.len(), 1);
        assert_eq!(list.credentials[0].last_use_time, None);
        assert_eq!(list.credentials[0].never_used(), None);
    }
}
