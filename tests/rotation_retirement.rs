//! Retirement settings: `deleteOldKey: false` keeps the old key disabled, and with
//! `deleteInactiveUnreferenced` the next rotation frees that slot itself.

mod support;

use akguard::sandbox::world::APP_USER;
use akguard_emulator::KeyStatus;
use jiff::SignedDuration;
use serde_json::json;
use support::{Harness, completed_rotations, rotation_with};

const NAME: &str = "app-key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_key_kept_disabled() {
    let mut harness = Harness::start().await;
    let old_key = harness.world.credentials(APP_USER).access_key_id;
    let spec = json!({"retirement": {"deleteOldKey": false, "idleWindow": "0s"}});
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let status = done.status.unwrap();
    assert_eq!(status.previous_access_key_id.as_deref(), Some(old_key.as_str()));
    assert!(harness.traces_named("deleteCredential").is_empty());
    assert_eq!(harness.world.emulator.key(&old_key).unwrap().status, KeyStatus::Inactive);
    assert_eq!(harness.user_keys(APP_USER).len(), 2);
    assert!(harness.secret_works("hw").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_rotation_frees_disabled_slot() {
    let mut harness = Harness::start().await;
    let first_key = harness.world.credentials(APP_USER).access_key_id;
    let spec = json!({"retirement": {"deleteOldKey": false, "onKeyQuotaFull": "deleteInactiveUnreferenced"}});
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    let once = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    let second_key = once.status.unwrap().current_access_key_id.unwrap();
    harness.request_rotation(NAME, "second").await;
    let twice = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 2)
        .await;
    harness.stop_operator().await;

    let third_key = twice.status.unwrap().current_access_key_id.unwrap();
    assert!(harness.world.emulator.key(&first_key).is_none(), "the disabled first key made room");
    assert_eq!(harness.world.emulator.key(&second_key).unwrap().status, KeyStatus::Inactive);
    assert_eq!(harness.world.emulator.key(&third_key).unwrap().status, KeyStatus::Active);
    assert!(harness.secret_works("hw").await);
}
