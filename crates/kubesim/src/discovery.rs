//! Discovery documents in the classic (unaggregated) format: `/version`, `/api`, `/apis`,
//! `/apis/<group>` and the resource lists of each group version. Clients that ask for
//! aggregated discovery (`apidiscovery.k8s.io/v2`) also list `application/json` and fall
//! back to this format when the response's Content-Type is plain JSON.

use crate::registry::{Registry, ResourceType};
use serde_json::{Value, json};

const VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/// `/version`; the minor version matches the k8s-openapi feature this crate is tested with.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "35",
        "gitVersion": "v1.35.0-kubesim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_object(name: &str, versions: &[String]) -> Value {
    let list: Vec<Value> = versions.iter().map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v})).collect();
    json!({"name": name, "versions": list, "preferredVersion": list[0]})
}

pub fn group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry.groups().iter().map(|(name, versions)| group_object(name, versions)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(registry: &Registry, name: &str) -> Option<Value> {
    let groups = registry.groups();
    let versions = groups.get(name)?;
    let mut object = group_object(name, versions);
    object["kind"] = json!("APIGroup");
    object["apiVersion"] = json!("v1");
    Some(object)
}

fn categories(rt: &ResourceType) -> Option<Value> {
    let in_all = !rt.custom && matches!(rt.plural.as_str(), "pods" | "services" | "deployments" | "statefulsets" | "daemonsets" | "replicasets");
    in_all.then(|| json!(["all"]))
}

/// The APIResourceList of one group version, or `None` when nothing is served there.
pub fn resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for rt in registry.iter().filter(|rt| rt.group == group && rt.versions.iter().any(|v| v == version)) {
        let mut entry = json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": VERBS,
        });
        if !rt.short_names.is_empty() {
            entry["shortNames"] = json!(rt.short_names);
        }
        if let Some(categories) = categories(rt) {
            entry["categories"] = categories;
        }
        resources.push(entry);
        if crate::http::has_scale(&rt.group, &rt.plural) {
            resources.push(json!({
                "name": format!("{}/scale", rt.plural),
                "singularName": "",
                "namespaced": rt.namespaced,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            }));
        }
        if rt.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", rt.plural),
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_list_has_status_subresource() {
        let registry = Registry::with_builtins();
        let list = resource_list(&registry, "", "v1").unwrap();
        let names: Vec<&str> = list["resources"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"secrets"));
        assert!(names.contains(&"pods/status"));
        assert!(!names.contains(&"secrets/status"));
    }

    #[test]
    fn groups_include_apps_and_coordination() {
        let registry = Registry::with_builtins();
        let list = group_list(&registry);
        let names: Vec<&str> = list["groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"apps"));
        assert!(names.contains(&"coordination.k8s.io"));
        assert!(names.contains(&"events.k8s.io"));
        assert!(resource_list(&registry, "apps", "v2").is_none());
    }
}
