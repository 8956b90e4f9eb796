//! What every reconcile of an AccessKeyRotation shares, and its error type.

use std::time::Duration;

use akguard_hwcloud::SharedClock;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::Store;

use super::cloud::CloudClients;
use super::secrets::SecretError;
use crate::api::rotation::AccessKeyRotation;
use crate::runtime::metrics::Metrics;

/// How often a resource is looked at when nothing is due, at most. Reads only: with no
/// rotation due, a reconcile makes no cloud call and no write.
pub const IDLE_RESYNC: Duration = Duration::from_secs(3600);
/// Poll interval while a step waits for rollouts, checks, idle windows or soaks.
pub const STEP_POLL: Duration = Duration::from_secs(10);

pub struct Context {
    pub client: kube::Client,
    pub clock: SharedClock,
    pub metrics: Metrics,
    pub recorder: Recorder,
    pub http: reqwest::Client,
    pub clouds: CloudClients,
    /// Every AccessKeyRotation the operator watches, for conflict detection.
    pub rotations: Store<AccessKeyRotation>,
    /// Poll interval while waiting inside a step.
    pub step_poll: Duration,
    /// Rotations in flight in one namespace at most; emergencies do not wait.
    pub max_in_flight_per_namespace: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("Kubernetes API call failed: {0}")]
    Kube(#[from] kube::Error),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("Huawei Cloud {operation} failed: {source}")]
    Cloud {
        operation: &'static str,
        #[source]
        source: akguard_hwcloud::Error,
    },
    #[error("{0}")]
    Invariant(String),
}

impl ReconcileError {
    pub fn cloud(operation: &'static str) -> impl FnOnce(akguard_hwcloud::Error) -> Self {
        move |source| ReconcileError::Cloud { operation, source }
    }

    /// Label for the reconcile error metric.
    pub fn kind(&self) -> &'static str {
        match self {
            ReconcileError::Kube(_) => "kubernetes",
            ReconcileError::Secret(_) => "secret",
            ReconcileError::Cloud { .. } => "cloud",
            ReconcileError::Invariant(_) => "invariant",
        }
    }
}
