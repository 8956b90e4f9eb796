//! Seeding: one call that creates an account with its projects, users and keys.

use akguard_hwcloud::{Credentials, SecretKey};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ids;
use crate::state::{Account, CreateKeyError, KeyStatus, Project, User, World};

/// Regions an account gets projects in when a seed names none.
pub const DEFAULT_REGIONS: [&str; 2] = ["ap-southeast-1", "cn-north-4"];

/// An account to create. Every ID left out is generated.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRequest {
    /// Account (domain) name.
    pub domain_name: String,
    pub domain_id: Option<String>,
    /// Region IDs, one project each. Defaults to [`DEFAULT_REGIONS`].
    #[serde(default)]
    pub regions: Vec<String>,
    /// Region whose CTS stores the account's IAM traces. Defaults to `ap-southeast-1` when
    /// the account has it, else the first region.
    pub iam_trace_region: Option<String>,
    #[serde(default)]
    pub users: Vec<SeedUser>,
}

/// A user to create in a seeded account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub name: String,
    pub id: Option<String>,
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// The account's master identity.
    #[serde(default)]
    pub is_domain_owner: bool,
    /// May manage other users' keys.
    #[serde(default)]
    pub admin: bool,
    /// At most two keys, as IAM allows.
    #[serde(default)]
    pub keys: Vec<SeedKey>,
}

impl SeedUser {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            id: None,
            enabled: true,
            is_domain_owner: false,
            admin: false,
            keys: Vec::new(),
        }
    }

    /// Adds one active key with an empty description.
    pub fn with_key(mut self) -> Self {
        self.keys.push(SeedKey::default());
        self
    }
}

fn default_true() -> bool {
    true
}

/// A key to create for a seeded user. A fixed ID needs a fixed secret and the reverse.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedKey {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub status: KeyStatus,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretKey>,
}

/// A seed file: several accounts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    pub accounts: Vec<SeedRequest>,
}

/// Account created by a seed, with each key's secret.
#[derive(Debug, Clone)]
pub struct SeededAccount {
    pub domain_id: String,
    pub domain_name: String,
    pub projects: Vec<Project>,
    pub users: Vec<SeededUser>,
}

/// User created by a seed.
#[derive(Debug, Clone)]
pub struct SeededUser {
    pub id: String,
    pub name: String,
    pub keys: Vec<SeededKey>,
}

/// Access key created by a seed; the secret stays inside [`SecretKey`].
#[derive(Debug, Clone)]
pub struct SeededKey {
    pub access_key_id: String,
    pub secret_access_key: SecretKey,
    pub status: KeyStatus,
}

impl SeededAccount {
    /// Finds a seeded user by name.
    pub fn user(&self, name: &str) -> Option<&SeededUser> {
        self.users.iter().find(|user| user.name == name)
    }

    /// Credentials of the `index`-th key of the user named `name`.
    pub fn credentials(&self, name: &str, index: usize) -> Option<Credentials> {
        let key = self.user(name)?.keys.get(index)?;
        Some(Credentials::new(
            key.access_key_id.clone(),
            key.secret_access_key.clone(),
        ))
    }

    /// Project ID of a region.
    pub fn project_id(&self, region: &str) -> Option<&str> {
        self.projects
            .iter()
            .find(|project| project.name == region)
            .map(|project| project.id.as_str())
    }

    /// JSON for the admin seed response and the CLI's credentials file. It contains every
    /// secret access key, so send it only to the client that requested the seed.
    pub fn to_json_with_secrets(&self) -> Value {
        let users: Vec<Value> = self
            .users
            .iter()
            .map(|user| {
                let keys: Vec<Value> = user
                    .keys
                    .iter()
                    .map(|key| {
                        json!({
                            "access_key_id": key.access_key_id,
                            "secret_access_key": key.secret_access_key.expose(),
                            "status": key.status,
                        })
                    })
                    .collect();
                json!({ "id": user.id, "name": user.name, "keys": keys })
            })
            .collect();
        json!({
            "domain_id": self.domain_id,
            "domain_name": self.domain_name,
            "projects": self.projects,
            "users": users,
        })
    }
}

