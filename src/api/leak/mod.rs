//! The `LeakIncident` custom resource: a report that an access key ID leaked, and the
//! operator's response to it.

mod status;

pub use status::*;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    BillingSite, CredentialsSecretRef, DurationString, EndpointOverrides, IamScope, REGION_PATTERN,
    default_true,
};

/// Schema pattern of an access key ID: upper-case letters and digits (IAM issues 20).
pub const ACCESS_KEY_ID_PATTERN: &str = "^[A-Z0-9]{10,64}$";

/// Maximum audit window: Cloud Trace Service keeps traces queryable for 7 days.
pub const MAX_AUDIT_WINDOW: &str = "7d";

/// Specification of a leak response: the leaked access key ID, where it was found, and how
/// far the operator may go in Huawei Cloud's leak-handling playbook.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "akguard.io",
    version = "v1alpha1",
    kind = "LeakIncident",
    namespaced,
    shortname = "leak",
    category = "akguard",
    status = "LeakIncidentStatus",
    derive = "PartialEq",
    doc = "Reports a leaked Huawei Cloud access key and records the operator's response: triage, containment, audit and remaining steps.",
    printcolumn(name = "Access Key ID", type_ = "string", json_path = ".spec.accessKeyId"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Scenario", type_ = "string", json_path = ".status.scenario"),
    printcolumn(name = "Owner", type_ = "string", json_path = ".status.owner.userName"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct LeakIncidentSpec {
    /// The leaked access key ID (AK), such as `P83EVBZJMXCYTMUII6IS`. Never put the secret
    /// access key anywhere in this resource. Immutable.
    #[schemars(
        regex(pattern = ACCESS_KEY_ID_PATTERN),
        length(max = 64),
        extend("x-kubernetes-validations" = [
            { "rule": "self == oldSelf", "message": "accessKeyId is immutable; create a new LeakIncident for another key" },
        ])
    )]
    pub access_key_id: String,

    /// Region, endpoints and the privileged identity that acts on the leaked key. The leaked
    /// key itself is never used to act.
    pub provider: LeakProviderSpec,

    /// Place where the key was found.
    #[serde(default)]
    pub source: LeakSource,

    /// When the leak was detected. Default: the resource's creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_at: Option<Time>,

    /// Links to or descriptions of the evidence, such as a commit URL or a log query.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub evidence: Vec<EvidenceRef>,

    /// Response mode. `automatic` (default) runs every step of the playbook.
    /// `approvalRequired` triages, audits and plans, then stops before any step that changes
    /// the key or its permissions until `approved` is set.
    #[serde(default)]
    pub mode: ResponseMode,

    /// Approves the destructive steps when `mode` is `approvalRequired`. Default: false.
    #[serde(default)]
    pub approved: bool,

    /// Deny policy attached to the key's IAM user when the key is in use and cannot be
    /// rotated soon. It is removed after the key is rotated.
    #[serde(default)]
    pub deny_policy: DenyPolicySpec,

    /// How far back the key's API calls in Cloud Trace Service are audited, counted from
    /// `detectedAt`; at most `7d`, the time CTS keeps traces queryable. Default: `7d`.
    #[serde(default = "default_audit_window")]
    pub audit_window: DurationString,

    /// When the account's cost counts as unexpected. Default: 50% above the baseline.
    #[serde(default)]
    pub cost_threshold: CostThreshold,

    /// Whether the operator may delete the leaked key (after disabling it and verifying that
    /// nothing broke). With `false` the key stays disabled and deletion is left as a
    /// recommendation. Keys of the account's master identity are never deleted automatically.
    /// Default: true.
    #[serde(default = "default_true")]
    pub allow_deletion: bool,
}

fn default_audit_window() -> DurationString {
    DurationString::from(MAX_AUDIT_WINDOW)
}

