//! Simulated workload controllers for Deployments (with ReplicaSets), StatefulSets and
//! DaemonSets, and the control handle that decides how each rollout ends.

mod children;
mod controller;
mod events;
pub mod model;
mod status;

pub(crate) use controller::run_controllers;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The workload kinds with simulated rollouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    /// Parses a plural resource name or a kind, case-insensitively (`deployments`, `Deployment`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "deployment" | "deployments" => Some(Self::Deployment),
            "statefulset" | "statefulsets" => Some(Self::StatefulSet),
            "daemonset" | "daemonsets" => Some(Self::DaemonSet),
            _ => None,
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Self::Deployment => "deployments",
            Self::StatefulSet => "statefulsets",
            Self::DaemonSet => "daemonsets",
        }
    }
}

/// One workload, by kind, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkloadRef {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
}

impl WorkloadRef {
    pub fn new(kind: WorkloadKind, namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self { kind, namespace: namespace.into(), name: name.into() }
    }
}

/// The behaviour of a new revision's pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Pods become ready one `stepMs` after another until the rollout completes.
    #[default]
    Healthy,
    /// The first new pod never becomes ready; a Deployment reports
    /// `ProgressDeadlineExceeded` after `spec.progressDeadlineSeconds`.
    NeverReady,
    /// The rollout completes as with `Healthy`, then `failAfterMs` later every new pod
    /// stops being ready (a crash loop).
    FailAfterReady,
}

/// The behaviour of a revision, captured when its rollout starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RolloutPlan {
    pub outcome: Outcome,
    /// Time for each new pod to become ready, in milliseconds.
    pub step_ms: u64,
    /// For `FailAfterReady`, time from rollout completion to failure, in milliseconds.
    pub fail_after_ms: u64,
}

impl Default for RolloutPlan {
    fn default() -> Self {
        Self { outcome: Outcome::Healthy, step_ms: 50, fail_after_ms: 500 }
    }
}

impl RolloutPlan {
    pub fn healthy(step: Duration) -> Self {
        Self { outcome: Outcome::Healthy, step_ms: step.as_millis() as u64, ..Self::default() }
    }

    pub fn never_ready() -> Self {
        Self { outcome: Outcome::NeverReady, ..Self::default() }
    }

    pub fn fail_after_ready(step: Duration, fail_after: Duration) -> Self {
        Self { outcome: Outcome::FailAfterReady, step_ms: step.as_millis() as u64, fail_after_ms: fail_after.as_millis() as u64 }
    }

    pub fn step(&self) -> Duration {
        Duration::from_millis(self.step_ms)
    }

    pub fn fail_after(&self) -> Duration {
        Duration::from_millis(self.fail_after_ms)
    }
}

#[derive(Debug, Default)]
struct Plans {
    default: RolloutPlan,
    per_workload: BTreeMap<WorkloadRef, RolloutPlan>,
}

/// In-process handle that chooses how rollouts behave, per workload. The plan in force when
/// a revision's rollout starts governs that revision; later changes apply to the next one.
#[derive(Debug, Clone, Default)]
pub struct RolloutControl {
    plans: Arc<Mutex<Plans>>,
}

impl RolloutControl {
    fn plans(&self) -> std::sync::MutexGuard<'_, Plans> {
        self.plans.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the plan for one workload's next rollouts.
    pub fn set(&self, workload: WorkloadRef, plan: RolloutPlan) {
        self.plans().per_workload.insert(workload, plan);
    }

    /// Removes a workload's plan so the default applies again.
    pub fn clear(&self, workload: &WorkloadRef) {
        self.plans().per_workload.remove(workload);
    }

    /// Sets the plan for workloads without their own.
    pub fn set_default(&self, plan: RolloutPlan) {
        self.plans().default = plan;
    }

    pub fn default_plan(&self) -> RolloutPlan {
        self.plans().default
    }

    /// Returns the plan that applies to a workload now.
    pub fn plan_for(&self, workload: &WorkloadRef) -> RolloutPlan {
        let plans = self.plans();
        plans.per_workload.get(workload).copied().unwrap_or(plans.default)
    }

    /// Lists every workload that has its own plan.
    pub fn list(&self) -> Vec<(WorkloadRef, RolloutPlan)> {
        self.plans().per_workload.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}
