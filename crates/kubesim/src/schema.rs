//! Structural schemas of custom resources, applied on every write as kube-apiserver does:
//! unknown fields are pruned (or rejected with `fieldValidation=Strict`), `default` values
//! are filled in, and values are validated against type, enum, required, length, item-count
//! and numeric bounds.

use serde_json::{Map, Value};

fn preserves_unknown(schema: &Value) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields").and_then(Value::as_bool) == Some(true)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

/// Removes fields the schema does not declare and fills `default` values. Returns the paths
/// of the removed fields. `apiVersion`, `kind` and `metadata` at the root are left alone.
pub fn prune_and_default(schema: &Value, object: &mut Value) -> Vec<String> {
    let mut pruned = Vec::new();
    let Some(map) = object.as_object_mut() else {
        return pruned;
    };
    let keys: Vec<String> = map.keys().filter(|k| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata")).cloned().collect();
    let mut root = Map::new();
    for key in keys {
        if let Some(value) = map.remove(&key) {
            root.insert(key, value);
        }
    }
    let mut root = Value::Object(root);
    walk(schema, &mut root, "", &mut pruned);
    if let Value::Object(root) = root {
        map.extend(root);
    }
    pruned
}

fn walk(schema: &Value, value: &mut Value, path: &str, pruned: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let child_path = join(path, &key);
                let child_schema = properties.and_then(|p| p.get(&key)).or(additional.filter(|a| a.is_object()));
                match child_schema {
                    Some(child_schema) => {
                        let nullable = child_schema.get("nullable").and_then(Value::as_bool) == Some(true);
                        if map.get(&key).is_some_and(Value::is_null) && !nullable {
                            // kube-apiserver drops null values of non-nullable fields.
                            map.remove(&key);
                            continue;
                        }
                        if let Some(child) = map.get_mut(&key) {
                            walk(child_schema, child, &child_path, pruned);
                        }
                    }
                    None if additional == Some(&Value::Bool(true)) || preserves_unknown(schema) => {}
                    None => {
                        map.remove(&key);
                        pruned.push(child_path);
                    }
                }
            }
            for (key, child_schema) in properties.into_iter().flatten() {
                if map.contains_key(key) {
                    continue;
                }
                if let Some(default) = child_schema.get("default") {
                    let mut value = default.clone();
                    walk(child_schema, &mut value, &join(path, key), pruned);
                    map.insert(key.clone(), value);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter_mut().enumerate() {
                    walk(item_schema, item, &format!("{path}[{index}]"), pruned);
                }
            }
        }
        _ => {}
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(expected: &str, value: &Value) -> bool {
    match (expected, type_name(value)) {
        ("number", "integer") => true,
        (expected, actual) => expected == actual,
    }
}

/// Validates a pruned object; returns messages in kube-apiserver's field error format.
pub fn validate(schema: &Value, object: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(map) = object.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, value) in map.iter().filter(|(k, _)| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata")) {
            if let Some(child_schema) = properties.and_then(|p| p.get(key)) {
                check(child_schema, value, key, &mut errors);
            }
        }
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !map.contains_key(required) {
                errors.push(format!("{required}: Required value"));
            }
        }
    }
    errors
}

fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    if value.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let int_or_string = schema.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true);
    if int_or_string {
        if !matches!(type_name(value), "integer" | "string") {
            errors.push(format!("{path}: Invalid value: \"{}\": {path} in body must be of type integer-or-string", type_name(value)));
        }
        return;
    }
    if let Some(expected) = schema.get("type").and_then(Value::as_str)
        && !type_matches(expected, value)
    {
        errors.push(format!("{path}: Invalid value: \"{}\": {path} in body must be of type {expected}: {value}", type_name(value)));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        errors.push(format!("{path}: Unsupported value: {value}: supported values: {}", list.join(", ")));
    }
    check_bounds(schema, value, path, errors);

    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, child) in map {
                if let Some(child_schema) = properties.and_then(|p| p.get(key)).or(additional) {
                    check(child_schema, child, &join(path, key), errors);
                }
            }
            for required in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                if !map.contains_key(required) {
                    errors.push(format!("{}: Required value", join(path, required)));
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    check(item_schema, item, &format!("{path}[{index}]"), errors);
                }
            }
        }
        _ => {}
    }
}

