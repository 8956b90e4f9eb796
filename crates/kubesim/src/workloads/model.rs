//! The pure rollout model: how many pods of the new and old revisions exist and are ready
//! a given time after a rollout started.

use super::{Outcome, RolloutPlan};
use std::time::Duration;

/// Pod counts of one rollout at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Pods of the new revision.
    pub new_pods: u32,
    /// Ready pods of the new revision.
    pub new_ready: u32,
    /// Pods of earlier revisions still running; they are ready.
    pub old_pods: u32,
    pub complete: bool,
    /// New pods stopped being ready after the rollout completed.
    pub failed: bool,
    pub deadline_exceeded: bool,
}

impl Progress {
    pub fn pods(&self) -> u32 {
        self.new_pods + self.old_pods
    }

    pub fn ready(&self) -> u32 {
        self.new_ready + self.old_pods
    }
}

/// The way a controller replaces pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Deployment RollingUpdate, with maxSurge and maxUnavailable resolved to pod counts:
    /// new pods start in batches of `surge + unavailable`, and old pods stop as new ones
    /// become ready.
    Surge { surge: u32, unavailable: u32 },
    /// Deployment Recreate: every old pod stops before the new ones start.
    Recreate,
    /// StatefulSet and DaemonSet RollingUpdate: an old pod stops, then its replacement
    /// starts (one unavailable at a time).
    Replace,
}

impl Strategy {
    /// Pods that start together in one step.
    fn batch(self, desired: u32) -> u32 {
        match self {
            Self::Surge { surge, unavailable } => (surge + unavailable).max(1),
            Self::Recreate => desired.max(1),
            Self::Replace => 1,
        }
    }
}

/// Resolves an int-or-percent field such as maxSurge against `total` pods; percentages round
/// up for maxSurge and down for maxUnavailable, as the deployment controller does.
pub fn int_or_percent(value: Option<&serde_json::Value>, default_percent: u32, total: u32, round_up: bool) -> u32 {
    let percent = |p: u32| if round_up { (total * p).div_ceil(100) } else { total * p / 100 };
    match value {
        Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(0) as u32,
        Some(serde_json::Value::String(text)) => text.trim_end_matches('%').parse::<u32>().map(percent).unwrap_or_else(|_| percent(default_percent)),
        _ => percent(default_percent),
    }
}

