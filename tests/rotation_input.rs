//! Bad input: each invalid or inconsistent spec gets a condition and an Event that name
//! the field, and the emulator records no create, update or delete call. The simulator
//! may not enforce the CRD schema, so these manifests reach the operator's own checks.

mod support;

use akguard::api::conditions;
use akguard::sandbox::world::APP_USER;
use akguard_emulator::SeedUser;
use jiff::SignedDuration;
use serde_json::json;
use support::{Harness, message, reason, rotation_with};

const NAME: &str = "app-key";

/// Waits for `Ready` to turn false with `expected`, then checks that its message and an
/// Event name `field` and that nothing was written in the cloud.
async fn assert_reported(harness: &Harness, expected: &str, field: &str) {
    assert_condition(harness, conditions::READY, expected, field).await;
}

/// Like [`assert_reported`] for condition `type_`.
async fn assert_condition(harness: &Harness, type_: &str, expected: &str, field: &str) {
    let reported = harness
        .drive(NAME, 200, |_| SignedDuration::ZERO, |o| reason(o, type_) == expected)
        .await;
    let later = harness.settle(NAME, 10).await;

    let text = message(&reported, type_);
    assert!(text.contains(field), "condition names {field}: {text}");
    let events = harness.events(NAME).await;
    assert!(
        events.iter().any(|e| e.note.as_deref().is_some_and(|note| note.contains(field))),
        "an Event names {field}"
    );
    assert_eq!(reason(&later, type_), expected, "the condition stays");
    assert!(later.status.as_ref().unwrap().rotation.is_none(), "no rotation starts");
    assert!(harness.write_traces().is_empty(), "no create, update or delete call");
}

/// Creates the resource with `patch` merged into the sandbox spec, with a rotation
/// requested, and starts the operator.
async fn start(harness: &mut Harness, secret: &str, credentials: Option<&str>, mut patch: serde_json::Value) {
    support::merge(&mut patch, json!({"schedule": {"rotationRequest": "now"}}));
    harness.create(&rotation_with(&harness.world, NAME, secret, credentials, patch)).await;
    harness.start_operator();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_cron_reported() {
    let mut harness = Harness::start().await;
    start(&mut harness, "hw", Some("ops"), json!({"schedule": {"interval": null, "cron": "every tuesday"}})).await;
    assert_reported(&harness, "InvalidSchedule", "spec.schedule.cron").await;
    harness.stop_operator().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_time_zone_reported() {
    let mut harness = Harness::start().await;
    let spec = json!({"schedule": {"interval": null, "cron": "0 3 * * *", "timeZone": "Mars/Olympus"}});
    start(&mut harness, "hw", Some("ops"), spec).await;
    assert_reported(&harness, "UnknownTimeZone", "spec.schedule.timeZone").await;
    harness.stop_operator().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_secret_reported() {
    let mut harness = Harness::start().await;
    start(&mut harness, "absent", Some("ops"), json!({})).await;
    assert_reported(&harness, "SecretNotFound", "spec.targets[0].name").await;
    harness.stop_operator().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_secret_reported() {
    let mut harness = Harness::start().await;
    start(&mut harness, "hw", Some("absent"), json!({})).await;
    assert_condition(&harness, conditions::DEGRADED, "SecretNotFound", "spec.provider.credentialsSecretRef").await;
    harness.stop_operator().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_data_key_reported() {
    let mut harness = Harness::start().await;
    let app = harness.world.credentials(APP_USER);
    harness.raw_secret("partial", &[("HUAWEICLOUD_SDK_AK", &app.access_key_id)]).await;
    start(&mut harness, "partial", Some("ops"), json!({})).await;
    assert_reported(&harness, "DataKeyMissing", "HUAWEICLOUD_SDK_SK").await;
    assert_reported(&harness, "DataKeyMissing", "spec.targets[0]").await;
    harness.stop_operator().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_key_reported() {
    let mut harness = Harness::start().await;
    harness
        .raw_secret("stale", &[("HUAWEICLOUD_SDK_AK", "ZZZZZZZZZZZZZZZZZZZZ"), ("HUAWEICLOUD_SDK_SK", "not-a-real-secret")])
        .await;
    start(&mut harness, "stale", Some("ops"), json!({})).await;
    assert_reported(&harness, "UserNotFound", "spec.targets[0]").await;
    harness.stop_operator().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_id_reported() {
    let mut harness = Harness::start().await;
    start(&mut harness, "hw", Some("ops"), json!({"userId": "0123456789abcdef0123456789abcdef"})).await;
    assert_reported(&harness, "UserNotFound", "spec.userId").await;
    harness.stop_operator().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_unknown_user_reported() {
    let mut harness = Harness::start().await;
    start(&mut harness, "fresh", Some("ops"), json!({"userId": "0123456789abcdef0123456789abcdef"})).await;
    assert_reported(&harness, "UserNotFound", "spec.userId").await;
    harness.stop_operator().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_region_reported() {
    let mut harness = Harness::start().await;
    start(&mut harness, "hw", Some("ops"), json!({"provider": {"region": "ap-southeast-3"}})).await;
    assert_reported(&harness, "InvalidProvider", "spec.provider.region").await;
    harness.stop_operator().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_permission_reported() {
    let mut users = support::default_users();
    users.push(SeedUser::new("viewer").with_key());
    let mut harness = Harness::start_with(users).await;
    let viewer = harness.world.account.credentials("viewer", 0).unwrap();
    harness.world.key_secret(support::NAMESPACE, "viewer-key", &viewer).await.unwrap();
    start(&mut harness, "hw", Some("viewer-key"), json!({})).await;
    assert_reported(&harness, "PermissionDenied", "spec.provider.credentialsSecretRef").await;
    assert!(harness.traces_named("createCredential").is_empty());
    harness.stop_operator().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_reported_once() {
    let mut harness = Harness::start().await;
    start(&mut harness, "hw", Some("absent"), json!({})).await;
    assert_reported(&harness, "SecretNotFound", "spec.provider.credentialsSecretRef").await;

    for _ in 0..3 {
        harness.wake(NAME).await;
        harness.settle(NAME, 4).await;
    }
    harness.stop_operator().await;

    let events: Vec<_> = harness
        .events(NAME)
        .await
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("SecretNotFound"))
        .collect();
    assert_eq!(events.len(), 1);
    assert!(events[0].series.is_none(), "the Event is not repeated on every reconcile");
}
