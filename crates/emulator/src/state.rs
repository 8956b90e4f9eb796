//! In-memory state of the emulated cloud: accounts, projects, users, access keys and traces.
//!
//! The server keeps everything behind one mutex. The methods here are plain synchronous
//! functions, so tests can drive them without a server.

use std::collections::BTreeMap;

use akguard_hwcloud::SecretKey;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::cts::Trace;
use crate::ids;

/// Maximum number of access keys one IAM user may hold, in any status.
// NOTE: IAM documents "at most two access keys" without naming a status. Counting inactive
// keys is the stricter reading, and a client must cope with it either way.
pub const MAX_KEYS_PER_USER: usize = 2;

/// Most traces kept in memory; by our estimate a trace takes about 1 KiB.
pub const MAX_TRACES: usize = 100_000;

/// An account (IAM "domain").
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub projects: Vec<Project>,
    /// Region whose CTS records this account's IAM traces. IAM is a global service and
    /// Huawei Cloud records its traces in one region only (CN-Hong Kong on the international
    /// site, CN North-Beijing4 on the Chinese site).
    pub iam_trace_region: String,
}

/// A project: one per region, named after the region ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    pub id: String,
    pub name: String,
}

/// An IAM user.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub enabled: bool,
    pub is_domain_owner: bool,
    /// May manage other users' access keys (the `Security Administrator` role or the
    /// `iam:credentials:*` actions on the real cloud).
    pub admin: bool,
    #[serde(skip)]
    pub create_time: Timestamp,
}

impl User {
    /// Returns whether this user may manage keys of other users in its account.
    pub fn may_manage_others(&self) -> bool {
        self.admin || self.is_domain_owner
    }
}

/// Status of an access key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    #[default]
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Inactive => "inactive",
        }
    }

    /// Parses the wire form, `active` or `inactive`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(KeyStatus::Active),
            "inactive" => Some(KeyStatus::Inactive),
            _ => None,
        }
    }
}

/// A permanent access key.
#[derive(Debug, Clone)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: SecretKey,
    pub user_id: String,
    pub status: KeyStatus,
    pub description: String,
    pub create_time: Timestamp,
    /// Time of the latest request this key signed successfully; `None` until then.
    // NOTE: IAM does not document how soon it refreshes last_use_time after a use. The
    // emulator refreshes it at once, so clients that wait for it must add their own margin.
    pub last_used: Option<Timestamp>,
    /// Bad signatures in a row since the last good one.
    pub consecutive_failures: u32,
    /// End of the lockout that [`crate::verify::MAX_CONSECUTIVE_FAILURES`] bad signatures start.
    pub locked_until: Option<Timestamp>,
}

impl AccessKey {
    /// `last_use_time` as IAM reports it: the creation time until the key is used.
    pub fn last_use_time(&self) -> Timestamp {
        self.last_used.unwrap_or(self.create_time)
    }

    /// Returns a view without the secret access key.
    pub fn view(&self) -> KeyView {
        KeyView {
            access_key_id: self.access_key_id.clone(),
            user_id: self.user_id.clone(),
            status: self.status,
            description: self.description.clone(),
            create_time: ids::format_key_time(self.create_time),
            last_use_time: ids::format_key_time(self.last_use_time()),
            consecutive_failures: self.consecutive_failures,
            locked_until: self.locked_until.map(|time| time.to_string()),
        }
    }
}

/// An access key as the admin API and [`crate::RunningEmulator::keys`] show it; never
/// carries the secret access key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    pub access_key_id: String,
    pub user_id: String,
    pub status: KeyStatus,
    pub description: String,
    pub create_time: String,
    pub last_use_time: String,
    pub consecutive_failures: u32,
    /// RFC 3339 time until which the key is locked after repeated bad signatures.
    pub locked_until: Option<String>,
}

/// The whole emulated world.
#[derive(Debug, Default)]
pub struct World {
    pub accounts: BTreeMap<String, Account>,
    pub users: BTreeMap<String, User>,
    pub keys: BTreeMap<String, AccessKey>,
    pub traces: Vec<Trace>,
}

/// Error from [`World::create_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateKeyError {
    UserNotFound,
    QuotaExceeded,
    DuplicateAccessKeyId,
}

impl World {
    /// Finds an account by domain ID.
    pub fn account(&self, domain_id: &str) -> Option<&Account> {
        self.accounts.get(domain_id)
    }

    /// Finds a user by ID.
    pub fn user(&self, user_id: &str) -> Option<&User> {
        self.users.get(user_id)
    }

    /// Finds an access key by its ID.
    pub fn key(&self, access_key_id: &str) -> Option<&AccessKey> {
        self.keys.get(access_key_id)
    }

    /// Keys of one user, oldest first.
    pub fn keys_of(&self, user_id: &str) -> Vec<&AccessKey> {
        let mut keys: Vec<&AccessKey> = self
            .keys
            .values()
            .filter(|key| key.user_id == user_id)
            .collect();
        keys.sort_by(|a, b| {
            a.create_time
                .cmp(&b.create_time)
                .then_with(|| a.access_key_id.cmp(&b.access_key_id))
        });
        keys
    }

