//! Kubernetes Secrets of a rotation: the owned staging Secret that stores a new key's secret
//! access key before anything else happens, the owned backup of the targets' previous
//! values, and the target Secrets themselves.
//!
//! Staging and backup Secrets are found by label and owner reference UID, never through a
//! name kept in status: status is not trusted as a pointer to secret material.

use std::collections::BTreeMap;

use akguard_hwcloud::SecretKey;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams};
use serde::{Deserialize, Serialize};

pub const LABEL_OWNER_UID: &str = "akguard.io/owner-uid";
pub const LABEL_ROLE: &str = "akguard.io/role";
pub const LABEL_ROTATION_ID: &str = "akguard.io/rotation-id";
pub const ROLE_STAGING: &str = "staging";
pub const ROLE_BACKUP: &str = "backup";
const STAGING_ACCESS_KEY_ID: &str = "accessKeyId";
const STAGING_SECRET_ACCESS_KEY: &str = "secretAccessKey";
const BACKUP_DATA_KEY: &str = "targets.json";
/// Optimistic-concurrency retries of one target write before the step reports a conflict.
const WRITE_ATTEMPTS: usize = 5;

/// Layout of one target Secret: the data keys of the key pair and any rendered keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFormat {
    pub secret_name: String,
    pub access_key_id_key: String,
    pub secret_access_key_key: String,
    /// Extra data keys rendered from a template (see [`render_template`]), for example a
    /// credentials file.
    pub rendered: Vec<(String, String)>,
}

impl TargetFormat {
    /// Returns every data key this target's key material occupies.
    pub fn managed_keys(&self) -> Vec<&str> {
        let mut keys = vec![
            self.access_key_id_key.as_str(),
            self.secret_access_key_key.as_str(),
        ];
        keys.extend(self.rendered.iter().map(|(key, _)| key.as_str()));
        keys
    }

    /// The data this target should hold for a key.
    pub fn render(&self, key: &KeyMaterial<'_>) -> BTreeMap<String, ByteString> {
        let mut data = BTreeMap::new();
        data.insert(
            self.access_key_id_key.clone(),
            ByteString(key.access_key_id.as_bytes().to_vec()),
        );
        data.insert(
            self.secret_access_key_key.clone(),
            ByteString(key.secret_access_key.expose().as_bytes().to_vec()),
        );
        for (data_key, template) in &self.rendered {
            data.insert(data_key.clone(), ByteString(render_template(template, key).into_bytes()));
        }
        data
    }
}

/// Values a rendered data key may refer to.
pub struct KeyMaterial<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a SecretKey,
    pub region: &'a str,
    pub user_id: &'a str,
}

/// Renders a template with [`crate::api::template::render`]. Validation rejects bad
/// templates before a rotation starts; one that still fails is written as it is, never
/// half-rendered.
pub fn render_template(template: &str, key: &KeyMaterial<'_>) -> String {
    let values = crate::api::template::TemplateValues {
        access_key_id: key.access_key_id,
        secret_access_key: key.secret_access_key.expose(),
        region: key.region,
        user_id: key.user_id,
    };
    crate::api::template::render(template, &values).unwrap_or_else(|_| template.to_string())
}

/// Access key ID a target Secret contains now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetState {
    Missing,
    /// The Secret exists but lacks the access key ID data key.
    NoKey,
    Holds { access_key_id: String },
}

/// A key staged for a rotation, read back from its staging Secret.
#[derive(Debug, Clone)]
pub struct StagedKey {
    pub rotation_id: String,
    pub access_key_id: String,
    pub secret_access_key: SecretKey,
}

/// Errors of Secret handling. Messages carry names and access key IDs, never data.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("Kubernetes API call on Secret {name} failed: {source}")]
    Kube {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("Secret {name} changed under {WRITE_ATTEMPTS} write attempts in a row; will retry")]
    Conflict { name: String },
    #[error("staging Secret {name} exists but contains access key ID {found} instead of {expected}")]
    StagingMismatch {
        name: String,
        found: String,
        expected: String,
    },
    #[error("backup Secret {name} is unreadable: {reason}")]
    BadBackup { name: String, reason: String },
}

