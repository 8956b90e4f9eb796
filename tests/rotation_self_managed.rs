//! A self-managed key (no `credentialsSecretRef`): the current key creates its successor,
//! and after the switch the new key disables and deletes the old one.

mod support;

use akguard::sandbox::world::APP_USER;
use jiff::SignedDuration;
use support::{Harness, caller, completed_rotations};

const NAME: &str = "app-key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_managed_key_replaces_itself() {
    let mut harness = Harness::start().await;
    let old_key = harness.world.credentials(APP_USER).access_key_id;
    harness.create(&harness.world.rotation(NAME, "hw", None)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;
    let new_key = done.status.unwrap().current_access_key_id.unwrap();

    let creates = harness.traces_named("createCredential");
    assert_eq!(creates.len(), 1);
    assert_eq!(caller(&creates[0]), old_key, "the current key creates its successor");
    assert_eq!(creates[0].code, "201");

    let updates = harness.traces_named("updateCredential");
    assert_eq!(updates.len(), 1);
    assert_eq!(caller(&updates[0]), new_key, "the new key disables the old one");
    assert_eq!(updates[0].resource_id, old_key);

    let deletes = harness.traces_named("deleteCredential");
    assert_eq!(deletes.len(), 1);
    assert_eq!(caller(&deletes[0]), new_key, "the new key deletes the old one");
    assert_eq!(deletes[0].resource_id, old_key);

    let admin = harness.world.credentials(akguard::sandbox::world::ADMIN_USER).access_key_id;
    assert!(harness.world.emulator.traces().iter().all(|t| caller(t) != admin), "the administrator key is never used");
    let old_calls_after_switch = harness
        .world
        .emulator
        .traces()
        .iter()
        .filter(|t| caller(t) == old_key && t.time > creates[0].time)
        .filter(|t| t.time >= updates[0].time)
        .count();
    assert_eq!(old_calls_after_switch, 0, "the operator stops signing with the old key before disabling it");

    let keys: Vec<String> = harness.user_keys(APP_USER).into_iter().map(|k| k.access_key_id).collect();
    assert_eq!(keys, vec![new_key.clone()]);
    assert_eq!(harness.secret_pair("hw").await.0, new_key);
    assert!(harness.secret_works("hw").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_managed_key_without_cts_access() {
    let mut harness = Harness::start().await;
    let forbidden = akguard_emulator::FaultRule::status(403).for_operation(akguard_emulator::Operation::ListTraces);
    harness.world.emulator.set_fault(forbidden).unwrap();
    harness.create(&harness.world.rotation(NAME, "hw", None)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let new_key = done.status.unwrap().current_access_key_id.unwrap();
    assert!(harness.has_event(NAME, "TracesUnavailable", "CTS traces").await, "the missing permission is reported");
    let keys: Vec<String> = harness.user_keys(APP_USER).into_iter().map(|k| k.access_key_id).collect();
    assert_eq!(keys, vec![new_key]);
    assert!(harness.secret_works("hw").await);
}
