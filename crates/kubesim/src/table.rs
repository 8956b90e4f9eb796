//! The `meta.k8s.io/v1` Table format that kubectl requests for `get`: a Name column, the
//! columns kube-apiserver v1.35 prints for common built-in kinds, a CRD's
//! `additionalPrinterColumns`, and Age.

use crate::registry::ResourceType;
use serde_json::{Value, json};

/// Renders an age the way kubectl and kube-apiserver shorten durations ("45s", "3m10s",
/// "5h", "2d3h").
pub fn human_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (minutes, hours, days) = (seconds / 60, seconds / 3600, seconds / 86_400);
    match () {
        _ if seconds < 120 => format!("{seconds}s"),
        _ if minutes < 10 => format!("{minutes}m{}s", seconds % 60),
        _ if minutes < 180 => format!("{minutes}m"),
        _ if hours < 8 => format!("{hours}h{}m", minutes % 60),
        _ if hours < 48 => format!("{hours}h"),
        _ if days < 8 => format!("{days}d{}h", hours % 24),
        _ if days < 730 => format!("{days}d"),
        _ => format!("{}y{}d", days / 365, days % 365),
    }
}

fn age(object: &Value, now: jiff::Timestamp) -> String {
    let created = object.pointer("/metadata/creationTimestamp").and_then(Value::as_str).and_then(|t| t.parse::<jiff::Timestamp>().ok());
    match created {
        Some(created) => human_duration(now.as_second() - created.as_second()),
        None => "<unknown>".into(),
    }
}

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn text(object: &Value, pointer: &str) -> String {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Evaluates the simple JSONPath forms printer columns use: `.a.b`, `.a[0].b`.
pub fn json_path<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = object;
    for part in path.trim_start_matches('.').split('.').filter(|p| !p.is_empty()) {
        let (field, index) = match part.split_once('[') {
            Some((field, rest)) => (field, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        if !field.is_empty() {
            node = node.get(field)?;
        }
        if let Some(index) = index {
            node = node.get(index)?;
        }
    }
    Some(node)
}

type Cell = fn(&Value) -> Value;

/// Extra columns for built-in kinds, between Name and Age.
fn builtin_columns(rt: &ResourceType) -> Vec<(&'static str, &'static str, Cell)> {
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("apps", "deployments") => vec![
            ("Ready", "string", |o| json!(format!("{}/{}", int(o, "/status/readyReplicas"), int(o, "/spec/replicas")))),
            ("Up-to-date", "integer", |o| json!(int(o, "/status/updatedReplicas"))),
            ("Available", "integer", |o| json!(int(o, "/status/availableReplicas"))),
        ],
        ("apps", "statefulsets") => vec![("Ready", "string", |o| json!(format!("{}/{}", int(o, "/status/readyReplicas"), int(o, "/spec/replicas"))))],
        ("apps", "replicasets") => vec![
            ("Desired", "integer", |o| json!(int(o, "/spec/replicas"))),
            ("Current", "integer", |o| json!(int(o, "/status/replicas"))),
            ("Ready", "integer", |o| json!(int(o, "/status/readyReplicas"))),
        ],
        ("apps", "daemonsets") => vec![
            ("Desired", "integer", |o| json!(int(o, "/status/desiredNumberScheduled"))),
            ("Current", "integer", |o| json!(int(o, "/status/currentNumberScheduled"))),
            ("Ready", "integer", |o| json!(int(o, "/status/numberReady"))),
            ("Up-to-date", "integer", |o| json!(int(o, "/status/updatedNumberScheduled"))),
            ("Available", "integer", |o| json!(int(o, "/status/numberAvailable"))),
        ],
        ("", "pods") => vec![
            ("Ready", "string", |o| {
                let statuses = o.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
                let ready = statuses.iter().filter(|c| c.get("ready") == Some(&json!(true))).count();
                json!(format!("{ready}/{}", statuses.len()))
            }),
            ("Status", "string", |o| {
                let waiting = o.pointer("/status/containerStatuses/0/state/waiting/reason").and_then(Value::as_str);
                json!(waiting.map(str::to_string).unwrap_or_else(|| text(o, "/status/phase")))
            }),
            ("Restarts", "string", |o| json!(int(o, "/status/containerStatuses/0/restartCount").to_string())),
        ],
        ("", "secrets") => vec![
            ("Type", "string", |o| json!(text(o, "/type"))),
            ("Data", "string", |o| json!(o.get("data").and_then(Value::as_object).map_or(0, |d| d.len()).to_string())),
        ],
        ("", "configmaps") => vec![("Data", "string", |o| json!(o.get("data").and_then(Value::as_object).map_or(0, |d| d.len()).to_string()))],
        ("", "namespaces") => vec![("Status", "string", |o| json!(text(o, "/status/phase")))],
        ("", "events") => vec![
            ("Type", "string", |o| json!(text(o, "/type"))),
            ("Reason", "string", |o| json!(text(o, "/reason"))),
            ("Object", "string", |o| json!(format!("{}/{}", text(o, "/involvedObject/kind").to_lowercase(), text(o, "/involvedObject/name")))),
            ("Message", "string", |o| json!(text(o, "/message"))),
        ],
        ("events.k8s.io", "events") => vec![
            ("Type", "string", |o| json!(text(o, "/type"))),
            ("Reason", "string", |o| json!(text(o, "/reason"))),
            ("Object", "string", |o| json!(format!("{}/{}", text(o, "/regarding/kind").to_lowercase(), text(o, "/regarding/name")))),
            ("Message", "string", |o| json!(text(o, "/note"))),
        ],
        ("coordination.k8s.io", "leases") => vec![("Holder", "string", |o| json!(text(o, "/spec/holderIdentity")))],
        _ => Vec::new(),
    }
}

/// Builds a Table from objects; `include_object` is the `includeObject` parameter
/// (`None`, `Metadata` by default, or `Object`).
pub fn table(rt: &ResourceType, version: &str, objects: &[Value], metadata: Value, include_object: &str, with_columns: bool) -> Value {
    let now = jiff::Timestamp::now();
    let custom_columns = rt.printer_columns.get(version).cloned().unwrap_or_default();
    let builtin = builtin_columns(rt);

    let mut definitions = vec![json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0})];
    for (name, kind, _) in &builtin {
        definitions.push(json!({"name": name, "type": kind, "format": "", "description": "", "priority": 0}));
    }
    for column in &custom_columns {
        definitions.push(json!({
            "name": column.get("name").cloned().unwrap_or(json!("")),
            "type": column.get("type").cloned().unwrap_or(json!("string")),
            "format": column.get("format").cloned().unwrap_or(json!("")),
            "description": column.get("description").cloned().unwrap_or(json!("")),
            "priority": column.get("priority").cloned().unwrap_or(json!(0)),
        }));
    }
    // A CRD with printer columns lists Age only when it declares it, as kube-apiserver does.
    let add_age = custom_columns.is_empty();
    if add_age {
        definitions.push(json!({"name": "Age", "type": "string", "format": "", "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "priority": 0}));
    }

    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let mut cells = vec![json!(crate::meta::name_of(object))];
            cells.extend(builtin.iter().map(|(_, _, cell)| cell(object)));
            for column in &custom_columns {
                let path = column.get("jsonPath").and_then(Value::as_str).unwrap_or_default();
                let value = json_path(object, path).cloned().unwrap_or(Value::Null);
                let is_date = column.get("type").and_then(Value::as_str) == Some("date");
                cells.push(match (is_date, value.as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok())) {
                    (true, Some(time)) => json!(human_duration(now.as_second() - time.as_second())),
                    _ => value,
                });
            }
            if add_age {
                cells.push(json!(age(object, now)));
            }
            let mut row = json!({"cells": cells});
            match include_object {
                "None" => {}
                "Object" => row["object"] = object.clone(),
                _ => {
                    row["object"] = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({}))})
                }
            }
            row
        })
        .collect();

    let mut out = json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "rows": rows});
    out["columnDefinitions"] = if with_columns { json!(definitions) } else { json!([]) };
    out
}

