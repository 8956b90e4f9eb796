//! The `scale` subresource of Deployments, StatefulSets and ReplicaSets, as an
//! `autoscaling/v1` Scale whose `spec.replicas` maps to the workload's.

use super::json_response;
use crate::error::{ApiError, ApiResult};
use crate::fields::Scope;
use crate::sim::{PatchType, Sim, Target, WriteOptions};
use axum::body::Bytes;
use axum::response::Response;
use http::{Method, StatusCode};
use serde_json::{Value, json};

/// Checks whether a type serves the `scale` subresource.
pub fn has_scale(group: &str, plural: &str) -> bool {
    group == "apps" && matches!(plural, "deployments" | "statefulsets" | "replicasets")
}

fn to_scale(object: &Value) -> Value {
    let selector = object
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|labels| labels.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(","))
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": object.pointer("/metadata/name"),
            "namespace": object.pointer("/metadata/namespace"),
            "uid": object.pointer("/metadata/uid"),
            "resourceVersion": object.pointer("/metadata/resourceVersion"),
            "creationTimestamp": object.pointer("/metadata/creationTimestamp"),
        },
        "spec": {"replicas": object.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {"replicas": object.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
    })
}

/// Serves GET, PUT and PATCH on `.../<name>/scale`.
pub fn handle(sim: &Sim, target: &Target, method: &Method, content_type: &str, body: &Bytes, opts: &WriteOptions) -> ApiResult<Response> {
    let main = Target { scope: Scope::Main, ..target.clone() };
    let current = sim.get(&main)?;
    let scale = to_scale(&current);
    let desired = match method.as_str() {
        "GET" => return Ok(json_response(StatusCode::OK, &scale)),
        "PUT" => serde_json::from_slice::<Value>(body).map_err(|e| ApiError::bad_request(format!("invalid Scale body: {e}")))?,
        "PATCH" => {
            let patch: Value = serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid patch JSON: {e}")))?;
            let mut patched = scale.clone();
            match PatchType::from_content_type(content_type) {
                Some(PatchType::Merge) | Some(PatchType::Strategic) => crate::patch::merge_patch(&mut patched, &patch),
                Some(PatchType::Json) => crate::patch::json_patch(&mut patched, &patch).map_err(ApiError::invalid)?,
                _ => return Err(ApiError::unsupported_media_type(format!("the scale subresource does not accept {content_type:?}"))),
            }
            patched
        }
        other => return Err(ApiError::method_not_allowed(format!("{other} is not supported on the scale subresource"))),
    };
    let replicas = desired.pointer("/spec/replicas").and_then(Value::as_i64).ok_or_else(|| ApiError::invalid("Scale spec.replicas is required"))?;
    if replicas < 0 {
        return Err(ApiError::invalid(format!("Scale spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0")));
    }
    let mut precondition = json!({"spec": {"replicas": replicas}});
    if let Some(rv) = desired.pointer("/metadata/resourceVersion").and_then(Value::as_str).filter(|rv| !rv.is_empty()) {
        precondition["metadata"] = json!({"resourceVersion": rv});
    }
    let updated = sim.patch(&main, PatchType::Merge, precondition.to_string().as_bytes(), opts)?;
    Ok(json_response(StatusCode::OK, &to_scale(&updated)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_reports_selector_and_replicas() {
        let deployment = json!({"metadata": {"name": "web", "namespace": "ns", "resourceVersion": "7"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}}, "status": {"replicas": 2}});
        let scale = to_scale(&deployment);
        assert_eq!(scale["spec"]["replicas"], json!(3));
        assert_eq!(scale["status"]["replicas"], json!(2));
        assert_eq!(scale["status"]["selector"], json!("app=web"));
        assert_eq!(scale["metadata"]["resourceVersion"], json!("7"));
    }
}