fn kube_error(name: &str) -> impl FnOnce(kube::Error) -> SecretError + '_ {
    move |source| SecretError::Kube {
        name: name.to_string(),
        source,
    }
}

fn is_status(error: &kube::Error, code: u16) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == code)
}

fn text(data: &BTreeMap<String, ByteString>, key: &str) -> Option<String> {
    data.get(key)
        .map(|value| String::from_utf8_lossy(&value.0).trim().to_string())
}

/// Reads which access key ID a target Secret contains.
pub async fn read_target(api: &Api<Secret>, target: &TargetFormat) -> Result<TargetState, SecretError> {
    let secret = api
        .get_opt(&target.secret_name)
        .await
        .map_err(kube_error(&target.secret_name))?;
    let Some(secret) = secret else {
        return Ok(TargetState::Missing);
    };
    let data = secret.data.unwrap_or_default();
    match text(&data, &target.access_key_id_key) {
        Some(id) if !id.is_empty() => Ok(TargetState::Holds { access_key_id: id }),
        _ => Ok(TargetState::NoKey),
    }
}

/// Reads the key pair a Secret contains under two data keys (a primary target or a
/// credentials Secret). Returns `None` when the Secret or either key is missing.
pub async fn read_key_pair(
    api: &Api<Secret>,
    name: &str,
    access_key_id_key: &str,
    secret_access_key_key: &str,
) -> Result<Option<(String, SecretKey)>, SecretError> {
    let Some(secret) = api.get_opt(name).await.map_err(kube_error(name))? else {
        return Ok(None);
    };
    let data = secret.data.unwrap_or_default();
    let access_key_id = text(&data, access_key_id_key).filter(|id| !id.is_empty());
    let secret_access_key = text(&data, secret_access_key_key).filter(|sk| !sk.is_empty());
    Ok(access_key_id.zip(secret_access_key.map(SecretKey::new)))
}

/// Writes a key into a target Secret, keeping its other data keys. Uses the read
/// resourceVersion so a concurrent writer causes a re-read, never a lost update.
/// Returns whether anything changed.
pub async fn write_target(
    api: &Api<Secret>,
    target: &TargetFormat,
    key: &KeyMaterial<'_>,
) -> Result<bool, SecretError> {
    let wanted = target.render(key);
    apply_data(api, &target.secret_name, |data| {
        let mut changed = false;
        for (key, value) in &wanted {
            if data.get(key) != Some(value) {
                data.insert(key.clone(), value.clone());
                changed = true;
            }
        }
        changed
    })
    .await
}

/// Label on target Secrets the operator created, for a user's first key.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// Creates a missing target Secret holding a key. It is not owned by the resource, since
/// the workloads keep reading it if the resource is deleted. An existing Secret is updated.
pub async fn create_target(api: &Api<Secret>, target: &TargetFormat, key: &KeyMaterial<'_>) -> Result<(), SecretError> {
    let object = Secret {
        metadata: ObjectMeta {
            name: Some(target.secret_name.clone()),
            labels: Some(BTreeMap::from([(LABEL_MANAGED_BY.to_string(), "akguard".to_string())])),
            ..ObjectMeta::default()
        },
        data: Some(target.render(key)),
        ..Secret::default()
    };
    match api.create(&PostParams::default(), &object).await {
        Ok(_) => Ok(()),
        Err(error) if is_status(&error, 409) => write_target(api, target, key).await.map(|_| ()),
        Err(error) => Err(kube_error(&target.secret_name)(error)),
    }
}

