//! The two-keys-per-user quota: a full quota is a condition naming both keys with no
//! create call and no loop of calls, and `deleteInactiveUnreferenced` deletes only an
//! inactive key that no known Secret holds.

mod support;

use akguard::api::conditions;
use akguard::sandbox::world::{self, APP_USER};
use akguard_emulator::{KeyStatus, SeedKey, SeedUser};
use jiff::SignedDuration;
use serde_json::json;
use support::{Harness, NAMESPACE, completed_rotations, message, reason, rotation_with};

const NAME: &str = "app-key";

/// The default users, with the application user holding a second key in `status`.
fn users_with_spare(status: KeyStatus) -> Vec<SeedUser> {
    let mut users = support::default_users();
    users[0].keys.push(SeedKey {
        status,
        ..SeedKey::default()
    });
    users
}

fn spare_key(harness: &Harness) -> String {
    harness.world.account.credentials(APP_USER, 1).unwrap().access_key_id
}

async fn wait_for_quota_condition(harness: &Harness) -> akguard::api::rotation::AccessKeyRotation {
    harness
        .drive(NAME, 200, |_| SignedDuration::ZERO, |o| reason(o, conditions::DEGRADED) == "KeyQuotaExceeded")
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_quota_blocks_create() {
    let mut harness = Harness::start_with(users_with_spare(KeyStatus::Active)).await;
    let current = harness.world.credentials(APP_USER).access_key_id;
    let spare = spare_key(&harness);
    harness.create(&harness.world.rotation(NAME, "hw", Some("ops"))).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    let blocked = wait_for_quota_condition(&harness).await;
    let lists_before = harness.traces_named("listCredentials").len();
    let later = harness.settle(NAME, 40).await;
    let lists_after = harness.traces_named("listCredentials").len();
    harness.stop_operator().await;

    let text = message(&blocked, conditions::DEGRADED);
    assert!(text.contains(&current), "names the current key");
    assert!(text.contains(&spare), "names the other key");
    assert!(harness.has_event(NAME, "KeyQuotaExceeded", &spare).await);
    assert_eq!(reason(&later, conditions::DEGRADED), "KeyQuotaExceeded");
    assert!(harness.traces_named("createCredential").is_empty(), "no create call");
    assert!(harness.write_traces().is_empty(), "no create, update or delete call");
    assert!(lists_after - lists_before <= 1, "{} list calls in 2 s while blocked", lists_after - lists_before);
    assert_eq!(harness.user_keys(APP_USER).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_quota_rechecked_later() {
    let mut harness = Harness::start_with(users_with_spare(KeyStatus::Active)).await;
    let spare = spare_key(&harness);
    harness.create(&harness.world.rotation(NAME, "hw", Some("ops"))).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;
    harness.request_rotation(NAME, "first").await;
    wait_for_quota_condition(&harness).await;

    // A person deletes the spare key; the next check, minutes later, finds room.
    let admin = harness.cloud(harness.world.credentials(world::ADMIN_USER));
    admin.delete_access_key(&spare).await.unwrap();
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 800, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    assert_eq!(reason(&done, conditions::DEGRADED), "RotationSucceeded");
    assert!(harness.secret_works("hw").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_policy_deletes_inactive_spare() {
    let mut harness = Harness::start_with(users_with_spare(KeyStatus::Inactive)).await;
    let spare = spare_key(&harness);
    let spec = json!({"retirement": {"onKeyQuotaFull": "deleteInactiveUnreferenced"}});
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 800, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let deleted: Vec<String> = harness.traces_named("deleteCredential").into_iter().map(|t| t.resource_id).collect();
    assert!(deleted.contains(&spare), "the inactive spare key is deleted");
    assert!(harness.world.emulator.key(&spare).is_none());
    assert!(harness.has_event(NAME, "InactiveKeyDeleted", &spare).await);
    let keys = harness.user_keys(APP_USER);
    assert_eq!(keys.len(), 1);
    assert_eq!(Some(keys[0].access_key_id.clone()), done.status.unwrap().current_access_key_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_policy_keeps_active_spare() {
    let mut harness = Harness::start_with(users_with_spare(KeyStatus::Active)).await;
    let spare = spare_key(&harness);
    let spec = json!({"retirement": {"onKeyQuotaFull": "deleteInactiveUnreferenced"}});
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    let blocked = wait_for_quota_condition(&harness).await;
    harness.settle(NAME, 10).await;
    harness.stop_operator().await;

    assert!(message(&blocked, conditions::DEGRADED).contains(&spare));
    assert!(harness.write_traces().is_empty(), "no create, update or delete call");
    assert_eq!(harness.world.emulator.key(&spare).unwrap().status, KeyStatus::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_policy_keeps_referenced_spare() {
    let mut harness = Harness::start_with(users_with_spare(KeyStatus::Inactive)).await;
    let spare = harness.world.account.credentials(APP_USER, 1).unwrap();
    harness.world.key_secret(NAMESPACE, "legacy", &spare).await.unwrap();
    let spec = json!({
        "targets": [{"name": "hw"}, {"name": "legacy"}],
        "retirement": {"onKeyQuotaFull": "deleteInactiveUnreferenced"},
    });
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness
        .drive(NAME, 200, |_| SignedDuration::ZERO, |o| {
            o.status.as_ref().is_some_and(|s| s.current_access_key_id.is_some())
        })
        .await;

    harness.request_rotation(NAME, "first").await;
    let blocked = wait_for_quota_condition(&harness).await;
    harness.settle(NAME, 10).await;
    harness.stop_operator().await;

    assert!(message(&blocked, conditions::DEGRADED).contains(&spare.access_key_id));
    assert!(harness.write_traces().is_empty(), "no create, update or delete call");
    assert!(harness.world.emulator.key(&spare.access_key_id).is_some(), "a key a target holds is kept");
}

async fn dry_run_plan(harness: &mut Harness, spec: serde_json::Value) -> akguard::api::rotation::DryRunPlan {
    let mut spec = spec;
    support::merge(&mut spec, json!({"schedule": {"dryRun": true}}));
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;
    harness.request_rotation(NAME, "plan").await;
    let planned = harness
        .drive(NAME, 200, |_| SignedDuration::ZERO, |o| {
            o.status.as_ref().is_some_and(|s| s.dry_run_plan.is_some())
        })
        .await;
    harness.stop_operator().await;
    planned.status.unwrap().dry_run_plan.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_lists_spare_deletion() {
    let mut harness = Harness::start_with(users_with_spare(KeyStatus::Inactive)).await;
    let current = harness.world.credentials(APP_USER).access_key_id;
    let spare = spare_key(&harness);
    let plan = dry_run_plan(&mut harness, json!({"retirement": {"onKeyQuotaFull": "deleteInactiveUnreferenced"}})).await;

    assert!(plan.delete_access_key_ids.contains(&spare), "the policy's deletion is planned: {:?}", plan.delete_access_key_ids);
    assert!(plan.delete_access_key_ids.contains(&current));
    assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);
    assert!(harness.write_traces().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_reports_full_quota() {
    let mut harness = Harness::start_with(users_with_spare(KeyStatus::Active)).await;
    let spare = spare_key(&harness);
    let plan = dry_run_plan(&mut harness, json!({})).await;

    assert_eq!(plan.blockers.len(), 1);
    assert!(plan.blockers[0].contains(&spare));
    assert!(!plan.delete_access_key_ids.contains(&spare));
    assert!(harness.write_traces().is_empty());
}
