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
    /// Repeats of the same reconcile error, for logging each at most once a minute.
    pub error_log: RepeatFilter,
}

/// Lets the same message through once per window and counts what it held back.
#[derive(Debug, Default)]
pub struct RepeatFilter {
    seen: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u32)>>,
}

/// Time in which a repeated message is logged once.
pub const REPEAT_WINDOW: Duration = Duration::from_secs(60);
/// Distinct messages remembered before the memory is cleared.
const REPEAT_MEMORY: usize = 4096;

impl RepeatFilter {
    /// Returns `Some(held back since the last time)` when `key` may be logged now.
    pub fn admit(&self, key: &str, now: std::time::Instant) -> Option<u32> {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() >= REPEAT_MEMORY {
            seen.clear();
        }
        match seen.get_mut(key) {
            Some((last, held)) if now.duration_since(*last) < REPEAT_WINDOW => {
                *held += 1;
                None
            }
            Some((last, held)) => {
                let repeats = *held;
                *last = now;
                *held = 0;
                Some(repeats)
            }
            None => {
                seen.insert(key.to_string(), (now, 0));
                Some(0)
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_filter_logs_once_per_window() {
        let filter = RepeatFilter::default();
        let start = std::time::Instant::now();

        assert_eq!(filter.admit("a", start), Some(0));
        assert_eq!(filter.admit("a", start + Duration::from_secs(1)), None);
        assert_eq!(filter.admit("a", start + Duration::from_secs(2)), None);
        assert_eq!(filter.admit("b", start + Duration::from_secs(2)), Some(0));
        assert_eq!(filter.admit("a", start + REPEAT_WINDOW + Duration::from_secs(1)), Some(2));
    }
}
