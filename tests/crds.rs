//! Keeps `crds/` in sync with the Rust types and checks the rules of a structural schema
//! that a Kubernetes API server enforces when it accepts a CustomResourceDefinition.
//!
//! Run with `AKGUARD_UPDATE_CRDS=1` to rewrite `crds/` from the types.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use akguard::api::{crd_files, crds, crds_yaml};
use serde_json::Value;

fn crds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crds")
}

#[test]
fn crds_dir_matches_types() {
    let dir = crds_dir();
    let update = std::env::var("AKGUARD_UPDATE_CRDS").is_ok_and(|value| value == "1");

    for (file, generated) in crd_files() {
        let path = dir.join(&file);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &generated).unwrap();
            continue;
        }

        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != generated {
            let first_difference = on_disk
                .lines()
                .zip(generated.lines())
                .position(|(disk, types)| disk != types)
                .unwrap_or_else(|| on_disk.lines().count().min(generated.lines().count()));
            panic!(
                "crds/{file} is out of date with the Rust types (first difference at line {}). \
                 Regenerate crds/ with `AKGUARD_UPDATE_CRDS=1 cargo test -p akguard --test crds` \
                 (the same YAML that `akguard crds` prints, one file per CRD) and commit it",
                first_difference + 1
            );
        }
    }
}

#[test]
fn crds_dir_has_no_stale_files() {
    let expected: BTreeSet<String> = crd_files().into_iter().map(|(file, _)| file).collect();
    let present: BTreeSet<String> = std::fs::read_dir(crds_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();

    assert_eq!(present, expected, "crds/ holds files that no Rust type generates");
}

#[test]
fn crds_yaml_is_every_crd() {
    let documents: Vec<Value> = serde_saphyr::from_multiple(&crds_yaml()).unwrap();
    let names: Vec<&str> = documents
        .iter()
        .map(|document| document["metadata"]["name"].as_str().unwrap())
        .collect();

    assert_eq!(names, ["accesskeyrotations.akguard.io", "leakincidents.akguard.io"]);
}

/// Returns the `openAPIV3Schema` of every CRD, with the CRD's name.
fn schemas() -> Vec<(String, Value)> {
    crds()
        .into_iter()
        .map(|crd| {
            let name = crd.metadata.name.clone().unwrap();
            let crd = serde_json::to_value(crd).unwrap();
            (name, crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone())
        })
        .collect()
}

/// Calls `check` on every schema node below `schema`, with its JSON path.
fn walk(path: &str, schema: &Value, check: &mut dyn FnMut(&str, &serde_json::Map<String, Value>)) {
    let Some(node) = schema.as_object() else {
        return;
    };
    check(path, node);

    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            walk(&format!("{path}.{name}"), property, check);
        }
    }
    if let Some(items) = node.get("items") {
        walk(&format!("{path}[]"), items, check);
    }
    if let Some(additional) = node.get("additionalProperties") {
        walk(&format!("{path}{{}}"), additional, check);
    }
}

/// Collects a description of every node that breaks `rule`.
fn violations(rule: impl Fn(&serde_json::Map<String, Value>) -> Option<String>) -> Vec<String> {
    let mut found = Vec::new();
    for (crd, schema) in schemas() {
        walk("", &schema, &mut |path, node| {
            if let Some(problem) = rule(node) {
                found.push(format!("{crd} {path}: {problem}"));
            }
        });
    }
    found
}

