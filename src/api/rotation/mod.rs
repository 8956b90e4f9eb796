//! The `AccessKeyRotation` custom resource: which access key, which Secrets carry it, which
//! workloads read it, and when and how to rotate it.

mod status;

pub use status::*;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    DATA_KEY_PATTERN, DurationString, OBJECT_NAME_PATTERN, ProviderSpec, SDK_ACCESS_KEY_ID_KEY,
    SDK_SECRET_ACCESS_KEY_KEY, default_true, without_type_description,
};

/// Data key of the access key ID in a Secret that Huawei CCE's Everest CSI driver reads to
/// mount an OBS volume.
pub const EVEREST_ACCESS_KEY_ID_KEY: &str = "access.key";
/// Data key of the secret access key in a Secret that Everest reads to mount an OBS volume.
pub const EVEREST_SECRET_ACCESS_KEY_KEY: &str = "secret.key";

/// Most targets one resource may list.
pub const MAX_TARGETS: usize = 16;
/// Most explicit workload references one resource may list.
pub const MAX_WORKLOAD_REFS: usize = 64;
/// Most HTTP checks one resource may list.
pub const MAX_HTTP_CHECKS: usize = 16;

/// Specification of the rotation of one IAM user's access key (AK/SK). On each rotation the
/// operator writes a new key into the Secrets in `targets`, restarts the workloads that read
/// them, verifies the workloads on the new key, then disables and deletes the old key.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "akguard.io",
    version = "v1alpha1",
    kind = "AccessKeyRotation",
    namespaced,
    shortname = "akr",
    category = "akguard",
    status = "AccessKeyRotationStatus",
    derive = "PartialEq",
    doc = "Rotates a Huawei Cloud IAM access key in Kubernetes Secrets and restarts the workloads that use it.",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(
        name = "Access Key ID",
        type_ = "string",
        json_path = ".status.currentAccessKeyId"
    ),
    printcolumn(name = "Last Rotation", type_ = "date", json_path = ".status.lastRotationTime"),
    // A future time in a `date` column prints as `<invalid>`, so the next rotation shows as
    // a timestamp string.
    printcolumn(name = "Next Rotation", type_ = "string", json_path = ".status.nextRotationTime"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "self.targets.all(t, self.targets.exists_one(u, u.name == t.name))",
        "message": "each target Secret may be listed once; merge the entries that name the same Secret",
    },
]))]
pub struct AccessKeyRotationSpec {
    /// Region, endpoints and the identity that manages the key.
    pub provider: ProviderSpec,

    /// ID of the IAM user whose key is rotated (32 hex digits). Optional when the primary
    /// target Secret already contains a key, because the key's owner is then looked up.
    /// Required to create the first key of a user that has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9][-A-Za-z0-9]{0,63}$"))]
    pub user_id: Option<String>,

    /// Secrets in this namespace that receive the access key. The first one is the primary
    /// target: the operator reads the current key from it.
    #[schemars(length(min = 1, max = MAX_TARGETS))]
    pub targets: Vec<SecretTarget>,

    /// The workloads that read the target Secrets and how they pick up a new key.
    #[serde(default)]
    pub workloads: WorkloadsSpec,

    /// Checks that the workloads run on the new key.
    #[serde(default)]
    pub verification: VerificationSpec,

    /// When and whether the old key is disabled and deleted.
    #[serde(default)]
    pub retirement: RetirementSpec,

    /// When routine rotations happen. With neither `interval` nor `cron` set, the key rotates
    /// only when `rotationRequest` changes or a LeakIncident requests an emergency rotation.
    #[serde(default)]
    pub schedule: ScheduleSpec,
}