/// Error from a seed. Nothing is created when a seed fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("domain_name must not be empty")]
    EmptyDomainName,
    #[error("an account with id or name {0:?} already exists")]
    DuplicateAccount(String),
    #[error("user id or name {0:?} already exists")]
    DuplicateUser(String),
    #[error("user {0:?} has more than {max} keys", max = crate::state::MAX_KEYS_PER_USER)]
    TooManyKeys(String),
    #[error("key {0:?} must give both access_key_id and secret_access_key, or neither")]
    HalfFixedKey(String),
    #[error("access key ID {0:?} is not 20 upper-case letters and digits, or already exists")]
    InvalidAccessKeyId(String),
    #[error("{0:?} is not a valid 32-digit lower-case hex ID")]
    InvalidId(String),
    #[error("iam_trace_region {0:?} is not one of the account's regions")]
    UnknownTraceRegion(String),
}

fn check_id(id: &Option<String>) -> Result<(), SeedError> {
    match id {
        Some(id)
            if id.len() != 32
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Err(SeedError::InvalidId(id.clone()))
        }
        _ => Ok(()),
    }
}

/// Checks a seed against the world before anything is created.
fn validate(world: &World, seed: &SeedRequest) -> Result<(), SeedError> {
    if seed.domain_name.trim().is_empty() {
        return Err(SeedError::EmptyDomainName);
    }
    check_id(&seed.domain_id)?;
    for account in world.accounts.values() {
        if account.name == seed.domain_name || Some(&account.id) == seed.domain_id.as_ref() {
            return Err(SeedError::DuplicateAccount(account.name.clone()));
        }
    }

    let mut names = std::collections::HashSet::new();
    let mut fixed_ids = std::collections::HashSet::new();
    for user in &seed.users {
        check_id(&user.id)?;
        let id_taken = user.id.as_ref().is_some_and(|id| world.users.contains_key(id));
        let name_taken = world.users.values().any(|u| u.name == user.name);
        if id_taken || name_taken || !names.insert(user.name.as_str()) {
            return Err(SeedError::DuplicateUser(user.name.clone()));
        }
        if user.keys.len() > crate::state::MAX_KEYS_PER_USER {
            return Err(SeedError::TooManyKeys(user.name.clone()));
        }
        for key in &user.keys {
            match (&key.access_key_id, &key.secret_access_key) {
                (None, None) => {}
                (Some(id), Some(_)) => {
                    if !ids::is_access_key_id(id)
                        || world.keys.contains_key(id)
                        || !fixed_ids.insert(id.as_str())
                    {
                        return Err(SeedError::InvalidAccessKeyId(id.clone()));
                    }
                }
                _ => return Err(SeedError::HalfFixedKey(user.name.clone())),
            }
        }
    }
    Ok(())
}

impl World {
    /// Creates the account, its projects, users and keys described by `seed`.
    pub fn seed(&mut self, seed: &SeedRequest, now: Timestamp) -> Result<SeededAccount, SeedError> {
        validate(self, seed)?;

        let regions: Vec<String> = if seed.regions.is_empty() {
            DEFAULT_REGIONS.iter().map(|r| r.to_string()).collect()
        } else {
            seed.regions.clone()
        };
        let iam_trace_region = match &seed.iam_trace_region {
            Some(region) if regions.contains(region) => region.clone(),
            Some(region) => return Err(SeedError::UnknownTraceRegion(region.clone())),
            None if regions.iter().any(|r| r == "ap-southeast-1") => "ap-southeast-1".into(),
            None => regions[0].clone(),
        };

        let domain_id = seed.domain_id.clone().unwrap_or_else(ids::new_object_id);
        let projects: Vec<Project> = regions
            .iter()
            .map(|region| Project {
                id: ids::new_object_id(),
                name: region.clone(),
            })
            .collect();
        self.accounts.insert(
            domain_id.clone(),
            Account {
                id: domain_id.clone(),
                name: seed.domain_name.clone(),
                projects: projects.clone(),
                iam_trace_region,
            },
        );

        let mut users = Vec::new();
        for seed_user in &seed.users {
            let user_id = seed_user.id.clone().unwrap_or_else(ids::new_object_id);
            self.users.insert(
                user_id.clone(),
                User {
                    id: user_id.clone(),
                    name: seed_user.name.clone(),
                    domain_id: domain_id.clone(),
                    enabled: seed_user.enabled,
                    is_domain_owner: seed_user.is_domain_owner,
                    admin: seed_user.admin,
                    create_time: now,
                },
            );

            let mut keys = Vec::new();
            for seed_key in &seed_user.keys {
                let fixed = seed_key
                    .access_key_id
                    .clone()
                    .zip(seed_key.secret_access_key.clone());
                let key = self
                    .create_key(&user_id, &seed_key.description, seed_key.status, fixed, now)
                    .map_err(|error| match error {
                        CreateKeyError::QuotaExceeded => SeedError::TooManyKeys(seed_user.name.clone()),
                        _ => SeedError::InvalidAccessKeyId(
                            seed_key.access_key_id.clone().unwrap_or_default(),
                        ),
                    })?;
                keys.push(SeededKey {
                    access_key_id: key.access_key_id.clone(),
                    secret_access_key: key.secret_access_key.clone(),
                    status: key.status,
                });
            }
            users.push(SeededUser {
                id: user_id,
                name: seed_user.name.clone(),
                keys,
            });
        }

        Ok(SeededAccount {
            domain_id,
            domain_name: seed.domain_name.clone(),
            projects,
            users,
        })
    }
}