/// Computes the pods of a rollout from `old` ready pods to `desired` new ones, `elapsed`
/// after it started. `deadline` is a Deployment's progress deadline.
pub fn progress(strategy: Strategy, desired: u32, old: u32, plan: &RolloutPlan, elapsed: Duration, deadline: Option<Duration>) -> Progress {
    if desired == 0 {
        return Progress { complete: true, ..Progress::default() };
    }
    let step = plan.step().as_millis().max(1);
    let steps = (elapsed.as_millis() / step).min(u128::from(u32::MAX)) as u32;
    let batch = strategy.batch(desired);

    let mut p = match plan.outcome {
        Outcome::NeverReady => {
            let (new_pods, old_pods) = match strategy {
                Strategy::Surge { unavailable, .. } => (desired.min(batch), old.saturating_sub(unavailable)),
                Strategy::Recreate => (desired, 0),
                Strategy::Replace => (1, old.min(desired - 1)),
            };
            Progress { new_pods, new_ready: 0, old_pods, ..Progress::default() }
        }
        Outcome::Healthy | Outcome::FailAfterReady => {
            let new_ready = desired.min(steps.saturating_mul(batch));
            let new_pods = desired.min(new_ready.saturating_add(batch));
            let old_pods = match strategy {
                // Old pods stop as new ones become ready, keeping `desired - unavailable` ready.
                Strategy::Surge { unavailable, .. } => old.min(desired.saturating_sub(new_ready).saturating_sub(unavailable)),
                Strategy::Recreate => 0,
                Strategy::Replace => old.min(desired - new_pods),
            };
            Progress { new_pods, new_ready, old_pods, complete: new_ready == desired && old_pods == 0, ..Progress::default() }
        }
    };

    if plan.outcome == Outcome::FailAfterReady && p.complete {
        let completed_at = u128::from(desired.div_ceil(batch)) * step;
        if elapsed.as_millis() >= completed_at + plan.fail_after().as_millis() {
            p.new_ready = 0;
            p.failed = true;
        }
    }
    p.deadline_exceeded = !p.complete && deadline.is_some_and(|d| elapsed > d);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn plan(outcome: Outcome) -> RolloutPlan {
        RolloutPlan { outcome, step_ms: 100, fail_after_ms: 200 }
    }

    #[test]
    fn surge_rollout_table() {
        // (outcome, desired, old, elapsed ms) -> (new pods, new ready, old pods, complete, failed)
        let cases = [
            (Outcome::Healthy, 3, 3, 0, (1, 0, 3, false, false)),
            (Outcome::Healthy, 3, 3, 150, (2, 1, 2, false, false)),
            (Outcome::Healthy, 3, 3, 300, (3, 3, 0, true, false)),
            (Outcome::Healthy, 3, 0, 0, (1, 0, 0, false, false)),
            (Outcome::NeverReady, 3, 3, 10_000, (1, 0, 3, false, false)),
            (Outcome::NeverReady, 8, 8, 0, (4, 0, 6, false, false)),
            (Outcome::Healthy, 8, 8, 0, (4, 0, 6, false, false)),
            (Outcome::Healthy, 8, 8, 100, (8, 4, 2, false, false)),
            (Outcome::Healthy, 8, 8, 200, (8, 8, 0, true, false)),
            (Outcome::FailAfterReady, 2, 2, 250, (2, 2, 0, true, false)),
            (Outcome::FailAfterReady, 2, 2, 400, (2, 0, 0, true, true)),
            (Outcome::Healthy, 0, 3, 0, (0, 0, 0, true, false)),
        ];
        for (outcome, desired, old, elapsed, expected) in cases {
            let strategy = Strategy::Surge { surge: u32::div_ceil(desired, 4), unavailable: desired / 4 };
            let p = progress(strategy, desired, old, &plan(outcome), ms(elapsed), None);
            assert_eq!((p.new_pods, p.new_ready, p.old_pods, p.complete, p.failed), expected, "{outcome:?} {desired}/{old} at {elapsed} ms");
        }
    }

    #[test]
    fn replace_rollout_table() {
        let cases = [
            (Outcome::Healthy, 3, 3, 0, (1, 0, 2, false)),
            (Outcome::Healthy, 3, 3, 150, (2, 1, 1, false)),
            (Outcome::Healthy, 3, 3, 300, (3, 3, 0, true)),
            (Outcome::NeverReady, 3, 3, 5_000, (1, 0, 2, false)),
        ];
        for (outcome, desired, old, elapsed, expected) in cases {
            let p = progress(Strategy::Replace, desired, old, &plan(outcome), ms(elapsed), None);
            assert_eq!((p.new_pods, p.new_ready, p.old_pods, p.complete), expected, "{outcome:?} at {elapsed} ms");
        }
    }

    #[test]
    fn recreate_stops_old_pods_first() {
        let start = progress(Strategy::Recreate, 3, 3, &plan(Outcome::Healthy), ms(0), None);
        let done = progress(Strategy::Recreate, 3, 3, &plan(Outcome::Healthy), ms(100), None);
        assert_eq!((start.new_pods, start.new_ready, start.old_pods), (3, 0, 0));
        assert!(done.complete);
    }

    #[test]
    fn int_or_percent_table() {
        use serde_json::json;
        let cases = [
            (Some(json!("25%")), 10, true, 3),
            (Some(json!("25%")), 10, false, 2),
            (Some(json!(2)), 10, true, 2),
            (None, 1, true, 1),
            (None, 1, false, 0),
            (Some(json!("0%")), 5, true, 0),
        ];
        for (value, total, round_up, expected) in cases {
            assert_eq!(int_or_percent(value.as_ref(), 25, total, round_up), expected, "{value:?} of {total}");
        }
    }

    #[test]
    fn deadline_only_while_incomplete() {
        let surge = Strategy::Surge { surge: 1, unavailable: 0 };
        let stuck = progress(surge, 1, 1, &plan(Outcome::NeverReady), ms(2_000), Some(ms(1_000)));
        assert!(stuck.deadline_exceeded);
        let done = progress(surge, 1, 1, &plan(Outcome::Healthy), ms(2_000), Some(ms(1_000)));
        assert!(!done.deadline_exceeded);
        let early = progress(surge, 1, 1, &plan(Outcome::NeverReady), ms(500), Some(ms(1_000)));
        assert!(!early.deadline_exceeded);
    }
}
