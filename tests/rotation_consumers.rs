//! Consumers beyond a plain env Secret: the first key of a user without one (bootstrap),
//! and Huawei CCE OBS volumes, whose Everest CSI driver reads the key from a Secret named
//! by the claim's annotations when it mounts the volume.

mod support;

use akguard::api::rotation::{ConsumerSource, RotationTrigger, WorkloadKind};
use akguard_emulator::SeedUser;
use jiff::SignedDuration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;
use support::{Harness, NAMESPACE, completed_rotations, default_users, rotation_with};

const NAME: &str = "app-key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_creates_first_key() {
    let mut users = default_users();
    users.push(SeedUser::new("fresh"));
    let mut harness = Harness::start_with(users).await;
    let fresh_user = harness.world.user_id("fresh");
    let spec = json!({"userId": fresh_user, "targets": [{"name": "fresh-hw"}]});
    harness.create(&rotation_with(&harness.world, NAME, "fresh-hw", Some("ops"), spec)).await;
    harness.start_operator();

    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(10), 400, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let status = done.status.unwrap();
    let keys = harness.user_keys("fresh");
    assert_eq!(keys.len(), 1, "the user holds exactly the new key");
    assert_eq!(status.current_access_key_id.as_deref(), Some(keys[0].access_key_id.as_str()));
    assert_eq!(status.history[0].trigger, RotationTrigger::Bootstrap);
    assert!(status.history[0].old_access_key_id.is_none());
    assert!(harness.secret_works("fresh-hw").await, "the created Secret holds a working pair");
}

/// A Secret in Everest's format, a claim whose annotations name it, and a Deployment that
/// mounts the claim but never references the Secret itself.
async fn obs_world(harness: &Harness) {
    let app = harness.world.credentials(akguard::sandbox::world::APP_USER);
    harness
        .raw_secret("obs-key", &[("access.key", &app.access_key_id), ("secret.key", app.secret_access_key.expose())])
        .await;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(harness.world.client.clone(), NAMESPACE);
    let claim: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": "obs-data", "annotations": {
            "csi.storage.k8s.io/node-publish-secret-name": "obs-key",
            "csi.storage.k8s.io/node-publish-secret-namespace": NAMESPACE,
            "everest.io/obs-volume-type": "STANDARD"
        }},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "csi-obs"}
    }))
    .unwrap();
    claims.create(&PostParams::default(), &claim).await.expect("claim created");
    let deployments: Api<Deployment> = Api::namespaced(harness.world.client.clone(), NAMESPACE);
    let reader: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "reader"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "reader"}},
            "template": {
                "metadata": {"labels": {"app": "reader"}},
                "spec": {
                    "containers": [{"name": "reader", "image": "registry.example/reader:1", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "obs-data"}}]
                }
            }
        }
    }))
    .unwrap();
    deployments.create(&PostParams::default(), &reader).await.expect("reader created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obs_claim_consumer_restarts() {
    let mut harness = Harness::start().await;
    obs_world(&harness).await;
    let spec = json!({"targets": [{"name": "obs-key", "format": "everestObs"}]});
    harness.create(&rotation_with(&harness.world, NAME, "obs-key", Some("ops"), spec)).await;
    harness.start_operator();
    let ready = harness.wait_ready(NAME).await;

    let consumers = ready.status.as_ref().unwrap().consumers.clone();
    let reader = consumers.iter().find(|c| c.name == "reader").expect("reader is a consumer");
    assert_eq!(reader.kind, WorkloadKind::Deployment);
    assert_eq!(reader.source, ConsumerSource::Discovered);
    assert!(!consumers.iter().any(|c| c.name == "api"), "api reads another Secret");

    harness.request_rotation(NAME, "obs").await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(10), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let status = done.status.unwrap();
    let new_key = status.current_access_key_id.clone().unwrap();
    let data = harness.secrets().get("obs-key").await.unwrap().data.unwrap();
    assert_eq!(data["access.key"].0, new_key.as_bytes());
    assert!(!data.contains_key("HUAWEICLOUD_SDK_AK"), "the Everest format writes only its own keys");
    let deployments: Api<Deployment> = Api::namespaced(harness.world.client.clone(), NAMESPACE);
    let reader = deployments.get("reader").await.unwrap();
    let annotations = reader.spec.unwrap().template.metadata.unwrap().annotations.unwrap();
    assert_eq!(annotations["akguard.io/rotation-id"], status.history[0].id, "the OBS reader restarted");
    let api = deployments.get("api").await.unwrap();
    assert_eq!(api.metadata.generation, Some(1), "the env reader of another Secret did not restart");
}