#[test]
fn schema_every_node_has_type() {
    let found = violations(|node| {
        let exempt = node.contains_key("x-kubernetes-int-or-string")
            || node.contains_key("x-kubernetes-preserve-unknown-fields");
        (!exempt && !node.contains_key("type")).then(|| "no type".to_string())
    });

    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn schema_objects_and_arrays_are_complete() {
    let found = violations(|node| match node.get("type").and_then(Value::as_str) {
        Some("array") if !node.contains_key("items") => Some("array without items".to_string()),
        Some("object")
            if !node.contains_key("properties")
                && !node.contains_key("additionalProperties")
                && !node.contains_key("x-kubernetes-preserve-unknown-fields") =>
        {
            Some("object without properties or additionalProperties".to_string())
        }
        Some(other) if !matches!(other, "object" | "array" | "string" | "integer" | "number" | "boolean") => {
            Some(format!("unknown type {other}"))
        }
        _ => None,
    });

    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn schema_has_no_forbidden_keywords() {
    // A structural schema has no references or definitions, and the API server rejects
    // `uniqueItems: true`. Logical junctors are allowed only without types, and these types
    // never need them, so any junctor here means a Rust type produced an unstructural shape.
    let forbidden = [
        "$ref", "$schema", "definitions", "$defs", "oneOf", "anyOf", "allOf", "not", "const",
        "uniqueItems", "examples",
    ];
    let found = violations(|node| {
        forbidden
            .iter()
            .find(|keyword| node.contains_key(**keyword))
            .map(|keyword| format!("keyword {keyword}"))
    });

    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn schema_properties_exclude_additional_properties() {
    let found = violations(|node| {
        (node.contains_key("properties") && node.contains_key("additionalProperties"))
            .then(|| "properties with additionalProperties".to_string())
    });

    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn schema_formats_are_known_to_kubernetes() {
    // The formats the API server validates; others are ignored with a warning.
    let known = ["int32", "int64", "float", "double", "byte", "date", "date-time", "duration"];
    let found = violations(|node| {
        let format = node.get("format")?.as_str()?;
        (!known.contains(&format)).then(|| format!("format {format}"))
    });

    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn schema_preserve_unknown_fields_unused() {
    // Every field is typed, so pruning keeps unknown fields out of both resources.
    let found = violations(|node| {
        node.contains_key("x-kubernetes-preserve-unknown-fields")
            .then(|| "x-kubernetes-preserve-unknown-fields".to_string())
    });

    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn schema_required_fields_exist() {
    let found = violations(|node| {
        let properties = node.get("properties").and_then(Value::as_object);
        let required = node.get("required")?.as_array()?;
        let missing: Vec<&str> = required
            .iter()
            .filter_map(Value::as_str)
            .filter(|name| properties.is_none_or(|properties| !properties.contains_key(*name)))
            .collect();
        (!missing.is_empty()).then(|| format!("required but undefined: {missing:?}"))
    });

    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn schema_map_lists_require_their_keys() {
    let found = violations(|node| {
        if node.get("x-kubernetes-list-type")?.as_str()? != "map" {
            return None;
        }
        let keys = node.get("x-kubernetes-list-map-keys")?.as_array()?;
        let required = node["items"].get("required").and_then(Value::as_array);
        let unrequired: Vec<&Value> = keys
            .iter()
            .filter(|key| required.is_none_or(|required| !required.contains(key)))
            .collect();
        (!unrequired.is_empty()).then(|| format!("map keys not required: {unrequired:?}"))
    });

    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn schema_set_lists_hold_scalars() {
    let found = violations(|node| {
        if node.get("x-kubernetes-list-type")?.as_str()? != "set" {
            return None;
        }
        let item_type = node["items"]["type"].as_str().unwrap_or_default();
        (!matches!(item_type, "string" | "integer" | "number" | "boolean"))
            .then(|| format!("set of {item_type:?} items"))
    });

    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn schema_defaults_match_their_types() {
    fn matches(schema: &serde_json::Map<String, Value>, value: &Value) -> Result<(), String> {
        let type_ = schema.get("type").and_then(Value::as_str).unwrap_or_default();
        let type_ok = match (type_, value) {
            ("string", Value::String(_)) | ("boolean", Value::Bool(_)) => true,
            ("integer", Value::Number(number)) => number.is_i64(),
            ("array", Value::Array(_)) | ("object", Value::Object(_)) => true,
            _ => false,
        };
        if !type_ok {
            return Err(format!("default {value} is not a {type_}"));
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            return Err(format!("default {value} is not one of {allowed:?}"));
        }
        match value {
            Value::Array(items) => {
                let item_schema = schema["items"].as_object().unwrap();
                items.iter().try_for_each(|item| matches(item_schema, item))
            }
            Value::Object(fields) => {
                let properties = schema["properties"].as_object().unwrap();
                fields.iter().try_for_each(|(name, field)| {
                    let property = properties
                        .get(name)
                        .and_then(Value::as_object)
                        .ok_or_else(|| format!("default sets unknown field {name}"))?;
                    matches(property, field)
                })
            }
            _ => Ok(()),
        }
    }

    let found = violations(|node| {
        let default = node.get("default")?;
        matches(node, default).err()
    });

    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn schema_validation_rules_are_well_formed() {
    let found = violations(|node| {
        let rules = node.get("x-kubernetes-validations")?.as_array()?;
        rules.iter().find_map(|rule| {
            let has_rule = rule["rule"].as_str().is_some_and(|text| !text.is_empty());
            let has_message = rule["message"].as_str().is_some_and(|text| !text.is_empty());
            (!has_rule || !has_message).then(|| format!("incomplete rule {rule}"))
        })
    });

    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn schema_root_fields_described() {
    for (crd, schema) in schemas() {
        for section in ["spec", "status"] {
            let properties = schema["properties"][section]["properties"].as_object().unwrap();
            for (name, property) in properties {
                let described = property["description"].as_str().is_some_and(|text| text.len() > 10);
                assert!(described, "{crd} .{section}.{name} has no description for kubectl explain");
            }
        }
    }
}

#[test]
fn printer_columns_point_to_schema_fields() {
    for crd in crds() {
        let name = crd.metadata.name.clone().unwrap();
        let version = &crd.spec.versions[0];
        let schema = serde_json::to_value(&version.schema).unwrap()["openAPIV3Schema"].clone();

        for column in version.additional_printer_columns.as_deref().unwrap_or_default() {
            if column.json_path == ".metadata.creationTimestamp" {
                continue;
            }
            let mut node = &schema;
            for segment in column.json_path.trim_start_matches('.').split('.') {
                node = &node["properties"][segment];
            }
            assert!(node.is_object(), "{name} column {} points to {}, which the schema lacks", column.name, column.json_path);
            let type_ = node["type"].as_str().unwrap();
            let column_ok = match column.type_.as_str() {
                "date" => node["format"] == "date-time",
                "integer" => type_ == "integer",
                _ => true,
            };
            assert!(column_ok, "{name} column {} has type {} but the field is {type_}", column.name, column.type_);
        }
    }
}

#[test]
fn crds_namespaced_with_status_and_short_names() {
    let cases = [("accesskeyrotations.akguard.io", "akr"), ("leakincidents.akguard.io", "leak")];
    for ((expected_name, short_name), crd) in cases.into_iter().zip(crds()) {
        assert_eq!(crd.metadata.name.as_deref(), Some(expected_name));
        assert_eq!(crd.spec.scope, "Namespaced", "{expected_name}");
        assert_eq!(crd.spec.names.short_names, Some(vec![short_name.to_string()]), "{expected_name}");
        let version = &crd.spec.versions[0];
        assert_eq!(version.name, "v1alpha1", "{expected_name}");
        assert!(
            version.subresources.as_ref().is_some_and(|subresources| subresources.status.is_some()),
            "{expected_name} has no status subresource"
        );
    }
}
