//! Identity discovery from an access key alone: the account (domain), the key's owner,
//! the owner's details, and the project id of a region. Every call here signs with the
//! key itself, which may always read its own account, key and user.

use jiff::Timestamp;
use reqwest::Method;
use serde::Deserialize;

use crate::client::Client;
use crate::error::Error;
use crate::iam::require_id;
use crate::metrics::Service;
use crate::timestamps;
use crate::transport::ApiRequest;

/// The account (IAM domain) that owns the signing key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Domain {
    pub id: String,
    pub name: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// An IAM user, from `ShowUser` (`/v3.0/OS-USER/users/{user_id}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub domain_id: String,
    pub enabled: bool,
    /// Whether this is the account's master identity, whose keys are never deleted
    /// automatically.
    #[serde(default)]
    pub is_domain_owner: bool,
    /// `default`, `programmatic` or `console`; a `console` user cannot sign API requests.
    #[serde(default)]
    pub access_mode: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "timestamps::deserialize_option")]
    pub create_time: Option<Timestamp>,
    #[serde(default, deserialize_with = "timestamps::deserialize_option")]
    pub last_login_time: Option<Timestamp>,
}

/// Everything discovery learns about the signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub access_key_id: String,
    pub domain: Domain,
    pub user: User,
}

#[derive(Deserialize)]
struct DomainList {
    #[serde(default)]
    domains: Vec<Domain>,
}

#[derive(Deserialize)]
struct UserEnvelope {
    user: User,
}

#[derive(Deserialize)]
struct Project {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct ProjectList {
    #[serde(default)]
    projects: Vec<Project>,
}

impl Client {
    /// Finds the account of the signing key (`KeystoneListAuthDomains`,
    /// `GET /v3/auth/domains`, sent without `X-Domain-Id` as the official SDKs do) and
    /// remembers its id for `X-Domain-Id` on later IAM and BSS calls.
    pub async fn discover_domain(&self) -> Result<Domain, Error> {
        let mut request = ApiRequest::new(
            Service::Iam,
            "KeystoneListAuthDomains",
            Method::GET,
            &["v3", "auth", "domains"],
        );
        request.with_domain_id = false;
        let list: DomainList = self.send_json(&request).await?;
        let domain = match list.domains.as_slice() {
            [domain] => domain.clone(),
            [] => {
                return Err(Error::invalid_response(
                    request.operation,
                    "no account is visible to this access key; set the account (domain) id \
                     in the configuration instead",
                ));
            }
            several => {
                return Err(Error::invalid_response(
                    request.operation,
                    format!(
                        "{} accounts are visible to this access key; set the account (domain) \
                         id in the configuration to pick one",
                        several.len()
                    ),
                ));
            }
        };
        self.set_domain_id(domain.id.clone());
        Ok(domain)
    }

    /// Returns the id of the IAM user that owns the signing key, by showing that key.
    pub async fn own_user_id(&self) -> Result<String, Error> {
        let key = self.show_access_key(self.access_key_id()).await?;
        Ok(key.user_id)
    }

    /// Shows an IAM user (`ShowUser`).
    pub async fn show_user(&self, user_id: &str) -> Result<User, Error> {
        require_id("user_id", user_id)?;
        let request = ApiRequest::new(
            Service::Iam,
            "ShowUser",
            Method::GET,
            &["v3.0", "OS-USER", "users", user_id],
        );
        let envelope: UserEnvelope = self.send_json(&request).await?;
        Ok(envelope.user)
    }

    /// Finds the id of the project named after `region` (`KeystoneListProjects`,
    /// `GET /v3/projects?name=`). No or several matches mean the region is wrong for this
    /// account and return [`Error::WrongRegion`].
    pub async fn project_id(&self, region: &str) -> Result<String, Error> {
        require_id("region", region)?;
        let mut request = ApiRequest::new(
            Service::Iam,
            "KeystoneListProjects",
            Method::GET,
            &["v3", "projects"],
        )
        .query("name", region);
        // The official SDKs look projects up with the key alone, like the domain.
        request.with_domain_id = false;
        let list: ProjectList = self.send_json(&request).await?;
        let mut matching = list.projects.into_iter().filter(|project| project.name == region);
        match (matching.next(), matching.count()) {
            (Some(project), 0) => Ok(project.id),
            (first, rest) => Err(Error::WrongRegion {
                region: region.to_string(),
                matches: usize::from(first.is_some()) + rest,
            }),
        }
    }

    /// Discovers the account, the owner of the signing key and the owner's details.
    pub async fn discover_identity(&self) -> Result<Identity, Error> {
        let domain = self.discover_domain().await?;
        let user_id = self.own_user_id().await?;
        let user = self.show_user(&user_id).await?;
        Ok(Identity {
            access_key_id: self.access_key_id().to_string(),
            domain,
            user,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_details_parse_with_space_timestamps() {
        let body = r#"{"user":{"enabled":true,"id":"u1","domain_id":"d1","name":"ci-bot","links":{"self":"x"},"xuser_id":"","xuser_type":"","areacode":"","email":"","phone":"","pwd_status":false,"update_time":null,"create_time":"2020-07-08 02:19:03.0","last_login_time":null,"pwd_strength":"Strong","is_domain_owner":false,"access_mode":"default","description":""}}"#;

        let user: UserEnvelope = serde_json::from_str(body).unwrap();

        assert_eq!(user.user.name, "ci-bot");
        assert!(!user.user.is_domain_owner);
        assert_eq!(user.user.create_time.unwrap().to_string(), "2020-07-08T02:19:03Z");
        assert_eq!(user.user.last_login_time, None);
    }
}
