//! Object metadata rules applied on create and update: names, uid, timestamps, generation,
//! and which parts of an object a write to the main resource or to `/status` may change.

use crate::error::{ApiError, ApiResult};
use crate::fields::Scope;
use crate::registry::ResourceType;
use serde_json::{Map, Value, json};

/// Current time as RFC 3339 with second precision, as ObjectMeta timestamps are serialized.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn name_of(object: &Value) -> &str {
    object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default()
}

pub fn namespace_of(object: &Value) -> &str {
    object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default()
}

pub fn uid_of(object: &Value) -> &str {
    object.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default()
}

pub fn resource_version_of(object: &Value) -> &str {
    object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default()
}

pub fn finalizers_of(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

pub fn is_deleting(object: &Value) -> bool {
    object.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null())
}

pub fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    object["metadata"].as_object_mut().expect("metadata is an object")
}

/// Checks a name against RFC 1123: a DNS label (namespaces) or subdomain (everything else).
pub fn validate_name(rt: &ResourceType, name: &str) -> ApiResult<()> {
    let label_only = rt.plural == "namespaces";
    let max = if label_only { 63 } else { 253 };
    let valid_chars = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (c == '.' && !label_only));
    let valid_ends = name.starts_with(|c: char| c.is_ascii_alphanumeric()) && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !name.is_empty() && name.len() <= max && valid_chars && valid_ends {
        return Ok(());
    }
    let rule = if label_only { "RFC 1123 label" } else { "RFC 1123 subdomain" };
    Err(ApiError::invalid(format!(
        "{} \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": a lowercase {rule} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        rt.kind
    ))
    .with_details(json!({"name": name, "kind": rt.kind, "causes": [{"reason": "FieldValueInvalid", "field": "metadata.name"}]})))
}

/// Checks `apiVersion` and `kind` in a request body against the URL's type and version.
pub fn check_type_meta(rt: &ResourceType, version: &str, object: &Value) -> ApiResult<()> {
    let expected = rt.api_version(version);
    if let Some(api_version) = object.get("apiVersion").and_then(Value::as_str)
        && api_version != expected
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({expected})"
        )));
    }
    if let Some(kind) = object.get("kind").and_then(Value::as_str)
        && kind != rt.kind
    {
        return Err(ApiError::bad_request(format!("the kind in the data ({kind}) does not match the expected kind ({})", rt.kind)));
    }
    Ok(())
}

/// Five characters from the alphabet kube-apiserver uses for `generateName` suffixes.
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    bytes.iter().take(5).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

/// Sets server-owned metadata on a new object. `name` is the final name (after
/// `generateName`); status is dropped when it is a subresource, as create cannot set it.
pub fn prepare_create(rt: &ResourceType, version: &str, object: &mut Value, namespace: Option<&str>, name: &str) {
    let api_version = rt.api_version(version);
    object["apiVersion"] = json!(api_version);
    object["kind"] = json!(rt.kind);
    let meta = metadata_mut(object);
    meta.insert("name".into(), json!(name));
    match namespace {
        Some(ns) => meta.insert("namespace".into(), json!(ns)),
        None => meta.remove("namespace"),
    };
    meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
    for field in ["deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion", "selfLink"] {
        meta.remove(field);
    }
    if rt.has_generation {
        meta.insert("generation".into(), json!(1));
    } else {
        meta.remove("generation");
    }
    if rt.status_subresource
        && let Some(map) = object.as_object_mut()
    {
        map.remove("status");
    }
}

