//! CustomResourceDefinitions applied at run time, the DynamicObject API, discovery,
//! the status subresource of custom resources, and server-side apply.

mod common;

use common::{client, raw, start};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::Discovery;
use serde_json::{Value, json};

fn rotation_crd() -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "accesskeyrotations.akguard.io"},
        "spec": {
            "group": "akguard.io",
            "scope": "Namespaced",
            "names": {"plural": "accesskeyrotations", "singular": "accesskeyrotation", "kind": "AccessKeyRotation", "shortNames": ["akr"]},
            "versions": [{
                "name": "v1alpha1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "targets": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                                    "items": {"type": "object", "properties": {"name": {"type": "string"}, "key": {"type": "string"}}}},
                        "schedule": {"type": "string"},
                        "mode": {"type": "string", "enum": ["Automatic", "Manual"]},
                        "interval": {"type": "string", "default": "90d"}}},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}
            }]
        }
    }))
    .unwrap()
}

fn resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("akguard.io", "v1alpha1", "AccessKeyRotation"), "accesskeyrotations")
}

async fn setup() -> (akguard_kubesim::RunningSim, kube::Client, Api<DynamicObject>) {
    let sim = start().await;
    let client = client(&sim);
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &rotation_crd()).await.unwrap();
    let api = Api::namespaced_with(client.clone(), "default", &resource());
    (sim, client, api)
}

fn rotation(name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": "akguard.io/v1alpha1", "kind": "AccessKeyRotation", "metadata": {"name": name}, "spec": spec})).unwrap()
}