/// Parses a seed file, YAML or JSON (YAML is a superset of JSON).
pub fn parse_seed_file(text: &str) -> Result<SeedFile, String> {
    serde_saphyr::from_str(text).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> SeedRequest {
        SeedRequest {
            domain_name: "acme".into(),
            users: vec![SeedUser::new("owner").with_key(), SeedUser::new("app").with_key()],
            ..SeedRequest::default()
        }
    }

    #[test]
    fn seed_creates_default_projects() {
        let mut world = World::default();

        let account = world.seed(&seed(), Timestamp::UNIX_EPOCH).unwrap();

        assert!(account.project_id("ap-southeast-1").is_some());
        assert!(account.project_id("cn-north-4").is_some());
    }

    #[test]
    fn seed_returns_working_secrets() {
        let mut world = World::default();

        let account = world.seed(&seed(), Timestamp::UNIX_EPOCH).unwrap();
        let credentials = account.credentials("app", 0).unwrap();

        let stored = world.key(&credentials.access_key_id).unwrap();
        assert_eq!(stored.secret_access_key, credentials.secret_access_key);
    }

    #[test]
    fn duplicate_account_rejected() {
        let mut world = World::default();
        world.seed(&seed(), Timestamp::UNIX_EPOCH).unwrap();

        let again = world.seed(&seed(), Timestamp::UNIX_EPOCH);

        assert_eq!(again.err(), Some(SeedError::DuplicateAccount("acme".into())));
    }

    #[test]
    fn three_keys_rejected() {
        let mut request = seed();
        request.users[0].keys = vec![SeedKey::default(); 3];

        let result = World::default().seed(&request, Timestamp::UNIX_EPOCH);

        assert_eq!(result.err(), Some(SeedError::TooManyKeys("owner".into())));
    }

    #[test]
    fn half_fixed_key_rejected() {
        let mut request = seed();
        request.users[0].keys[0].access_key_id = Some("ABCDEFGHIJKLMNOPQRST".into());

        let result = World::default().seed(&request, Timestamp::UNIX_EPOCH);

        assert_eq!(result.err(), Some(SeedError::HalfFixedKey("owner".into())));
    }

    #[test]
    fn seed_file_parses_yaml() {
        let text = "accounts:\n  - domain_name: acme\n    users:\n      - name: app\n        admin: true\n        keys:\n          - description: first\n";

        let file = parse_seed_file(text).unwrap();

        assert_eq!(file.accounts[0].users[0].keys[0].description, "first");
        assert!(file.accounts[0].users[0].admin);
    }

    #[test]
    fn seed_json_omits_nothing_but_is_explicit() {
        let mut world = World::default();
        let account = world.seed(&seed(), Timestamp::UNIX_EPOCH).unwrap();

        let json = account.to_json_with_secrets();

        assert_eq!(json["users"][1]["name"], "app");
        assert_eq!(json["users"][1]["keys"][0]["secret_access_key"].as_str().map(str::len), Some(40));
    }
}