/// One Secret that receives the access key, and the data keys written into it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "!has(self.accessKeyIdKey) || !has(self.secretAccessKeyKey) || self.accessKeyIdKey != self.secretAccessKeyKey",
        "message": "accessKeyIdKey and secretAccessKeyKey must name different data keys",
    },
]))]
pub struct SecretTarget {
    /// Name of the Secret, in the resource's namespace. The operator creates it when it is
    /// missing and never deletes it.
    #[schemars(regex(pattern = OBJECT_NAME_PATTERN), length(min = 1, max = 253))]
    pub name: String,

    /// Layout of the Secret, which sets the default data keys. `sdk` (default) uses
    /// `HUAWEICLOUD_SDK_AK` and `HUAWEICLOUD_SDK_SK`, the Huawei Cloud SDK's environment
    /// variables. `everestObs` uses `access.key` and `secret.key`, the layout that Huawei CCE's
    /// Everest CSI driver reads when it mounts an OBS volume.
    #[serde(default)]
    pub format: SecretFormat,

    /// Data key for the access key ID. Default: set by `format`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DATA_KEY_PATTERN), length(min = 1, max = 253))]
    pub access_key_id_key: Option<String>,

    /// Data key for the secret access key. Default: set by `format`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DATA_KEY_PATTERN), length(min = 1, max = 253))]
    pub secret_access_key_key: Option<String>,

    /// Further data keys rendered from a template on every rotation, such as a credentials
    /// file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub extra_keys: Vec<RenderedKey>,
}

impl SecretTarget {
    /// Creates a target for Secret `name` in the SDK layout with the default data keys.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            format: SecretFormat::Sdk,
            access_key_id_key: None,
            secret_access_key_key: None,
            extra_keys: Vec::new(),
        }
    }

    /// Returns the data key that receives the access key ID: the explicit one, else the
    /// format's.
    pub fn access_key_id_key(&self) -> &str {
        self.access_key_id_key
            .as_deref()
            .unwrap_or(self.format.access_key_id_key())
    }

    /// Returns the data key that receives the secret access key: the explicit one, else the
    /// format's.
    pub fn secret_access_key_key(&self) -> &str {
        self.secret_access_key_key
            .as_deref()
            .unwrap_or(self.format.secret_access_key_key())
    }
}

/// Layout of a target Secret.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SecretFormat {
    /// `HUAWEICLOUD_SDK_AK` and `HUAWEICLOUD_SDK_SK`.
    #[default]
    Sdk,
    /// `access.key` and `secret.key`, as Huawei CCE's Everest CSI driver reads for OBS volumes.
    EverestObs,
}

impl SecretFormat {
    pub fn access_key_id_key(self) -> &'static str {
        match self {
            SecretFormat::Sdk => SDK_ACCESS_KEY_ID_KEY,
            SecretFormat::EverestObs => EVEREST_ACCESS_KEY_ID_KEY,
        }
    }

    pub fn secret_access_key_key(self) -> &'static str {
        match self {
            SecretFormat::Sdk => SDK_SECRET_ACCESS_KEY_KEY,
            SecretFormat::EverestObs => EVEREST_SECRET_ACCESS_KEY_KEY,
        }
    }
}

/// A data key whose value is rendered from a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RenderedKey {
    /// Data key to write, such as `credentials`.
    #[schemars(regex(pattern = DATA_KEY_PATTERN), length(min = 1, max = 253))]
    pub key: String,

    /// Template of the value. The placeholders `{{accessKeyId}}`, `{{secretAccessKey}}`,
    /// `{{region}}` and `{{userId}}` are replaced (spaces inside the braces are allowed);
    /// any other `{{...}}` is invalid.
    #[schemars(length(min = 1, max = 8192))]
    pub template: String,
}

