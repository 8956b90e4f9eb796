//! Status of a `LeakIncident`: triage, the action log, findings and what is left to do.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::without_type_description;
use crate::api::rotation::WorkloadKind;

/// Maximum number of entries in `status.actions`. The log is append-only, so
/// [`LeakIncidentStatus::push_action`] ends it with an `ActionLogFull` entry at the limit.
pub const ACTION_LOG_LIMIT: usize = 256;
/// Maximum number of API calls listed in `status.findings.apiCalls`. `apiCallCount` counts
/// all of them.
pub const API_CALL_FINDINGS_LIMIT: usize = 50;
/// Maximum number of entries in each other findings list.
pub const FINDINGS_LIST_LIMIT: usize = 100;

/// Observed state of a `LeakIncident`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeakIncidentStatus {
    /// Summary of the response's progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<LeakPhase>,

    /// The `metadata.generation` this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// The IAM identity that owns the leaked key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<KeyOwner>,

    /// State and last use of the leaked key, as IAM reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<LeakedKeyState>,

    /// The playbook scenario chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<LeakScenario>,

    /// Reason for the chosen scenario, for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_reason: Option<String>,

    /// Secrets, workloads and the rotation inside the cluster that use the leaked key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<ClusterExposure>,

    /// Restrictions the operator applied to the key's user, kept so they can be removed after
    /// the key is rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<AppliedRestrictions>,

    /// Every action taken, oldest first. Entries are only ever appended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = ACTION_LOG_LIMIT))]
    pub actions: Vec<ActionRecord>,

    /// Audit results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<Findings>,

    /// Steps left for a person, such as replacing a master-account key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub recommendations: Vec<Recommendation>,

    /// Latest observations: `Contained`, `Audited` and `Resolved`, each with a reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend(
        "x-kubernetes-list-type" = "map",
        "x-kubernetes-list-map-keys" = ["type"]
    ))]
    pub conditions: Vec<Condition>,
}

impl LeakIncidentStatus {
    /// Appends `record` to the action log and returns whether it was recorded. The entry that
    /// would take the last free slot becomes an `ActionLogFull` marker instead, and later
    /// records are dropped, so the log never passes `ACTION_LOG_LIMIT` and shows where it
    /// stopped. Events still carry every action.
    pub fn push_action(&mut self, record: ActionRecord) -> bool {
        let used = self.actions.len();
        if used + 1 < ACTION_LOG_LIMIT {
            self.actions.push(record);
            return true;
        }
        if used + 1 == ACTION_LOG_LIMIT {
            self.actions.push(ActionRecord {
                time: record.time,
                action: "ActionLogFull".to_string(),
                target: record.target,
                result: ActionResult::Skipped,
                message: Some(format!(
                    "the action log reached {ACTION_LOG_LIMIT} entries; later actions are \
                     recorded only as Events"
                )),
            });
        }
        false
    }
}

/// Summary of a leak response's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = without_type_description)]
pub enum LeakPhase {
    /// Looking up the key, its owner, its use and its exposure in the cluster.
    Triaging,
    /// `mode` is `approvalRequired` and the next step changes the key or its permissions.
    AwaitingApproval,
    /// Disabling, rotating or restricting the key.
    Containing,
    /// Reading CTS traces, other keys and users, and the bill.
    Auditing,
    /// Contained and audited, with manual steps left in `recommendations`.
    Open,
    /// Nothing left to do.
    Resolved,
    /// The response cannot proceed; see the conditions.
    Failed,
}

/// The IAM identity that owns a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyOwner {
    /// IAM user ID.
    pub user_id: String,

    /// IAM user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,

    /// Account (domain) ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,

    /// Whether the key belongs to the account's master identity. Such keys are never deleted
    /// automatically.
    pub master: bool,
}

/// State of the leaked key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeakedKeyState {
    /// Key status in IAM.
    pub state: KeyState,

    /// When IAM created the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Time>,

    /// IAM `last_use_time`; equal to the creation time for a key never used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_use_time: Option<Time>,

    /// When these values were read.
    pub observe_time: Time,
}

/// Status of an access key in IAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum KeyState {
    Active,
    Inactive,
    /// The key was deleted, by the operator or by someone else.
    Deleted,
    /// IAM does not know the key ID.
    NotFound,
}

/// The playbook scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = without_type_description)]
pub enum LeakScenario {
    /// The key was never used: disable it, confirm nothing breaks, delete it.
    NotInUse,
    /// The key is in use and an `AccessKeyRotation` manages it or can be created: rotate at
    /// once, skipping maintenance and idle windows, with a short soak.
    Rotatable,
    /// The key is in use and cannot be rotated soon: deny high-risk actions, switch on login
    /// protection, audit, and leave the incident open.
    NotRotatable,
    /// The key belongs to the account's master identity: restrict and audit, and recommend
    /// replacing it with an IAM user's key under least privilege.
    MasterAccount,
}