/// Checks whether an Accept header requests the Table format as its first choice.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').next().is_some_and(|first| first.contains("as=Table"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn human_duration_table() {
        let cases = [(0, "0s"), (45, "45s"), (125, "2m5s"), (900, "15m"), (3 * 3600 + 120, "3h2m"), (30 * 3600, "30h"), (3 * 86_400 + 7200, "3d2h"), (40 * 86_400, "40d")];
        for (seconds, expected) in cases {
            assert_eq!(human_duration(seconds), expected, "{seconds} s");
        }
    }

    #[test]
    fn json_path_table() {
        let object = json!({"status": {"phase": "Ready", "targets": [{"name": "a"}]}});
        assert_eq!(json_path(&object, ".status.phase"), Some(&json!("Ready")));
        assert_eq!(json_path(&object, ".status.targets[0].name"), Some(&json!("a")));
        assert_eq!(json_path(&object, ".status.missing"), None);
    }

    #[test]
    fn deployment_row_has_ready_column() {
        let rt = Registry::with_builtins().by_group_resource("apps", "deployments").unwrap().clone();
        let object = json!({"metadata": {"name": "web", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"replicas": 2}, "status": {"readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1}});
        let table = table(&rt, "v1", &[object], json!({}), "Metadata", true);
        let names: Vec<&str> = table["columnDefinitions"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["Name", "Ready", "Up-to-date", "Available", "Age"]);
        assert_eq!(table["rows"][0]["cells"][1], json!("1/2"));
        assert_eq!(table["rows"][0]["object"]["kind"], json!("PartialObjectMetadata"));
    }

    #[test]
    fn accept_header_table() {
        assert!(wants_table("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"));
        assert!(!wants_table("application/json"));
        assert!(!wants_table("application/json, */*"));
    }
}
