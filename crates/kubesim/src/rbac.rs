//! RBAC evaluation over stored Roles, ClusterRoles, RoleBindings and ClusterRoleBindings,
//! following the rules of kube-apiserver's RBAC authorizer (rbac.authorization.k8s.io/v1).

use crate::auth::{RequestAttributes, UserInfo};
use crate::selectors::LabelSelector;
use crate::store::State;
use serde_json::Value;

fn strings(value: Option<&Value>) -> Vec<&str> {
    value.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// Checks one PolicyRule against a request.
pub fn rule_allows(rule: &Value, request: &RequestAttributes) -> bool {
    let verbs = strings(rule.get("verbs"));
    let groups = strings(rule.get("apiGroups"));
    let resources = strings(rule.get("resources"));
    let names = strings(rule.get("resourceNames"));

    let verb_ok = verbs.iter().any(|v| *v == "*" || *v == request.verb);
    let group_ok = groups.iter().any(|g| *g == "*" || *g == request.group);
    let resource_ok = resources.iter().any(|r| {
        if request.subresource.is_empty() {
            *r == "*" || *r == request.resource
        } else {
            let full = format!("{}/{}", request.resource, request.subresource);
            *r == "*" || *r == full || *r == format!("*/{}", request.subresource) || *r == format!("{}/*", request.resource)
        }
    });
    // A rule with resourceNames never matches a request without a name (create, list,
    // watch, deletecollection), as in kube-apiserver.
    let name_ok = names.is_empty() || (!request.name.is_empty() && names.contains(&request.name.as_str()));
    verb_ok && group_ok && resource_ok && name_ok
}

/// Checks whether a binding subject is this user.
pub fn subject_matches(subject: &Value, user: &UserInfo) -> bool {
    let name = subject.get("name").and_then(Value::as_str).unwrap_or_default();
    match subject.get("kind").and_then(Value::as_str) {
        Some("User") => user.username == name,
        Some("Group") => user.groups.iter().any(|g| g == name),
        Some("ServiceAccount") => {
            let namespace = subject.get("namespace").and_then(Value::as_str).unwrap_or_default();
            user.username == format!("system:serviceaccount:{namespace}:{name}")
        }
        _ => false,
    }
}

/// Rules of a ClusterRole, including those aggregated from ClusterRoles its
/// `aggregationRule` selects.
fn cluster_role_rules(state: &State, name: &str) -> Vec<Value> {
    let Some(role) = state.get(&crate::store::key("rbac.authorization.k8s.io", "clusterroles", "", name)) else {
        return Vec::new();
    };
    let mut rules: Vec<Value> = role.get("rules").and_then(Value::as_array).cloned().unwrap_or_default();
    for selector in role.pointer("/aggregationRule/clusterRoleSelectors").and_then(Value::as_array).into_iter().flatten() {
        let Ok(selector) = LabelSelector::from_object(selector) else { continue };
        for (_, other) in state.range("rbac.authorization.k8s.io", "clusterroles", None) {
            if crate::meta::name_of(other) != name && selector.matches(other) {
                rules.extend(other.get("rules").and_then(Value::as_array).cloned().unwrap_or_default());
            }
        }
    }
    rules
}

fn role_rules(state: &State, namespace: &str, role_ref: &Value) -> Vec<Value> {
    let name = role_ref.get("name").and_then(Value::as_str).unwrap_or_default();
    match role_ref.get("kind").and_then(Value::as_str) {
        Some("ClusterRole") => cluster_role_rules(state, name),
        Some("Role") => state
            .get(&crate::store::key("rbac.authorization.k8s.io", "roles", namespace, name))
            .and_then(|r| r.get("rules"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn binding_grants(state: &State, binding: &Value, namespace: &str, request: &RequestAttributes) -> bool {
    let subjects = binding.get("subjects").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if !subjects.iter().any(|s| subject_matches(s, &request.user)) {
        return false;
    }
    let role_ref = binding.get("roleRef").cloned().unwrap_or(Value::Null);
    role_rules(state, namespace, &role_ref).iter().any(|rule| rule_allows(rule, request))
}

/// Decides a request: members of `system:masters` may do anything; others need a rule from
/// a ClusterRoleBinding, or from a RoleBinding in the request's namespace.
pub fn authorize(state: &State, request: &RequestAttributes) -> bool {
    if request.user.groups.iter().any(|g| g == "system:masters") {
        return true;
    }
    let cluster_wide = state
        .range("rbac.authorization.k8s.io", "clusterrolebindings", None)
        .any(|(_, binding)| binding_grants(state, binding, "", request));
    if cluster_wide {
        return true;
    }
    if request.namespace.is_empty() {
        return false;
    }
    state
        .range("rbac.authorization.k8s.io", "rolebindings", Some(&request.namespace))
        .any(|(_, binding)| binding_grants(state, binding, &request.namespace, request))
}

/// Formats the message kube-apiserver sends with a 403 from RBAC.
pub fn forbidden_message(request: &RequestAttributes) -> String {
    let resource = if request.subresource.is_empty() {
        request.resource.clone()
    } else {
        format!("{}/{}", request.resource, request.subresource)
    };
    let group_resource = if request.group.is_empty() { request.resource.clone() } else { format!("{}.{}", request.resource, request.group) };
    let object = if request.name.is_empty() { group_resource } else { format!("{group_resource} \"{}\"", request.name) };
    let scope = if request.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", request.namespace)
    };
    format!(
        "{object} is forbidden: User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
        request.user.username, request.verb, request.group
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(verb: &'static str, group: &str, resource: &str, subresource: &str, name: &str) -> RequestAttributes {
        RequestAttributes {
            user: UserInfo { username: "system:serviceaccount:ns:op".into(), groups: vec!["system:serviceaccounts".into()] },
            verb,
            group: group.into(),
            version: "v1".into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    #[test]
    fn rule_table() {
        let secrets_read = json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]});
        let named = json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "update"], "resourceNames": ["app-key"]});
        let status = json!({"apiGroups": ["akguard.io"], "resources": ["accesskeyrotations/status"], "verbs": ["patch"]});
        let everything = json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]});
        let cases = [
            (&secrets_read, request("get", "", "secrets", "", "x"), true),
            (&secrets_read, request("list", "", "secrets", "", ""), true),
            (&secrets_read, request("delete", "", "secrets", "", "x"), false),
            (&secrets_read, request("get", "apps", "secrets", "", "x"), false),
            (&named, request("get", "", "secrets", "", "app-key"), true),
            (&named, request("get", "", "secrets", "", "other"), false),
            (&named, request("list", "", "secrets", "", ""), false),
            (&status, request("patch", "akguard.io", "accesskeyrotations", "status", "r"), true),
            (&status, request("patch", "akguard.io", "accesskeyrotations", "", "r"), false),
            (&everything, request("deletecollection", "apps", "deployments", "", ""), true),
        ];
        for (rule, request, expected) in cases {
            assert_eq!(rule_allows(rule, &request), expected, "{rule} vs {} {}/{}", request.verb, request.resource, request.subresource);
        }
    }

    #[test]
    fn subject_table() {
        let user = UserInfo { username: "system:serviceaccount:ns:op".into(), groups: vec!["system:serviceaccounts:ns".into()] };
        let cases = [
            (json!({"kind": "ServiceAccount", "name": "op", "namespace": "ns"}), true),
            (json!({"kind": "ServiceAccount", "name": "op", "namespace": "other"}), false),
            (json!({"kind": "Group", "name": "system:serviceaccounts:ns"}), true),
            (json!({"kind": "User", "name": "system:serviceaccount:ns:op"}), true),
            (json!({"kind": "User", "name": "alice"}), false),
        ];
        for (subject, expected) in cases {
            assert_eq!(subject_matches(&subject, &user), expected, "{subject}");
        }
    }

    #[test]
    fn forbidden_message_matches_kube_apiserver() {
        let message = forbidden_message(&request("get", "", "secrets", "", "x"));
        assert_eq!(message, "secrets \"x\" is forbidden: User \"system:serviceaccount:ns:op\" cannot get resource \"secrets\" in API group \"\" in the namespace \"ns\"");
        let message = forbidden_message(&request("patch", "apps", "deployments", "status", "web"));
        assert!(message.starts_with("deployments.apps \"web\" is forbidden"), "{message}");
        assert!(message.contains("resource \"deployments/status\""), "{message}");
    }
}
