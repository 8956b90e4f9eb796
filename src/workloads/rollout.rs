//! Rollout progress of Deployments, StatefulSets and DaemonSets, judged from their status
//! the way `kubectl rollout status` judges it (kubectl's polymorphic status viewers).

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};

/// Where a workload's rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutState {
    /// Every replica runs the current pod template and is available.
    Complete,
    /// Still moving; the string says what it waits for.
    Progressing(String),
    /// The controller gave up (Deployment `ProgressDeadlineExceeded`).
    Failed(String),
}

impl RolloutState {
    pub fn is_complete(&self) -> bool {
        matches!(self, RolloutState::Complete)
    }
}

fn observed_behind(generation: Option<i64>, observed: Option<i64>) -> bool {
    generation.unwrap_or(0) > observed.unwrap_or(0)
}

pub fn deployment_rollout(deployment: &Deployment) -> RolloutState {
    let Some(status) = &deployment.status else {
        return RolloutState::Progressing("waiting for the Deployment controller".into());
    };
    if observed_behind(deployment.metadata.generation, status.observed_generation) {
        return RolloutState::Progressing("waiting for the new spec to be observed".into());
    }

    let deadline_exceeded = status.conditions.iter().flatten().find(|condition| {
        condition.type_ == "Progressing"
            && condition.reason.as_deref() == Some("ProgressDeadlineExceeded")
    });
    if let Some(condition) = deadline_exceeded {
        return RolloutState::Failed(format!(
            "progress deadline exceeded: {}",
            condition.message.clone().unwrap_or_default()
        ));
    }

    let desired = deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.replicas)
        .unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < desired {
        return RolloutState::Progressing(format!("{updated} of {desired} replicas updated"));
    }
    if total > updated {
        return RolloutState::Progressing(format!(
            "{} old replicas pending termination",
            total - updated
        ));
    }
    if available < updated {
        return RolloutState::Progressing(format!(
            "{available} of {updated} updated replicas available"
        ));
    }
    RolloutState::Complete
}

pub fn stateful_set_rollout(stateful_set: &StatefulSet) -> RolloutState {
    let Some(status) = &stateful_set.status else {
        return RolloutState::Progressing("waiting for the StatefulSet controller".into());
    };
    if observed_behind(stateful_set.metadata.generation, status.observed_generation) {
        return RolloutState::Progressing("waiting for the new spec to be observed".into());
    }

    let desired = stateful_set
        .spec
        .as_ref()
        .and_then(|spec| spec.replicas)
        .unwrap_or(1);
    let ready = status.ready_replicas.unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    if ready < desired {
        return RolloutState::Progressing(format!("{ready} of {desired} replicas ready"));
    }
    if let (Some(current), Some(update)) = (&status.current_revision, &status.update_revision)
        && current != update
    {
        return RolloutState::Progressing(format!(
            "{updated} of {desired} replicas on revision {update}"
        ));
    }
    RolloutState::Complete
}

pub fn daemon_set_rollout(daemon_set: &DaemonSet) -> RolloutState {
    let Some(status) = &daemon_set.status else {
        return RolloutState::Progressing("waiting for the DaemonSet controller".into());
    };
    if observed_behind(daemon_set.metadata.generation, status.observed_generation) {
        return RolloutState::Progressing("waiting for the new spec to be observed".into());
    }

    let desired = status.desired_number_scheduled;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    let available = status.number_available.unwrap_or(0);
    if updated < desired {
        return RolloutState::Progressing(format!("{updated} of {desired} pods updated"));
    }
    if available < desired {
        return RolloutState::Progressing(format!("{available} of {desired} pods available"));
    }
    RolloutState::Complete
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(generation: i64, status: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "d", "generation": generation},
            "spec": {"replicas": 2, "selector": {}, "template": {}},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn deployment_table() {
        let cases = [
            ("not observed", deployment(3, json!({"observedGeneration": 2})), false, false),
            (
                "half updated",
                deployment(3, json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2})),
                false,
                false,
            ),
            (
                "old pods terminating",
                deployment(3, json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2})),
                false,
                false,
            ),
            (
                "updated not available",
                deployment(3, json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1})),
                false,
                false,
            ),
            (
                "deadline exceeded",
                deployment(3, json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 1, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "timed out"}]})),
                false,
                true,
            ),
            (
                "complete",
                deployment(3, json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2, "readyReplicas": 2})),
                true,
                false,
            ),
        ];

        for (case, object, complete, failed) in cases {
            let state = deployment_rollout(&object);
            assert_eq!(state.is_complete(), complete, "case {case}: {state:?}");
            assert_eq!(matches!(state, RolloutState::Failed(_)), failed, "case {case}: {state:?}");
        }
    }

    #[test]
    fn stateful_set_waits_for_revision() {
        let object: StatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "s", "generation": 2},
            "spec": {"replicas": 1, "selector": {}, "serviceName": "s", "template": {}},
            "status": {"observedGeneration": 2, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 0,
                       "currentRevision": "s-1", "updateRevision": "s-2"},
        }))
        .unwrap();

        assert!(!stateful_set_rollout(&object).is_complete());
    }

    #[test]
    fn daemon_set_complete_when_all_available() {
        let object: DaemonSet = serde_json::from_value(json!({
            "metadata": {"name": "ds", "generation": 4},
            "spec": {"selector": {}, "template": {}},
            "status": {"observedGeneration": 4, "desiredNumberScheduled": 3, "currentNumberScheduled": 3,
                       "numberMisscheduled": 0, "numberReady": 3, "updatedNumberScheduled": 3, "numberAvailable": 3},
        }))
        .unwrap();

        assert!(daemon_set_rollout(&object).is_complete());
    }
}