/// Provider block of a LeakIncident; unlike a rotation's, the privileged identity is
/// required.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeakProviderSpec {
    /// Huawei Cloud region ID, such as `cn-north-4`; it selects the CTS endpoint to audit.
    #[schemars(regex(pattern = REGION_PATTERN), length(max = 64))]
    pub region: String,

    /// IAM endpoint used when `endpoints.iam` is not set: `global` (default) or `regional`.
    #[serde(default)]
    pub iam_scope: IamScope,

    /// The billing site for cost checks: `china` (default) or `international`.
    #[serde(default)]
    pub billing_site: BillingSite,

    /// Base URLs that replace the derived IAM, CTS and BSS endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<EndpointOverrides>,

    /// A Secret in this namespace with the access key of a privileged IAM identity (one
    /// that may manage other users' keys, policies and login protection, and read CTS and
    /// BSS). It must not hold the leaked key.
    pub credentials_secret_ref: CredentialsSecretRef,
}

/// Place where a leaked key was found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeakSource {
    /// Kind of source. Default: `other`.
    #[serde(default, rename = "type")]
    pub type_: LeakSourceType,

    /// Free text: the repository, log stream or notice, such as `github.com/acme/shop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
}

/// Kinds of place a key leaks to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum LeakSourceType {
    /// A source code repository.
    Repository,
    /// Application or build logs.
    Log,
    /// A notice from Huawei Cloud.
    CloudNotice,
    /// An alerting or secret-scanning pipeline.
    Alert,
    #[default]
    Other,
}

/// One piece of evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceRef {
    /// Description of the evidence, such as `commit that added the key`.
    #[schemars(length(min = 1, max = 1024))]
    pub description: String,

    /// Location of the evidence, such as a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub url: Option<String>,
}

/// How far the operator goes on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ResponseMode {
    #[default]
    Automatic,
    ApprovalRequired,
}

/// Deny policy attached when the key cannot be rotated soon.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DenyPolicySpec {
    /// High-risk action groups to deny. Default: all four.
    #[serde(default = "all_high_risk_groups")]
    #[schemars(length(max = 4), extend("x-kubernetes-list-type" = "set"))]
    pub groups: Vec<HighRiskActionGroup>,

    /// Further IAM action names to deny, in `service:resource:action` form, such as
    /// `dcs:instance:delete`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub extra_actions: Vec<String>,
}

impl Default for DenyPolicySpec {
    fn default() -> Self {
        Self {
            groups: all_high_risk_groups(),
            extra_actions: Vec::new(),
        }
    }
}

fn all_high_risk_groups() -> Vec<HighRiskActionGroup> {
    HighRiskActionGroup::ALL.to_vec()
}

/// Groups of high-risk actions that Huawei Cloud's leak-handling guidance recommends denying.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum HighRiskActionGroup {
    /// Creating IAM users and granting permissions.
    IamUsersAndPermissions,
    /// Stopping or deleting compute: ECS and BMS servers.
    ComputeStopAndDelete,
    /// Deleting storage: OBS buckets, EVS disks, RDS instances.
    StorageDeletion,
    /// Deleting logs: LTS log groups, CTS trackers.
    LogDeletion,
}

impl HighRiskActionGroup {
    pub const ALL: [HighRiskActionGroup; 4] = [
        HighRiskActionGroup::IamUsersAndPermissions,
        HighRiskActionGroup::ComputeStopAndDelete,
        HighRiskActionGroup::StorageDeletion,
        HighRiskActionGroup::LogDeletion,
    ];
}

/// When the account's cost counts as unexpected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CostThreshold {
    /// Daily cost inside the audit window above the baseline (the average daily cost of the
    /// same length of time before it) by more than this percentage is a finding.
    /// Default: 50.
    #[serde(default = "default_increase_percent")]
    #[schemars(range(min = 1, max = 100000))]
    pub increase_percent: i32,

    /// Smallest increase, in the account's currency, that counts; smaller increases are
    /// ignored however large the percentage. A decimal string such as `100` or `25.50`.
    /// Default: `0`.
    #[serde(default = "default_minimum_increase")]
    #[schemars(regex(pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"))]
    pub minimum_increase: String,
}

impl Default for CostThreshold {
    fn default() -> Self {
        Self {
            increase_percent: default_increase_percent(),
            minimum_increase: default_minimum_increase(),
        }
    }
}

fn default_increase_percent() -> i32 {
    50
}

fn default_minimum_increase() -> String {
    "0".to_string()
}