/// The workloads that read the target Secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadsSpec {
    /// Workloads in this namespace that read the key, in addition to the discovered ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_WORKLOAD_REFS))]
    pub refs: Vec<WorkloadRef>,

    /// Whether the operator also finds Deployments, StatefulSets and DaemonSets in this
    /// namespace whose pod templates reference a target Secret (env, envFrom, volumes,
    /// projected volumes, and PersistentVolumeClaims of OBS volumes whose
    /// `csi.storage.k8s.io/node-publish-secret-name` annotation names it). Default: true.
    #[serde(default = "default_true")]
    pub discover: bool,

    /// Restart method for the consumers. `annotation` (default) sets a pod-template
    /// annotation carrying the rotation ID, which rolls the pods out once per rotation.
    /// `none` leaves pods alone, for workloads that reload mounted Secret files by
    /// themselves. Pods that mount an OBS volume read its key only at mount time, so they
    /// need `annotation`.
    #[serde(default)]
    pub restart_method: RestartMethod,
}

impl Default for WorkloadsSpec {
    fn default() -> Self {
        Self {
            refs: Vec::new(),
            discover: true,
            restart_method: RestartMethod::Annotation,
        }
    }
}

/// A workload named explicitly as a consumer of the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRef {
    /// Kind of the workload.
    pub kind: WorkloadKind,

    /// Name of the workload, in the resource's namespace.
    #[schemars(regex(pattern = OBJECT_NAME_PATTERN), length(min = 1, max = 253))]
    pub name: String,

    /// Overrides `workloads.restartMethod` for this workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_method: Option<RestartMethod>,
}

/// Kinds of workload the operator restarts and watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }
}

/// Restart method of a workload when the key changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = without_type_description)]
pub enum RestartMethod {
    /// Set a pod-template annotation carrying the rotation ID.
    #[default]
    Annotation,
    /// Do not restart; the workload reloads the Secret itself.
    None,
}

/// Checks that the workloads run on the new key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerificationSpec {
    /// Time allowed for every consumer's rollout to complete and every HTTP check to pass
    /// after the Secrets are written; on timeout the rotation rolls back. Default: `15m`.
    #[serde(default = "default_rollout_timeout")]
    pub rollout_timeout: DurationString,

    /// HTTP endpoints that must return the expected status once the rollouts complete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_HTTP_CHECKS))]
    pub http_checks: Vec<HttpCheck>,

    /// Whether the rotation also waits for evidence that the new key is in use: its IAM
    /// `last_use_time` moves past the time the Secrets were written. Default: false.
    #[serde(default)]
    pub require_new_key_use: bool,

    /// Time allowed for that evidence when `requireNewKeyUse` is set; on timeout the rotation
    /// rolls back. Default: `1h`.
    #[serde(default = "default_new_key_use_timeout")]
    pub new_key_use_timeout: DurationString,
}

impl Default for VerificationSpec {
    fn default() -> Self {
        Self {
            rollout_timeout: default_rollout_timeout(),
            http_checks: Vec::new(),
            require_new_key_use: false,
            new_key_use_timeout: default_new_key_use_timeout(),
        }
    }
}

fn default_rollout_timeout() -> DurationString {
    DurationString::from("15m")
}

fn default_new_key_use_timeout() -> DurationString {
    DurationString::from("1h")
}

/// An HTTP GET that must return the expected status code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpCheck {
    /// Name shown in status and Events. Default: the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub name: Option<String>,

    /// URL to request, `http` or `https`, such as
    /// `http://billing.payments.svc.cluster.local:8080/healthz`.
    #[schemars(length(min = 1, max = 2048))]
    pub url: String,

    /// Status code that counts as healthy. Default: 200.
    #[serde(default = "default_expected_status")]
    #[schemars(range(min = 100, max = 599))]
    pub expected_status: i32,

    /// Time allowed for one request. Default: `10s`.
    #[serde(default = "default_http_timeout")]
    pub timeout: DurationString,
}

impl HttpCheck {
    /// Returns the check's display name: `name`, else the URL.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.url)
    }
}

fn default_expected_status() -> i32 {
    200
}

fn default_http_timeout() -> DurationString {
    DurationString::from("10s")
}

