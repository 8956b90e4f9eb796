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
    /// Deployment RollingUpdate: a new pod starts before an old one stops (maxSurge 25%,
    /// at least one pod).
    Surge,
    /// StatefulSet and DaemonSet RollingUpdate: an old pod stops, then its replacement
    /// starts (one unavailable at a time).
    Replace,
}

/// Computes the pods of a rollout from `old` ready pods to `desired` new ones, `elapsed`
/// after it started. `deadline` is a Deployment's progress deadline.
pub fn progress(strategy: Strategy, desired: u32, old: u32, plan: &RolloutPlan, elapsed: Duration, deadline: Option<Duration>) -> Progress {
    if desired == 0 {
        return Progress { complete: true, ..Progress::default() };
    }
    let step = plan.step().as_millis().max(1);
    let steps = (elapsed.as_millis() / step).min(u128::from(u32::MAX)) as u32;

    let mut p = match plan.outcome {
        Outcome::NeverReady => {
            let started = match strategy {
                Strategy::Surge => desired.div_ceil(4).max(1).min(desired),
                Strategy::Replace => 1,
            };
            let old_pods = match strategy {
                Strategy::Surge => old.saturating_sub(desired / 4),
                Strategy::Replace => old.min(desired - started),
            };
            Progress { new_pods: started, new_ready: 0, old_pods, ..Progress::default() }
        }
        Outcome::Healthy | Outcome::FailAfterReady => {
            let new_ready = desired.min(steps);
            let new_pods = desired.min(steps.saturating_add(1));
            let old_pods = match strategy {
                Strategy::Surge => old.min(desired - new_ready),
                Strategy::Replace => old.min(desired - new_pods),
            };
            Progress { new_pods, new_ready, old_pods, complete: new_ready == desired && old_pods == 0, ..Progress::default() }
        }
    };

    if plan.outcome == Outcome::FailAfterReady && p.complete {
        let completed_at = u128::from(desired) * step;
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
            (Outcome::NeverReady, 8, 8, 0, (2, 0, 6, false, false)),
            (Outcome::FailAfterReady, 2, 2, 250, (2, 2, 0, true, false)),
            (Outcome::FailAfterReady, 2, 2, 400, (2, 0, 0, true, true)),
            (Outcome::Healthy, 0, 3, 0, (0, 0, 0, true, false)),
        ];
        for (outcome, desired, old, elapsed, expected) in cases {
            let p = progress(Strategy::Surge, desired, old, &plan(outcome), ms(elapsed), None);
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
    fn deadline_only_while_incomplete() {
        let stuck = progress(Strategy::Surge, 1, 1, &plan(Outcome::NeverReady), ms(2_000), Some(ms(1_000)));
        assert!(stuck.deadline_exceeded);
        let done = progress(Strategy::Surge, 1, 1, &plan(Outcome::Healthy), ms(2_000), Some(ms(1_000)));
        assert!(!done.deadline_exceeded);
        let early = progress(Strategy::Surge, 1, 1, &plan(Outcome::NeverReady), ms(500), Some(ms(1_000)));
        assert!(!early.deadline_exceeded);
    }
}