#[tokio::test]
async fn crd_is_established_and_discovered() {
    let (sim, client, _) = setup().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());

    let crd = crds.get("accesskeyrotations.akguard.io").await.unwrap();
    let discovery = Discovery::new(client.clone()).run().await.unwrap();

    let established = crd.status.unwrap().conditions.unwrap().into_iter().any(|c| c.type_ == "Established" && c.status == "True");
    assert!(established);
    let group = discovery.get("akguard.io").expect("group is discovered");
    let (found, caps) = group.recommended_kind("AccessKeyRotation").expect("kind is discovered");
    assert_eq!(found.plural, "accesskeyrotations");
    assert!(caps.subresources.iter().any(|(sub, _)| sub.plural == "accesskeyrotations/status" || sub.plural == "status"));
    assert!(discovery.get("apps").is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn dynamic_api_crud() {
    let (sim, _client, api) = setup().await;

    let created = api.create(&PostParams::default(), &rotation("r1", json!({"schedule": "90d"}))).await.unwrap();
    let listed = api.list(&ListParams::default()).await.unwrap();
    api.delete("r1", &DeleteParams::default()).await.unwrap();

    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(created.data["spec"]["schedule"], json!("90d"));
    assert_eq!(listed.items.len(), 1);
    assert!(api.get_opt("r1").await.unwrap().is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn custom_status_subresource_is_separate() {
    let (sim, _client, api) = setup().await;
    let mut with_status = rotation("r1", json!({"schedule": "90d"}));
    with_status.data["status"] = json!({"phase": "Set on create"});
    let created = api.create(&PostParams::default(), &with_status).await.unwrap();

    let status_patch = json!({"status": {"phase": "Ready"}, "spec": {"schedule": "1d"}});
    let after_status = api.patch_status("r1", &PatchParams::default(), &Patch::Merge(&status_patch)).await.unwrap();
    let main_patch = json!({"status": {"phase": "Hacked"}, "spec": {"schedule": "7d"}});
    let after_main = api.patch("r1", &PatchParams::default(), &Patch::Merge(&main_patch)).await.unwrap();

    assert!(created.data.get("status").is_none(), "create cannot set status");
    assert_eq!(after_status.data["status"]["phase"], json!("Ready"));
    assert_eq!(after_status.data["spec"]["schedule"], json!("90d"));
    assert_eq!(after_status.metadata.generation, Some(1));
    assert_eq!(after_main.data["status"]["phase"], json!("Ready"));
    assert_eq!(after_main.data["spec"]["schedule"], json!("7d"));
    assert_eq!(after_main.metadata.generation, Some(2));
    sim.shutdown().await;
}

#[tokio::test]
async fn strategic_merge_on_custom_resource_is_415() {
    let (sim, _client, api) = setup().await;
    api.create(&PostParams::default(), &rotation("r1", json!({}))).await.unwrap();

    let result = api.patch("r1", &PatchParams::default(), &Patch::Strategic(json!({"spec": {"schedule": "1d"}}))).await;

    assert!(matches!(result, Err(kube::Error::Api(s)) if s.code == 415));
    sim.shutdown().await;
}

#[tokio::test]
async fn json_patch_applies_operations() {
    let (sim, client, api) = setup().await;
    api.create(&PostParams::default(), &rotation("r1", json!({"targets": [{"name": "a"}]}))).await.unwrap();
    let path = "/apis/akguard.io/v1alpha1/namespaces/default/accesskeyrotations/r1";
    let ops = r#"[{"op": "add", "path": "/spec/targets/-", "value": {"name": "b"}},
                  {"op": "replace", "path": "/spec/targets/0/name", "value": "z"}]"#;
    let failing = r#"[{"op": "test", "path": "/spec/targets/0/name", "value": "nope"}]"#;

    let (code, body) = raw(&client, "PATCH", path, "application/json-patch+json", ops).await;
    let (failed_code, _) = raw(&client, "PATCH", path, "application/json-patch+json", failing).await;

    let patched: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(code, 200);
    assert_eq!(patched["spec"]["targets"], json!([{"name": "z"}, {"name": "b"}]));
    assert_eq!(failed_code, 422);
    sim.shutdown().await;
}

#[tokio::test]
async fn apply_conflicts_with_other_manager() {
    let (sim, _client, api) = setup().await;
    let first = rotation("r1", json!({"schedule": "90d", "targets": [{"name": "a", "key": "k"}]}));
    api.patch("r1", &PatchParams::apply("gitops"), &Patch::Apply(&first)).await.unwrap();

    let second = rotation("r1", json!({"schedule": "1d"}));
    let conflict = api.patch("r1", &PatchParams::apply("operator"), &Patch::Apply(&second)).await;
    let forced = api.patch("r1", &PatchParams::apply("operator").force(), &Patch::Apply(&second)).await.unwrap();
    let again = api.patch("r1", &PatchParams::apply("gitops"), &Patch::Apply(&first)).await;

    match conflict {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 409);
            assert!(status.message.contains("conflict with \"gitops\""), "{}", status.message);
            assert!(status.message.contains(".spec.schedule"), "{}", status.message);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(forced.data["spec"]["schedule"], json!("1d"));
    assert_eq!(forced.data["spec"]["targets"], json!([{"name": "a", "key": "k"}]), "fields the operator does not apply stay");
    let managers: Vec<String> = forced.metadata.managed_fields.unwrap().into_iter().filter_map(|m| m.manager).collect();
    assert!(managers.contains(&"gitops".to_string()));
    assert!(managers.contains(&"operator".to_string()));
    assert!(matches!(again, Err(kube::Error::Api(s)) if s.code == 409), "gitops lost .spec.schedule to the forced apply");
    sim.shutdown().await;
}

#[tokio::test]
async fn apply_removes_fields_manager_dropped() {
    let (sim, _client, api) = setup().await;
    let both = rotation("r1", json!({"targets": [{"name": "a"}, {"name": "b"}], "schedule": "90d"}));
    api.patch("r1", &PatchParams::apply("gitops"), &Patch::Apply(&both)).await.unwrap();

    let one = rotation("r1", json!({"targets": [{"name": "a"}]}));
    let result = api.patch("r1", &PatchParams::apply("gitops"), &Patch::Apply(&one)).await.unwrap();

    assert_eq!(result.data["spec"]["targets"], json!([{"name": "a"}]));
    assert!(result.data["spec"].get("schedule").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn apply_to_status_with_fixed_manager() {
    let (sim, _client, api) = setup().await;
    api.create(&PostParams::default(), &rotation("r1", json!({"schedule": "90d"}))).await.unwrap();

    let status = json!({"apiVersion": "akguard.io/v1alpha1", "kind": "AccessKeyRotation", "metadata": {"name": "r1"}, "status": {"phase": "Idle"}});
    let result = api.patch_status("r1", &PatchParams::apply("akguard").force(), &Patch::Apply(&status)).await.unwrap();

    assert_eq!(result.data["status"]["phase"], json!("Idle"));
    let entry = result.metadata.managed_fields.unwrap().into_iter().find(|m| m.manager.as_deref() == Some("akguard")).unwrap();
    assert_eq!(entry.subresource.as_deref(), Some("status"));
    assert_eq!(entry.operation.as_deref(), Some("Apply"));
    sim.shutdown().await;
}

#[tokio::test]
async fn apply_without_field_manager_is_invalid() {
    let (sim, client, _api) = setup().await;
    let body = r#"{"apiVersion": "akguard.io/v1alpha1", "kind": "AccessKeyRotation", "metadata": {"name": "r1"}}"#;

    let (code, _) = raw(&client, "PATCH", "/apis/akguard.io/v1alpha1/namespaces/default/accesskeyrotations/r1", "application/apply-patch+yaml", body).await;

    assert_eq!(code, 422);
    sim.shutdown().await;
}

#[tokio::test]
async fn update_after_apply_takes_ownership() {
    let sim = start().await;
    let deployments: Api<Deployment> = Api::default_namespaced(client(&sim));
    let applied = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 1,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "a:1"}]}}}});
    deployments.patch("web", &PatchParams::apply("gitops"), &Patch::Apply(&applied)).await.unwrap();

    let scale = PatchParams { field_manager: Some("autoscaler".into()), ..Default::default() };
    deployments.patch("web", &scale, &Patch::Merge(json!({"spec": {"replicas": 4}}))).await.unwrap();
    let conflict = deployments.patch("web", &PatchParams::apply("gitops"), &Patch::Apply(&applied)).await;
    let mut without_replicas = applied.clone();
    without_replicas["spec"].as_object_mut().unwrap().remove("replicas");
    let kept = deployments.patch("web", &PatchParams::apply("gitops"), &Patch::Apply(&without_replicas)).await.unwrap();

    let conflict = match conflict {
        Err(kube::Error::Api(status)) => status,
        other => panic!("expected a conflict, got {other:?}"),
    };
    assert_eq!(conflict.code, 409);
    assert!(conflict.message.contains("autoscaler"), "{}", conflict.message);
    assert_eq!(kept.spec.unwrap().replicas, Some(4), "a field another manager owns is not removed");
    sim.shutdown().await;
}