/// When and whether the old key is disabled and deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetirementSpec {
    /// How long the old key's IAM `last_use_time` must stay unchanged, after every consumer
    /// is healthy on the new key, before the old key is disabled. `0s` disables it as soon as
    /// the consumers are verified. Emergency rotations skip this wait. Default: `1h`.
    #[serde(default = "default_idle_window")]
    pub idle_window: DurationString,

    /// How long the old key stays disabled, with the workloads re-checked, before it is
    /// deleted. A deleted key cannot be restored, so the soak is the last chance to find a
    /// consumer that no one listed. Default: `7d`.
    #[serde(default = "default_disabled_soak")]
    pub disabled_soak: DurationString,

    /// Whether the old key is deleted after the soak. With `false` it stays disabled.
    /// Default: true.
    #[serde(default = "default_true")]
    pub delete_old_key: bool,

    /// Policy when the IAM user already has two access keys (the IAM limit) and a new one
    /// is needed. `wait` (default) reports `KeyQuotaExceeded` and waits for a person.
    /// `deleteInactiveUnreferenced` deletes the other key only when it is disabled and no
    /// Secret the operator reads contains it. An active key the operator does not manage is
    /// never touched.
    #[serde(default)]
    pub on_key_quota_full: KeyQuotaPolicy,
}

impl Default for RetirementSpec {
    fn default() -> Self {
        Self {
            idle_window: default_idle_window(),
            disabled_soak: default_disabled_soak(),
            delete_old_key: true,
            on_key_quota_full: KeyQuotaPolicy::Wait,
        }
    }
}

fn default_idle_window() -> DurationString {
    DurationString::from("1h")
}

fn default_disabled_soak() -> DurationString {
    DurationString::from("7d")
}

/// Policy when the IAM user already has two access keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum KeyQuotaPolicy {
    #[default]
    Wait,
    DeleteInactiveUnreferenced,
}

/// When routine rotations happen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "!(has(self.interval) && has(self.cron))",
        "message": "set either interval or cron, not both",
    },
]))]
pub struct ScheduleSpec {
    /// Time between rotations, counted from the last rotation (or from the key's creation
    /// before the first one), such as `90d` or `1d12h`. A day is 24 hours. Excludes `cron`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<DurationString>,

    /// Standard five-field cron expression (minute, hour, day of month, month, day of week),
    /// such as `0 3 1 */3 *`, evaluated in `timeZone`. A rotation is due at the first match
    /// after the last rotation. Excludes `interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub cron: Option<String>,

    /// IANA time zone for `cron` and `maintenanceWindow`, such as `Europe/Berlin`.
    /// Default: `UTC`.
    #[serde(default = "default_time_zone")]
    #[schemars(length(min = 1, max = 64))]
    pub time_zone: String,

    /// Times at which routine (interval or cron) rotations may start. A rotation that comes
    /// due outside the window waits for it to open; requested and emergency rotations never
    /// wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_window: Option<MaintenanceWindowSpec>,

    /// Stops new rotations of any trigger while true; a rotation already in flight finishes
    /// or rolls back. Default: false.
    #[serde(default)]
    pub suspend: bool,

    /// Computes the plan (keys to create, disable and delete, Secrets to write, workloads to
    /// restart) and shows it in status and Events, with no write to the cloud or to Secrets.
    /// Default: false.
    #[serde(default)]
    pub dry_run: bool,

    /// Any string; each change to a new non-empty value starts one rotation at once, outside
    /// the maintenance window. Use a date or a ticket ID, committed to Git.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub rotation_request: Option<String>,
}

impl Default for ScheduleSpec {
    fn default() -> Self {
        Self {
            interval: None,
            cron: None,
            time_zone: default_time_zone(),
            maintenance_window: None,
            suspend: false,
            dry_run: false,
            rotation_request: None,
        }
    }
}

fn default_time_zone() -> String {
    "UTC".to_string()
}

