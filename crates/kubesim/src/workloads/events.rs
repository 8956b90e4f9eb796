//! Events the simulated deployment controller records, as kube-controller-manager does, so
//! `kubectl describe deployment` and event watchers see rollouts happen.

use crate::store::{State, key};
use serde_json::{Value, json};

/// Records a Normal core/v1 Event about `owner` from `component`.
pub fn record(state: &mut State, owner: &Value, component: &str, reason: &str, message: String, now: &str) {
    let namespace = crate::meta::namespace_of(owner).to_string();
    let owner_name = crate::meta::name_of(owner);
    // kube-apiserver clients name events `<object>.<unique hex suffix>`.
    let name = format!("{owner_name}.{:016x}", uuid::Uuid::new_v4().as_u64_pair().0);
    let event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace, "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": now},
        "involvedObject": {
            "apiVersion": owner.get("apiVersion"),
            "kind": owner.get("kind"),
            "name": owner_name,
            "namespace": namespace,
            "uid": crate::meta::uid_of(owner),
            "resourceVersion": crate::meta::resource_version_of(owner),
        },
        "reason": reason,
        "message": message,
        "source": {"component": component},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "type": "Normal",
        "reportingComponent": component,
        "reportingInstance": "",
    });
    state.put(key("", "events", &namespace, &name), event);
}