/// Replaces a Secret's data through `edit` with optimistic concurrency.
async fn apply_data(
    api: &Api<Secret>,
    name: &str,
    edit: impl Fn(&mut BTreeMap<String, ByteString>) -> bool,
) -> Result<bool, SecretError> {
    for _ in 0..WRITE_ATTEMPTS {
        let mut secret = api.get(name).await.map_err(kube_error(name))?;
        let mut data = secret.data.take().unwrap_or_default();
        if !edit(&mut data) {
            return Ok(false);
        }
        secret.data = Some(data);
        secret.string_data = None;
        secret.metadata.managed_fields = None;
        match api.replace(name, &PostParams::default(), &secret).await {
            Ok(_) => return Ok(true),
            Err(error) if is_status(&error, 409) => continue,
            Err(error) => return Err(kube_error(name)(error)),
        }
    }
    Err(SecretError::Conflict {
        name: name.to_string(),
    })
}

fn owned_meta(
    name: String,
    owner: &OwnerReference,
    role: &str,
    rotation_id: &str,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        labels: Some(BTreeMap::from([
            (LABEL_OWNER_UID.to_string(), owner.uid.clone()),
            (LABEL_ROLE.to_string(), role.to_string()),
            (LABEL_ROTATION_ID.to_string(), rotation_id.to_string()),
        ])),
        owner_references: Some(vec![owner.clone()]),
        ..ObjectMeta::default()
    }
}

fn owned_name(owner: &OwnerReference, role: &str, rotation_id: &str) -> String {
    // Secret names allow 253 characters; resource names may be that long, so shorten.
    let base: String = owner.name.chars().take(180).collect();
    format!("{base}-akguard-{role}-{rotation_id}")
}

/// Lists the owned Secrets of a role, matched by label and owner reference UID.
async fn list_owned(api: &Api<Secret>, owner_uid: &str, role: &str) -> Result<Vec<Secret>, SecretError> {
    let selector = format!("{LABEL_OWNER_UID}={owner_uid},{LABEL_ROLE}={role}");
    let list = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(kube_error(&format!("({selector})")))?;
    Ok(list
        .items
        .into_iter()
        .filter(|secret| {
            secret
                .metadata
                .owner_references
                .iter()
                .flatten()
                .any(|owner| owner.uid == owner_uid)
        })
        .collect())
}

/// Stores a new key in an owned staging Secret. Creating it twice with the same key is
/// fine. A different key under the same rotation is an error, because it means two keys
/// were created for one rotation.
pub async fn write_staging(
    api: &Api<Secret>,
    owner: &OwnerReference,
    rotation_id: &str,
    access_key_id: &str,
    secret: &SecretKey,
) -> Result<(), SecretError> {
    let name = owned_name(owner, ROLE_STAGING, rotation_id);
    let object = Secret {
        metadata: owned_meta(name.clone(), owner, ROLE_STAGING, rotation_id),
        type_: Some("akguard.io/staged-key".to_string()),
        data: Some(BTreeMap::from([
            (
                STAGING_ACCESS_KEY_ID.to_string(),
                ByteString(access_key_id.as_bytes().to_vec()),
            ),
            (
                STAGING_SECRET_ACCESS_KEY.to_string(),
                ByteString(secret.expose().as_bytes().to_vec()),
            ),
        ])),
        ..Secret::default()
    };
    match api.create(&PostParams::default(), &object).await {
        Ok(_) => Ok(()),
        Err(error) if is_status(&error, 409) => {
            let existing = api.get(&name).await.map_err(kube_error(&name))?;
            let found = text(&existing.data.unwrap_or_default(), STAGING_ACCESS_KEY_ID).unwrap_or_default();
            if found == access_key_id {
                Ok(())
            } else {
                Err(SecretError::StagingMismatch {
                    name,
                    found,
                    expected: access_key_id.to_string(),
                })
            }
        }
        Err(error) => Err(kube_error(&name)(error)),
    }
}

/// Lists every key staged by this resource, newest rotation last.
pub async fn find_staged(api: &Api<Secret>, owner_uid: &str) -> Result<Vec<StagedKey>, SecretError> {
    let mut staged: Vec<StagedKey> = list_owned(api, owner_uid, ROLE_STAGING)
        .await?
        .into_iter()
        .filter_map(|secret| {
            let rotation_id = secret.metadata.labels.as_ref()?.get(LABEL_ROTATION_ID)?.clone();
            let data = secret.data.unwrap_or_default();
            Some(StagedKey {
                rotation_id,
                access_key_id: text(&data, STAGING_ACCESS_KEY_ID)?,
                secret_access_key: SecretKey::new(text(&data, STAGING_SECRET_ACCESS_KEY)?),
            })
        })
        .collect();
    staged.sort_by(|a, b| a.rotation_id.cmp(&b.rotation_id));
    Ok(staged)
}

