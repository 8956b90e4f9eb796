//! The kinds the operator touches, strategic merge patches as kubectl and kube-rs send
//! them, discovery, `/version` and the kubeconfig output.

mod common;

use common::{client, start};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

#[tokio::test]
async fn every_listed_kind_round_trips() {
    let sim = start().await;
    let client = client(&sim);
    let kinds = [
        ("", "v1", "Namespace", "namespaces", false, json!({})),
        ("", "v1", "Secret", "secrets", true, json!({"data": {"k": "dg=="}})),
        ("", "v1", "ConfigMap", "configmaps", true, json!({"data": {"k": "v"}})),
        ("", "v1", "Event", "events", true, json!({"involvedObject": {"kind": "Deployment", "name": "web"}, "reason": "Rotated", "message": "m", "type": "Normal"})),
        ("events.k8s.io", "v1", "Event", "events", true, json!({"eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "akguard", "reportingInstance": "a", "action": "Rotate", "reason": "Rotated", "type": "Normal", "regarding": {"kind": "Deployment", "name": "web"}})),
        ("", "v1", "Pod", "pods", true, json!({"spec": {"containers": [{"name": "c", "image": "i"}]}})),
        ("", "v1", "ServiceAccount", "serviceaccounts", true, json!({})),
        ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, json!({"metadata": {"annotations": {"csi.storage.k8s.io/node-publish-secret-name": "obs-key"}}, "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}})),
        ("apps", "v1", "Deployment", "deployments", true, json!({"spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})),
        ("apps", "v1", "StatefulSet", "statefulsets", true, json!({"spec": {"serviceName": "x", "selector": {"matchLabels": {"a": "s"}}, "template": {"metadata": {"labels": {"a": "s"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})),
        ("apps", "v1", "DaemonSet", "daemonsets", true, json!({"spec": {"selector": {"matchLabels": {"a": "d"}}, "template": {"metadata": {"labels": {"a": "d"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})),
        ("apps", "v1", "ReplicaSet", "replicasets", true, json!({"spec": {"selector": {"matchLabels": {"a": "r"}}, "template": {"metadata": {"labels": {"a": "r"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})),
        ("coordination.k8s.io", "v1", "Lease", "leases", true, json!({"spec": {"holderIdentity": "pod-a", "leaseDurationSeconds": 15}})),
    ];
    for (index, (group, version, kind, plural, namespaced, extra)) in kinds.into_iter().enumerate() {
        // Core and events.k8s.io Events share storage, so every sample gets its own name.
        let name = format!("sample-{index}");
        let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
        let api: Api<DynamicObject> =
            if namespaced { Api::namespaced_with(client.clone(), "default", &resource) } else { Api::all_with(client.clone(), &resource) };
        let mut object = json!({"apiVersion": resource.api_version, "kind": kind, "metadata": {"name": name}});
        merge_into(&mut object, &extra);
        let object: DynamicObject = serde_json::from_value(object).unwrap();

        let created = api.create(&PostParams::default(), &object).await.unwrap_or_else(|e| panic!("create {kind} in {group:?}: {e}"));
        let updated = api
            .patch(&name, &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"touched": "yes"}}})))
            .await
            .unwrap_or_else(|e| panic!("patch {kind}: {e}"));
        let listed = api.list(&ListParams::default().labels("touched=yes").fields(&format!("metadata.name={name}"))).await.unwrap();

        assert!(created.metadata.uid.is_some(), "{kind}");
        assert_eq!(updated.metadata.labels.unwrap()["touched"], "yes", "{kind}");
        assert_eq!(listed.items.len(), 1, "{kind} in {group:?}");
    }
    sim.shutdown().await;
}

fn merge_into(target: &mut Value, patch: &Value) {
    if let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            match t.get_mut(k) {
                Some(existing) if existing.is_object() && v.is_object() => merge_into(existing, v),
                _ => {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

#[tokio::test]
async fn strategic_patch_merges_lists_by_key() {
    let sim = start().await;
    let deployments: Api<Deployment> = Api::default_namespaced(client(&sim));
    let deployment: Deployment = serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "volumes": [{"name": "old-key", "secret": {"secretName": "old"}}],
            "containers": [
                {"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                 "volumeMounts": [{"name": "old-key", "mountPath": "/keys"}], "ports": [{"containerPort": 80}]},
                {"name": "side", "image": "s:1"}]}}}}))
    .unwrap();
    deployments.create(&PostParams::default(), &deployment).await.unwrap();

    let patch = json!({"spec": {"template": {"spec": {
        "volumes": [{"name": "new-key", "secret": {"secretName": "new"}}, {"name": "old-key", "$patch": "delete"}],
        "containers": [{"name": "app", "env": [{"name": "B", "value": "3"}, {"name": "A", "$patch": "delete"}],
                        "volumeMounts": [{"name": "new-key", "mountPath": "/new"}], "ports": [{"containerPort": 80, "name": "http"}]}]}}}});
    let patched = deployments.patch("web", &PatchParams::default(), &Patch::Strategic(&patch)).await.unwrap();

    let spec = serde_json::to_value(patched.spec.unwrap().template.spec.unwrap()).unwrap();
    assert_eq!(spec["volumes"], json!([{"name": "new-key", "secret": {"secretName": "new"}}]));
    assert_eq!(spec["containers"][0]["env"], json!([{"name": "B", "value": "3"}]));
    assert_eq!(spec["containers"][0]["image"], json!("a:1"));
    assert_eq!(spec["containers"][0]["volumeMounts"], json!([{"name": "old-key", "mountPath": "/keys"}, {"name": "new-key", "mountPath": "/new"}]));
    assert_eq!(spec["containers"][0]["ports"], json!([{"containerPort": 80, "name": "http"}]));
    assert_eq!(spec["containers"][1]["name"], json!("side"));
    sim.shutdown().await;
}

#[tokio::test]
async fn version_and_kubeconfig_work_for_clients() {
    let sim = start().await;
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.unwrap();
    let client = kube::Client::try_from(config).unwrap();

    let version = client.apiserver_version().await.unwrap();
    let groups = client.list_api_groups().await.unwrap();
    let core = client.list_core_api_versions().await.unwrap();
    let apps = client.list_api_group_resources("apps/v1").await.unwrap();

    assert_eq!(version.major, "1");
    assert!(groups.groups.iter().any(|g| g.name == "apiextensions.k8s.io"));
    assert_eq!(core.versions, vec!["v1"]);
    assert!(apps.resources.iter().any(|r| r.name == "deployments/status"));
    sim.shutdown().await;
}

#[tokio::test]
async fn events_api_views_core_events() {
    use k8s_openapi::api::core::v1::Event as CoreEvent;
    use k8s_openapi::api::events::v1::Event;
    let sim = start().await;
    let client = client(&sim);
    let events: Api<Event> = Api::default_namespaced(client.clone());
    let core: Api<CoreEvent> = Api::default_namespaced(client.clone());
    let event: Event = serde_json::from_value(json!({"metadata": {"name": "rotation.1"}, "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "akguard.io/operator", "reportingInstance": "akguard-0", "action": "Rotate", "reason": "KeyRotated",
        "type": "Normal", "note": "rotated the access key", "regarding": {"apiVersion": "akguard.io/v1alpha1", "kind": "AccessKeyRotation", "name": "app-key", "namespace": "default"}}))
    .unwrap();

    events.create(&PostParams::default(), &event).await.unwrap();
    let as_core = core.list(&ListParams::default().fields("involvedObject.name=app-key")).await.unwrap();
    let through_view = events.list(&ListParams::default().fields("regarding.name=app-key")).await.unwrap();
    let patched = events.patch("rotation.1", &PatchParams::default(), &Patch::Merge(json!({"note": "rotated again"}))).await.unwrap();

    assert_eq!(as_core.items.len(), 1);
    assert_eq!(as_core.items[0].message.as_deref(), Some("rotated the access key"));
    assert_eq!(as_core.items[0].reporting_component.as_deref(), Some("akguard.io/operator"));
    assert_eq!(through_view.items.len(), 1);
    assert_eq!(through_view.items[0].regarding.as_ref().unwrap().kind.as_deref(), Some("AccessKeyRotation"));
    assert_eq!(patched.note.as_deref(), Some("rotated again"));
    assert_eq!(core.get("rotation.1").await.unwrap().message.as_deref(), Some("rotated again"));
    sim.shutdown().await;
}
