//! `events.k8s.io/v1` Events as a view of core `v1` Events. kube-apiserver stores both in
//! one resource, so an Event written through either API is visible through the other (kube-rs
//! Recorder writes events.k8s.io, `kubectl describe` reads core). Field names differ; the
//! pairs below follow the v1.35 conversion functions.

use super::resources::{delete_options, list_options, parse_body, write_options};
use crate::error::{ApiError, ApiResult};
use crate::sim::{PatchType, Sim, Target};
use axum::body::Bytes;
use http::{HeaderMap, StatusCode, header};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// (events.k8s.io name, core name).
const RENAMED: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

/// Checks whether a type is the events.k8s.io view of core Events.
pub fn is_view(group: &str, plural: &str) -> bool {
    group == "events.k8s.io" && plural == "events"
}

fn rename(object: Value, from_core: bool, api_version: &str) -> Value {
    let Value::Object(map) = object else { return object };
    let mut out = Map::new();
    for (key, value) in map {
        let renamed = RENAMED
            .iter()
            .find(|(view, core)| if from_core { key == *core } else { key == *view })
            .map(|(view, core)| if from_core { *view } else { *core });
        out.insert(renamed.unwrap_or(&key).to_string(), value);
    }
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!("Event"));
    Value::Object(out)
}

/// Converts a stored core Event to its events.k8s.io/v1 form.
pub fn from_core(object: Value) -> Value {
    rename(object, true, "events.k8s.io/v1")
}

/// Converts an events.k8s.io/v1 Event to its stored core form.
pub fn to_core(object: Value) -> Value {
    rename(object, false, "v1")
}

fn list_from_core(mut list: Value) -> Value {
    if let Some(items) = list.get_mut("items").and_then(Value::as_array_mut) {
        for item in items.iter_mut() {
            *item = from_core(std::mem::take(item));
        }
    }
    list["apiVersion"] = json!("events.k8s.io/v1");
    list
}

/// Retargets a request at the core Events that the events.k8s.io API views.
pub fn core_target(sim: &Sim, target: &Target) -> ApiResult<Target> {
    let rt = sim.lock().registry.by_group_resource("", "events").cloned().ok_or_else(|| ApiError::internal("core events are not registered"))?;
    Ok(Target { rt, version: "v1".into(), ..target.clone() })
}

/// Rewrites events.k8s.io field selectors into the core field names they select.
pub fn core_query(query: &HashMap<String, String>) -> HashMap<String, String> {
    let mut query = query.clone();
    if let Some(selector) = query.get_mut("fieldSelector") {
        *selector = selector.replace("regarding.", "involvedObject.").replace("reportingController", "reportingComponent");
    }
    query
}

/// Runs a non-watch verb on the view and returns the status code and the events.k8s.io form.
pub fn serve(sim: &Sim, target: &Target, verb: &str, query: &HashMap<String, String>, headers: &HeaderMap, body: &Bytes) -> ApiResult<(StatusCode, Value)> {
    let core = core_target(sim, target)?;
    let query = core_query(query);
    let result = match verb {
        "get" => (StatusCode::OK, from_core(sim.get(&core)?)),
        "list" => (StatusCode::OK, list_from_core(sim.list(&core, &list_options(&query, "Event")?)?)),
        "create" => (StatusCode::CREATED, from_core(sim.create(&core, to_core(parse_body(headers, body)?), &write_options(&query, headers)?)?)),
        "update" => (StatusCode::OK, from_core(sim.update(&core, to_core(parse_body(headers, body)?), &write_options(&query, headers)?)?)),
        "patch" => patch(sim, &core, &query, headers, body)?,
        "delete" => (StatusCode::OK, from_core(sim.delete(&core, &delete_options(&query, body)?)?)),
        "deletecollection" => {
            let deleted = sim.delete_collection(&core, &list_options(&query, "Event")?, &delete_options(&query, body)?)?;
            (StatusCode::OK, list_from_core(deleted))
        }
        other => return Err(ApiError::method_not_allowed(format!("{other} is not supported on events.k8s.io events"))),
    };
    Ok(result)
}

/// Applies a patch written against the events.k8s.io form: the stored Event is converted,
/// patched and converted back, then written with the old resourceVersion as precondition.
fn patch(sim: &Sim, core: &Target, query: &HashMap<String, String>, headers: &HeaderMap, body: &Bytes) -> ApiResult<(StatusCode, Value)> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|c| c.to_str().ok()).unwrap_or_default();
    let patch_type = PatchType::from_content_type(content_type)
        .ok_or_else(|| ApiError::unsupported_media_type(format!("the patch Content-Type {content_type:?} is not supported")))?;
    let opts = write_options(query, headers)?;
    if patch_type == PatchType::Apply {
        let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request("apply patch is not UTF-8"))?;
        let applied: Value = serde_saphyr::from_str(text).map_err(|e| ApiError::bad_request(format!("invalid apply patch YAML: {e}")))?;
        let existed = sim.get(core).is_ok();
        let converted = serde_json::to_vec(&to_core(applied)).unwrap_or_default();
        let result = from_core(sim.patch(core, PatchType::Apply, &converted, &opts)?);
        return Ok((if existed { StatusCode::OK } else { StatusCode::CREATED }, result));
    }
    let patch: Value = serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid patch JSON: {e}")))?;
    let mut view = from_core(sim.get(core)?);
    let stored_rv = crate::meta::resource_version_of(&view).to_string();
    match patch_type {
        PatchType::Merge => crate::patch::merge_patch(&mut view, &patch),
        PatchType::Json => crate::patch::json_patch(&mut view, &patch).map_err(|e| ApiError::invalid(format!("the JSON patch could not be applied: {e}")))?,
        PatchType::Strategic => crate::strategic::strategic_merge(&mut view, &patch)
            .map_err(|e| ApiError::invalid(format!("the strategic merge patch could not be applied: {e}")))?,
        PatchType::Apply => unreachable!("apply is handled above"),
    }
    if crate::meta::resource_version_of(&view).is_empty() {
        view["metadata"]["resourceVersion"] = json!(stored_rv);
    }
    Ok((StatusCode::OK, from_core(sim.update(core, to_core(view), &opts)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_round_trip() {
        let view = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
            "regarding": {"kind": "Deployment", "name": "web"}, "note": "Rotated", "reason": "Rotated",
            "reportingController": "akguard", "reportingInstance": "a", "type": "Normal", "deprecatedCount": 2});
        let core = to_core(view.clone());
        assert_eq!(core["apiVersion"], json!("v1"));
        assert_eq!(core["involvedObject"]["name"], json!("web"));
        assert_eq!(core["message"], json!("Rotated"));
        assert_eq!(core["reportingComponent"], json!("akguard"));
        assert_eq!(core["count"], json!(2));
        assert_eq!(from_core(core), view);
    }

    #[test]
    fn field_selector_maps_to_core_names() {
        let query: HashMap<String, String> = [("fieldSelector".to_string(), "regarding.name=web,reportingController=akguard".to_string())].into();
        assert_eq!(core_query(&query)["fieldSelector"], "involvedObject.name=web,reportingComponent=akguard");
    }
}
