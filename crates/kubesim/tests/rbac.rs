//! ServiceAccount bearer tokens and RBAC: requests with a token get exactly what Roles,
//! ClusterRoles and their bindings grant; requests without credentials act as an admin.

mod common;

use common::{client, raw, start};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};
use std::time::Duration;

async fn create(client: &kube::Client, path: &str, body: Value) {
    let (code, text) = raw(client, "POST", path, "application/json", &body.to_string()).await;
    assert_eq!(code, 201, "POST {path}: {text}");
}

/// Creates namespaces `team` and `other`, ServiceAccount `operator` in `team`, a Role that
/// reads Secrets and updates only `app-key`, a RoleBinding to it, and three Secrets.
/// Returns the admin client.
async fn setup(sim: &akguard_kubesim::RunningSim) -> kube::Client {
    let admin = client(sim);
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    for ns in ["team", "other"] {
        namespaces.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap()).await.unwrap();
    }
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), "team");
    accounts.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "operator"}})).unwrap()).await.unwrap();
    create(&admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles", json!({"metadata": {"name": "secrets"}, "rules": [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["update", "patch"], "resourceNames": ["app-key"]}]})).await;
    create(&admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings", json!({"metadata": {"name": "operator-secrets"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secrets"},
        "subjects": [{"kind": "ServiceAccount", "name": "operator", "namespace": "team"}]})).await;
    for (ns, name) in [("team", "app-key"), ("team", "other-key"), ("other", "foreign")] {
        let secrets: Api<Secret> = Api::namespaced(admin.clone(), ns);
        secrets.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()).await.unwrap();
    }
    admin
}

async fn token_client(sim: &akguard_kubesim::RunningSim, token: &str) -> kube::Client {
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig_with_token(token)).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.unwrap();
    kube::Client::try_from(config).unwrap()
}

fn status_code<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> u16 {
    match result {
        Err(kube::Error::Api(status)) => status.code,
        Ok(_) => 200,
        other => panic!("unexpected error {other:?}"),
    }
}

#[tokio::test]
async fn role_grants_only_its_rules() {
    let sim = start().await;
    setup(&sim).await;
    let token = sim.service_account_token("team", "operator").unwrap();
    let operator = token_client(&sim, &token).await;
    let team: Api<Secret> = Api::namespaced(operator.clone(), "team");
    let other: Api<Secret> = Api::namespaced(operator.clone(), "other");
    let all: Api<Secret> = Api::all(operator.clone());
    let label = |name: &str| Patch::Merge(json!({"metadata": {"labels": {"rotated": name.to_string()}}}));

    assert_eq!(status_code(team.get("app-key").await), 200);
    assert_eq!(status_code(team.list(&ListParams::default()).await), 200);
    assert_eq!(status_code(team.patch("app-key", &PatchParams::default(), &label("yes")).await), 200);
    assert_eq!(status_code(team.patch("other-key", &PatchParams::default(), &label("yes")).await), 403);
    assert_eq!(status_code(team.delete("app-key", &DeleteParams::default()).await), 403);
    assert_eq!(status_code(other.get("foreign").await), 403);
    assert_eq!(status_code(all.list(&ListParams::default()).await), 403);
    sim.shutdown().await;
}

#[tokio::test]
async fn forbidden_message_names_user_and_verb() {
    let sim = start().await;
    setup(&sim).await;
    let operator = token_client(&sim, &sim.service_account_token("team", "operator").unwrap()).await;
    let team: Api<Secret> = Api::namespaced(operator, "team");

    let status = match team.delete("app-key", &DeleteParams::default()).await {
        Err(kube::Error::Api(status)) => status,
        other => panic!("expected 403, got {other:?}"),
    };

    assert_eq!(status.reason, "Forbidden");
    assert_eq!(
        status.message,
        "secrets \"app-key\" is forbidden: User \"system:serviceaccount:team:operator\" cannot delete resource \"secrets\" in API group \"\" in the namespace \"team\""
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn cluster_role_binding_and_aggregation() {
    let sim = start().await;
    let admin = setup(&sim).await;
    create(&admin, "/apis/rbac.authorization.k8s.io/v1/clusterroles", json!({"metadata": {"name": "akguard-aggregate"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"akguard.io/aggregate": "true"}}]}, "rules": []})).await;
    create(&admin, "/apis/rbac.authorization.k8s.io/v1/clusterroles", json!({"metadata": {"name": "deployments-reader",
        "labels": {"akguard.io/aggregate": "true"}}, "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"]}]})).await;
    create(&admin, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json!({"metadata": {"name": "operator-aggregate"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "akguard-aggregate"},
        "subjects": [{"kind": "ServiceAccount", "name": "operator", "namespace": "team"}]})).await;
    let operator = token_client(&sim, &sim.service_account_token("team", "operator").unwrap()).await;

    let (all_namespaces, _) = raw(&operator, "GET", "/apis/apps/v1/deployments", "application/json", "").await;
    let (create_denied, _) = raw(&operator, "POST", "/apis/apps/v1/namespaces/other/deployments", "application/json", "{}").await;

    assert_eq!(all_namespaces, 200);
    assert_eq!(create_denied, 403);
    sim.shutdown().await;
}

