//! Strategic merge patch for built-in kinds: the JSON merge patch rules plus list merging by
//! the `patchMergeKey` that k8s.io/api v1.35 declares on the fields listed in
//! [`list_strategy`], and the `$patch`, `$retainKeys`, `$deleteFromPrimitiveList` and
//! `$setElementOrder` directives.

use serde_json::{Map, Value};

/// The merge behaviour of a list field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ListStrategy {
    /// The patch's list replaces the original (no `patchStrategy: merge`).
    Replace,
    /// Elements with equal values of this key merge; others are appended.
    MergeByKey(&'static str),
    /// A list of scalars that merges as a set union (`metadata.finalizers`).
    MergePrimitive,
}

/// Returns the merge strategy of the list at `path` (field names from the object root, no
/// indices). Fields not listed here replace, which is what the server does for lists
/// without a `patchStrategy` tag.
pub fn list_strategy(path: &[&str]) -> ListStrategy {
    let Some((&last, parents)) = path.split_last() else {
        return ListStrategy::Replace;
    };
    let in_container = parents.iter().any(|p| matches!(*p, "containers" | "initContainers" | "ephemeralContainers"));
    match last {
        "finalizers" if parents == ["metadata"] => ListStrategy::MergePrimitive,
        "containers" | "initContainers" | "ephemeralContainers" => ListStrategy::MergeByKey("name"),
        "env" | "volumes" | "imagePullSecrets" | "resourceClaims" => ListStrategy::MergeByKey("name"),
        "volumeMounts" => ListStrategy::MergeByKey("mountPath"),
        "volumeDevices" => ListStrategy::MergeByKey("devicePath"),
        "ports" if in_container => ListStrategy::MergeByKey("containerPort"),
        "ports" if parents == ["spec"] => ListStrategy::MergeByKey("port"),
        "hostAliases" => ListStrategy::MergeByKey("ip"),
        "ownerReferences" => ListStrategy::MergeByKey("uid"),
        "conditions" => ListStrategy::MergeByKey("type"),
        "topologySpreadConstraints" => ListStrategy::MergeByKey("topologyKey"),
        "secrets" if parents.is_empty() => ListStrategy::MergeByKey("name"),
        _ => ListStrategy::Replace,
    }
}

