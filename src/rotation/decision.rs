//! Pure decisions of a rotation. The reconciler gathers what the cloud and the cluster
//! show, calls one of these with an explicit `now`, and performs the one step it returns.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};

use super::marker::KeyMarker;
use crate::workloads::rollout::RolloutState;

/// One IAM access key as the operator reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyView {
    pub access_key_id: String,
    pub active: bool,
    pub created: Timestamp,
    /// `last_use_time`; IAM reports the creation time for a key never used.
    pub last_used: Option<Timestamp>,
    pub marker: Option<KeyMarker>,
}

impl KeyView {
    /// Returns whether the key has signed a request since it was created.
    pub fn ever_used(&self) -> bool {
        self.last_used.is_some_and(|used| used > self.created)
    }
}

/// Cause of a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The interval or cron schedule came due.
    Schedule,
    /// `spec.rotationRequest` changed to this value.
    Request(String),
    /// A LeakIncident names the current key.
    Emergency(String),
}

impl Trigger {
    /// Routine rotations wait for the maintenance window; requests and emergencies do not.
    pub fn is_routine(&self) -> bool {
        matches!(self, Trigger::Schedule)
    }

    pub fn is_emergency(&self) -> bool {
        matches!(self, Trigger::Emergency(_))
    }

    pub fn label(&self) -> &'static str {
        match self {
            Trigger::Schedule => "Schedule",
            Trigger::Request(_) => "Request",
            Trigger::Emergency(_) => "Emergency",
        }
    }
}

/// State of the maintenance window at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// No window configured: routine rotations may start any time.
    Unrestricted,
    Open,
    Closed { opens: Timestamp },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerInput<'a> {
    pub now: Timestamp,
    pub suspended: bool,
    /// Next scheduled due time; `None` when the resource has no schedule.
    pub scheduled_due: Option<Timestamp>,
    pub window: Window,
    pub rotation_request: Option<&'a str>,
    /// The last `rotationRequest` value the operator acted on (or adopted).
    pub handled_request: Option<&'a str>,
    /// Name of an open LeakIncident that names the current key.
    pub emergency: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerDecision {
    Rotate(Trigger),
    /// Nothing due; look again at `until` (when the schedule comes due), or never.
    Idle { until: Option<Timestamp> },
    /// A routine rotation is due but the maintenance window is closed until `opens`.
    HeldByWindow { opens: Timestamp },
    /// A rotation is due but `spec.schedule.suspend` is set.
    Suspended { trigger: Trigger },
}

/// Decides whether a new rotation starts now. Emergencies come first, then explicit
/// requests, then the schedule; only the schedule waits for the maintenance window.
pub fn decide_trigger(input: &TriggerInput<'_>) -> TriggerDecision {
    let request_changed = match (input.rotation_request, input.handled_request) {
        (Some(request), handled) => !request.is_empty() && Some(request) != handled,
        (None, _) => false,
    };

    let trigger = if let Some(incident) = input.emergency {
        Some(Trigger::Emergency(incident.to_string()))
    } else if request_changed {
        Some(Trigger::Request(input.rotation_request.unwrap_or_default().to_string()))
    } else if input.scheduled_due.is_some_and(|due| due <= input.now) {
        Some(Trigger::Schedule)
    } else {
        None
    };

    let Some(trigger) = trigger else {
        return TriggerDecision::Idle {
            until: input.scheduled_due,
        };
    };
    if input.suspended {
        return TriggerDecision::Suspended { trigger };
    }
    if let (true, Window::Closed { opens }) = (trigger.is_routine(), input.window) {
        return TriggerDecision::HeldByWindow { opens };
    }
    TriggerDecision::Rotate(trigger)
}

/// Result of one named HTTP health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// A consumer's health as seen for the rotation in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerHealth {
    /// `Kind/name`.
    pub name: String,
    /// Whether its pod template carries the current rotation ID (restart issued).
    pub restarted: bool,
    pub rollout: RolloutState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Passed,
    Waiting(String),
    Failed(String),
}