/// Recurring times at which routine rotations may start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceWindowSpec {
    /// Days on which the window opens. Default: every day.
    #[serde(default = "all_days")]
    #[schemars(length(min = 1, max = 7), extend("x-kubernetes-list-type" = "set"))]
    pub days: Vec<Weekday>,

    /// Local time at which the window opens, `HH:MM` in 24-hour form, in the schedule's
    /// time zone. When that time does not exist because clocks move forward, the window
    /// opens at the first time after the gap.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub start: String,

    /// How long the window stays open, such as `4h`; at most `7d`. A rotation that started
    /// inside the window runs to completion after it closes.
    pub duration: DurationString,
}

fn all_days() -> Vec<Weekday> {
    Weekday::ALL.to_vec()
}

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    pub fn to_jiff(self) -> jiff::civil::Weekday {
        match self {
            Weekday::Monday => jiff::civil::Weekday::Monday,
            Weekday::Tuesday => jiff::civil::Weekday::Tuesday,
            Weekday::Wednesday => jiff::civil::Weekday::Wednesday,
            Weekday::Thursday => jiff::civil::Weekday::Thursday,
            Weekday::Friday => jiff::civil::Weekday::Friday,
            Weekday::Saturday => jiff::civil::Weekday::Saturday,
            Weekday::Sunday => jiff::civil::Weekday::Sunday,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal_spec() -> AccessKeyRotationSpec {
        serde_json::from_value(serde_json::json!({
            "provider": {"region": "cn-north-4"},
            "targets": [{"name": "app-credentials"}],
        }))
        .unwrap()
    }

    #[test]
    fn minimal_spec_gets_documented_defaults() {
        let spec = minimal_spec();

        assert!(spec.workloads.discover);
        assert_eq!(spec.workloads.restart_method, RestartMethod::Annotation);
        assert_eq!(spec.verification.rollout_timeout.as_str(), "15m");
        assert_eq!(spec.verification.new_key_use_timeout.as_str(), "1h");
        assert_eq!(spec.retirement.idle_window.as_str(), "1h");
        assert_eq!(spec.retirement.disabled_soak.as_str(), "7d");
        assert!(spec.retirement.delete_old_key);
        assert_eq!(spec.retirement.on_key_quota_full, KeyQuotaPolicy::Wait);
        assert_eq!(spec.schedule.time_zone, "UTC");
        assert_eq!(spec.schedule.interval, None);
        assert!(!spec.schedule.suspend);
        assert!(!spec.schedule.dry_run);
    }

    #[test]
    fn target_keys_follow_format() {
        let sdk = SecretTarget::new("a");
        let everest = SecretTarget {
            format: SecretFormat::EverestObs,
            ..SecretTarget::new("b")
        };

        assert_eq!(sdk.access_key_id_key(), "HUAWEICLOUD_SDK_AK");
        assert_eq!(sdk.secret_access_key_key(), "HUAWEICLOUD_SDK_SK");
        assert_eq!(everest.access_key_id_key(), "access.key");
        assert_eq!(everest.secret_access_key_key(), "secret.key");
    }

    #[test]
    fn target_explicit_keys_override_format() {
        let target = SecretTarget {
            format: SecretFormat::EverestObs,
            access_key_id_key: Some("AK".to_string()),
            secret_access_key_key: Some("SK".to_string()),
            ..SecretTarget::new("c")
        };

        assert_eq!(target.access_key_id_key(), "AK");
        assert_eq!(target.secret_access_key_key(), "SK");
    }

    #[test]
    fn spec_serializes_camel_case() {
        let value = serde_json::to_value(minimal_spec()).unwrap();

        assert_eq!(value["retirement"]["onKeyQuotaFull"], "wait");
        assert_eq!(value["workloads"]["restartMethod"], "annotation");
        assert_eq!(value["schedule"]["timeZone"], "UTC");
        assert_eq!(value["targets"][0]["format"], "sdk");
    }
}