fn check_bounds(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let bound = |name: &str| schema.get(name).and_then(Value::as_f64);
    let count = match value {
        Value::String(s) => Some(("characters", s.chars().count() as f64, "minLength", "maxLength")),
        Value::Array(a) => Some(("items", a.len() as f64, "minItems", "maxItems")),
        Value::Object(m) => Some(("properties", m.len() as f64, "minProperties", "maxProperties")),
        _ => None,
    };
    if let Some((unit, n, min_name, max_name)) = count {
        if let Some(min) = bound(min_name).filter(|min| n < *min) {
            errors.push(format!("{path}: Invalid value: {value}: {path} in body should have at least {min} {unit}"));
        }
        if let Some(max) = bound(max_name).filter(|max| n > *max) {
            errors.push(format!("{path}: Too long: {path} in body should have at most {max} {unit}"));
        }
    }
    if let Some(number) = value.as_f64() {
        if let Some(min) = bound("minimum").filter(|min| number < *min) {
            errors.push(format!("{path}: Invalid value: {value}: {path} in body should be greater than or equal to {min}"));
        }
        if let Some(max) = bound("maximum").filter(|max| number > *max) {
            errors.push(format!("{path}: Invalid value: {value}: {path} in body should be less than or equal to {max}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "required": ["userId"], "properties": {
                "userId": {"type": "string", "minLength": 1},
                "schedule": {"type": "string", "default": "90d"},
                "mode": {"type": "string", "enum": ["Automatic", "Manual"]},
                "replicas": {"type": "integer", "minimum": 0},
                "port": {"x-kubernetes-int-or-string": true},
                "note": {"type": "string", "nullable": true},
                "targets": {"type": "array", "maxItems": 2, "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "keys": {"type": "object", "additionalProperties": {"type": "string"}}}}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}})
    }

    #[test]
    fn prune_table() {
        let cases = [
            (json!({"spec": {"userId": "u", "unknown": 1}}), vec!["spec.unknown"]),
            (json!({"spec": {"userId": "u", "targets": [{"name": "a", "bogus": true}]}}), vec!["spec.targets[0].bogus"]),
            (json!({"spec": {"userId": "u", "targets": [{"keys": {"any": "v"}}]}}), vec![]),
            (json!({"spec": {"userId": "u", "extra": {"free": 1}}, "status": {"anything": 1}}), vec![]),
            (json!({"spec": {"userId": "u"}, "topLevel": 1}), vec!["topLevel"]),
        ];
        for (mut object, expected) in cases {
            let before = object.clone();
            let pruned = prune_and_default(&schema(), &mut object);
            assert_eq!(pruned, expected, "{before}");
        }
    }

    #[test]
    fn defaults_and_nulls() {
        let mut object = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "n"}, "spec": {"userId": "u", "mode": null, "note": null}});
        prune_and_default(&schema(), &mut object);
        assert_eq!(object["spec"]["schedule"], json!("90d"));
        assert!(object["spec"].get("mode").is_none(), "null of a non-nullable field is dropped");
        assert_eq!(object["spec"]["note"], Value::Null);
        assert_eq!(object["metadata"]["name"], json!("n"));
    }

    #[test]
    fn validation_table() {
        let cases = [
            (json!({"spec": {"userId": "u"}}), 0, ""),
            (json!({"spec": {}}), 1, "spec.userId: Required value"),
            (json!({"spec": {"userId": 5}}), 1, "must be of type string"),
            (json!({"spec": {"userId": ""}}), 1, "at least 1 characters"),
            (json!({"spec": {"userId": "u", "mode": "Sometimes"}}), 1, "Unsupported value"),
            (json!({"spec": {"userId": "u", "replicas": -1}}), 1, "greater than or equal to 0"),
            (json!({"spec": {"userId": "u", "replicas": 1.5}}), 1, "must be of type integer"),
            (json!({"spec": {"userId": "u", "port": "http"}}), 0, ""),
            (json!({"spec": {"userId": "u", "port": true}}), 1, "integer-or-string"),
            (json!({"spec": {"userId": "u", "targets": [{}, {}, {}]}}), 1, "at most 2 items"),
            (json!({"spec": {"userId": "u", "targets": [{"keys": {"a": 1}}]}}), 1, "spec.targets[0].keys.a"),
        ];
        for (object, count, fragment) in cases {
            let errors = validate(&schema(), &object);
            assert_eq!(errors.len(), count, "{object}: {errors:?}");
            assert!(errors.iter().all(|e| e.contains(fragment)), "{object}: {errors:?}");
        }
    }
}
