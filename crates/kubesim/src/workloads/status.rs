//! Workload status objects built from rollout progress, with the fields and condition
//! reasons of the kube-controller-manager v1.35 controllers that `kubectl rollout status`
//! reads.

use super::model::Progress;
use serde_json::{Value, json};

/// Keeps a condition's transition time when its status did not change, so an unchanged
/// rollout does not rewrite the object.
fn condition(previous: Option<&Value>, kind: &str, status: bool, reason: &str, message: String, now: &str) -> Value {
    let status_text = if status { "True" } else { "False" };
    let old = previous
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(kind)));
    let same_status = old.is_some_and(|c| c.get("status").and_then(Value::as_str) == Some(status_text));
    let same_reason = old.is_some_and(|c| c.get("reason").and_then(Value::as_str) == Some(reason));
    let transition = if same_status { old.and_then(|c| c.get("lastTransitionTime")).cloned().unwrap_or(json!(now)) } else { json!(now) };
    let update = if same_status && same_reason { old.and_then(|c| c.get("lastUpdateTime")).cloned().unwrap_or(json!(now)) } else { json!(now) };
    json!({"type": kind, "status": status_text, "lastUpdateTime": update, "lastTransitionTime": transition, "reason": reason, "message": message})
}

/// Deployment status for `desired` replicas with new ReplicaSet `rs_name`; `unavailable` is
/// maxUnavailable resolved to a pod count.
pub fn deployment(desired: u32, unavailable: u32, generation: i64, p: &Progress, rs_name: &str, previous: Option<&Value>, now: &str) -> Value {
    let available = p.ready();
    let min_available = desired.saturating_sub(unavailable);
    let available_ok = available >= min_available;
    let available_condition = if available_ok {
        condition(previous, "Available", true, "MinimumReplicasAvailable", "Deployment has minimum availability.".into(), now)
    } else {
        condition(previous, "Available", false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability.".into(), now)
    };
    let progressing = if p.complete {
        condition(previous, "Progressing", true, "NewReplicaSetAvailable", format!("ReplicaSet \"{rs_name}\" has successfully progressed."), now)
    } else if p.deadline_exceeded {
        condition(previous, "Progressing", false, "ProgressDeadlineExceeded", format!("ReplicaSet \"{rs_name}\" has timed out progressing."), now)
    } else {
        condition(previous, "Progressing", true, "ReplicaSetUpdated", format!("ReplicaSet \"{rs_name}\" is progressing."), now)
    };

    let mut status = json!({
        "observedGeneration": generation,
        "replicas": p.pods(),
        "updatedReplicas": p.new_pods,
        "readyReplicas": p.ready(),
        "availableReplicas": available,
        "conditions": [available_condition, progressing],
    });
    let missing = desired.saturating_sub(available);
    if missing > 0 {
        status["unavailableReplicas"] = json!(missing);
    }
    drop_zero(&mut status, &["replicas", "updatedReplicas", "readyReplicas", "availableReplicas"]);
    status
}

/// StatefulSet status; `current_revision` is the revision of the old pods.
pub fn stateful_set(generation: i64, p: &Progress, current_revision: &str, update_revision: &str) -> Value {
    let current = if p.complete { update_revision } else { current_revision };
    let current_replicas = if p.complete { p.new_pods } else { p.old_pods };
    let mut status = json!({
        "observedGeneration": generation,
        "replicas": p.pods(),
        "readyReplicas": p.ready(),
        "availableReplicas": p.ready(),
        "currentReplicas": current_replicas,
        "updatedReplicas": p.new_pods,
        "currentRevision": current,
        "updateRevision": update_revision,
        "collisionCount": 0,
    });
    drop_zero(&mut status, &["readyReplicas", "currentReplicas", "updatedReplicas"]);
    status
}

/// DaemonSet status on `nodes` simulated nodes.
pub fn daemon_set(generation: i64, nodes: u32, p: &Progress) -> Value {
    let mut status = json!({
        "observedGeneration": generation,
        "currentNumberScheduled": nodes,
        "desiredNumberScheduled": nodes,
        "numberMisscheduled": 0,
        "numberReady": p.ready(),
        "numberAvailable": p.ready(),
        "updatedNumberScheduled": p.new_pods,
    });
    let unavailable = nodes.saturating_sub(p.ready());
    if unavailable > 0 {
        status["numberUnavailable"] = json!(unavailable);
    }
    drop_zero(&mut status, &["numberAvailable", "updatedNumberScheduled"]);
    status
}

/// Omits zero counters, as Go's `omitempty` does on the real status.
fn drop_zero(status: &mut Value, fields: &[&str]) {
    if let Some(map) = status.as_object_mut() {
        for field in fields {
            if map.get(*field) == Some(&json!(0)) {
                map.remove(*field);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(status: &Value, kind: &str) -> String {
        status["conditions"].as_array().unwrap().iter().find(|c| c["type"] == kind).unwrap()["reason"].as_str().unwrap().to_string()
    }

    #[test]
    fn deployment_condition_reasons() {
        let rolling = Progress { new_pods: 1, new_ready: 0, old_pods: 2, ..Progress::default() };
        let done = Progress { new_pods: 2, new_ready: 2, complete: true, ..Progress::default() };
        let stuck = Progress { new_pods: 1, old_pods: 2, deadline_exceeded: true, ..Progress::default() };
        let failed = Progress { new_pods: 2, complete: true, failed: true, ..Progress::default() };
        let cases = [
            (rolling, "ReplicaSetUpdated", "MinimumReplicasAvailable"),
            (done, "NewReplicaSetAvailable", "MinimumReplicasAvailable"),
            (stuck, "ProgressDeadlineExceeded", "MinimumReplicasAvailable"),
            (failed, "NewReplicaSetAvailable", "MinimumReplicasUnavailable"),
        ];
        for (p, progressing, available) in cases {
            let status = deployment(2, 0, 3, &p, "web-abc", None, "t");
            assert_eq!(reason(&status, "Progressing"), progressing, "{p:?}");
            assert_eq!(reason(&status, "Available"), available, "{p:?}");
            assert_eq!(status["observedGeneration"], json!(3));
        }
    }

    #[test]
    fn unchanged_condition_keeps_times() {
        let p = Progress { new_pods: 1, new_ready: 1, complete: true, ..Progress::default() };
        let first = deployment(1, 0, 1, &p, "rs", None, "t1");
        let second = deployment(1, 0, 1, &p, "rs", Some(&first), "t2");
        assert_eq!(first, second);
    }

    #[test]
    fn stateful_set_revisions() {
        let rolling = Progress { new_pods: 1, old_pods: 2, ..Progress::default() };
        let status = stateful_set(2, &rolling, "web-old", "web-new");
        assert_eq!(status["currentRevision"], json!("web-old"));
        assert_eq!(status["readyReplicas"], json!(2));
        let done = Progress { new_pods: 3, new_ready: 3, complete: true, ..Progress::default() };
        let status = stateful_set(2, &done, "web-old", "web-new");
        assert_eq!(status["currentRevision"], json!("web-new"));
        assert_eq!(status["currentReplicas"], json!(3));
    }
}