/// Uses of a leaked key inside the cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterExposure {
    /// Secrets whose data contains the key ID, including CCE's cluster-wide OBS key Secret
    /// `kube-system/paas.longaksk`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = FINDINGS_LIST_LIMIT))]
    pub secrets: Vec<ExposedSecret>,

    /// Workloads that read those Secrets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = FINDINGS_LIST_LIMIT))]
    pub workloads: Vec<ExposedWorkload>,

    /// The `AccessKeyRotation` that manages the key, as `namespace/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<String>,
}

/// A Secret that contains the leaked key ID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExposedSecret {
    pub namespace: String,
    pub name: String,
    /// Data key that contains the access key ID.
    pub data_key: String,
}

/// A workload that reads a Secret holding the leaked key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExposedWorkload {
    pub namespace: String,
    pub kind: WorkloadKind,
    pub name: String,
}

/// Restrictions applied to the key's IAM user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedRestrictions {
    /// IDs of the custom deny policies created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_ids: Vec<String>,

    /// ID of the user group that carries the deny policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,

    /// IDs of the IAM users whose login protection the operator switched on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = FINDINGS_LIST_LIMIT))]
    pub login_protection_user_ids: Vec<String>,
}

/// One entry of the action log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionRecord {
    /// When the action finished.
    pub time: Time,

    /// Action name, such as `DisableKey`, `AttachDenyPolicy` or `EnableLoginProtection`.
    pub action: String,

    /// Object acted on, such as an access key ID or a user ID.
    pub target: String,

    /// Outcome of the action.
    pub result: ActionResult,

    /// Details, for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Outcome of an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ActionResult {
    Succeeded,
    Failed,
    /// Not performed, because of the spec (`allowDeletion: false`) or the state found.
    Skipped,
}

/// Audit results of a leak incident.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Findings {
    /// Start of the audited time range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_start_time: Option<Time>,

    /// End of the audited time range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_end_time: Option<Time>,

    /// Number of CTS traces made with the leaked key inside the audit window.
    #[serde(default)]
    pub api_call_count: i64,

    /// Traces made with the leaked key, abnormal ones first, at most 50.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = API_CALL_FINDINGS_LIMIT))]
    pub api_calls: Vec<ApiCallFinding>,

    /// Other access keys in the account with recent activity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = FINDINGS_LIST_LIMIT))]
    pub other_active_keys: Vec<KeyActivity>,

    /// IAM users without login protection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = FINDINGS_LIST_LIMIT))]
    pub users_without_login_protection: Vec<UserRef>,

    /// IAM users without an MFA device.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = FINDINGS_LIST_LIMIT))]
    pub users_without_mfa: Vec<UserRef>,

    /// The account's cost inside the audit window against the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostFinding>,
}

/// One API call made with the leaked key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiCallFinding {
    /// When the call happened.
    pub time: Time,

    /// Service type, such as `IAM` or `ECS`.
    pub service: String,

    /// Trace name (the operation), such as `createCredential`.
    pub operation: String,

    /// Source IP address of the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,

    /// HTTP status code of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i32>,

    /// Whether the call looks abnormal.
    pub abnormal: bool,

    /// Reason the call looks abnormal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Recent activity of another access key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyActivity {
    pub access_key_id: String,
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// IAM `last_use_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_use_time: Option<Time>,
}

/// An IAM user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
}

/// Cost inside the audit window against the baseline. Amounts are decimal strings in the
/// account's currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CostFinding {
    /// Currency code, such as `CNY` or `USD`.
    pub currency: String,
    /// Average daily cost before the audit window.
    pub baseline_daily: String,
    /// Average daily cost inside the audit window.
    pub observed_daily: String,
    /// Increase over the baseline, in percent; negative for a decrease.
    pub increase_percent: i64,
    /// Whether the increase passes `spec.costThreshold`.
    pub exceeded: bool,
}

/// A step left for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    /// Machine-readable kind, such as `ReplaceMasterKey` or `RotateKey`.
    pub reason: String,
    /// Step to take, for a person.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;

    fn record(action: &str) -> ActionRecord {
        ActionRecord {
            time: Time(Timestamp::UNIX_EPOCH),
            action: action.to_string(),
            target: "P83EVBZJMXCYTMUII6IS".to_string(),
            result: ActionResult::Succeeded,
            message: None,
        }
    }

    #[test]
    fn push_action_appends_in_order() {
        let mut status = LeakIncidentStatus::default();

        assert!(status.push_action(record("DisableKey")));
        assert!(status.push_action(record("DeleteKey")));

        assert_eq!(status.actions[0].action, "DisableKey");
        assert_eq!(status.actions[1].action, "DeleteKey");
    }

    #[test]
    fn push_action_stops_at_limit_with_marker() {
        let mut status = LeakIncidentStatus::default();
        for _ in 0..ACTION_LOG_LIMIT - 1 {
            status.push_action(record("AuditCall"));
        }

        let last_recorded = status.push_action(record("DisableKey"));
        let after_full = status.push_action(record("DeleteKey"));

        assert!(!last_recorded);
        assert!(!after_full);
        assert_eq!(status.actions.len(), ACTION_LOG_LIMIT);
        assert_eq!(status.actions[ACTION_LOG_LIMIT - 1].action, "ActionLogFull");
        assert_eq!(status.actions[ACTION_LOG_LIMIT - 1].result, ActionResult::Skipped);
    }
}
