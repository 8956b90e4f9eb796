//! Server-side apply over field sets: ownership per field manager, conflicts with other
//! managers, removal of fields a manager stopped applying, and ownership tracking for
//! ordinary updates and patches.

use crate::fields::{
    FieldPath, FieldSet, ListType, ManagedEntry, Scope, display_path, element_key, leaves, list_type, read_managed,
    write_managed,
};
use crate::registry::ResourceType;
use serde_json::{Map, Value};

/// One field another manager owns with a different value than the applied one.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub manager: String,
    pub path: FieldPath,
}

impl Conflict {
    pub fn field(&self) -> String {
        display_path(&self.path)
    }
}

/// The field manager and the context of one write.
#[derive(Debug, Clone)]
pub struct Manager<'a> {
    pub name: &'a str,
    pub scope: Scope,
    pub api_version: &'a str,
    /// RFC 3339 time recorded in the managedFields entry.
    pub now: &'a str,
}

impl Manager<'_> {
    fn subresource(&self) -> &'static str {
        match self.scope {
            Scope::Main => "",
            Scope::Status => "status",
        }
    }
}

/// Applies `applied` to `live` (or to an empty object when creating) and returns the merged
/// object with updated managedFields, or the conflicts when `force` is false.
pub fn apply(
    rt: &ResourceType,
    live: Option<&Value>,
    applied: &Value,
    manager: &Manager,
    force: bool,
) -> Result<Value, Vec<Conflict>> {
    let mut result = live.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    let mut entries = read_managed(&result);
    let sub = manager.subresource();

    let applied_leaves = leaves(rt, manager.scope, applied);
    let live_leaves = leaves(rt, manager.scope, &result);
    let applied_set: FieldSet = applied_leaves.keys().cloned().collect();

    // A conflict is a leaf both in the applied set and in another manager's set whose live
    // value differs from the applied one; atomic lists and maps are single leaves.
    let mut conflicts = Vec::new();
    for (path, value) in &applied_leaves {
        if path.last().is_some_and(|t| t == ".") {
            continue;
        }
        for entry in entries.iter().filter(|e| !e.same_owner(manager.name, "Apply", sub)) {
            if entry.manager != manager.name && entry.fields.contains(path) && live_leaves.get(path) != Some(value) {
                conflicts.push(Conflict { manager: entry.manager.clone(), path: path.clone() });
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    for conflict in &conflicts {
        for entry in entries.iter_mut().filter(|e| e.manager == conflict.manager) {
            entry.fields.remove(&conflict.path);
        }
    }

    let previous = entries
        .iter()
        .find(|e| e.same_owner(manager.name, "Apply", sub))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let owned_by_others = |path: &FieldPath| {
        entries.iter().any(|e| !e.same_owner(manager.name, "Apply", sub) && e.fields.contains(path))
    };
    let mut dropped: Vec<&FieldPath> =
        previous.iter().filter(|p| !applied_set.contains(*p) && !owned_by_others(p)).collect();
    // Deepest paths first, so a removed list element does not hide its own fields.
    dropped.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for path in dropped {
        remove_path(&mut result, path);
    }

    merge_top_level(rt, manager.scope, &mut result, applied);

    entries.retain(|e| !e.same_owner(manager.name, "Apply", sub));
    entries.push(ManagedEntry {
        manager: manager.name.to_string(),
        operation: "Apply".into(),
        api_version: manager.api_version.to_string(),
        subresource: sub.to_string(),
        time: manager.now.to_string(),
        fields: applied_set,
    });
    write_managed(&mut result, &entries);
    Ok(result)
}

/// Records the fields an update or non-apply patch changed as owned by `manager`
/// (operation `Update`), and takes them away from other managers.
pub fn track_update(rt: &ResourceType, old: Option<&Value>, new: &mut Value, manager: &Manager) {
    let sub = manager.subresource();
    let mut entries = old.map(read_managed).unwrap_or_default();
    let empty = Value::Object(Map::new());
    let old_leaves = leaves(rt, manager.scope, old.unwrap_or(&empty));
    let new_leaves = leaves(rt, manager.scope, new);

    let changed: FieldSet = new_leaves
        .iter()
        .filter(|(path, value)| old_leaves.get(*path) != Some(*value))
        .map(|(path, _)| path.clone())
        .collect();
    let removed: FieldSet = old_leaves.keys().filter(|p| !new_leaves.contains_key(*p)).cloned().collect();

    for entry in entries.iter_mut() {
        entry.fields.retain(|p| !removed.contains(p));
        if !entry.same_owner(manager.name, "Update", sub) {
            entry.fields.retain(|p| !changed.contains(p));
        }
    }
    if !changed.is_empty() {
        match entries.iter_mut().find(|e| e.same_owner(manager.name, "Update", sub)) {
            Some(entry) => {
                entry.fields.extend(changed);
                entry.time = manager.now.to_string();
                entry.api_version = manager.api_version.to_string();
            }
            None => entries.push(ManagedEntry {
                manager: manager.name.to_string(),
                operation: "Update".into(),
                api_version: manager.api_version.to_string(),
                subresource: sub.to_string(),
                time: manager.now.to_string(),
                fields: changed,
            }),
        }
    }
    write_managed(new, &entries);
}

fn merge_top_level(rt: &ResourceType, scope: Scope, target: &mut Value, applied: &Value) {
    let Some(applied_map) = applied.as_object() else {
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    for (key, value) in applied_map {
        let covered = match (scope, key.as_str()) {
            (_, "apiVersion" | "kind") => true,
            (Scope::Status, k) => k == "status",
            (Scope::Main, "status") => !rt.status_subresource,
            (Scope::Main, _) => true,
        };
        if !covered {
            continue;
        }
        if key == "metadata" {
            let meta = target
                .as_object_mut()
                .expect("target is an object")
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            for field in ["labels", "annotations", "finalizers", "ownerReferences"] {
                if let Some(child) = value.get(field) {
                    let slot = meta.as_object_mut().map(|m| m.entry(field).or_insert(Value::Null));
                    if let Some(slot) = slot {
                        merge_value(rt, slot, child, &mut vec!["metadata", field]);
                    }
                }
            }
            continue;
        }
        let slot = target.as_object_mut().expect("target is an object").entry(key.clone()).or_insert(Value::Null);
        merge_value(rt, slot, value, &mut vec![key.as_str()]);
    }
}

fn merge_value<'a>(rt: &ResourceType, target: &mut Value, applied: &'a Value, names: &mut Vec<&'a str>) {
    match applied {
        Value::Object(applied_map) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let target_map = target.as_object_mut().expect("target is an object");
            for (key, value) in applied_map {
                if value.is_null() {
                    target_map.remove(key);
                    continue;
                }
                names.push(key);
                merge_value(rt, target_map.entry(key.clone()).or_insert(Value::Null), value, names);
                names.pop();
            }
        }
        Value::Array(applied_list) => match list_type(rt, names) {
            ListType::Atomic => *target = applied.clone(),
            ListType::Set => {
                if !target.is_array() {
                    *target = Value::Array(Vec::new());
                }
                let list = target.as_array_mut().expect("target is an array");
                for item in applied_list {
                    if !list.contains(item) {
                        list.push(item.clone());
                    }
                }
            }
            ListType::Map(keys) => {
                if !target.is_array() {
                    *target = Value::Array(Vec::new());
                }
                let list = target.as_array_mut().expect("target is an array");
                for item in applied_list {
                    let token = element_key(item, &keys);
                    let position = token
                        .as_ref()
                        .and_then(|t| list.iter().position(|e| element_key(e, &keys).as_ref() == Some(t)));
                    match position {
                        Some(index) => merge_value(rt, &mut list[index], item, names),
                        None => list.push(item.clone()),
                    }
                }
            }
        },
        scalar => *target = scalar.clone(),
    }
}

/// Removes the field or list element a path names; missing paths are ignored.
fn remove_path(node: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if let Some(field) = first.strip_prefix("f:") {
        let Some(map) = node.as_object_mut() else { return };
        if rest.is_empty() {
            map.remove(field);
        } else if let Some(child) = map.get_mut(field) {
            remove_path(child, rest);
        }
        return;
    }
    let Some(list) = node.as_array_mut() else { return };
    if let Some(value) = first.strip_prefix("v:") {
        if let Ok(value) = serde_json::from_str::<Value>(value) {
            list.retain(|item| *item != value);
        }
        return;
    }
    if let Some(key) = first.strip_prefix("k:") {
        let Ok(Value::Object(key)) = serde_json::from_str::<Value>(key) else { return };
        let matches = |item: &Value| key.iter().all(|(k, v)| item.get(k) == Some(v));
        if rest.len() == 1 && rest[0] == "." {
            list.retain(|item| !matches(item));
        } else if let Some(item) = list.iter_mut().find(|item| matches(item)) {
            remove_path(item, rest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use serde_json::json;

    fn deployments() -> ResourceType {
        Registry::with_builtins().by_group_resource("apps", "deployments").unwrap().clone()
    }

    fn manager(name: &str) -> Manager<'_> {
        Manager { name, scope: Scope::Main, api_version: "apps/v1", now: "2026-01-01T00:00:00Z" }
    }

    fn config(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": image}]}}}})
    }

    #[test]
    fn apply_creates_and_records_owner() {
        let rt = deployments();
        let result = apply(&rt, None, &config(1, "a"), &manager("one"), false).unwrap();
        let entries = read_managed(&result);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].operation, "Apply");
        assert_eq!(result["spec"]["replicas"], json!(1));
    }

    #[test]
    fn apply_conflicts_with_other_manager() {
        let rt = deployments();
        let live = apply(&rt, None, &config(1, "a"), &manager("one"), false).unwrap();
        let conflicts = apply(&rt, Some(&live), &config(2, "a"), &manager("two"), false).unwrap_err();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].manager, "one");
        assert_eq!(conflicts[0].field(), ".spec.replicas");
    }

    #[test]
    fn apply_same_value_is_shared() {
        let rt = deployments();
        let live = apply(&rt, None, &config(1, "a"), &manager("one"), false).unwrap();
        let shared = apply(&rt, Some(&live), &config(1, "a"), &manager("two"), false).unwrap();
        assert_eq!(read_managed(&shared).len(), 2);
    }

    #[test]
    fn apply_force_takes_ownership() {
        let rt = deployments();
        let live = apply(&rt, None, &config(1, "a"), &manager("one"), false).unwrap();
        let forced = apply(&rt, Some(&live), &config(2, "a"), &manager("two"), true).unwrap();
        assert_eq!(forced["spec"]["replicas"], json!(2));
        let one = read_managed(&forced).into_iter().find(|e| e.manager == "one").unwrap();
        assert!(!one.fields.iter().any(|p| display_path(p) == ".spec.replicas"));
    }

    #[test]
    fn apply_removes_fields_no_longer_applied() {
        let rt = deployments();
        let mut first = config(1, "a");
        first["metadata"]["labels"] = json!({"keep": "1", "drop": "1"});
        let live = apply(&rt, None, &first, &manager("one"), false).unwrap();
        let mut second = config(1, "a");
        second["metadata"]["labels"] = json!({"keep": "1"});
        let result = apply(&rt, Some(&live), &second, &manager("one"), false).unwrap();
        assert_eq!(result["metadata"]["labels"], json!({"keep": "1"}));
    }

    #[test]
    fn apply_removes_dropped_list_element() {
        let rt = deployments();
        let mut two = config(1, "a");
        two["spec"]["template"]["spec"]["containers"] = json!([{"name": "app", "image": "a"}, {"name": "side", "image": "s"}]);
        let live = apply(&rt, None, &two, &manager("one"), false).unwrap();
        let result = apply(&rt, Some(&live), &config(1, "a"), &manager("one"), false).unwrap();
        assert_eq!(result["spec"]["template"]["spec"]["containers"], json!([{"name": "app", "image": "a"}]));
    }

    #[test]
    fn update_takes_ownership_from_applier() {
        let rt = deployments();
        let live = apply(&rt, None, &config(1, "a"), &manager("one"), false).unwrap();
        let mut edited = live.clone();
        edited["spec"]["replicas"] = json!(3);
        track_update(&rt, Some(&live), &mut edited, &manager("editor"));
        let editor = read_managed(&edited).into_iter().find(|e| e.manager == "editor").unwrap();
        assert_eq!(editor.operation, "Update");
        assert!(editor.fields.iter().any(|p| display_path(p) == ".spec.replicas"));
        let conflicts = apply(&rt, Some(&edited), &config(1, "a"), &manager("one"), false).unwrap_err();
        assert_eq!(conflicts[0].manager, "editor");
    }

    #[test]
    fn apply_ignores_status_on_main_resource() {
        let rt = deployments();
        let mut with_status = config(1, "a");
        with_status["status"] = json!({"replicas": 9});
        let result = apply(&rt, None, &with_status, &manager("one"), false).unwrap();
        assert!(result.get("status").is_none());
    }
}
