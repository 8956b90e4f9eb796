//! Status of an `AccessKeyRotation`. It carries access key IDs and never a secret access
//! key, nor the name of any Secret that holds one besides the targets the spec lists: the
//! operator finds its staging and backup Secrets by owner reference and label.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::WorkloadKind;
use crate::api::common::without_type_description;

/// Most past rotations kept in `status.history`.
pub const HISTORY_LIMIT: usize = 10;

/// Observed state of an `AccessKeyRotation`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeyRotationStatus {
    /// Summary of the resource's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RotationPhase>,

    /// The `metadata.generation` this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// ID of the IAM user that owns the managed key, as given in the spec or looked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,

    /// Access key ID that every target Secret contains and the consumers use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_access_key_id: Option<String>,

    /// Access key ID created by the rotation in flight, before it becomes current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_access_key_id: Option<String>,

    /// Access key ID that the last rotation replaced, while it is being retired or after it
    /// was kept disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_access_key_id: Option<String>,

    /// When IAM created the current key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_creation_time: Option<Time>,

    /// When the last rotation completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rotation_time: Option<Time>,

    /// When the next routine rotation is due, before any maintenance window delay. Absent
    /// when the schedule has neither an interval nor a cron expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_rotation_time: Option<Time>,

    /// The last `spec.schedule.rotationRequest` value acted on; a different value in the spec
    /// starts a rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_rotation_request: Option<String>,

    /// The rotation in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<InFlightRotation>,

    /// Workloads that read the target Secrets, listed or discovered, with their readiness.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<ConsumerStatus>,

    /// Latest observations: `Ready`, `Rotating` and `Degraded`, each with a reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend(
        "x-kubernetes-list-type" = "map",
        "x-kubernetes-list-map-keys" = ["type"]
    ))]
    pub conditions: Vec<Condition>,

    /// The last rotations, newest first, at most 10.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = HISTORY_LIMIT))]
    pub history: Vec<RotationRecord>,

    /// Plan of the rotation that would run now, computed when `spec.schedule.dryRun` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run_plan: Option<DryRunPlan>,
}

impl AccessKeyRotationStatus {
    /// Inserts `record` as the newest history entry and drops entries past `HISTORY_LIMIT`.
    pub fn push_history(&mut self, record: RotationRecord) {
        self.history.insert(0, record);
        self.history.truncate(HISTORY_LIMIT);
    }
}

/// Summary of an `AccessKeyRotation`'s state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = without_type_description)]
pub enum RotationPhase {
    /// Not yet reconciled, or waiting for input such as a missing Secret.
    Pending,
    /// The current key is in every target and every consumer is healthy.
    Ready,
    /// A rotation is in flight.
    Rotating,
    /// A rotation failed and is being undone.
    RollingBack,
    /// The last rotation failed and was rolled back; it is retried after a delay.
    Degraded,
    /// Rotation stopped: the spec is invalid, retries are exhausted, or the resource
    /// conflicts with another. A fix or a new `rotationRequest` is needed.
    Failed,
    /// `spec.schedule.suspend` is set and no rotation is in flight.
    Suspended,
}

/// Cause of a rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RotationTrigger {
    /// The user had no key and `spec.userId` was set: the first key was created.
    Bootstrap,
    /// The interval or cron schedule came due.
    Schedule,
    /// `spec.schedule.rotationRequest` changed.
    Request,
    /// A LeakIncident names the current key.
    Emergency,
}

/// The steps of a rotation, in order. `RollingBack` replaces the remaining steps when one
/// fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum RotationStep {
    /// Checking the two-keys-per-user quota and conflicts with other resources.
    CheckingQuota,
    /// Creating the new key in IAM, with a description marker naming this resource and
    /// rotation.
    CreatingKey,
    /// Storing the new secret access key in an owned staging Secret.
    StagingKey,
    /// Copying the target Secrets' current values into an owned backup Secret.
    BackingUpSecrets,
    /// Writing the new key into every target Secret.
    WritingSecrets,
    /// Setting the restart annotation on every consumer.
    RestartingWorkloads,
    /// Waiting for rollouts and HTTP checks, and for use of the new key when required.
    Verifying,
    /// Waiting for the old key's idle window.
    WaitingForIdleOldKey,
    /// Disabling the old key in IAM.
    DisablingOldKey,
    /// Old key disabled; re-checking the consumers and the old key's last use.
    Soaking,
    /// Deleting the old key in IAM.
    DeletingOldKey,
    /// Deleting the staging and backup Secrets and recording history.
    CleaningUp,
    /// Restoring the Secrets and the old key after a failure.
    RollingBack,
}

