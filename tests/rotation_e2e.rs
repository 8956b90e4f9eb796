//! The real operator rotates a key end to end against the emulator and the simulator.

mod support;

use akguard::api::rotation::RotationPhase;
use akguard::sandbox::world;
use akguard_emulator::KeyStatus;
use akguard_hwcloud::{Client, ClientConfig, Credentials, EndpointOverrides, SecretKey};
use jiff::SignedDuration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::ListParams;
use support::{Harness, NAMESPACE, completed_rotations};

async fn secret_pair(harness: &Harness, name: &str) -> (String, SecretKey) {
    let api: Api<Secret> = Api::namespaced(harness.world.client.clone(), NAMESPACE);
    let data = api.get(name).await.unwrap().data.unwrap();
    (
        String::from_utf8(data["HUAWEICLOUD_SDK_AK"].0.clone()).unwrap(),
        SecretKey::new(String::from_utf8(data["HUAWEICLOUD_SDK_SK"].0.clone()).unwrap()),
    )
}

/// Signs a call with the key pair: succeeds only when the secret access key is the one IAM
/// issued for the access key ID.
async fn key_works(harness: &Harness, access_key_id: &str, secret: SecretKey) -> bool {
    let mut config = ClientConfig::new(world::REGION);
    config.endpoints = EndpointOverrides {
        iam: Some(harness.world.emulator.base_url().to_string()),
        cts: None,
        bss: None,
    };
    let client = Client::new(config, Credentials::new(access_key_id, secret), harness.clock.clone()).unwrap();
    client.list_access_keys(None).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requested_rotation_replaces_key() {
    let mut harness = Harness::start().await;
    let app_user = harness.world.user_id(world::APP_USER);
    let old_key = harness.world.credentials(world::APP_USER).access_key_id;
    harness.create(&harness.world.rotation("app-key", "hw", Some("ops"))).await;
    harness.start_operator();

    let adopted = harness
        .drive_until("app-key", SignedDuration::ZERO, 200, |o| {
            o.status.as_ref().is_some_and(|s| s.phase == Some(RotationPhase::Ready))
        })
        .await;
    assert_eq!(adopted.status.as_ref().unwrap().current_access_key_id.as_deref(), Some(old_key.as_str()));

    harness.request_rotation("app-key", "first").await;
    let done = harness
        .drive_until("app-key", SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let status = done.status.unwrap();
    let new_key = status.current_access_key_id.clone().unwrap();
    assert_ne!(new_key, old_key);
    assert_eq!(status.previous_access_key_id.as_deref(), Some(old_key.as_str()));
    assert!(status.rotation.is_none());

    let user_keys: Vec<_> = harness.world.emulator.keys().into_iter().filter(|k| k.user_id == app_user).collect();
    assert_eq!(user_keys.len(), 1, "only the new key is left: {user_keys:?}");
    assert_eq!(user_keys[0].access_key_id, new_key);
    assert_eq!(user_keys[0].status, KeyStatus::Active);

    let (secret_key_id, secret) = secret_pair(&harness, "hw").await;
    assert_eq!(secret_key_id, new_key);
    assert!(key_works(&harness, &secret_key_id, secret).await, "the Secret's key pair signs valid requests");

    let deployment: Api<Deployment> = Api::namespaced(harness.world.client.clone(), NAMESPACE);
    let api = deployment.get("api").await.unwrap();
    assert_eq!(api.metadata.generation, Some(2), "restarted exactly once");
    let annotation = api.spec.unwrap().template.metadata.unwrap().annotations.unwrap()["akguard.io/rotation-id"].clone();
    assert_eq!(annotation, status.history[0].id);

    let secrets: Api<Secret> = Api::namespaced(harness.world.client.clone(), NAMESPACE);
    let owned = secrets.list(&ListParams::default().labels("akguard.io/role")).await.unwrap();
    assert!(owned.items.is_empty(), "staging and backup Secrets are removed");
}
