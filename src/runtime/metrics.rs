//! Prometheus metrics of the operator. Names are the contract of the Helm chart's alerts;
//! change them together.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StepLabels {
    pub step: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabels {
    pub namespace: String,
    pub name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ScenarioLabels {
    pub scenario: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CloudCallLabels {
    pub operation: String,
    pub outcome: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// Every metric the operator exports, registered once at start-up.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Finished rotations by result: `completed`, `rolled_back`, `failed`.
    pub rotations: Family<ResultLabels, Counter>,
    /// Seconds each rotation step took, from its start to the move to the next step.
    pub step_duration: Family<StepLabels, Histogram>,
    /// Age in seconds of the access key currently in the target Secrets.
    pub key_age: Family<ResourceLabels, FloatGauge>,
    /// Unix time in seconds when the next scheduled rotation is due.
    pub next_rotation: Family<ResourceLabels, FloatGauge>,
    /// 1 while an old key shows use after the switch to its successor, else 0.
    pub old_key_in_use: Family<ResourceLabels, Gauge>,
    /// 1 while a resource cannot go on without a person (key not adopted, failed, or
    /// `Degraded`), else 0.
    pub rotation_blocked: Family<ResourceLabels, Gauge>,
    /// LeakIncidents triaged, by playbook scenario.
    pub leak_incidents: Family<ScenarioLabels, Counter>,
    /// Huawei Cloud API calls by operation and outcome (`ok` or an error kind).
    pub cloud_calls: Family<CloudCallLabels, Counter>,
    /// Reconciles that ended in an error, by result kind.
    pub reconcile_errors: Family<ResultLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("akguard");
        let rotations = Family::<ResultLabels, Counter>::default();
        let step_duration = Family::<StepLabels, Histogram>::new_with_constructor(|| {
            // 10 ms to about 30 days in factor-of-4 steps: steps range from an API call to a soak.
            Histogram::new(exponential_buckets(0.01, 4.0, 20))
        });
        let key_age = Family::<ResourceLabels, FloatGauge>::default();
        let next_rotation = Family::<ResourceLabels, FloatGauge>::default();
        let old_key_in_use = Family::<ResourceLabels, Gauge>::default();
        let rotation_blocked = Family::<ResourceLabels, Gauge>::default();
        let leak_incidents = Family::<ScenarioLabels, Counter>::default();
        let cloud_calls = Family::<CloudCallLabels, Counter>::default();
        let reconcile_errors = Family::<ResultLabels, Counter>::default();

        registry.register("rotations", "Finished rotations by result", rotations.clone());
        registry.register(
            "rotation_step_duration_seconds",
            "Duration of rotation steps in seconds",
            step_duration.clone(),
        );
        registry.register(
            "key_age_seconds",
            "Age of the current access key in seconds",
            key_age.clone(),
        );
        registry.register(
            "next_rotation_timestamp_seconds",
            "Unix time when the next scheduled rotation is due",
            next_rotation.clone(),
        );
        registry.register(
            "old_key_in_use",
            "1 while the replaced access key still shows use",
            old_key_in_use.clone(),
        );
        registry.register(
            "rotation_blocked",
            "1 while the resource needs a person to go on",
            rotation_blocked.clone(),
        );
        registry.register("leak_incidents", "Leak incidents by scenario", leak_incidents.clone());
        registry.register(
            "cloud_api_calls",
            "Huawei Cloud API calls by operation and outcome",
            cloud_calls.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Reconciles that ended in an error",
            reconcile_errors.clone(),
        );

        Self {
            registry: Arc::new(registry),
            rotations,
            step_duration,
            key_age,
            next_rotation,
            old_key_in_use,
            rotation_blocked,
            leak_incidents,
            cloud_calls,
            reconcile_errors,
        }
    }

    /// Renders the registry in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    pub fn resource(namespace: &str, name: &str) -> ResourceLabels {
        ResourceLabels {
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_names_match_chart_alerts() {
        let metrics = Metrics::new();
        metrics
            .rotations
            .get_or_create(&ResultLabels { result: "completed".into() })
            .inc();
        metrics
            .next_rotation
            .get_or_create(&Metrics::resource("apps", "api"))
            .set(1.0);
        metrics
            .old_key_in_use
            .get_or_create(&Metrics::resource("apps", "api"))
            .set(0);
        metrics
            .key_age
            .get_or_create(&Metrics::resource("apps", "api"))
            .set(5.0);
        metrics
            .rotation_blocked
            .get_or_create(&Metrics::resource("apps", "api"))
            .set(1);

        let text = metrics.render();

        assert!(text.contains("akguard_rotations_total{result=\"completed\"} 1"), "{text}");
        assert!(text.contains("akguard_next_rotation_timestamp_seconds{namespace=\"apps\",name=\"api\"} 1.0"), "{text}");
        assert!(text.contains("akguard_old_key_in_use{namespace=\"apps\",name=\"api\"} 0"), "{text}");
        assert!(text.contains("akguard_key_age_seconds{namespace=\"apps\",name=\"api\"} 5.0"), "{text}");
        assert!(text.contains("akguard_rotation_blocked{namespace=\"apps\",name=\"api\"} 1"), "{text}");
    }
}