/// The rotation in flight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InFlightRotation {
    /// Rotation ID: the value of the restart annotation and part of the new key's
    /// description marker.
    pub id: String,

    /// Cause of the rotation.
    pub trigger: RotationTrigger,

    /// Name of the LeakIncident behind an `Emergency` rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leak_incident: Option<String>,

    /// Step being performed or waited on.
    pub step: RotationStep,

    /// When the rotation started.
    pub start_time: Time,

    /// When the current step started.
    pub step_start_time: Time,

    /// Attempt number of this triggered rotation, starting at 1; it grows after each
    /// rollback.
    #[schemars(range(min = 1))]
    pub attempt: i32,

    /// When the Secrets were switched to the new key; the idle window and new key use
    /// evidence count from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_time: Option<Time>,

    /// When the old key was disabled; the soak counts from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_time: Option<Time>,
}

/// A workload that reads a target Secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerStatus {
    /// Kind of the workload.
    pub kind: WorkloadKind,

    /// Name of the workload.
    pub name: String,

    /// Whether the workload is listed in `spec.workloads.refs` or was discovered.
    pub source: ConsumerSource,

    /// References through which the workload reads the key, such as `env:HUAWEICLOUD_SDK_AK` or
    /// `obsVolume:pvc-data`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,

    /// Whether the workload's rollout is complete and its pods are available.
    pub ready: bool,

    /// Rotation ID last written to the workload's restart annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarted_for: Option<String>,

    /// Reason the workload is not ready, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Origin of a consumer entry: the spec or discovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConsumerSource {
    Explicit,
    Discovered,
}

/// One past rotation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationRecord {
    /// Rotation ID.
    pub id: String,

    /// Cause of the rotation.
    pub trigger: RotationTrigger,

    /// Outcome of the rotation.
    pub result: RotationResult,

    /// When it started.
    pub start_time: Time,

    /// When it ended.
    pub completion_time: Time,

    /// Access key ID replaced by the rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_access_key_id: Option<String>,

    /// Access key ID created by the rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_access_key_id: Option<String>,

    /// Attempts it took.
    #[schemars(range(min = 1))]
    pub attempts: i32,

    /// Summary of the rotation, for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Outcome of a rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RotationResult {
    /// The new key is current; the old key was deleted, or kept disabled when
    /// `spec.retirement.deleteOldKey` is false.
    Succeeded,
    /// The rotation failed and the old key and Secrets were restored.
    RolledBack,
    /// The rotation failed and could not be fully undone; see the message.
    Failed,
}

/// Plan of a rotation, computed without any write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DryRunPlan {
    /// When the plan was computed.
    pub compute_time: Time,

    /// Cause that would start the rotation.
    pub trigger: RotationTrigger,

    /// When the rotation would start, after any maintenance window delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,

    /// Whether a new access key would be created for the IAM user.
    pub create_key: bool,

    /// Access key IDs that would be disabled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disable_access_key_ids: Vec<String>,

    /// Access key IDs that would be deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete_access_key_ids: Vec<String>,

    /// Target Secrets that would be written, with their data keys, such as
    /// `app-credentials (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,

    /// Workloads that would be restarted, as `Kind/name`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<String>,

    /// Reasons the rotation could not run as planned, such as a full key quota.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;

    fn record(id: &str) -> RotationRecord {
        RotationRecord {
            id: id.to_string(),
            trigger: RotationTrigger::Schedule,
            result: RotationResult::Succeeded,
            start_time: Time(Timestamp::UNIX_EPOCH),
            completion_time: Time(Timestamp::UNIX_EPOCH),
            old_access_key_id: None,
            new_access_key_id: None,
            attempts: 1,
            message: None,
        }
    }

    #[test]
    fn push_history_newest_first_and_bounded() {
        let mut status = AccessKeyRotationStatus::default();
        for index in 0..HISTORY_LIMIT + 3 {
            status.push_history(record(&format!("r{index}")));
        }

        assert_eq!(status.history.len(), HISTORY_LIMIT);
        assert_eq!(status.history[0].id, format!("r{}", HISTORY_LIMIT + 2));
        assert_eq!(status.history[HISTORY_LIMIT - 1].id, "r3");
    }
}
