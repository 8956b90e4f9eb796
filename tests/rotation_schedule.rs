//! Scheduled rotations: interval and cron due times, the maintenance window, `suspend`
//! and `dryRun`, with the real operator against the emulator and the simulator.

mod support;

use akguard::api::conditions;
use akguard::api::rotation::{RotationPhase, RotationTrigger};
use akguard::sandbox::world::APP_USER;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use serde_json::json;
use support::{Harness, NAMESPACE, completed_rotations, reason, rotation_with};

const NAME: &str = "app-key";

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

async fn deployment_generation(harness: &Harness) -> Option<i64> {
    let api: Api<Deployment> = Api::namespaced(harness.world.client.clone(), NAMESPACE);
    api.get("api").await.unwrap().metadata.generation
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interval_due_rotates() {
    let mut harness = Harness::start().await;
    let old_key = harness.world.credentials(APP_USER).access_key_id;
    harness.create(&harness.world.rotation(NAME, "hw", Some("ops"))).await;
    harness.start_operator();

    let ready = harness.wait_ready(NAME).await;
    let next = ready.status.as_ref().unwrap().next_rotation_time.clone().unwrap().0;
    assert_eq!(next, at("2026-05-30T08:00:00Z"), "90d after the key's creation");

    harness.clock.advance(SignedDuration::from_hours(24 * 91));
    harness.wake(NAME).await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let status = done.status.unwrap();
    assert_eq!(status.history[0].trigger, RotationTrigger::Schedule);
    let new_key = status.current_access_key_id.unwrap();
    assert_ne!(new_key, old_key);
    let keys: Vec<String> = harness.user_keys(APP_USER).into_iter().map(|k| k.access_key_id).collect();
    assert_eq!(keys, vec![new_key.clone()]);
    assert_eq!(harness.secret_pair("hw").await.0, new_key);
    assert!(harness.secret_works("hw").await);
    assert_eq!(deployment_generation(&harness).await, Some(2), "restarted exactly once");
    let lookups = harness.traces_named("keystoneListProjects").len();
    assert!(lookups <= 2, "{lookups} project lookups: one at adoption, one for the CTS checks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_uses_time_zone() {
    let mut harness = Harness::start().await;
    let spec = json!({"schedule": {"interval": null, "cron": "0 3 * * *", "timeZone": "Asia/Shanghai"}});
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();

    let ready = harness.wait_ready(NAME).await;
    let next = ready.status.as_ref().unwrap().next_rotation_time.clone().unwrap().0;
    // 03:00 in Shanghai (UTC+8) after the key's creation at 16:00 local time.
    assert_eq!(next, at("2026-03-01T19:00:00Z"));

    harness.clock.set(at("2026-03-01T19:05:00Z"));
    harness.wake(NAME).await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let record = &done.status.as_ref().unwrap().history[0];
    assert_eq!(record.trigger, RotationTrigger::Schedule);
    assert!(record.start_time.0 >= at("2026-03-01T19:00:00Z"));
    assert!(harness.secret_works("hw").await);
}

fn windowed() -> serde_json::Value {
    json!({"schedule": {"interval": "1d", "maintenanceWindow": {"start": "02:00", "duration": "2h"}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_holds_scheduled_rotation() {
    let mut harness = Harness::start().await;
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), windowed())).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    // Due at 08:00 on 2 March; the window opens at 02:00 on 3 March.
    harness.clock.set(at("2026-03-02T09:00:00Z"));
    harness.wake(NAME).await;
    let held = harness
        .drive_until(NAME, SignedDuration::ZERO, 100, |o| {
            reason(o, conditions::ROTATING) == "WaitingForMaintenanceWindow"
        })
        .await;
    let held_again = harness.settle(NAME, 10).await;

    let status = held_again.status.as_ref().unwrap();
    assert!(status.rotation.is_none());
    assert_eq!(status.next_rotation_time.clone().unwrap().0, at("2026-03-03T02:00:00Z"));
    assert_eq!(held.status.unwrap().history.len(), 0);
    assert!(harness.traces_named("createCredential").is_empty());

    harness.clock.set(at("2026-03-03T02:30:00Z"));
    harness.wake(NAME).await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let record = &done.status.as_ref().unwrap().history[0];
    assert_eq!(record.trigger, RotationTrigger::Schedule);
    assert!(record.start_time.0 >= at("2026-03-03T02:00:00Z"), "started inside the window");
    assert!(record.start_time.0 < at("2026-03-03T04:00:00Z"), "started inside the window");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_lets_request_through() {
    let mut harness = Harness::start().await;
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), windowed())).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.clock.set(at("2026-03-02T09:00:00Z"));
    harness.request_rotation(NAME, "now").await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let record = &done.status.as_ref().unwrap().history[0];
    assert_eq!(record.trigger, RotationTrigger::Request);
    assert!(record.start_time.0 < at("2026-03-03T02:00:00Z"), "did not wait for the window");
    assert!(harness.secret_works("hw").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_holds_due_rotation() {
    let mut harness = Harness::start().await;
    let spec = json!({"schedule": {"suspend": true}});
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.clock.advance(SignedDuration::from_hours(24 * 91));
    harness.wake(NAME).await;
    let suspended = harness
        .drive_until(NAME, SignedDuration::ZERO, 100, |o| {
            o.status.as_ref().is_some_and(|s| s.phase == Some(RotationPhase::Suspended))
        })
        .await;
    let later = harness.settle(NAME, 10).await;

    assert_eq!(reason(&suspended, conditions::ROTATING), "Suspended");
    assert!(later.status.as_ref().unwrap().rotation.is_none());
    assert!(harness.write_traces().is_empty(), "no create, update or delete call");

    harness.patch_spec(NAME, json!({"schedule": {"suspend": false}})).await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    assert_eq!(done.status.unwrap().history[0].trigger, RotationTrigger::Schedule);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_writes_nothing() {
    let mut harness = Harness::start().await;
    let old_key = harness.world.credentials(APP_USER).access_key_id;
    let spec = json!({"schedule": {"dryRun": true}});
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;
    let secret_version = harness.resource_version("hw").await;
    let generation = deployment_generation(&harness).await;

    harness.request_rotation(NAME, "plan-1").await;
    harness
        .drive_until(NAME, SignedDuration::ZERO, 100, |o| {
            o.status.as_ref().is_some_and(|s| s.dry_run_plan.is_some())
        })
        .await;
    let after = harness.settle(NAME, 20).await;
    harness.stop_operator().await;

    let status = after.status.unwrap();
    let plan = status.dry_run_plan.unwrap();
    assert!(plan.create_key);
    assert_eq!(plan.disable_access_key_ids, vec![old_key.clone()]);
    assert_eq!(plan.delete_access_key_ids, vec![old_key.clone()]);
    assert_eq!(plan.secrets, vec!["hw".to_string()]);
    assert_eq!(plan.workloads, vec!["Deployment/api (restart)".to_string()]);
    assert!(status.rotation.is_none());
    assert!(status.history.is_empty());
    assert!(harness.has_event(NAME, "DryRun", "would create a new key").await);

    assert!(harness.write_traces().is_empty(), "no create, update or delete call");
    let keys: Vec<String> = harness.user_keys(APP_USER).into_iter().map(|k| k.access_key_id).collect();
    assert_eq!(keys, vec![old_key]);
    assert_eq!(harness.resource_version("hw").await, secret_version, "Secret hw not written");
    assert_eq!(deployment_generation(&harness).await, generation, "Deployment api not restarted");
    let owned = harness
        .secrets()
        .list(&kube::api::ListParams::default().labels("akguard.io/role"))
        .await
        .unwrap();
    assert!(owned.items.is_empty(), "no staging or backup Secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_lets_rotation_in_flight_finish() {
    let mut harness = Harness::start().await;
    harness.create(&harness.world.rotation(NAME, "hw", Some("ops"))).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    harness
        .drive_until(NAME, SignedDuration::ZERO, 200, |o| {
            o.status.as_ref().is_some_and(|s| s.rotation.as_ref().is_some_and(|r| r.switch_time.is_some()))
        })
        .await;
    harness.patch_spec(NAME, json!({"schedule": {"suspend": true}})).await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    assert_eq!(done.status.unwrap().phase, Some(RotationPhase::Ready));
    assert_eq!(harness.user_keys(APP_USER).len(), 1);
    assert!(harness.secret_works("hw").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_plans_window_start() {
    let mut harness = Harness::start().await;
    let mut spec = windowed();
    support::merge(&mut spec, json!({"schedule": {"dryRun": true}}));
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.clock.set(at("2026-03-02T09:00:00Z"));
    harness.wake(NAME).await;
    let planned = harness
        .drive(NAME, 100, |_| SignedDuration::ZERO, |o| {
            o.status.as_ref().is_some_and(|s| s.dry_run_plan.is_some())
        })
        .await;
    harness.stop_operator().await;

    let plan = planned.status.unwrap().dry_run_plan.unwrap();
    assert_eq!(plan.trigger, RotationTrigger::Schedule);
    assert_eq!(plan.start_time.unwrap().0, at("2026-03-03T02:00:00Z"), "starts when the window opens");
    assert!(harness.write_traces().is_empty(), "no create, update or delete call");
}
