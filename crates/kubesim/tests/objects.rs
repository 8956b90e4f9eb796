//! Object semantics through kube-rs typed APIs: create, get, update, delete, conflicts,
//! metadata, generation, selectors, paging, deletecollection, finalizers, garbage
//! collection and namespaces.

mod common;

use common::{client, eventually, raw, raw_bytes, start};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::core::Status;
use serde_json::json;
use std::time::Duration;

fn api_error<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> Box<Status> {
    match result {
        Err(kube::Error::Api(status)) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn secret(name: &str, labels: serde_json::Value) -> Secret {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}, "stringData": {"key": "value"}})).unwrap()
}

fn config_map(name: &str, owner: Option<(&str, &str)>, finalizers: &[&str]) -> ConfigMap {
    let mut object = json!({"metadata": {"name": name}});
    if let Some((owner_name, uid)) = owner {
        object["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": owner_name, "uid": uid}]);
    }
    if !finalizers.is_empty() {
        object["metadata"]["finalizers"] = json!(finalizers);
    }
    serde_json::from_value(object).unwrap()
}

fn deployment(name: &str, image: &str) -> Deployment {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"replicas": 1,
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": image}]}}}}))
    .unwrap()
}

async fn create_namespace(client: &kube::Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    namespaces.create(&PostParams::default(), &ns).await.unwrap();
}

#[tokio::test]
async fn secret_round_trip_sets_metadata() {
    let sim = start().await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));

    let created = secrets.create(&PostParams::default(), &secret("app", json!({}))).await.unwrap();
    let fetched = secrets.get("app").await.unwrap();

    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    assert!(created.metadata.resource_version.is_some());
    assert_eq!(created.metadata.generation, None, "Secrets carry no generation");
    assert_eq!(fetched.type_.as_deref(), Some("Opaque"));
    assert_eq!(fetched.data.unwrap()["key"].0, b"value".to_vec(), "stringData is stored as data");
    assert!(fetched.string_data.is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn stale_update_is_conflict() {
    let sim = start().await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));
    let first = secrets.create(&PostParams::default(), &secret("app", json!({}))).await.unwrap();

    let mut newer = first.clone();
    newer.metadata.labels = Some([("a".to_string(), "1".to_string())].into());
    let updated = secrets.replace("app", &PostParams::default(), &newer).await.unwrap();
    let status = api_error(secrets.replace("app", &PostParams::default(), &first).await);

    assert_ne!(updated.metadata.resource_version, first.metadata.resource_version);
    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "Conflict");
    assert!(status.message.contains("the object has been modified"), "{}", status.message);
    sim.shutdown().await;
}

#[tokio::test]
async fn stale_patch_is_conflict() {
    let sim = start().await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));
    secrets.create(&PostParams::default(), &secret("app", json!({}))).await.unwrap();

    let patch = json!({"metadata": {"resourceVersion": "1", "labels": {"a": "b"}}});
    let status = api_error(secrets.patch("app", &PatchParams::default(), &Patch::Merge(&patch)).await);

    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "Conflict");
    sim.shutdown().await;
}

#[tokio::test]
async fn duplicate_create_already_exists() {
    let sim = start().await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));
    secrets.create(&PostParams::default(), &secret("app", json!({}))).await.unwrap();

    let status = api_error(secrets.create(&PostParams::default(), &secret("app", json!({}))).await);

    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "AlreadyExists");
    sim.shutdown().await;
}

#[tokio::test]
async fn missing_object_not_found() {
    let sim = start().await;
    let client = client(&sim);
    let secrets: Api<Secret> = Api::default_namespaced(client.clone());

    let status = api_error(secrets.get("absent").await);
    let (code, body) = raw(&client, "GET", "/api/v1/namespaces/default/secrets/absent", "application/json", "").await;
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();

    assert_eq!(status.code, 404);
    assert_eq!(status.reason, "NotFound");
    assert_eq!(code, 404);
    assert_eq!(body["kind"], json!("Status"));
    assert_eq!(body["details"]["name"], json!("absent"));
    sim.shutdown().await;
}

