//! Per-kind behaviour of built-in types on write: the defaults kube-apiserver v1.35 fills in
//! that clients depend on (for example `kubectl rollout status` reads the update strategy),
//! Secret `stringData`, and CRD status.

use crate::registry::ResourceType;
use serde_json::{Value, json};

/// Standard base64 with padding, as Secret `data` values are encoded.
pub fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn set_default(object: &mut Value, pointer: &str, value: Value) {
    if object.pointer(pointer).is_some() {
        return;
    }
    let mut node = object;
    // JSON pointer escaping: `~1` is `/` and `~0` is `~`.
    let tokens: Vec<String> = pointer.trim_start_matches('/').split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect();
    let (last, parents) = tokens.split_last().expect("pointer has a token");
    for token in parents {
        if !node.get(token).is_some_and(Value::is_object) {
            node[token.as_str()] = json!({});
        }
        node = node.get_mut(token).expect("just inserted");
    }
    node[last.as_str()] = value;
}

/// Fills defaults and normalizes an object of a built-in kind before it is stored.
pub fn normalize(rt: &ResourceType, object: &mut Value) {
    if rt.custom {
        return;
    }
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "secrets") => normalize_secret(object),
        ("", "namespaces") => {
            set_default(object, "/spec/finalizers", json!(["kubernetes"]));
            let phase = if crate::meta::is_deleting(object) { "Terminating" } else { "Active" };
            object["status"] = json!({"phase": phase});
            let name = crate::meta::name_of(object).to_string();
            set_default(object, "/metadata/labels/kubernetes.io~1metadata.name", json!(name));
        }
        ("", "services") => set_default(object, "/spec/type", json!("ClusterIP")),
        ("", "pods") => set_default(object, "/spec/restartPolicy", json!("Always")),
        ("apps", "deployments") => {
            set_default(object, "/spec/replicas", json!(1));
            set_default(object, "/spec/strategy/type", json!("RollingUpdate"));
            if object.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("RollingUpdate") {
                set_default(object, "/spec/strategy/rollingUpdate/maxSurge", json!("25%"));
                set_default(object, "/spec/strategy/rollingUpdate/maxUnavailable", json!("25%"));
            }
            set_default(object, "/spec/revisionHistoryLimit", json!(10));
            set_default(object, "/spec/progressDeadlineSeconds", json!(600));
        }
        ("apps", "statefulsets") => {
            set_default(object, "/spec/replicas", json!(1));
            set_default(object, "/spec/podManagementPolicy", json!("OrderedReady"));
            set_default(object, "/spec/updateStrategy/type", json!("RollingUpdate"));
            if object.pointer("/spec/updateStrategy/type").and_then(Value::as_str) == Some("RollingUpdate") {
                set_default(object, "/spec/updateStrategy/rollingUpdate/partition", json!(0));
            }
            set_default(object, "/spec/revisionHistoryLimit", json!(10));
        }
        ("apps", "daemonsets") => {
            set_default(object, "/spec/updateStrategy/type", json!("RollingUpdate"));
            if object.pointer("/spec/updateStrategy/type").and_then(Value::as_str) == Some("RollingUpdate") {
                set_default(object, "/spec/updateStrategy/rollingUpdate/maxUnavailable", json!(1));
                set_default(object, "/spec/updateStrategy/rollingUpdate/maxSurge", json!(0));
            }
            set_default(object, "/spec/revisionHistoryLimit", json!(10));
        }
        ("apps", "replicasets") => set_default(object, "/spec/replicas", json!(1)),
        _ => {}
    }
}

/// Moves `stringData` into base64 `data` and defaults `type`, as the Secret strategy does.
fn normalize_secret(object: &mut Value) {
    set_default(object, "/type", json!("Opaque"));
    let Some(Value::Object(string_data)) = object.as_object_mut().and_then(|m| m.remove("stringData")) else {
        return;
    };
    set_default(object, "/data", json!({}));
    for (key, value) in string_data {
        let text = value.as_str().unwrap_or_default();
        object["data"][key] = json!(base64_encode(text.as_bytes()));
    }
}

/// Builds the status a CRD gets once its names are accepted: both conditions True, as
/// kube-apiserver reports within moments of creation.
pub fn crd_status(crd: &Value, now: &str) -> Value {
    let names = crd.pointer("/spec/names").cloned().unwrap_or_else(|| json!({}));
    let stored: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .filter_map(|v| v.get("name").cloned())
        .collect();
    let condition = |kind: &str, reason: &str, message: &str| {
        json!({"type": kind, "status": "True", "lastTransitionTime": now, "reason": reason, "message": message})
    };
    json!({
        "acceptedNames": names,
        "storedVersions": stored,
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn base64_table() {
        let cases = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")];
        for (input, expected) in cases {
            assert_eq!(base64_encode(input.as_bytes()), expected, "input {input:?}");
        }
    }

    #[test]
    fn secret_string_data_moves_to_data() {
        let rt = Registry::with_builtins().by_group_resource("", "secrets").unwrap().clone();
        let mut secret = json!({"metadata": {"name": "s"}, "data": {"a": "YQ=="}, "stringData": {"b": "foo"}});
        normalize(&rt, &mut secret);
        assert_eq!(secret["data"], json!({"a": "YQ==", "b": "Zm9v"}));
        assert_eq!(secret["type"], json!("Opaque"));
        assert!(secret.get("stringData").is_none());
    }

    #[test]
    fn namespace_gets_name_label() {
        let rt = Registry::with_builtins().by_group_resource("", "namespaces").unwrap().clone();
        let mut namespace = json!({"metadata": {"name": "team"}});
        normalize(&rt, &mut namespace);
        assert_eq!(namespace["metadata"]["labels"]["kubernetes.io/metadata.name"], json!("team"));
        assert_eq!(namespace["status"]["phase"], json!("Active"));
    }

    #[test]
    fn deployment_defaults_keep_given_values() {
        let rt = Registry::with_builtins().by_group_resource("apps", "deployments").unwrap().clone();
        let mut deployment = json!({"spec": {"replicas": 3, "progressDeadlineSeconds": 5}});
        normalize(&rt, &mut deployment);
        assert_eq!(deployment["spec"]["replicas"], json!(3));
        assert_eq!(deployment["spec"]["progressDeadlineSeconds"], json!(5));
        assert_eq!(deployment["spec"]["strategy"]["type"], json!("RollingUpdate"));
    }
}
