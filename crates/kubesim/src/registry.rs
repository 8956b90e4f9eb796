//! The kinds the simulator serves: built-in core, apps and API-machinery kinds, plus kinds
//! that CustomResourceDefinitions add at run time.

use serde_json::Value;
use std::collections::BTreeMap;

/// One served resource (a plural name under a group) and the versions it is served at.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: String,
    /// Served versions, the storage version first.
    pub versions: Vec<String>,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub short_names: Vec<String>,
    pub namespaced: bool,
    /// Whether `/status` is a separate subresource, so the main resource ignores status.
    pub status_subresource: bool,
    /// Whether `metadata.generation` is maintained (workloads and custom resources).
    pub has_generation: bool,
    /// Whether the type comes from a CustomResourceDefinition (no strategic merge patch).
    pub custom: bool,
    /// The CRD's `openAPIV3Schema` per version, for pruning, validation and list types.
    pub schemas: BTreeMap<String, Value>,
    /// The CRD's `additionalPrinterColumns` per version, for the Table format.
    pub printer_columns: BTreeMap<String, Vec<Value>>,
}

impl ResourceType {
    pub fn storage_version(&self) -> &str {
        &self.versions[0]
    }

    /// `apiVersion` for the given version, `v1` for core and `group/version` otherwise.
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() { version.to_string() } else { format!("{}/{version}", self.group) }
    }

    /// `plural` for the core group, `plural.group` otherwise, as error messages print it.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() { self.plural.clone() } else { format!("{}.{}", self.plural, self.group) }
    }
}

/// Registry of served types, keyed by (group, plural).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    types: BTreeMap<(String, String), ResourceType>,
}

struct Builtin {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    short: &'static [&'static str],
    namespaced: bool,
    status: bool,
    generation: bool,
}

const fn builtin(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    short: &'static [&'static str],
    namespaced: bool,
    status: bool,
    generation: bool,
) -> Builtin {
    Builtin { group, version, plural, kind, short, namespaced, status, generation }
}

/// Built-in kinds; status and generation flags follow kube-apiserver v1.35's strategies.
const BUILTINS: &[Builtin] = &[
    builtin("", "v1", "namespaces", "Namespace", &["ns"], false, true, false),
    builtin("", "v1", "secrets", "Secret", &[], true, false, false),
    builtin("", "v1", "configmaps", "ConfigMap", &["cm"], true, false, false),
    builtin("", "v1", "events", "Event", &["ev"], true, false, false),
    builtin("", "v1", "pods", "Pod", &["po"], true, true, false),
    builtin("", "v1", "serviceaccounts", "ServiceAccount", &["sa"], true, false, false),
    builtin("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", &["pvc"], true, true, false),
    builtin("", "v1", "services", "Service", &["svc"], true, true, false),
    builtin("", "v1", "resourcequotas", "ResourceQuota", &["quota"], true, true, false),
    builtin("", "v1", "limitranges", "LimitRange", &["limits"], true, false, false),
    builtin("apps", "v1", "deployments", "Deployment", &["deploy"], true, true, true),
    builtin("apps", "v1", "statefulsets", "StatefulSet", &["sts"], true, true, true),
    builtin("apps", "v1", "daemonsets", "DaemonSet", &["ds"], true, true, true),
    builtin("apps", "v1", "replicasets", "ReplicaSet", &["rs"], true, true, true),
    builtin("batch", "v1", "jobs", "Job", &[], true, true, true),
    builtin("batch", "v1", "cronjobs", "CronJob", &["cj"], true, true, true),
    builtin("events.k8s.io", "v1", "events", "Event", &["ev"], true, false, false),
    builtin("coordination.k8s.io", "v1", "leases", "Lease", &[], true, false, false),
    builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", &["crd", "crds"], false, true, true),
    builtin("rbac.authorization.k8s.io", "v1", "roles", "Role", &[], true, false, false),
    builtin("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", &[], true, false, false),
    builtin("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", &[], false, false, false),
    builtin("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", &[], false, false, false),
    builtin("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", &["netpol"], true, false, true),
    builtin("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", &["pdb"], true, true, true),
];

impl Registry {
    pub fn with_builtins() -> Self {
        let mut registry = Self::default();
        for b in BUILTINS {
            registry.insert(ResourceType {
                group: b.group.to_string(),
                versions: vec![b.version.to_string()],
                plural: b.plural.to_string(),
                singular: b.kind.to_lowercase(),
                kind: b.kind.to_string(),
                short_names: b.short.iter().map(|s| s.to_string()).collect(),
                namespaced: b.namespaced,
                status_subresource: b.status,
                has_generation: b.generation,
                custom: false,
                schemas: BTreeMap::new(),
                printer_columns: BTreeMap::new(),
            });
        }
        registry
    }

    pub fn insert(&mut self, rt: ResourceType) {
        self.types.insert((rt.group.clone(), rt.plural.clone()), rt);
    }

    pub fn remove(&mut self, group: &str, plural: &str) -> Option<ResourceType> {
        self.types.remove(&(group.to_string(), plural.to_string()))
    }

