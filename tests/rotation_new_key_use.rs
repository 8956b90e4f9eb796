//! `spec.verification.requireNewKeyUse`: the rotation goes on only once the new key's
//! `last_use_time` moves past the switch, and rolls back when it does not in time.

mod support;

use akguard::api::conditions;
use akguard::api::rotation::{AccessKeyRotation, RotationResult};
use akguard::sandbox::world::APP_USER;
use akguard_emulator::KeyStatus;
use jiff::SignedDuration;
use serde_json::json;
use support::{Harness, completed_rotations, reason, rotation_with, waits_on_time};

const NAME: &str = "app-key";

fn waiting_for_use(object: &AccessKeyRotation) -> bool {
    reason(object, conditions::ROTATING) == "NewKeyUnused"
}

async fn start(harness: &mut Harness) {
    let spec = json!({"verification": {"requireNewKeyUse": true, "newKeyUseTimeout": "30m"}});
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;
    harness.request_rotation(NAME, "first").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_key_use_lets_rotation_finish() {
    let mut harness = Harness::start().await;
    start(&mut harness).await;
    harness.drive(NAME, 200, |_| SignedDuration::ZERO, waiting_for_use).await;

    harness.clock.advance(SignedDuration::from_secs(5));
    assert!(harness.secret_works("hw").await, "a consumer signs with the new key");
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    assert_eq!(done.status.as_ref().unwrap().history[0].result, RotationResult::Succeeded);
    assert_eq!(harness.user_keys(APP_USER).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unused_new_key_rolls_back() {
    let mut harness = Harness::start().await;
    let old_key = harness.world.credentials(APP_USER).access_key_id;
    start(&mut harness).await;

    let back = harness
        .drive(
            NAME,
            400,
            |o| {
                if waiting_for_use(o) || waits_on_time(o, harness.now()) {
                    SignedDuration::from_mins(5)
                } else {
                    SignedDuration::ZERO
                }
            },
            |o| o.status.as_ref().is_some_and(|s| s.history.iter().any(|r| r.result == RotationResult::RolledBack)),
        )
        .await;
    harness.stop_operator().await;

    assert_eq!(reason(&back, conditions::DEGRADED), "NewKeyUnused");
    let keys = harness.user_keys(APP_USER);
    assert_eq!(keys.len(), 1, "the unused new key is deleted");
    assert_eq!(keys[0].access_key_id, old_key);
    assert_eq!(keys[0].status, KeyStatus::Active);
    assert!(harness.secret_works("hw").await);
}