#[tokio::test]
async fn generate_name_adds_suffix() {
    let sim = start().await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));
    let template: Secret = serde_json::from_value(json!({"metadata": {"generateName": "staging-"}})).unwrap();

    let a = secrets.create(&PostParams::default(), &template).await.unwrap();
    let b = secrets.create(&PostParams::default(), &template).await.unwrap();

    let a_name = a.metadata.name.unwrap();
    assert!(a_name.starts_with("staging-"), "{a_name}");
    assert_eq!(a_name.len(), "staging-".len() + 5, "{a_name}");
    assert_ne!(Some(a_name), b.metadata.name);
    sim.shutdown().await;
}

#[tokio::test]
async fn generation_moves_on_spec_only() {
    let sim = start().await;
    let deployments: Api<Deployment> = Api::default_namespaced(client(&sim));
    let created = deployments.create(&PostParams::default(), &deployment("web", "a:1")).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));

    let labelled = deployments
        .patch("web", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})))
        .await
        .unwrap();
    let status_written = deployments
        .patch_status("web", &PatchParams::default(), &Patch::Merge(json!({"status": {"replicas": 9}})))
        .await
        .unwrap();
    let spec_changed = deployments
        .patch("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 3}})))
        .await
        .unwrap();

    assert_eq!(labelled.metadata.generation, Some(1), "metadata changes keep generation");
    assert_eq!(status_written.metadata.generation, Some(1), "status changes keep generation");
    assert_eq!(spec_changed.metadata.generation, Some(2), "spec changes bump generation");
    sim.shutdown().await;
}

#[tokio::test]
async fn status_subresource_is_separate() {
    let sim = start().await;
    let deployments: Api<Deployment> = Api::default_namespaced(client(&sim));
    deployments.create(&PostParams::default(), &deployment("web", "a:1")).await.unwrap();

    let via_main = deployments
        .patch("web", &PatchParams::default(), &Patch::Merge(json!({"status": {"observedGeneration": 42}})))
        .await
        .unwrap();
    let via_status = deployments
        .patch_status("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 5}, "status": {"observedGeneration": 42}})))
        .await
        .unwrap();

    assert_ne!(via_main.status.and_then(|s| s.observed_generation), Some(42));
    assert_eq!(via_status.spec.unwrap().replicas, Some(1));
    assert_eq!(via_status.status.unwrap().observed_generation, Some(42));
    sim.shutdown().await;
}

#[tokio::test]
async fn list_selectors_filter() {
    let sim = start().await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));
    for (name, app, tier) in [("a", "web", "front"), ("b", "web", "back"), ("c", "db", "back")] {
        secrets.create(&PostParams::default(), &secret(name, json!({"app": app, "tier": tier}))).await.unwrap();
    }
    let names = |list: kube::core::ObjectList<Secret>| list.items.into_iter().map(|s| s.metadata.name.unwrap()).collect::<Vec<_>>();

    let cases = [
        (ListParams::default().labels("app=web"), vec!["a", "b"]),
        (ListParams::default().labels("app!=web"), vec!["c"]),
        (ListParams::default().labels("tier in (front),app"), vec!["a"]),
        (ListParams::default().labels("app notin (web)"), vec!["c"]),
        (ListParams::default().labels("!missing,tier=back"), vec!["b", "c"]),
        (ListParams::default().fields("metadata.name=b"), vec!["b"]),
        (ListParams::default().fields("metadata.namespace=default,metadata.name!=a").labels("app=web"), vec!["b"]),
    ];
    for (params, expected) in cases {
        let listed = names(secrets.list(&params).await.unwrap());
        assert_eq!(listed, expected, "{:?} {:?}", params.label_selector, params.field_selector);
    }

    let status = api_error(secrets.list(&ListParams::default().fields("data.key=x")).await);
    assert_eq!(status.code, 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn list_pages_with_continue() {
    let sim = start().await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));
    for i in 0..5 {
        secrets.create(&PostParams::default(), &secret(&format!("s{i}"), json!({}))).await.unwrap();
    }

    let first = secrets.list(&ListParams::default().limit(2)).await.unwrap();
    let token = first.metadata.continue_.clone().expect("first page has a continue token");
    let second = secrets.list(&ListParams::default().limit(2).continue_token(&token)).await.unwrap();
    let token = second.metadata.continue_.clone().expect("second page has a continue token");
    let third = secrets.list(&ListParams::default().limit(2).continue_token(&token)).await.unwrap();

    assert_eq!(first.items.len(), 2);
    assert_eq!(first.metadata.remaining_item_count, Some(3));
    assert!(first.metadata.resource_version.is_some());
    assert_eq!(second.items[0].metadata.name.as_deref(), Some("s2"));
    assert_eq!(third.items.len(), 1);
    assert!(third.metadata.continue_.as_deref().is_none_or(str::is_empty));
    sim.shutdown().await;
}