#[tokio::test]
async fn status_subresource_rule_is_separate() {
    let sim = start().await;
    let admin = setup(&sim).await;
    create(&admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles", json!({"metadata": {"name": "status-writer"},
        "rules": [{"apiGroups": [""], "resources": ["serviceaccounts/status", "pods/status"], "verbs": ["patch"]},
                  {"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]})).await;
    create(&admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings", json!({"metadata": {"name": "status-writer"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "status-writer"},
        "subjects": [{"kind": "ServiceAccount", "name": "operator", "namespace": "team"}]})).await;
    let operator = token_client(&sim, &sim.service_account_token("team", "operator").unwrap()).await;
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}});
    create(&operator, "/api/v1/namespaces/team/pods", pod).await;

    let status_patch = r#"{"status": {"phase": "Running"}}"#;
    let (status_code, _) = raw(&operator, "PATCH", "/api/v1/namespaces/team/pods/p/status", "application/merge-patch+json", status_patch).await;
    let (main_code, _) = raw(&operator, "PATCH", "/api/v1/namespaces/team/pods/p", "application/merge-patch+json", r#"{"metadata": {"labels": {"a": "b"}}}"#).await;

    assert_eq!(status_code, 200);
    assert_eq!(main_code, 403);
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_or_revoked_token_is_unauthorized() {
    let sim = start().await;
    let admin = setup(&sim).await;
    let token = sim.service_account_token("team", "operator").unwrap();
    let forged = token_client(&sim, "kubesim.not-issued").await;
    let operator = token_client(&sim, &token).await;

    let (forged_code, body) = raw(&forged, "GET", "/api/v1/namespaces/team/secrets", "application/json", "").await;
    Api::<ServiceAccount>::namespaced(admin.clone(), "team").delete("operator", &DeleteParams::default()).await.unwrap();
    let (revoked_code, _) = raw(&operator, "GET", "/api/v1/namespaces/team/secrets", "application/json", "").await;

    assert_eq!(forged_code, 401);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["reason"], json!("Unauthorized"));
    assert_eq!(revoked_code, 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn token_request_issues_usable_token() {
    let sim = start().await;
    let admin = setup(&sim).await;

    let (code, body) = raw(&admin, "POST", "/api/v1/namespaces/team/serviceaccounts/operator/token", "application/json",
        r#"{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 600}}"#).await;
    let response: Value = serde_json::from_str(&body).unwrap();
    let token = response["status"]["token"].as_str().unwrap();
    let operator = token_client(&sim, token).await;
    let (missing, _) = raw(&admin, "POST", "/api/v1/namespaces/team/serviceaccounts/absent/token", "application/json", "{}").await;

    assert_eq!(code, 201);
    assert_eq!(response["kind"], json!("TokenRequest"));
    assert_eq!(status_code(Api::<Secret>::namespaced(operator, "team").get("app-key").await), 200);
    assert_eq!(missing, 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn restricted_watcher_syncs() {
    let sim = start().await;
    setup(&sim).await;
    let operator = token_client(&sim, &sim.service_account_token("team", "operator").unwrap()).await;
    let team: Api<Secret> = Api::namespaced(operator, "team");

    let first = tokio::time::timeout(Duration::from_secs(5), watcher(team, watcher::Config::default()).applied_objects().boxed().next()).await;

    let secret = first.expect("the watcher delivers within 5 s").expect("stream has an item").expect("no watch error");
    assert_eq!(secret.metadata.namespace.as_deref(), Some("team"));
    sim.shutdown().await;
}

#[tokio::test]
async fn requests_without_token_are_admin() {
    let sim = start().await;
    let admin = setup(&sim).await;
    let anything: Api<DynamicObject> = Api::all_with(admin, &kube::api::ApiResource::erase::<Secret>(&()));

    let listed = anything.list(&ListParams::default()).await.unwrap();

    assert_eq!(listed.items.len(), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn kubectl_impersonation_is_restricted() {
    let sim = start().await;
    setup(&sim).await;
    let kubectl = common::Kubectl::new(&sim, "impersonate");
    let operator = "--as=system:serviceaccount:team:operator";

    let listed = kubectl.ok(&["get", "secrets", "-n", "team", "-o", "name", operator]).await;
    let denied = kubectl.run(&["delete", "secret", "app-key", "-n", "team", operator]).await;
    let other = kubectl.run(&["get", "secrets", "-n", "other", operator]).await;

    assert!(listed.contains("secret/app-key"), "{listed}");
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("Forbidden"));
    assert!(!other.status.success());
    sim.shutdown().await;
}

#[tokio::test]
async fn service_account_cannot_impersonate() {
    let sim = start().await;
    setup(&sim).await;
    let operator = token_client(&sim, &sim.service_account_token("team", "operator").unwrap()).await;
    let request = http::Request::get("/api/v1/namespaces/team/secrets").header("Impersonate-User", "admin").body(Vec::new()).unwrap();

    let result = operator.request_text(request).await;

    assert!(matches!(result, Err(kube::Error::Api(s)) if s.code == 403));
    sim.shutdown().await;
}