/// Everything but metadata and, for types with a status subresource, status: the part
/// whose change moves `metadata.generation`.
fn spec_part(rt: &ResourceType, object: &Value) -> Map<String, Value> {
    object
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "apiVersion" | "kind"))
                .filter(|(k, _)| !(rt.status_subresource && k.as_str() == "status"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Builds the stored object for an update of `old` with `new` in `scope`: system metadata
/// comes from `old`, a main-resource write keeps the old status and a status write keeps
/// everything but status. Generation moves only when the spec part changed.
pub fn prepare_update(rt: &ResourceType, version: &str, old: &Value, new: Value, scope: Scope) -> ApiResult<Value> {
    let mut merged = match scope {
        Scope::Status => {
            let mut merged = old.clone();
            match new.get("status") {
                Some(status) => merged["status"] = status.clone(),
                None => {
                    if let Some(map) = merged.as_object_mut() {
                        map.remove("status");
                    }
                }
            }
            if let Some(fields) = new.pointer("/metadata/managedFields") {
                metadata_mut(&mut merged).insert("managedFields".into(), fields.clone());
            }
            merged
        }
        Scope::Main => {
            let mut merged = new;
            if rt.status_subresource {
                match old.get("status") {
                    Some(status) => merged["status"] = status.clone(),
                    None => {
                        if let Some(map) = merged.as_object_mut() {
                            map.remove("status");
                        }
                    }
                }
            }
            merged
        }
    };

    merged["apiVersion"] = json!(rt.api_version(version));
    merged["kind"] = json!(rt.kind);
    let old_meta = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let meta = metadata_mut(&mut merged);
    for field in ["name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "generateName"] {
        match old_meta.get(field) {
            Some(value) => meta.insert(field.into(), value.clone()),
            None => meta.remove(field),
        };
    }

    let old_finalizers = finalizers_of(old);
    let new_finalizers = finalizers_of(&merged);
    if is_deleting(old) && new_finalizers.iter().any(|f| !old_finalizers.contains(f)) {
        return Err(ApiError::invalid(format!(
            "{} \"{}\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted",
            rt.kind,
            name_of(old)
        )));
    }

    if rt.has_generation && spec_part(rt, old) != spec_part(rt, &merged) {
        let generation = old.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0) + 1;
        metadata_mut(&mut merged).insert("generation".into(), json!(generation));
    }
    Ok(merged)
}

/// Checks whether two stored objects are equal apart from managedFields timestamps and the
/// resourceVersion, so an update that changes nothing is not written.
pub fn same_content(a: &Value, b: &Value) -> bool {
    fn strip(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
            if let Some(Value::Array(entries)) = meta.get_mut("managedFields") {
                for entry in entries {
                    if let Some(e) = entry.as_object_mut() {
                        e.remove("time");
                    }
                }
            }
        }
        v
    }
    strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn rt(group: &str, plural: &str) -> ResourceType {
        Registry::with_builtins().by_group_resource(group, plural).unwrap().clone()
    }

    fn live_deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ns", "uid": "u1", "generation": 3, "creationTimestamp": "t"},
            "spec": {"replicas": 1}, "status": {"replicas": 1}})
    }

    #[test]
    fn generation_moves_on_spec_only() {
        let deployments = rt("apps", "deployments");
        let old = live_deployment();
        let cases = [
            ("spec change", json!({"spec": {"replicas": 2}}), Scope::Main, 4),
            ("label change", json!({"metadata": {"labels": {"a": "b"}}}), Scope::Main, 3),
            ("status via main", json!({"status": {"replicas": 5}}), Scope::Main, 3),
            ("status via status", json!({"status": {"replicas": 5}}), Scope::Status, 3),
            ("spec via status", json!({"spec": {"replicas": 7}}), Scope::Status, 3),
        ];
        for (name, patch, scope, generation) in cases {
            let mut new = old.clone();
            crate::patch::merge_patch(&mut new, &patch);
            let merged = prepare_update(&deployments, "v1", &old, new, scope).unwrap();
            assert_eq!(merged["metadata"]["generation"], json!(generation), "{name}");
        }
    }

    #[test]
    fn writes_keep_the_other_part() {
        let deployments = rt("apps", "deployments");
        let old = live_deployment();
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(9);
        new["status"]["replicas"] = json!(9);
        let main = prepare_update(&deployments, "v1", &old, new.clone(), Scope::Main).unwrap();
        assert_eq!(main["status"]["replicas"], json!(1));
        assert_eq!(main["spec"]["replicas"], json!(9));
        let status = prepare_update(&deployments, "v1", &old, new, Scope::Status).unwrap();
        assert_eq!(status["status"]["replicas"], json!(9));
        assert_eq!(status["spec"]["replicas"], json!(1));
    }

    #[test]
    fn update_cannot_change_uid_or_name() {
        let deployments = rt("apps", "deployments");
        let old = live_deployment();
        let mut new = old.clone();
        new["metadata"]["uid"] = json!("other");
        let merged = prepare_update(&deployments, "v1", &old, new, Scope::Main).unwrap();
        assert_eq!(merged["metadata"]["uid"], json!("u1"));
    }

    #[test]
    fn no_new_finalizers_while_deleting() {
        let secrets = rt("", "secrets");
        let old = json!({"metadata": {"name": "s", "deletionTimestamp": "t", "finalizers": ["a"]}});
        let new = json!({"metadata": {"name": "s", "finalizers": ["a", "b"]}});
        assert_eq!(prepare_update(&secrets, "v1", &old, new, Scope::Main).unwrap_err().code, 422);
    }

    #[test]
    fn name_validation_table() {
        let secrets = rt("", "secrets");
        let namespaces = rt("", "namespaces");
        assert!(validate_name(&secrets, "a.b-c").is_ok());
        assert!(validate_name(&secrets, "Bad").is_err());
        assert!(validate_name(&secrets, "-a").is_err());
        assert!(validate_name(&secrets, "").is_err());
        assert!(validate_name(&namespaces, "a.b").is_err());
        assert!(validate_name(&namespaces, "team-a").is_ok());
    }
}
