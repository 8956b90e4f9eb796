//! Field sets for server-side apply: which leaf paths of an object a field manager owns,
//! in the `FieldsV1` encoding that `metadata.managedFields` carries
//! (`f:<field>`, `k:<merge key JSON>`, `v:<set value JSON>`, `.` for an element itself).

use crate::registry::ResourceType;
use crate::strategic::{ListStrategy, list_strategy};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// One path in FieldsV1 tokens, from the object root to a leaf.
pub type FieldPath = Vec<String>;
pub type FieldSet = BTreeSet<FieldPath>;

/// The ownership granularity of a list field under server-side apply.
#[derive(Debug, Clone, PartialEq)]
pub enum ListType {
    /// The whole list is one leaf.
    Atomic,
    /// Elements are identified by these keys and owned one by one.
    Map(Vec<String>),
    /// Scalar elements owned one by one.
    Set,
}

/// The part of an object a write covers: the main resource or its status subresource.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scope {
    Main,
    Status,
}

/// Returns the list type of the list at `names` (field names from the root). Built-in kinds
/// use the merge keys of strategic merge patch. Custom resources read
/// `x-kubernetes-list-type` and `x-kubernetes-list-map-keys` from the CRD schema, and their
/// lists default to atomic.
pub fn list_type(rt: &ResourceType, names: &[&str]) -> ListType {
    if !rt.custom {
        return match list_strategy(names) {
            ListStrategy::Replace => ListType::Atomic,
            ListStrategy::MergeByKey(key) => ListType::Map(vec![key.to_string()]),
            ListStrategy::MergePrimitive => ListType::Set,
        };
    }
    if names == ["metadata", "finalizers"] {
        return ListType::Set;
    }
    let Some(mut node) = rt.schemas.get(rt.storage_version()) else {
        return ListType::Atomic;
    };
    for name in names {
        if node.get("type").and_then(Value::as_str) == Some("array") {
            node = match node.get("items") {
                Some(items) => items,
                None => return ListType::Atomic,
            };
        }
        node = match node.pointer(&format!("/properties/{name}")).or_else(|| node.get("additionalProperties")) {
            Some(child) => child,
            None => return ListType::Atomic,
        };
    }
    match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("map") => ListType::Map(
            node.get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|keys| keys.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default(),
        ),
        Some("set") => ListType::Set,
        _ => ListType::Atomic,
    }
}

/// Builds the `k:` token of a list element, or `None` when the element lacks a key.
pub fn element_key(element: &Value, keys: &[String]) -> Option<String> {
    let mut key = Map::new();
    for k in keys {
        key.insert(k.clone(), element.get(k)?.clone());
    }
    Some(format!("k:{}", Value::Object(key)))
}

/// Checks whether a top-level field belongs to the part of the object a write in `scope`
/// covers. `apiVersion` and `kind` never count as owned fields.
fn in_scope(rt: &ResourceType, scope: Scope, top: &str) -> bool {
    match (scope, top) {
        (_, "apiVersion" | "kind") => false,
        (Scope::Status, field) => field == "status",
        (Scope::Main, "status") => !rt.status_subresource,
        (Scope::Main, _) => true,
    }
}

const OWNED_METADATA: &[&str] = &["labels", "annotations", "finalizers", "ownerReferences"];

/// Flattens an object into its owned leaves and their values.
pub fn leaves(rt: &ResourceType, scope: Scope, object: &Value) -> BTreeMap<FieldPath, Value> {
    let mut out = BTreeMap::new();
    let Some(map) = object.as_object() else {
        return out;
    };
    for (key, value) in map {
        if !in_scope(rt, scope, key) {
            continue;
        }
        if key == "metadata" {
            for field in OWNED_METADATA {
                if let Some(child) = value.get(*field) {
                    let mut path = vec!["f:metadata".to_string(), format!("f:{field}")];
                    let mut names = vec!["metadata", *field];
                    walk(rt, child, &mut path, &mut names, &mut out);
                }
            }
            continue;
        }
        let mut path = vec![format!("f:{key}")];
        let mut names = vec![key.as_str()];
        walk(rt, value, &mut path, &mut names, &mut out);
    }
    out
}

fn walk<'a>(rt: &ResourceType, value: &'a Value, path: &mut FieldPath, names: &mut Vec<&'a str>, out: &mut BTreeMap<FieldPath, Value>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                path.push(format!("f:{key}"));
                names.push(key);
                walk(rt, child, path, names, out);
                names.pop();
                path.pop();
            }
        }
        Value::Array(list) => match list_type(rt, names) {
            ListType::Atomic => {
                out.insert(path.clone(), value.clone());
            }
            ListType::Set => {
                for item in list {
                    let mut leaf = path.clone();
                    leaf.push(format!("v:{item}"));
                    out.insert(leaf, item.clone());
                }
            }
            ListType::Map(keys) => {
                for item in list {
                    let Some(token) = element_key(item, &keys) else {
                        // An element without its key cannot be owned on its own.
                        out.insert(path.clone(), value.clone());
                        return;
                    };
                    path.push(token);
                    let mut marker = path.clone();
                    marker.push(".".to_string());
                    out.insert(marker, Value::Null);
                    walk(rt, item, path, names, out);
                    path.pop();
                }
            }
        },
        leaf => {
            out.insert(path.clone(), leaf.clone());
        }
    }
}

