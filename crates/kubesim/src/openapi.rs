//! A minimal OpenAPI v3 surface: `/openapi/v3` lists one document per group version, and
//! each document declares the `fieldValidation` query parameter on the create, update and
//! patch operations of every kind. kubectl v1.27 and later read exactly this to decide
//! whether the server validates fields, and refuse `kubectl apply` without it unless
//! `--validate=false` is given. The documents carry no schemas.

use crate::registry::{Registry, ResourceType};
use serde_json::{Map, Value, json};

fn group_version_path(group: &str, version: &str) -> String {
    if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") }
}

/// Builds the `/openapi/v3` index.
pub fn root(registry: &Registry) -> Value {
    let mut paths = Map::new();
    let mut seen = Vec::new();
    for rt in registry.iter() {
        for version in &rt.versions {
            let path = group_version_path(&rt.group, version);
            if seen.contains(&path) {
                continue;
            }
            // Clients cache documents by this hash. Documents change only when a CRD adds or
            // removes a type, so the type count is enough.
            let url = format!("/openapi/v3/{path}?hash={:016X}", registry.iter().count());
            paths.insert(path.clone(), json!({"serverRelativeURL": url}));
            seen.push(path);
        }
    }
    json!({"paths": paths})
}

fn operation(rt: &ResourceType, version: &str, action: &str) -> Value {
    json!({
        "operationId": format!("{action}{}", rt.kind),
        "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}}],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": version, "kind": rt.kind},
    })
}

/// The document of one group version, or `None` when nothing is served there.
pub fn group_version(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut paths = Map::new();
    for rt in registry.iter().filter(|rt| rt.group == group && rt.versions.iter().any(|v| v == version)) {
        let prefix = format!("/{}", group_version_path(group, version));
        let collection = if rt.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", rt.plural)
        } else {
            format!("{prefix}/{}", rt.plural)
        };
        paths.insert(collection.clone(), json!({"post": operation(rt, version, "post")}));
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({"put": operation(rt, version, "put"), "patch": operation(rt, version, "patch")}),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.35.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_document_declares_field_validation() {
        let registry = Registry::with_builtins();
        let doc = group_version(&registry, "apps", "v1").unwrap();
        let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(patch["parameters"][0]["name"], json!("fieldValidation"));
        assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], json!("Deployment"));
        assert!(root(&registry)["paths"]["apis/apps/v1"]["serverRelativeURL"].is_string());
    }
}
