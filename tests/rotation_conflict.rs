//! Two AccessKeyRotations that manage the same Secret or the same IAM user both report a
//! `Conflict` condition, and neither creates, disables or deletes a key.

mod support;

use akguard::api::conditions;
use akguard::api::rotation::AccessKeyRotation;
use akguard::sandbox::world::APP_USER;
use jiff::SignedDuration;
use support::{Harness, NAMESPACE, message, reason};

async fn wait_conflict(harness: &Harness, name: &str) -> AccessKeyRotation {
    harness
        .drive(name, 200, |_| SignedDuration::ZERO, |o| reason(o, conditions::DEGRADED) == "Conflict")
        .await
}

/// Requests a rotation on both resources and checks that nothing was written.
async fn assert_neither_acts(harness: &Harness) {
    harness.request_rotation("first", "now").await;
    harness.request_rotation("second", "now").await;
    let first = harness.settle("first", 20).await;
    let second = harness.get("second").await;

    assert_eq!(reason(&first, conditions::DEGRADED), "Conflict");
    assert_eq!(reason(&second, conditions::DEGRADED), "Conflict");
    assert!(first.status.as_ref().unwrap().rotation.is_none());
    assert!(second.status.as_ref().unwrap().rotation.is_none());
    assert!(harness.write_traces().is_empty(), "no create, update or delete call");
    assert_eq!(harness.user_keys(APP_USER).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_secret_conflicts() {
    let mut harness = Harness::start().await;
    harness.create(&harness.world.rotation("first", "hw", Some("ops"))).await;
    harness.create(&harness.world.rotation("second", "hw", Some("ops"))).await;
    harness.start_operator();

    let first = wait_conflict(&harness, "first").await;
    let second = wait_conflict(&harness, "second").await;

    assert!(message(&first, conditions::DEGRADED).contains("second"));
    assert!(message(&first, conditions::DEGRADED).contains("spec.targets"));
    assert!(message(&second, conditions::DEGRADED).contains("first"));
    assert!(harness.has_event("first", "Conflict", "spec.targets").await);
    assert!(harness.has_event("second", "Conflict", "spec.targets").await);
    assert_neither_acts(&harness).await;
    harness.stop_operator().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_user_conflicts() {
    let mut harness = Harness::start().await;
    let app = harness.world.credentials(APP_USER);
    harness.world.key_secret(NAMESPACE, "hw-copy", &app).await.unwrap();
    harness.create(&harness.world.rotation("first", "hw", Some("ops"))).await;
    harness.create(&harness.world.rotation("second", "hw-copy", Some("ops"))).await;
    harness.start_operator();

    let first = wait_conflict(&harness, "first").await;
    let second = wait_conflict(&harness, "second").await;

    let user_id = harness.world.user_id(APP_USER);
    assert!(message(&first, conditions::DEGRADED).contains(&user_id));
    assert!(message(&second, conditions::DEGRADED).contains(&user_id));
    assert_neither_acts(&harness).await;
    harness.stop_operator().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_resource_conflicts_both() {
    let mut harness = Harness::start().await;
    harness.create(&harness.world.rotation("first", "hw", Some("ops"))).await;
    harness.start_operator();
    harness.wait_ready("first").await;

    harness.create(&harness.world.rotation("second", "hw", Some("ops"))).await;
    wait_conflict(&harness, "second").await;
    let first = wait_conflict(&harness, "first").await;

    assert!(message(&first, conditions::DEGRADED).contains("second"));
    assert_neither_acts(&harness).await;
    harness.stop_operator().await;
}
