//! ReplicaSets and Pods that the simulated controllers create, so clients can discover a
//! workload's pods by owner reference and label as on a real cluster.

use crate::store::{State, key};
use serde_json::{Map, Value, json};

/// Ten characters from the alphabet kube-controller-manager uses for pod-template-hash.
pub fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    // FNV-1a over the canonical JSON (serde_json sorts object keys), so equal templates
    // hash alike across runs.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in serde_json::to_string(template).unwrap_or_default().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (0..10)
        .map(|_| {
            let c = ALPHABET[(hash % ALPHABET.len() as u64) as usize] as char;
            hash /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// Builds a controller owner reference to `owner`.
pub fn owner_reference(owner: &Value) -> Value {
    json!({
        "apiVersion": owner.get("apiVersion").cloned().unwrap_or(json!("apps/v1")),
        "kind": owner.get("kind").cloned().unwrap_or(json!("")),
        "name": crate::meta::name_of(owner),
        "uid": crate::meta::uid_of(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// One pod a controller wants.
pub struct DesiredPod {
    pub name: String,
    pub labels: Map<String, Value>,
    pub ready: bool,
    /// The pod's containers crash (the FailAfterReady outcome).
    pub crashing: bool,
}

fn pod_object(namespace: &str, pod: &DesiredPod, template: &Value, owner_ref: &Value, now: &str) -> Value {
    let ready = if pod.ready { "True" } else { "False" };
    let containers = template.pointer("/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default();
    let statuses: Vec<Value> = containers
        .iter()
        .map(|c| {
            let state = if pod.crashing {
                json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off restarting failed container"}})
            } else {
                json!({"running": {"startedAt": now}})
            };
            json!({"name": c.get("name"), "image": c.get("image"), "imageID": "", "ready": pod.ready,
                   "restartCount": if pod.crashing { 1 } else { 0 }, "started": !pod.crashing, "state": state})
        })
        .collect();
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    spec["nodeName"] = json!("kubesim-node");
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod.name,
            "namespace": namespace,
            "labels": pod.labels,
            "annotations": template.pointer("/metadata/annotations").cloned().unwrap_or_else(|| json!({})),
            "ownerReferences": [owner_ref],
        },
        "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": ready},
                {"type": "ContainersReady", "status": ready},
                {"type": "PodScheduled", "status": "True"},
            ],
            "containerStatuses": statuses,
            "hostIP": "10.0.0.1",
            "podIP": "10.244.0.10",
            "qosClass": "BestEffort",
        },
    })
}

/// Stores `desired` under `object_key` unless the stored object already has the same
/// labels, owners, spec and status; new objects get uid and creationTimestamp.
pub fn upsert(state: &mut State, object_key: (String, String, String, String), mut desired: Value, now: &str) {
    match state.get(&object_key).cloned() {
        Some(existing) => {
            let mut updated = existing.clone();
            for field in ["labels", "annotations", "ownerReferences"] {
                if let Some(value) = desired.pointer(&format!("/metadata/{field}")) {
                    updated["metadata"][field] = value.clone();
                }
            }
            for field in ["spec", "status"] {
                if let Some(value) = desired.get(field) {
                    updated[field] = value.clone();
                }
            }
            if updated != existing && !crate::meta::is_deleting(&existing) {
                state.put(object_key, updated);
            }
        }
        None => {
            let meta = crate::meta::metadata_mut(&mut desired);
            meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
            meta.insert("creationTimestamp".into(), json!(now));
            state.put(object_key, desired);
        }
    }
}

/// Makes the pods owned by `owner` match `desired`: creates, updates readiness, deletes extras.
pub fn sync_pods(state: &mut State, namespace: &str, owner: &Value, template: &Value, desired: &[DesiredPod], now: &str) {
    let owner_uid = crate::meta::uid_of(owner).to_string();
    let owner_ref = owner_reference(owner);
    let existing: Vec<String> = state
        .range("", "pods", Some(namespace))
        .filter(|(_, pod)| {
            pod.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| refs.iter().any(|r| r.get("uid").and_then(Value::as_str) == Some(owner_uid.as_str())))
        })
        .map(|(k, _)| k.3.clone())
        .collect();
    for name in existing.iter().filter(|n| !desired.iter().any(|d| &d.name == *n)) {
        crate::gc::delete_key(state, &key("", "pods", namespace, name));
    }
    for pod in desired {
        let object = pod_object(namespace, pod, template, &owner_ref, now);
        upsert(state, key("", "pods", namespace, &pod.name), object, now);
    }
}

/// Five-character pod name suffix derived from the owner and index, stable across ticks.
pub fn pod_suffix(owner_name: &str, index: u32) -> String {
    template_hash(&json!([owner_name, index]))[..5].to_string()
}

/// Template labels plus extra labels such as pod-template-hash.
pub fn pod_labels(template: &Value, extra: &[(&str, &str)]) -> Map<String, Value> {
    let mut labels = template.pointer("/metadata/labels").and_then(Value::as_object).cloned().unwrap_or_default();
    for (k, v) in extra {
        labels.insert((*k).to_string(), json!(v));
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hash_is_stable_and_sensitive() {
        let a = json!({"spec": {"containers": [{"name": "a", "image": "1"}]}});
        let b = json!({"spec": {"containers": [{"name": "a", "image": "2"}]}});
        assert_eq!(template_hash(&a), template_hash(&a.clone()));
        assert_ne!(template_hash(&a), template_hash(&b));
        assert_eq!(template_hash(&a).len(), 10);
    }
}
