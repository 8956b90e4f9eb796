//! Condition types and reasons of both custom resources, and a helper that updates a
//! condition list the way Kubernetes API conventions expect.
//!
//! An Argo CD health check reads an `AccessKeyRotation` as Healthy when `Ready` is `True`,
//! Progressing when `Rotating` is `True`, and Degraded when `Degraded` is `True`.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// `AccessKeyRotation`: the current key is in every target Secret and every consumer is
/// healthy on it.
pub const READY: &str = "Ready";
/// `AccessKeyRotation`: a rotation is in flight.
pub const ROTATING: &str = "Rotating";
/// `AccessKeyRotation`: something needs attention: invalid spec, failed rotation, full key
/// quota, conflict with another resource.
pub const DEGRADED: &str = "Degraded";

/// `LeakIncident`: the leaked key can no longer act freely (deleted, disabled, rotated out or
/// restricted by a deny policy).
pub const CONTAINED: &str = "Contained";
/// `LeakIncident`: the key's API calls, the account's other keys and users, and the bill
/// were checked.
pub const AUDITED: &str = "Audited";
/// `LeakIncident`: no step is left, automatic or manual.
pub const RESOLVED: &str = "Resolved";

/// Condition reasons. Validation reasons come from `validation::FieldReason`.
pub mod reasons {
    pub const ROTATION_SUCCEEDED: &str = "RotationSucceeded";
    pub const ROTATION_IN_PROGRESS: &str = "RotationInProgress";
    pub const ROLLED_BACK: &str = "RolledBack";
    pub const RETRIES_EXHAUSTED: &str = "RetriesExhausted";
    pub const KEY_QUOTA_EXCEEDED: &str = "KeyQuotaExceeded";
    pub const CONFLICT: &str = "Conflict";
    pub const OLD_KEY_IN_USE: &str = "OldKeyInUse";
    pub const ROLLOUT_FAILED: &str = "RolloutFailed";
    pub const HTTP_CHECK_FAILED: &str = "HttpCheckFailed";
    pub const NEW_KEY_UNUSED: &str = "NewKeyUnused";
    pub const SECRET_NOT_FOUND: &str = "SecretNotFound";
    pub const DATA_KEY_MISSING: &str = "DataKeyMissing";
    pub const USER_NOT_FOUND: &str = "UserNotFound";
    pub const PERMISSION_DENIED: &str = "PermissionDenied";
    pub const WAITING_FOR_MAINTENANCE_WINDOW: &str = "WaitingForMaintenanceWindow";
    pub const SUSPENDED: &str = "Suspended";
    pub const DRY_RUN: &str = "DryRun";
    pub const CONSUMERS_NOT_READY: &str = "ConsumersNotReady";
    pub const AWAITING_APPROVAL: &str = "AwaitingApproval";
    pub const KEY_DELETED: &str = "KeyDeleted";
    pub const KEY_DISABLED: &str = "KeyDisabled";
    pub const KEY_ROTATED: &str = "KeyRotated";
    pub const KEY_RESTRICTED: &str = "KeyRestricted";
    pub const MANUAL_STEPS_REMAIN: &str = "ManualStepsRemain";
}

/// Sets the condition `type_` in `conditions`. `lastTransitionTime` changes only when the
/// status flips, so repeated reconciles with the same outcome write the same status.
/// Returns whether anything changed.
pub fn set_condition(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
    observed_generation: Option<i64>,
    now: Timestamp,
) -> bool {
    let status = if status { "True" } else { "False" };
    let Some(existing) = conditions.iter_mut().find(|condition| condition.type_ == type_) else {
        conditions.push(Condition {
            type_: type_.to_string(),
            status: status.to_string(),
            reason: reason.to_string(),
            message: message.to_string(),
            observed_generation,
            last_transition_time: Time(now),
        });
        return true;
    };

    let unchanged = existing.status == status
        && existing.reason == reason
        && existing.message == message
        && existing.observed_generation == observed_generation;
    if unchanged {
        return false;
    }
    if existing.status != status {
        existing.last_transition_time = Time(now);
    }
    existing.status = status.to_string();
    existing.reason = reason.to_string();
    existing.message = message.to_string();
    existing.observed_generation = observed_generation;
    true
}

/// Returns whether the condition `type_` is present with status `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    conditions
        .iter()
        .any(|condition| condition.type_ == type_ && condition.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn set_condition_adds_missing_type() {
        let mut conditions = Vec::new();

        let changed = set_condition(&mut conditions, READY, true, "RotationSucceeded", "ok", Some(1), at(10));

        assert!(changed);
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].status, "True");
        assert_eq!(conditions[0].last_transition_time, Time(at(10)));
    }

    #[test]
    fn set_condition_same_values_is_no_change() {
        let mut conditions = Vec::new();
        set_condition(&mut conditions, READY, true, "RotationSucceeded", "ok", Some(1), at(10));

        let changed = set_condition(&mut conditions, READY, true, "RotationSucceeded", "ok", Some(1), at(20));

        assert!(!changed);
        assert_eq!(conditions[0].last_transition_time, Time(at(10)));
    }

    #[test]
    fn set_condition_new_message_keeps_transition_time() {
        let mut conditions = Vec::new();
        set_condition(&mut conditions, READY, false, "ConsumersNotReady", "a", Some(1), at(10));

        let changed = set_condition(&mut conditions, READY, false, "ConsumersNotReady", "b", Some(1), at(20));

        assert!(changed);
        assert_eq!(conditions[0].message, "b");
        assert_eq!(conditions[0].last_transition_time, Time(at(10)));
    }

    #[test]
    fn set_condition_flip_moves_transition_time() {
        let mut conditions = Vec::new();
        set_condition(&mut conditions, READY, false, "ConsumersNotReady", "a", Some(1), at(10));

        set_condition(&mut conditions, READY, true, "RotationSucceeded", "ok", Some(1), at(20));

        assert_eq!(conditions[0].status, "True");
        assert_eq!(conditions[0].last_transition_time, Time(at(20)));
        assert!(is_true(&conditions, READY));
    }
}