/// Applies a strategic merge patch to `target`.
pub fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), String> {
    let Value::Object(patch_map) = patch else {
        return Err("a strategic merge patch must be a JSON object".into());
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let mut path = Vec::new();
    merge_map(target.as_object_mut().expect("target is an object"), patch_map, &mut path)
}

/// Removes directive keys from a value that is inserted as a whole.
fn strip_directives(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(list) => Value::Array(list.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

fn merge_map(orig: &mut Map<String, Value>, patch: &Map<String, Value>, path: &mut Vec<String>) -> Result<(), String> {
    if patch.get("$patch").and_then(Value::as_str) == Some("replace") {
        *orig = strip_directives(&Value::Object(patch.clone())).as_object().cloned().unwrap_or_default();
        return Ok(());
    }

    for (key, value) in patch {
        if key == "$patch" || key == "$retainKeys" || key.starts_with("$setElementOrder/") {
            // Element order only affects the order of merged lists, which the result keeps.
            continue;
        }
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            let remove: Vec<&Value> = value.as_array().map(|a| a.iter().collect()).unwrap_or_default();
            if let Some(Value::Array(list)) = orig.get_mut(field) {
                list.retain(|item| !remove.contains(&item));
            }
            continue;
        }
        if key.starts_with('$') {
            return Err(format!("unsupported strategic merge patch directive {key:?}"));
        }
        if value.is_null() {
            orig.remove(key);
            continue;
        }

        path.push(key.clone());
        let result = merge_field(orig, key, value, path);
        path.pop();
        result?;
    }

    if let Some(retain) = patch.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = retain.iter().filter_map(Value::as_str).collect();
        orig.retain(|k, _| keep.contains(&k.as_str()));
    }
    Ok(())
}

fn merge_field(orig: &mut Map<String, Value>, key: &str, value: &Value, path: &mut Vec<String>) -> Result<(), String> {
    match value {
        Value::Object(patch_child) => {
            match patch_child.get("$patch").and_then(Value::as_str) {
                Some("delete") => {
                    orig.remove(key);
                    return Ok(());
                }
                Some("replace") | Some("merge") | None => {}
                Some(other) => return Err(format!("unknown $patch value {other:?}")),
            }
            let slot = orig.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            merge_map(slot.as_object_mut().expect("slot is an object"), patch_child, path)
        }
        Value::Array(patch_list) => {
            let names: Vec<&str> = path.iter().map(String::as_str).collect();
            let strategy = list_strategy(&names);
            let slot = orig.entry(key.to_string()).or_insert_with(|| Value::Array(Vec::new()));
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            let list = slot.as_array_mut().expect("slot is an array");
            match strategy {
                ListStrategy::Replace => *list = patch_list.iter().map(strip_directives).collect(),
                ListStrategy::MergePrimitive => {
                    for item in patch_list {
                        if !list.contains(item) {
                            list.push(item.clone());
                        }
                    }
                }
                ListStrategy::MergeByKey(merge_key) => merge_list(list, patch_list, merge_key, path)?,
            }
            Ok(())
        }
        scalar => {
            orig.insert(key.to_string(), scalar.clone());
            Ok(())
        }
    }
}

fn merge_list(list: &mut Vec<Value>, patch: &[Value], merge_key: &str, path: &mut Vec<String>) -> Result<(), String> {
    if patch.iter().any(|item| item.get("$patch").and_then(Value::as_str) == Some("replace")) {
        *list = patch
            .iter()
            .filter(|item| item.get("$patch").is_none())
            .map(strip_directives)
            .collect();
        return Ok(());
    }

    for item in patch {
        let Value::Object(item_map) = item else {
            return Err(format!("list {} merges by {merge_key:?} but an element is not an object", path.join(".")));
        };
        let key_value = item_map
            .get(merge_key)
            .ok_or_else(|| format!("an element of {} does not contain the merge key {merge_key:?}", path.join(".")))?;
        let position = list.iter().position(|existing| existing.get(merge_key) == Some(key_value));

        if item_map.get("$patch").and_then(Value::as_str) == Some("delete") {
            list.retain(|existing| existing.get(merge_key) != Some(key_value));
            continue;
        }
        match position {
            Some(index) => {
                let existing = list[index].as_object_mut().ok_or("list element is not an object")?;
                merge_map(existing, item_map, path)?;
            }
            None => list.push(strip_directives(item)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
             "ports": [{"containerPort": 80}], "volumeMounts": [{"name": "s", "mountPath": "/s"}]},
            {"name": "sidecar", "image": "side:1"}],
            "volumes": [{"name": "s", "secret": {"secretName": "x"}}]}}},
            "metadata": {"finalizers": ["a"]}})
    }

    #[test]
    fn strategic_merge_table() {
        let cases = [
            ("rollout restart annotation",
             json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}}),
             "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt", json!("now")),
            ("container merges by name",
             json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}),
             "/spec/template/spec/containers", json!([
                {"name": "app", "image": "app:2", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                 "ports": [{"containerPort": 80}], "volumeMounts": [{"name": "s", "mountPath": "/s"}]},
                {"name": "sidecar", "image": "side:1"}])),
            ("env merges by name",
             json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]}}}}),
             "/spec/template/spec/containers/0/env", json!([{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}])),
            ("env element deleted",
             json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [{"name": "A", "$patch": "delete"}]}]}}}}),
             "/spec/template/spec/containers/0/env", json!([{"name": "B", "value": "2"}])),
            ("volume added by name",
             json!({"spec": {"template": {"spec": {"volumes": [{"name": "t", "emptyDir": {}}]}}}}),
             "/spec/template/spec/volumes", json!([{"name": "s", "secret": {"secretName": "x"}}, {"name": "t", "emptyDir": {}}])),
            ("volume mount by mountPath",
             json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "volumeMounts": [{"name": "t", "mountPath": "/t"}]}]}}}}),
             "/spec/template/spec/containers/0/volumeMounts", json!([{"name": "s", "mountPath": "/s"}, {"name": "t", "mountPath": "/t"}])),
            ("port by containerPort",
             json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "ports": [{"containerPort": 80, "name": "http"}]}]}}}}),
             "/spec/template/spec/containers/0/ports", json!([{"containerPort": 80, "name": "http"}])),
            ("list replaced by $patch replace",
             json!({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "o"}]}}}}),
             "/spec/template/spec/containers", json!([{"name": "only", "image": "o"}])),
            ("map deleted by $patch delete",
             json!({"spec": {"template": {"metadata": {"$patch": "delete"}}}}),
             "/spec/template/metadata", Value::Null),
            ("finalizers merge as a set",
             json!({"metadata": {"finalizers": ["b", "a"]}}),
             "/metadata/finalizers", json!(["a", "b"])),
            ("finalizer removed by directive",
             json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
             "/metadata/finalizers", json!([])),
            ("null deletes a key",
             json!({"spec": {"template": {"metadata": {"labels": {"app": null}}}}}),
             "/spec/template/metadata/labels", json!({})),
        ];
        for (name, patch, pointer, expected) in cases {
            let mut target = deployment();
            strategic_merge(&mut target, &patch).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(target.pointer(pointer).cloned().unwrap_or(Value::Null), expected, "{name}");
        }
    }

    #[test]
    fn merge_key_missing_is_an_error() {
        let mut target = deployment();
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        assert!(strategic_merge(&mut target, &patch).is_err());
    }

    #[test]
    fn retain_keys_drops_others() {
        let mut target = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
        strategic_merge(&mut target, &patch).unwrap();
        assert_eq!(target, json!({"spec": {"strategy": {"type": "Recreate"}}}));
    }
}
