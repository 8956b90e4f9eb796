//! JSON merge patch (RFC 7386) and JSON patch (RFC 6902).

use serde_json::{Map, Value};

/// Applies a JSON merge patch: objects merge recursively, `null` removes a key, anything
/// else (lists included) replaces the target.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target_map = target.as_object_mut().expect("target was just made an object");
    for (key, value) in patch_map {
        if value.is_null() {
            target_map.remove(key);
        } else {
            merge_patch(target_map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Decodes one JSON pointer token (`~1` is `/`, `~0` is `~`).
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path.strip_prefix('/').ok_or_else(|| format!("invalid JSON pointer {path:?}"))?;
    Ok(rest.split('/').map(unescape).collect())
}

fn parent_mut<'a>(doc: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, String> {
    let mut current = doc;
    for token in tokens {
        current = match current {
            Value::Object(map) => map.get_mut(token).ok_or_else(|| format!("path element {token:?} not found"))?,
            Value::Array(list) => {
                let index: usize = token.parse().map_err(|_| format!("invalid array index {token:?}"))?;
                list.get_mut(index).ok_or_else(|| format!("array index {index} out of range"))?
            }
            _ => return Err(format!("path element {token:?} is not inside an object or array")),
        };
    }
    Ok(current)
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let tokens = split_pointer(path)?;
    let Some((last, parents)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    match parent_mut(doc, parents)? {
        Value::Object(map) => {
            map.insert(last.clone(), value);
        }
        Value::Array(list) => {
            if last == "-" {
                list.push(value);
            } else {
                let index: usize = last.parse().map_err(|_| format!("invalid array index {last:?}"))?;
                if index > list.len() {
                    return Err(format!("array index {index} out of range"));
                }
                list.insert(index, value);
            }
        }
        _ => return Err(format!("cannot add at {path:?}: parent is not an object or array")),
    }
    Ok(())
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let tokens = split_pointer(path)?;
    let (last, parents) = tokens.split_last().ok_or("cannot remove the whole document")?;
    match parent_mut(doc, parents)? {
        Value::Object(map) => map.remove(last).ok_or_else(|| format!("cannot remove {path:?}: not found")),
        Value::Array(list) => {
            let index: usize = last.parse().map_err(|_| format!("invalid array index {last:?}"))?;
            if index >= list.len() {
                return Err(format!("cannot remove {path:?}: index out of range"));
            }
            Ok(list.remove(index))
        }
        _ => Err(format!("cannot remove {path:?}: parent is not an object or array")),
    }
}

fn get<'a>(doc: &'a Value, path: &str) -> Result<&'a Value, String> {
    doc.pointer(path).ok_or_else(|| format!("path {path:?} not found"))
}

/// Applies a JSON patch; the document is left unchanged when any operation fails.
pub fn json_patch(doc: &mut Value, patch: &Value) -> Result<(), String> {
    let ops = patch.as_array().ok_or("a JSON patch must be an array of operations")?;
    let mut work = doc.clone();
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).ok_or("operation is missing \"op\"")?;
        let path = op.get("path").and_then(Value::as_str).ok_or("operation is missing \"path\"")?;
        let value = || op.get("value").cloned().ok_or_else(|| format!("{name} operation is missing \"value\""));
        let from = || op.get("from").and_then(Value::as_str).ok_or_else(|| format!("{name} operation is missing \"from\""));
        match name {
            "add" => add(&mut work, path, value()?)?,
            "remove" => {
                remove(&mut work, path)?;
            }
            "replace" => {
                remove(&mut work, path)?;
                add(&mut work, path, value()?)?;
            }
            "move" => {
                let moved = remove(&mut work, from()?)?;
                add(&mut work, path, moved)?;
            }
            "copy" => {
                let copied = get(&work, from()?)?.clone();
                add(&mut work, path, copied)?;
            }
            "test" => {
                if *get(&work, path)? != value()? {
                    return Err(format!("test operation failed at {path:?}"));
                }
            }
            other => return Err(format!("unknown JSON patch operation {other:?}")),
        }
    }
    *doc = work;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_table() {
        let cases = [
            (json!({"a": 1}), json!({"a": 2}), json!({"a": 2})),
            (json!({"a": 1, "b": 2}), json!({"a": null}), json!({"b": 2})),
            (json!({"a": {"x": 1}}), json!({"a": {"y": 2}}), json!({"a": {"x": 1, "y": 2}})),
            (json!({"a": [1, 2]}), json!({"a": [3]}), json!({"a": [3]})),
            (json!({"a": 1}), json!({"b": {"c": null}}), json!({"a": 1, "b": {}})),
        ];
        for (mut target, patch, expected) in cases {
            merge_patch(&mut target, &patch);
            assert_eq!(target, expected, "patch {patch}");
        }
    }

    #[test]
    fn json_patch_table() {
        let doc = json!({"metadata": {"labels": {"a/b": "1"}}, "list": [1, 2]});
        let cases = [
            (json!([{"op": "add", "path": "/list/-", "value": 3}]), Some(json!([1, 2, 3])), "/list"),
            (json!([{"op": "add", "path": "/list/0", "value": 0}]), Some(json!([0, 1, 2])), "/list"),
            (json!([{"op": "remove", "path": "/list/1"}]), Some(json!([1])), "/list"),
            (json!([{"op": "replace", "path": "/metadata/labels/a~1b", "value": "2"}]), Some(json!("2")), "/metadata/labels/a~1b"),
            (json!([{"op": "move", "from": "/list", "path": "/moved"}]), Some(json!([1, 2])), "/moved"),
            (json!([{"op": "copy", "from": "/list", "path": "/copied"}]), Some(json!([1, 2])), "/copied"),
            (json!([{"op": "test", "path": "/list/0", "value": 1}]), Some(json!(1)), "/list/0"),
            (json!([{"op": "test", "path": "/list/0", "value": 9}]), None, ""),
            (json!([{"op": "remove", "path": "/missing"}]), None, ""),
            (json!([{"op": "replace", "path": "/missing", "value": 1}]), None, ""),
        ];
        for (patch, expected, pointer) in cases {
            let mut work = doc.clone();
            let result = json_patch(&mut work, &patch);
            match expected {
                Some(value) => {
                    assert!(result.is_ok(), "patch {patch} failed: {result:?}");
                    assert_eq!(work.pointer(pointer), Some(&value), "patch {patch}");
                }
                None => {
                    assert!(result.is_err(), "patch {patch} should fail");
                    assert_eq!(work, doc, "a failed patch must not change the document");
                }
            }
        }
    }
}
