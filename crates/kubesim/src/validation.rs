//! Validation kube-apiserver v1.35 applies to every object (label and annotation keys and
//! values) and to Secret and ConfigMap data, so a client that writes something a real
//! cluster rejects is rejected here too.

use crate::error::{ApiError, ApiResult};
use crate::registry::ResourceType;
use serde_json::{Value, json};

/// Checks a qualified name: an optional DNS subdomain prefix and `/`, then up to 63
/// alphanumerics with `-`, `_` or `.` inside.
fn qualified_name_error(key: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let valid_prefix = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && prefix.starts_with(|c: char| c.is_ascii_alphanumeric())
            && prefix.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid_prefix {
            return Some("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character".into());
        }
    }
    if name.is_empty() || name.len() > 63 {
        return Some("name part must be no more than 63 characters and not empty".into());
    }
    label_value_error(name).map(|_| {
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character".into()
    })
}

/// Checks a label value: empty, or up to 63 alphanumerics with `-`, `_` or `.` inside.
fn label_value_error(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    let valid = value.len() <= 63
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric());
    (!valid).then(|| "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, at most 63 characters".into())
}

/// Checks standard base64 with padding, as Secret `data` and ConfigMap `binaryData` require.
fn is_base64(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    text.len() % 4 == 0
        && text.len() - body.len() <= 2
        && body.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
}

/// Checks a Secret or ConfigMap data key: `-`, `_`, `.` and alphanumerics only.
fn is_config_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 253 && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) && key != "." && key != ".."
}

/// Validates an object before it is stored; errors use kube-apiserver's 422 wording.
pub fn validate(rt: &ResourceType, object: &Value) -> ApiResult<()> {
    let mut errors = Vec::new();
    let labels = object.pointer("/metadata/labels").and_then(Value::as_object);
    for (key, value) in labels.into_iter().flatten() {
        if let Some(error) = qualified_name_error(key) {
            errors.push(format!("metadata.labels: Invalid value: \"{key}\": {error}"));
        }
        if let Some(error) = value.as_str().and_then(label_value_error) {
            errors.push(format!("metadata.labels: Invalid value: \"{}\": {error}", value.as_str().unwrap_or_default()));
        }
    }
    let annotations = object.pointer("/metadata/annotations").and_then(Value::as_object);
    for key in annotations.into_iter().flatten().map(|(k, _)| k) {
        if let Some(error) = qualified_name_error(&key.to_lowercase()) {
            errors.push(format!("metadata.annotations: Invalid value: \"{key}\": {error}"));
        }
    }

    if !rt.custom && rt.group.is_empty() && matches!(rt.plural.as_str(), "secrets" | "configmaps") {
        for field in ["data", "binaryData"] {
            for (key, value) in object.get(field).and_then(Value::as_object).into_iter().flatten() {
                if !is_config_key(key) {
                    errors.push(format!("{field}[{key}]: Invalid value: \"{key}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.'"));
                }
                let base64 = rt.plural == "secrets" || field == "binaryData";
                if base64 && !value.as_str().is_some_and(is_base64) {
                    return Err(ApiError::bad_request(format!("{field}[{key}]: illegal base64 data; the value must be standard base64 with padding")));
                }
            }
        }
    }

    if errors.is_empty() {
        return Ok(());
    }
    let name = crate::meta::name_of(object);
    let listed = if errors.len() == 1 { errors[0].clone() } else { format!("[{}]", errors.join(", ")) };
    let causes: Vec<Value> = errors.iter().map(|e| json!({"reason": "FieldValueInvalid", "message": e})).collect();
    Err(ApiError::invalid(format!("{} \"{name}\" is invalid: {listed}", rt.kind)).with_details(json!({"name": name, "kind": rt.kind, "causes": causes})))
}