/// Judges whether every consumer runs healthy on the new key and every HTTP check passes,
/// within `timeout` of `started`. A failed rollout fails at once; a failing check is given
/// until the timeout, since a pod may still be starting.
pub fn verification_outcome(
    consumers: &[ConsumerHealth],
    checks: &[CheckOutcome],
    started: Timestamp,
    timeout: SignedDuration,
    now: Timestamp,
) -> Verification {
    if let Some(consumer) = consumers
        .iter()
        .find(|consumer| matches!(consumer.rollout, RolloutState::Failed(_)))
    {
        let RolloutState::Failed(why) = &consumer.rollout else {
            unreachable!("filtered on Failed");
        };
        return Verification::Failed(format!("rollout of {} failed: {why}", consumer.name));
    }

    let pending: Vec<String> = consumers
        .iter()
        .filter(|consumer| !consumer.restarted || !consumer.rollout.is_complete())
        .map(|consumer| match &consumer.rollout {
            RolloutState::Progressing(why) if consumer.restarted => {
                format!("{} ({why})", consumer.name)
            }
            _ => format!("{} (restart not issued)", consumer.name),
        })
        .chain(
            checks
                .iter()
                .filter(|check| !check.passed)
                .map(|check| format!("check {} ({})", check.name, check.detail)),
        )
        .collect();

    if pending.is_empty() {
        return Verification::Passed;
    }
    let waiting = pending.join(", ");
    if now >= started.saturating_add(timeout).unwrap_or(Timestamp::MAX) {
        return Verification::Failed(format!(
            "timed out after {timeout:#} waiting for {waiting}"
        ));
    }
    Verification::Waiting(waiting)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdleDecision {
    /// The old key has been still for the whole idle window: it may be disabled.
    Ready,
    /// Wait until `until`; `in_use_since` is set when the old key was used after the switch.
    Wait {
        until: Timestamp,
        in_use_since: Option<Timestamp>,
    },
}

/// Decides whether the old key has stayed unused long enough to disable it. The window
/// counts from the later of the switch and the key's last use, so a `last_use_time` that
/// IAM refreshes late still falls inside it.
pub fn idle_outcome(
    old_key: &KeyView,
    switched_at: Timestamp,
    idle_window: SignedDuration,
    now: Timestamp,
) -> IdleDecision {
    let last_used = old_key.last_used.unwrap_or(old_key.created);
    let in_use_since = (last_used > switched_at).then_some(last_used);
    let quiet_from = last_used.max(switched_at);
    let until = quiet_from.saturating_add(idle_window).unwrap_or(Timestamp::MAX);
    if now >= until {
        IdleDecision::Ready
    } else {
        IdleDecision::Wait {
            until,
            in_use_since,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoakDecision {
    /// The soak passed: the old key may be deleted.
    Done,
    Wait { until: Timestamp },
    /// The disabled old key was used (a consumer the operator does not know still uses it):
    /// re-enable it and do not delete it.
    OldKeyUsed { since: Timestamp },
    /// A consumer broke while the old key was disabled: re-enable it and restore the Secrets.
    ConsumerBroken(String),
}

/// Judges the disabled-key soak. `last_used_at_disable` is the old key's `last_use_time`
/// read when it was disabled; any later value means something still tried it.
pub fn soak_outcome(
    disabled_at: Timestamp,
    soak: SignedDuration,
    last_used_at_disable: Option<Timestamp>,
    old_key: &KeyView,
    consumers: &[ConsumerHealth],
    now: Timestamp,
) -> SoakDecision {
    if let Some(used) = old_key.last_used
        && last_used_at_disable.is_none_or(|before| used > before)
        && used > disabled_at
    {
        return SoakDecision::OldKeyUsed { since: used };
    }

    let broken: Vec<String> = consumers
        .iter()
        .filter(|consumer| !consumer.rollout.is_complete())
        .map(|consumer| match &consumer.rollout {
            RolloutState::Failed(why) | RolloutState::Progressing(why) => {
                format!("{}: {why}", consumer.name)
            }
            RolloutState::Complete => unreachable!("filtered out"),
        })
        .collect();
    if !broken.is_empty() {
        return SoakDecision::ConsumerBroken(broken.join(", "));
    }

    let until = disabled_at.saturating_add(soak).unwrap_or(Timestamp::MAX);
    if now >= until {
        SoakDecision::Done
    } else {
        SoakDecision::Wait { until }
    }
}

/// Policy for a user that already has keys besides the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaPolicy {
    /// Report `KeyQuotaExceeded` and wait for a person to free a slot.
    Wait,
    /// Delete the other key when it is inactive and no Secret the operator knows contains it.
    DeleteInactiveUnreferenced,
}

/// IAM allows two access keys per user, inactive keys included.
pub const KEYS_PER_USER: usize = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuotaDecision {
    Proceed,
    /// Delete this inactive, unreferenced key first (allowed by the policy).
    DeleteFirst(String),
    Blocked(String),
}

/// Checks the two-keys-per-user quota before a key is created. `referenced` contains every
/// access key ID found in a Secret the operator knows; such a key is never deleted here.
pub fn quota_decision(
    keys: &[KeyView],
    current: Option<&str>,
    policy: QuotaPolicy,
    referenced: &BTreeSet<String>,
) -> QuotaDecision {
    if keys.len() < KEYS_PER_USER {
        return QuotaDecision::Proceed;
    }

    let others: Vec<&KeyView> = keys
        .iter()
        .filter(|key| Some(key.access_key_id.as_str()) != current)
        .collect();
    let ids: Vec<&str> = keys.iter().map(|key| key.access_key_id.as_str()).collect();

    if policy == QuotaPolicy::DeleteInactiveUnreferenced
        && let Some(spare) = others
            .iter()
            .find(|key| !key.active && !referenced.contains(&key.access_key_id))
    {
        return QuotaDecision::DeleteFirst(spare.access_key_id.clone());
    }

    let fix = match policy {
        QuotaPolicy::Wait => "delete the key that is not in use, or set spec.retirement.onKeyQuotaFull to deleteInactiveUnreferenced and deactivate it",
        QuotaPolicy::DeleteInactiveUnreferenced => "deactivate the key that is not in use (only inactive keys that no Secret contains are deleted)",
    };
    QuotaDecision::Blocked(format!(
        "the IAM user already holds {} access keys ({}); {fix}",
        keys.len(),
        ids.join(", ")
    ))
}

/// Returns the keys this resource created that no Secret contains and that were never used: their secret
/// access key was lost before it was stored, so no client can use them and they must go.
/// A marked key that was used is kept and left for a person to judge, and so is one whose
/// last use is unknown (IAM's list omits `last_use_time`, so the caller shows the key).
pub fn orphaned_keys(
    keys: &[KeyView],
    resource_uid: &str,
    held: &BTreeSet<String>,
) -> Vec<String> {
    keys.iter()
        .filter(|key| {
            key.marker
                .as_ref()
                .is_some_and(|marker| marker.resource_uid == resource_uid)
        })
        .filter(|key| !held.contains(&key.access_key_id))
        .filter(|key| key.last_used.is_some_and(|used| used <= key.created))
        .map(|key| key.access_key_id.clone())
        .collect()
}

/// Whether a rotation may start in a namespace where `in_flight` others are under way.
/// Emergencies never wait for a slot: a leaked key must not stay in use.
pub fn namespace_has_room(in_flight: usize, limit: u16, trigger: &Trigger) -> bool {
    trigger.is_emergency() || in_flight < usize::from(limit.max(1))
}

/// Maximum automatic attempts of one triggered rotation; after that only a new
/// `spec.rotationRequest` starts another.
pub const MAX_ATTEMPTS: u32 = 3;

/// Delay before retry number `attempt` (1-based) after a rollback: 5 minutes doubling,
/// capped at 1 hour.
pub fn retry_delay(attempt: u32) -> SignedDuration {
    let minutes = 5i64.saturating_mul(1i64 << attempt.saturating_sub(1).min(10));
    SignedDuration::from_mins(minutes.min(60))
}

#[cfg(test)]
mod tests;