    /// Creates a key for `user_id`, enforcing the two-key quota. `fixed` lets a seed choose
    /// the ID and secret; otherwise both are generated.
    pub fn create_key(
        &mut self,
        user_id: &str,
        description: &str,
        status: KeyStatus,
        fixed: Option<(String, SecretKey)>,
        now: Timestamp,
    ) -> Result<&AccessKey, CreateKeyError> {
        if !self.users.contains_key(user_id) {
            return Err(CreateKeyError::UserNotFound);
        }
        if self.keys_of(user_id).len() >= MAX_KEYS_PER_USER {
            return Err(CreateKeyError::QuotaExceeded);
        }

        let (access_key_id, secret_access_key) = match fixed {
            Some((id, _)) if self.keys.contains_key(&id) => {
                return Err(CreateKeyError::DuplicateAccessKeyId);
            }
            Some(pair) => pair,
            None => loop {
                let id = ids::new_access_key_id();
                if !self.keys.contains_key(&id) {
                    break (id, ids::new_secret_access_key());
                }
            },
        };

        let key = AccessKey {
            access_key_id: access_key_id.clone(),
            secret_access_key,
            user_id: user_id.to_string(),
            status,
            description: description.to_string(),
            // IAM reports microseconds; dropping the rest keeps create_time and an unused
            // key's last_use_time identical once formatted and parsed back.
            create_time: truncate_to_micros(now),
            last_used: None,
            consecutive_failures: 0,
            locked_until: None,
        };
        Ok(self.keys.entry(access_key_id).or_insert(key))
    }

    /// Stores a trace and drops the ones CTS would no longer return: older than the
    /// 7-day retention, or beyond [`MAX_TRACES`] (oldest first), which bounds memory.
    pub fn record_trace(&mut self, trace: Trace) {
        let oldest = trace.time - crate::cts::RETENTION.as_millis() as i64;
        // Traces are appended in call order and the clock never moves backwards, so they
        // are sorted by time.
        let expired = self.traces.partition_point(|kept| kept.time < oldest);
        self.traces.drain(..expired);
        if self.traces.len() >= MAX_TRACES {
            let excess = self.traces.len() + 1 - MAX_TRACES;
            self.traces.drain(..excess);
        }
        self.traces.push(trace);
    }
}

/// Drops the sub-microsecond part of a timestamp.
pub fn truncate_to_micros(time: Timestamp) -> Timestamp {
    let micros = time.as_microsecond();
    Timestamp::from_microsecond(micros).unwrap_or(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world_with_user() -> (World, String) {
        let mut world = World::default();
        let user = User {
            id: ids::new_object_id(),
            name: "app".into(),
            domain_id: "d".into(),
            enabled: true,
            is_domain_owner: false,
            admin: false,
            create_time: Timestamp::UNIX_EPOCH,
        };
        let id = user.id.clone();
        world.users.insert(id.clone(), user);
        (world, id)
    }

    #[test]
    fn quota_counts_inactive_keys() {
        let (mut world, user) = world_with_user();
        let now = Timestamp::UNIX_EPOCH;
        world
            .create_key(&user, "", KeyStatus::Inactive, None, now)
            .unwrap();
        world
            .create_key(&user, "", KeyStatus::Active, None, now)
            .unwrap();

        let third = world.create_key(&user, "", KeyStatus::Active, None, now);

        assert_eq!(third.err(), Some(CreateKeyError::QuotaExceeded));
    }

    #[test]
    fn unused_key_last_use_is_create_time() {
        let (mut world, user) = world_with_user();
        let now: Timestamp = "2026-01-01T00:00:00.123456789Z".parse().unwrap();

        let key = world
            .create_key(&user, "", KeyStatus::Active, None, now)
            .unwrap();

        assert_eq!(key.view().last_use_time, key.view().create_time);
        assert_eq!(key.view().create_time, "2026-01-01T00:00:00.123456Z");
    }

    #[test]
    fn traces_expire_after_retention() {
        let mut world = World::default();
        let day = 24 * 3600 * 1000;
        for (id, time) in [("old", 0), ("recent", 2 * day), ("new", 8 * day)] {
            world.record_trace(crate::cts::tests::trace(id, time, "listCredentials", "AK"));
        }

        let ids: Vec<&str> = world.traces.iter().map(|t| t.trace_id.as_str()).collect();

        assert_eq!(ids, ["recent", "new"]);
    }

    #[test]
    fn unknown_user_gets_no_key() {
        let (mut world, _) = world_with_user();

        let result = world.create_key("nobody", "", KeyStatus::Active, None, Timestamp::UNIX_EPOCH);

        assert_eq!(result.err(), Some(CreateKeyError::UserNotFound));
    }
}