/// Encodes a field set as a FieldsV1 object.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for token in path {
            node = node
                .entry(token.clone())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("FieldsV1 nodes are objects");
        }
    }
    Value::Object(root)
}

/// Decodes a FieldsV1 object into leaf paths.
pub fn from_fields_v1(value: &Value) -> FieldSet {
    fn visit(node: &Value, path: &mut FieldPath, out: &mut FieldSet) {
        match node.as_object() {
            Some(map) if !map.is_empty() => {
                for (token, child) in map {
                    path.push(token.clone());
                    visit(child, path, out);
                    path.pop();
                }
            }
            _ => {
                if !path.is_empty() {
                    out.insert(path.clone());
                }
            }
        }
    }
    let mut out = FieldSet::new();
    visit(value, &mut Vec::new(), &mut out);
    out
}

/// Renders a path the way apply conflict messages print it, such as `.spec.replicas`.
pub fn display_path(path: &FieldPath) -> String {
    let mut out = String::new();
    for token in path {
        if let Some(field) = token.strip_prefix("f:") {
            out.push('.');
            out.push_str(field);
        } else if let Some(key) = token.strip_prefix("k:") {
            out.push('[');
            out.push_str(key);
            out.push(']');
        } else if let Some(value) = token.strip_prefix("v:") {
            out.push_str(&format!("[={value}]"));
        }
    }
    out
}

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    /// Empty for the main resource, `status` for the status subresource.
    pub subresource: String,
    pub time: String,
    pub fields: FieldSet,
}

impl ManagedEntry {
    pub fn same_owner(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }

    fn to_value(&self) -> Value {
        let mut entry = json!({
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fields_v1(&self.fields),
        });
        if !self.subresource.is_empty() {
            entry["subresource"] = json!(self.subresource);
        }
        entry
    }
}

/// Reads `metadata.managedFields`, skipping entries it cannot decode.
pub fn read_managed(object: &Value) -> Vec<ManagedEntry> {
    let Some(entries) = object.pointer("/metadata/managedFields").and_then(Value::as_array) else {
        return Vec::new();
    };
    let text = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    entries
        .iter()
        .map(|e| ManagedEntry {
            manager: text(e, "manager"),
            operation: text(e, "operation"),
            api_version: text(e, "apiVersion"),
            subresource: text(e, "subresource"),
            time: text(e, "time"),
            fields: e.get("fieldsV1").map(from_fields_v1).unwrap_or_default(),
        })
        .collect()
}

/// Writes entries back, dropping those that own nothing, as kube-apiserver does.
pub fn write_managed(object: &mut Value, entries: &[ManagedEntry]) {
    let list: Vec<Value> = entries.iter().filter(|e| !e.fields.is_empty()).map(ManagedEntry::to_value).collect();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn deployments() -> ResourceType {
        Registry::with_builtins().by_group_resource("apps", "deployments").unwrap().clone()
    }

    #[test]
    fn leaves_use_merge_keys() {
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "app", "image": "a"}]}}},
            "status": {"replicas": 2}});
        let paths: Vec<String> = leaves(&deployments(), Scope::Main, &obj).keys().map(display_path).collect();
        assert_eq!(paths, vec![
            ".metadata.labels.app",
            ".spec.replicas",
            ".spec.template.spec.containers[{\"name\":\"app\"}]",
            ".spec.template.spec.containers[{\"name\":\"app\"}].image",
            ".spec.template.spec.containers[{\"name\":\"app\"}].name",
        ]);
    }

    #[test]
    fn status_scope_covers_only_status() {
        let obj = json!({"spec": {"replicas": 2}, "status": {"replicas": 1}});
        let paths: Vec<String> = leaves(&deployments(), Scope::Status, &obj).keys().map(display_path).collect();
        assert_eq!(paths, vec![".status.replicas"]);
    }

    #[test]
    fn fields_v1_round_trip() {
        let obj = json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"replicas": 1,
            "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        let set: FieldSet = leaves(&deployments(), Scope::Main, &obj).into_keys().collect();
        let encoded = to_fields_v1(&set);
        assert_eq!(encoded["f:metadata"]["f:finalizers"]["v:\"a\""], json!({}));
        assert_eq!(encoded["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"]["."], json!({}));
        assert_eq!(from_fields_v1(&encoded), set);
    }

    #[test]
    fn crd_schema_list_types() {
        let crd = json!({"spec": {"group": "x.io", "scope": "Namespaced", "names": {"plural": "things", "kind": "Thing"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object", "properties": {"spec": {"type": "object", "properties": {
                    "targets": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                        "items": {"type": "object", "properties": {"keys": {"type": "array", "x-kubernetes-list-type": "set"}}}},
                    "plain": {"type": "array"}}}}}}}]}});
        let rt = crate::registry::type_from_crd(&crd).unwrap();
        assert_eq!(list_type(&rt, &["spec", "targets"]), ListType::Map(vec!["name".into()]));
        assert_eq!(list_type(&rt, &["spec", "targets", "keys"]), ListType::Set);
        assert_eq!(list_type(&rt, &["spec", "plain"]), ListType::Atomic);
        assert_eq!(list_type(&rt, &["spec", "missing"]), ListType::Atomic);
    }
}