/// Rejects changes to an immutable Secret or ConfigMap (`immutable: true`): its data and the
/// flag itself cannot change, only metadata.
pub fn validate_update(rt: &ResourceType, old: &Value, new: &Value) -> ApiResult<()> {
    let kind_applies = !rt.custom && rt.group.is_empty() && matches!(rt.plural.as_str(), "secrets" | "configmaps");
    if !kind_applies || old.get("immutable") != Some(&Value::Bool(true)) {
        return Ok(());
    }
    let mut errors = Vec::new();
    for field in ["data", "binaryData"] {
        if old.get(field) != new.get(field) {
            errors.push(format!("{field}: Forbidden: field is immutable when `immutable` is set"));
        }
    }
    if new.get("immutable") != Some(&Value::Bool(true)) {
        errors.push("immutable: Forbidden: field is immutable when `immutable` is set".to_string());
    }
    if errors.is_empty() {
        return Ok(());
    }
    let name = crate::meta::name_of(old);
    let listed = if errors.len() == 1 { errors[0].clone() } else { format!("[{}]", errors.join(", ")) };
    Err(ApiError::invalid(format!("{} \"{name}\" is invalid: {listed}", rt.kind)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn rt(plural: &str) -> ResourceType {
        Registry::with_builtins().by_group_resource("", plural).unwrap().clone()
    }

    #[test]
    fn label_table() {
        let cases = [
            (json!({"app": "web"}), true),
            (json!({"akguard.io/rotation": "r-20260101-1"}), true),
            (json!({"app": ""}), true),
            (json!({"app": "a:b"}), false),
            (json!({"app": "-web"}), false),
            (json!({"app": "x".repeat(64)}), false),
            (json!({"Bad_Prefix/app": "web"}), false),
            (json!({"a/b/c": "web"}), false),
        ];
        for (labels, ok) in cases {
            let object = json!({"metadata": {"name": "x", "labels": labels}});
            assert_eq!(validate(&rt("configmaps"), &object).is_ok(), ok, "{labels}");
        }
    }

    #[test]
    fn annotation_keys_checked_values_free() {
        let ok = json!({"metadata": {"name": "x", "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z: anything"}}});
        let bad = json!({"metadata": {"name": "x", "annotations": {"not valid": "v"}}});
        assert!(validate(&rt("configmaps"), &ok).is_ok());
        assert_eq!(validate(&rt("configmaps"), &bad).unwrap_err().code, 422);
    }

    #[test]
    fn secret_data_table() {
        let cases = [
            (json!({"HUAWEICLOUD_SDK_AK": "QUtJRA=="}), None),
            (json!({"access.key": "YQ=="}), None),
            (json!({"k": "not base64!"}), Some(400)),
            (json!({"k": "YQ="}), Some(400)),
            (json!({"bad key": "YQ=="}), Some(422)),
        ];
        for (data, code) in cases {
            let object = json!({"metadata": {"name": "s"}, "data": data});
            assert_eq!(validate(&rt("secrets"), &object).err().map(|e| e.code), code, "{data}");
        }
    }

    #[test]
    fn immutable_secret_table() {
        let old = json!({"metadata": {"name": "s"}, "immutable": true, "data": {"k": "YQ=="}});
        let cases = [
            (json!({"metadata": {"name": "s", "labels": {"a": "b"}}, "immutable": true, "data": {"k": "YQ=="}}), true),
            (json!({"metadata": {"name": "s"}, "immutable": true, "data": {"k": "Yg=="}}), false),
            (json!({"metadata": {"name": "s"}, "immutable": false, "data": {"k": "YQ=="}}), false),
        ];
        for (new, ok) in cases {
            assert_eq!(validate_update(&rt("secrets"), &old, &new).is_ok(), ok, "{new}");
        }
    }

    #[test]
    fn config_map_data_is_not_base64() {
        let object = json!({"metadata": {"name": "c"}, "data": {"k": "plain text!"}});
        assert!(validate(&rt("configmaps"), &object).is_ok());
    }
}