#[tokio::test]
async fn delete_collection_by_label() {
    let sim = start().await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));
    for (name, app) in [("a", "web"), ("b", "web"), ("c", "db")] {
        secrets.create(&PostParams::default(), &secret(name, json!({"app": app}))).await.unwrap();
    }

    secrets.delete_collection(&DeleteParams::default(), &ListParams::default().labels("app=web")).await.unwrap();

    let left: Vec<_> = secrets.list(&ListParams::default()).await.unwrap().items.into_iter().map(|s| s.metadata.name.unwrap()).collect();
    assert_eq!(left, vec!["c"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn delete_collection_across_namespaces() {
    let sim = start().await;
    let client = client(&sim);
    create_namespace(&client, "team").await;
    for ns in ["default", "team"] {
        let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
        secrets.create(&PostParams::default(), &secret("a", json!({"app": "web"}))).await.unwrap();
        secrets.create(&PostParams::default(), &secret("b", json!({"app": "db"}))).await.unwrap();
    }
    let all: Api<Secret> = Api::all(client.clone());

    all.delete_collection(&DeleteParams::default(), &ListParams::default().labels("app=web")).await.unwrap();

    let left: Vec<String> = all.list(&ListParams::default()).await.unwrap().items.into_iter().map(|s| s.metadata.name.unwrap()).collect();
    assert_eq!(left, vec!["b", "b"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn finalizer_holds_deletion() {
    let sim = start().await;
    let maps: Api<ConfigMap> = Api::default_namespaced(client(&sim));
    maps.create(&PostParams::default(), &config_map("held", None, &["example.com/hold"])).await.unwrap();

    maps.delete("held", &DeleteParams::default()).await.unwrap();
    let deleting = maps.get("held").await.unwrap();
    maps.patch("held", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": null}}))).await.unwrap();

    assert!(deleting.metadata.deletion_timestamp.is_some());
    assert_eq!(api_error(maps.get("held").await).code, 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn owner_deletion_collects_dependents() {
    let sim = start().await;
    let maps: Api<ConfigMap> = Api::default_namespaced(client(&sim));
    let owner = maps.create(&PostParams::default(), &config_map("owner", None, &[])).await.unwrap();
    let uid = owner.metadata.uid.unwrap();
    maps.create(&PostParams::default(), &config_map("child", Some(("owner", &uid)), &[])).await.unwrap();
    let child_uid = maps.get("child").await.unwrap().metadata.uid.unwrap();
    maps.create(&PostParams::default(), &config_map("grandchild", Some(("child", &child_uid)), &[])).await.unwrap();

    maps.delete("owner", &DeleteParams::background()).await.unwrap();

    let remaining = maps.list(&ListParams::default()).await.unwrap().items;
    assert!(remaining.is_empty(), "dependents left: {remaining:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn orphan_deletion_keeps_dependents() {
    let sim = start().await;
    let maps: Api<ConfigMap> = Api::default_namespaced(client(&sim));
    let owner = maps.create(&PostParams::default(), &config_map("owner", None, &[])).await.unwrap();
    maps.create(&PostParams::default(), &config_map("child", Some(("owner", &owner.metadata.uid.unwrap())), &[])).await.unwrap();

    maps.delete("owner", &DeleteParams { propagation_policy: Some(PropagationPolicy::Orphan), ..Default::default() }).await.unwrap();

    let child = maps.get("child").await.unwrap();
    assert!(child.metadata.owner_references.unwrap_or_default().is_empty());
    assert_eq!(api_error(maps.get("owner").await).code, 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn foreground_deletion_waits_for_dependents() {
    let sim = start().await;
    let maps: Api<ConfigMap> = Api::default_namespaced(client(&sim));
    let owner = maps.create(&PostParams::default(), &config_map("owner", None, &[])).await.unwrap();
    let uid = owner.metadata.uid.unwrap();
    maps.create(&PostParams::default(), &config_map("child", Some(("owner", &uid)), &["example.com/hold"])).await.unwrap();

    maps.delete("owner", &DeleteParams::foreground()).await.unwrap();
    let waiting = maps.get("owner").await.unwrap();
    maps.patch("child", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": null}}))).await.unwrap();

    assert!(waiting.metadata.deletion_timestamp.is_some());
    assert!(waiting.metadata.finalizers.unwrap().contains(&"foregroundDeletion".to_string()));
    assert_eq!(api_error(maps.get("owner").await).code, 404);
    assert_eq!(api_error(maps.get("child").await).code, 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn namespace_deletion_removes_contents() {
    let sim = start().await;
    let client = client(&sim);
    create_namespace(&client, "team").await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "team");
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "team");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    secrets.create(&PostParams::default(), &secret("a", json!({}))).await.unwrap();
    maps.create(&PostParams::default(), &config_map("held", None, &["example.com/hold"])).await.unwrap();

    namespaces.delete("team", &DeleteParams::default()).await.unwrap();
    let terminating = namespaces.get("team").await.unwrap();
    let refused = api_error(secrets.create(&PostParams::default(), &secret("late", json!({}))).await);
    maps.patch("held", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": null}}))).await.unwrap();

    assert_eq!(terminating.status.unwrap().phase.as_deref(), Some("Terminating"));
    assert_eq!(api_error(secrets.get("a").await).code, 404);
    assert_eq!(refused.code, 403);
    let gone = eventually("namespace removal", Duration::from_secs(5), || async {
        matches!(namespaces.get("team").await, Err(kube::Error::Api(s)) if s.code == 404).then_some(())
    })
    .await;
    assert_eq!(gone, ());
    sim.shutdown().await;
}

#[tokio::test]
async fn create_in_missing_namespace_not_found() {
    let sim = start().await;
    let secrets: Api<Secret> = Api::namespaced(client(&sim), "absent");

    let status = api_error(secrets.create(&PostParams::default(), &secret("a", json!({}))).await);

    assert_eq!(status.code, 404);
    assert!(status.message.contains("namespaces \"absent\" not found"), "{}", status.message);
    sim.shutdown().await;
}

#[tokio::test]
async fn unsupported_features_answer_501() {
    let sim = start().await;
    let client = client(&sim);
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    deployments.create(&PostParams::default(), &deployment("web", "a:1")).await.unwrap();

    let cases = [
        ("GET", "/apis/apps/v1/namespaces/default/daemonsets/web/scale"),
        ("GET", "/api/v1/namespaces/default/pods/x/log"),
        ("GET", "/api/v1/watch/namespaces/default/secrets"),
        ("GET", "/openapi/v2"),
    ];
    for (method, path) in cases {
        let (code, body) = raw(&client, method, path, "application/json", "").await;
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(code, 501, "{path}");
        assert_eq!(body["kind"], json!("Status"), "{path}");
        assert_eq!(body["reason"], json!("NotImplemented"), "{path}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn namespaced_kind_needs_namespace() {
    let sim = start().await;
    let client = client(&sim);
    let body = r#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}}"#;

    let (create, _) = raw(&client, "POST", "/api/v1/secrets", "application/json", body).await;
    let (get, _) = raw(&client, "GET", "/api/v1/secrets/a", "application/json", "").await;
    let (list, _) = raw(&client, "GET", "/api/v1/secrets", "application/json", "").await;

    assert_eq!(create, 405);
    assert_eq!(get, 404);
    assert_eq!(list, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn protobuf_secret_is_stored() {
    let sim = start().await;
    let client = client(&sim);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "payments"}})).unwrap()).await.unwrap();
    // `kubectl create secret generic db -n payments --from-literal=username=dummy-user
    // --from-literal=password=dummy-pass`, as kubectl v1.35.2 sent it.
    let body: Vec<u8> = concat!(
        "6b3873000a0c0a0276311206536563726574124e0a1a0a02646212001a087061796d656e747322002a00320038004200",
        "12160a0870617373776f7264120a64756d6d792d7061737312160a08757365726e616d65120a64756d6d792d75736572",
        "1a001a002200",
    )
    .as_bytes()
    .chunks(2)
    .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
    .collect();

    let path = "/api/v1/namespaces/payments/secrets";
    let (created, response) = raw_bytes(&client, "POST", path, "application/vnd.kubernetes.protobuf", &body).await;
    let (cbor, _) = raw(&client, "POST", path, "application/cbor", "").await;
    let stored = Api::<Secret>::namespaced(client, "payments").get("db").await.unwrap();

    assert_eq!(created, 201, "{response}");
    assert!(response.starts_with('{'), "responses stay JSON: {response}");
    let data = stored.data.unwrap_or_default();
    assert_eq!(data.get("username").map(|v| v.0.as_slice()), Some(b"dummy-user".as_slice()));
    assert_eq!(data.get("password").map(|v| v.0.as_slice()), Some(b"dummy-pass".as_slice()));
    assert!(stored.metadata.uid.is_some());
    assert_eq!(cbor, 415);
    sim.shutdown().await;
}

#[tokio::test]
async fn invalid_labels_and_data_rejected() {
    let sim = start().await;
    let client = client(&sim);
    let secrets: Api<Secret> = Api::default_namespaced(client.clone());

    let bad_label = api_error(secrets.create(&PostParams::default(), &secret("a", json!({"rotation": "r:1"}))).await);
    let body = r#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b"}, "data": {"key": "not base64!"}}"#;
    let (bad_data, _) = raw(&client, "POST", "/api/v1/namespaces/default/secrets", "application/json", body).await;
    let good = secrets.create(&PostParams::default(), &secret("c", json!({"akguard.io/rotation": "r-1"}))).await;

    assert_eq!(bad_label.code, 422);
    assert!(bad_label.message.contains("metadata.labels"), "{}", bad_label.message);
    assert_eq!(bad_data, 400);
    assert!(good.is_ok());
    sim.shutdown().await;
}

#[tokio::test]
async fn immutable_secret_rejects_data_change() {
    let sim = start().await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));
    let mut frozen = secret("frozen", json!({}));
    frozen.immutable = Some(true);
    secrets.create(&PostParams::default(), &frozen).await.unwrap();

    let changed = api_error(secrets.patch("frozen", &PatchParams::default(), &Patch::Merge(json!({"stringData": {"key": "other"}}))).await);
    let labelled = secrets.patch("frozen", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}}))).await;

    assert_eq!(changed.code, 422);
    assert!(changed.message.contains("field is immutable"), "{}", changed.message);
    assert!(labelled.is_ok(), "metadata of an immutable Secret may change");
    sim.shutdown().await;
}