/// Previous values of the managed data keys of each target; `None` marks a key that did
/// not exist, so a restore removes it.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Backup {
    pub targets: BTreeMap<String, BTreeMap<String, Option<ByteString>>>,
}

/// Lists Secret and data key names only: the values are secret access keys.
impl std::fmt::Debug for Backup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: BTreeMap<&String, Vec<&String>> = self
            .targets
            .iter()
            .map(|(secret, values)| (secret, values.keys().collect()))
            .collect();
        f.debug_struct("Backup").field("targets", &names).finish()
    }
}

/// Records the targets' current values in an owned backup Secret, once per rotation: a
/// second call keeps the first backup, which contains the values from before any write.
pub async fn write_backup(
    api: &Api<Secret>,
    owner: &OwnerReference,
    rotation_id: &str,
    targets: &[TargetFormat],
) -> Result<(), SecretError> {
    let existing = list_owned(api, &owner.uid, ROLE_BACKUP).await?;
    if existing.iter().any(|secret| {
        secret
            .metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get(LABEL_ROTATION_ID))
            .is_some_and(|id| id == rotation_id)
    }) {
        return Ok(());
    }

    let mut backup = Backup::default();
    for target in targets {
        let secret = api
            .get_opt(&target.secret_name)
            .await
            .map_err(kube_error(&target.secret_name))?;
        let data = secret.and_then(|secret| secret.data).unwrap_or_default();
        let values = target
            .managed_keys()
            .into_iter()
            .map(|key| (key.to_string(), data.get(key).cloned()))
            .collect();
        backup.targets.insert(target.secret_name.clone(), values);
    }

    let name = owned_name(owner, ROLE_BACKUP, rotation_id);
    let encoded = serde_json::to_vec(&backup).expect("backup serializes");
    let object = Secret {
        metadata: owned_meta(name.clone(), owner, ROLE_BACKUP, rotation_id),
        type_: Some("akguard.io/backup".to_string()),
        data: Some(BTreeMap::from([(BACKUP_DATA_KEY.to_string(), ByteString(encoded))])),
        ..Secret::default()
    };
    match api.create(&PostParams::default(), &object).await {
        Ok(_) => Ok(()),
        Err(error) if is_status(&error, 409) => Ok(()),
        Err(error) => Err(kube_error(&name)(error)),
    }
}

/// Reads the backup of a rotation.
pub async fn read_backup(
    api: &Api<Secret>,
    owner_uid: &str,
    rotation_id: &str,
) -> Result<Option<Backup>, SecretError> {
    let found = list_owned(api, owner_uid, ROLE_BACKUP).await?.into_iter().find(|secret| {
        secret
            .metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get(LABEL_ROTATION_ID))
            .is_some_and(|id| id == rotation_id)
    });
    let Some(secret) = found else {
        return Ok(None);
    };
    let name = secret.metadata.name.clone().unwrap_or_default();
    let raw = secret
        .data
        .and_then(|mut data| data.remove(BACKUP_DATA_KEY))
        .ok_or_else(|| SecretError::BadBackup {
            name: name.clone(),
            reason: format!("data key {BACKUP_DATA_KEY} is missing"),
        })?;
    serde_json::from_slice(&raw.0)
        .map(Some)
        .map_err(|error| SecretError::BadBackup {
            name,
            reason: error.to_string(),
        })
}

