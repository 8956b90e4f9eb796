//! Emergency rotations: a LeakIncident that names the current key rotates it at once,
//! outside the maintenance window, without the idle window and with a soak of at most an
//! hour. An incident that needs approval waits for `spec.approved`.

mod support;

use akguard::api::leak::LeakIncident;
use akguard::api::rotation::RotationTrigger;
use akguard::sandbox::world::{self, APP_USER};
use jiff::{SignedDuration, Timestamp};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;
use support::{Harness, NAMESPACE, completed_rotations, rotation_with};

const NAME: &str = "app-key";

fn incidents(harness: &Harness) -> Api<LeakIncident> {
    Api::namespaced(harness.world.client.clone(), NAMESPACE)
}

/// Starts the operator on a rotation whose maintenance window (02:00 to 04:00 UTC) is
/// closed at the start time, 08:00, and reports the current key as leaked.
async fn start_with_incident(harness: &mut Harness, mode: &str) {
    let spec = json!({"schedule": {"maintenanceWindow": {"start": "02:00", "duration": "2h"}}});
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    let incident: LeakIncident = serde_json::from_value(json!({
        "apiVersion": "akguard.io/v1alpha1",
        "kind": "LeakIncident",
        "metadata": {"name": "leaked"},
        "spec": {
            "accessKeyId": harness.world.credentials(APP_USER).access_key_id,
            "provider": {"region": world::REGION, "credentialsSecretRef": {"name": "ops"}},
            "mode": mode,
        }
    }))
    .unwrap();
    incidents(harness).create(&PostParams::default(), &incident).await.expect("incident created");
}

fn trace_time(harness: &Harness, name: &str) -> Timestamp {
    let traces = harness.traces_named(name);
    assert_eq!(traces.len(), 1, "one {name} call");
    Timestamp::from_millisecond(traces[0].time).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leak_rotates_at_once() {
    let mut harness = Harness::start().await;
    start_with_incident(&mut harness, "automatic").await;

    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(5), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let record = &done.status.as_ref().unwrap().history[0];
    assert_eq!(record.trigger, RotationTrigger::Emergency);
    assert!(record.start_time.0 < "2026-03-02T02:00:00Z".parse().unwrap(), "did not wait for the window");
    let created = trace_time(&harness, "createCredential");
    let disabled = trace_time(&harness, "updateCredential");
    let deleted = trace_time(&harness, "deleteCredential");
    assert!(disabled.duration_since(created) < SignedDuration::from_mins(30), "no idle window");
    assert!(deleted.duration_since(disabled) <= SignedDuration::from_mins(65), "a soak of at most an hour");
    assert!(deleted.duration_since(disabled) >= SignedDuration::from_hours(1), "the soak still runs");
    assert!(harness.secret_works("hw").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leak_waits_for_approval() {
    let mut harness = Harness::start().await;
    start_with_incident(&mut harness, "approvalRequired").await;

    let waiting = harness.settle(NAME, 20).await;
    assert!(waiting.status.as_ref().unwrap().rotation.is_none());
    assert!(harness.traces_named("createCredential").is_empty());

    let approve = json!({"spec": {"approved": true}});
    incidents(&harness)
        .patch("leaked", &PatchParams::default(), &Patch::Merge(approve))
        .await
        .unwrap();
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(5), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    assert_eq!(done.status.as_ref().unwrap().history[0].trigger, RotationTrigger::Emergency);
    assert!(harness.secret_works("hw").await);
}