#[tokio::test]
async fn crd_deletion_removes_resources() {
    let (sim, client, api) = setup().await;
    api.create(&PostParams::default(), &rotation("r1", json!({}))).await.unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());

    crds.delete("accesskeyrotations.akguard.io", &DeleteParams::default()).await.unwrap();
    let (code, _) = raw(&client, "GET", "/apis/akguard.io/v1alpha1/namespaces/default/accesskeyrotations", "application/json", "").await;

    assert_eq!(code, 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn schema_prunes_defaults_and_validates() {
    let (sim, client, api) = setup().await;

    let created = api.create(&PostParams::default(), &rotation("r1", json!({"schedule": "1d", "unknownField": true}))).await.unwrap();
    let invalid = api.create(&PostParams::default(), &rotation("r2", json!({"mode": "Sometimes"}))).await;
    let strict_body = json!({"apiVersion": "akguard.io/v1alpha1", "kind": "AccessKeyRotation", "metadata": {"name": "r3"}, "spec": {"unknownField": 1}});
    let (strict, strict_text) = raw(&client, "POST", "/apis/akguard.io/v1alpha1/namespaces/default/accesskeyrotations?fieldValidation=Strict",
        "application/json", &strict_body.to_string()).await;

    assert!(created.data["spec"].get("unknownField").is_none(), "unknown fields are pruned");
    assert_eq!(created.data["spec"]["interval"], json!("90d"), "schema defaults are filled in");
    match invalid {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 422);
            assert!(status.message.contains("spec.mode: Unsupported value"), "{}", status.message);
        }
        other => panic!("expected 422, got {other:?}"),
    }
    assert_eq!(strict, 400);
    assert!(strict_text.contains("unknown field \\\"spec.unknownField\\\""), "{strict_text}");
    sim.shutdown().await;
}

#[tokio::test]
async fn replace_without_resource_version_is_invalid() {
    let (sim, _client, api) = setup().await;
    api.create(&PostParams::default(), &rotation("r1", json!({"schedule": "90d"}))).await.unwrap();

    let result = api.replace("r1", &PostParams::default(), &rotation("r1", json!({"schedule": "1d"}))).await;

    assert!(matches!(result, Err(kube::Error::Api(s)) if s.code == 422), "custom resources need metadata.resourceVersion on update");
    sim.shutdown().await;
}