/// Puts the backed-up values back into every target. Returns whether anything changed.
pub async fn restore_targets(api: &Api<Secret>, backup: &Backup) -> Result<bool, SecretError> {
    let mut changed = false;
    for (name, values) in &backup.targets {
        if api.get_opt(name).await.map_err(kube_error(name))?.is_none() {
            continue;
        }
        changed |= apply_data(api, name, |data| {
            let mut edited = false;
            for (key, value) in values {
                match value {
                    Some(value) if data.get(key) != Some(value) => {
                        data.insert(key.clone(), value.clone());
                        edited = true;
                    }
                    None if data.contains_key(key) => {
                        data.remove(key);
                        edited = true;
                    }
                    _ => {}
                }
            }
            edited
        })
        .await?;
    }
    Ok(changed)
}

/// Deletes the staging and backup Secrets of a rotation.
pub async fn delete_owned(api: &Api<Secret>, owner_uid: &str, rotation_id: &str) -> Result<(), SecretError> {
    for role in [ROLE_STAGING, ROLE_BACKUP] {
        for secret in list_owned(api, owner_uid, role).await? {
            let rotation = secret
                .metadata
                .labels
                .as_ref()
                .and_then(|labels| labels.get(LABEL_ROTATION_ID));
            if rotation.map(String::as_str) != Some(rotation_id) {
                continue;
            }
            let name = secret.metadata.name.clone().unwrap_or_default();
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(error) if is_status(&error, 404) => {}
                Err(error) => return Err(kube_error(&name)(error)),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_templates() {
        let target = TargetFormat {
            secret_name: "hw".into(),
            access_key_id_key: "HUAWEICLOUD_SDK_AK".into(),
            secret_access_key_key: "HUAWEICLOUD_SDK_SK".into(),
            rendered: vec![(
                "credentials".into(),
                "ak={{accessKeyId}}\nsk={{secretAccessKey}}\n".into(),
            )],
        };

        let secret = SecretKey::new("sk-value");
        let key = KeyMaterial {
            access_key_id: "AKNEW",
            secret_access_key: &secret,
            region: "cn-north-4",
            user_id: "u1",
        };

        let data = target.render(&key);

        assert_eq!(data["HUAWEICLOUD_SDK_AK"].0, b"AKNEW");
        assert_eq!(data["HUAWEICLOUD_SDK_SK"].0, b"sk-value");
        assert_eq!(data["credentials"].0, b"ak=AKNEW\nsk=sk-value\n");
    }

    #[test]
    fn template_table() {
        let secret = SecretKey::new("SK");
        let key = KeyMaterial {
            access_key_id: "AK",
            secret_access_key: &secret,
            region: "cn-north-4",
            user_id: "u1",
        };
        let cases = [
            ("{{accessKeyId}}:{{ secretAccessKey }}", "AK:SK"),
            ("region={{region}} user={{userId}}", "region=cn-north-4 user=u1"),
            ("{{unknown}} stays", "{{unknown}} stays"),
            ("unclosed {{accessKeyId", "unclosed {{accessKeyId"),
            ("plain", "plain"),
        ];
        for (template, expected) in cases {
            assert_eq!(render_template(template, &key), expected, "template {template:?}");
        }
    }

    fn backup_of(value: &[u8]) -> Backup {
        let mut backup = Backup::default();
        backup.targets.insert(
            "hw".into(),
            BTreeMap::from([
                ("HUAWEICLOUD_SDK_SK".to_string(), Some(ByteString(value.to_vec()))),
                ("extra".to_string(), None),
            ]),
        );
        backup
    }

    #[test]
    fn backup_round_trips_through_json() {
        let backup = backup_of(b"old-secret");

        let json = serde_json::to_string(&backup).unwrap();
        let back: Backup = serde_json::from_str(&json).unwrap();

        assert_eq!(back, backup);
    }

    #[test]
    fn backup_debug_shows_names_only() {
        let printed = format!("{:?}", backup_of(b"old-secret"));

        assert!(printed.contains("HUAWEICLOUD_SDK_SK"), "{printed}");
        assert!(!printed.contains("old-secret"), "{printed}");
        // ByteString's own Debug prints the bytes as numbers.
        assert!(!printed.contains("111, 108, 100"), "{printed}");
    }
}