    /// Finds the type served at `group/version` under `plural`.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .get(&(group.to_string(), plural.to_string()))
            .filter(|rt| rt.versions.iter().any(|v| v == version))
    }

    pub fn by_group_resource(&self, group: &str, plural: &str) -> Option<&ResourceType> {
        self.types.get(&(group.to_string(), plural.to_string()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &ResourceType> {
        self.types.values()
    }

    /// Groups other than core with their versions, in registration order of names.
    pub fn groups(&self) -> BTreeMap<String, Vec<String>> {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for rt in self.types.values().filter(|rt| !rt.group.is_empty()) {
            let versions = groups.entry(rt.group.clone()).or_default();
            for v in &rt.versions {
                if !versions.contains(v) {
                    versions.push(v.clone());
                }
            }
        }
        groups
    }
}

/// Builds the served type from a CustomResourceDefinition object, or explains why not.
pub fn type_from_crd(crd: &Value) -> Result<ResourceType, String> {
    let spec = crd.get("spec").ok_or("spec is missing")?;
    let group = spec.get("group").and_then(Value::as_str).ok_or("spec.group is missing")?;
    let names = spec.get("names").ok_or("spec.names is missing")?;
    let plural = names.get("plural").and_then(Value::as_str).ok_or("spec.names.plural is missing")?;
    let kind = names.get("kind").and_then(Value::as_str).ok_or("spec.names.kind is missing")?;
    let singular = names.get("singular").and_then(Value::as_str).unwrap_or(&kind.to_lowercase()).to_string();
    let short_names = names
        .get("shortNames")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let namespaced = match spec.get("scope").and_then(Value::as_str) {
        Some("Namespaced") => true,
        Some("Cluster") => false,
        other => return Err(format!("spec.scope must be Namespaced or Cluster, got {other:?}")),
    };
    let versions = spec.get("versions").and_then(Value::as_array).ok_or("spec.versions is missing")?;

    let mut served = Vec::new();
    let mut status_subresource = false;
    let mut schemas = BTreeMap::new();
    let mut printer_columns = BTreeMap::new();
    for v in versions {
        let name = v.get("name").and_then(Value::as_str).ok_or("spec.versions[].name is missing")?;
        if !v.get("served").and_then(Value::as_bool).unwrap_or(false) {
            continue;
        }
        let storage = v.get("storage").and_then(Value::as_bool).unwrap_or(false);
        if storage { served.insert(0, name.to_string()) } else { served.push(name.to_string()) }
        // NOTE: kube-apiserver allows status per version; one flag per type is a simplification.
        if v.pointer("/subresources/status").is_some() {
            status_subresource = true;
        }
        if let Some(schema) = v.pointer("/schema/openAPIV3Schema") {
            schemas.insert(name.to_string(), schema.clone());
        }
        if let Some(columns) = v.get("additionalPrinterColumns").and_then(Value::as_array) {
            printer_columns.insert(name.to_string(), columns.clone());
        }
    }
    if served.is_empty() {
        return Err("spec.versions has no served version".into());
    }
    Ok(ResourceType {
        group: group.to_string(),
        versions: served,
        plural: plural.to_string(),
        singular,
        kind: kind.to_string(),
        short_names,
        namespaced,
        status_subresource,
        has_generation: true,
        custom: true,
        schemas,
        printer_columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_needs_served_version() {
        let registry = Registry::with_builtins();
        assert!(registry.lookup("apps", "v1", "deployments").is_some());
        assert!(registry.lookup("apps", "v1beta1", "deployments").is_none());
        assert!(registry.lookup("", "v1", "secrets").is_some());
    }

    #[test]
    fn crd_with_status_subresource() {
        let crd = json!({"spec": {"group": "akguard.io", "scope": "Namespaced",
            "names": {"plural": "accesskeyrotations", "kind": "AccessKeyRotation", "shortNames": ["akr"]},
            "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                "subresources": {"status": {}}}]}});
        let rt = type_from_crd(&crd).unwrap();
        assert_eq!(rt.plural, "accesskeyrotations");
        assert_eq!(rt.singular, "accesskeyrotation");
        assert!(rt.status_subresource);
        assert!(rt.namespaced);
        assert_eq!(rt.short_names, vec!["akr"]);
    }

    #[test]
    fn crd_storage_version_first() {
        let crd = json!({"spec": {"group": "x.io", "scope": "Cluster",
            "names": {"plural": "things", "kind": "Thing"},
            "versions": [{"name": "v1beta1", "served": true, "storage": false},
                         {"name": "v1", "served": true, "storage": true}]}});
        let rt = type_from_crd(&crd).unwrap();
        assert_eq!(rt.versions, vec!["v1", "v1beta1"]);
        assert!(!rt.status_subresource);
    }

    #[test]
    fn crd_invalid_scope() {
        let crd = json!({"spec": {"group": "x.io", "scope": "Global",
            "names": {"plural": "things", "kind": "Thing"}, "versions": []}});
        assert!(type_from_crd(&crd).unwrap_err().contains("spec.scope"));
    }
}
