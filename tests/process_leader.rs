//! Two operator processes under leader election. One acts, and when the leader is killed
//! or loses its Lease mid-rotation, the other takes over and finishes the rotation.

mod support;

use std::time::{Duration, Instant};

use akguard::api::rotation::RotationStep;
use akguard::sandbox::world;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::api::{Patch, PatchParams};
use support::process::{LEASE, LEASE_NAMESPACE, OperatorOptions, ProcessWorld, ROTATION, http_get};

/// `--lease-duration` of both processes.
const LEASE_DURATION: Duration = Duration::from_secs(2);
/// kube-lease-manager 0.13 waits a random 100 to 1000 ms after it force-releases an
/// expired Lease before it locks it, so a takeover may come this much after the expiry.
const TAKEOVER_JITTER: Duration = Duration::from_millis(1000);

async fn wait_for_holder(processes: &ProcessWorld, identity: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if processes.lease_holder().await.as_deref() == Some(identity) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Polls `/readyz` until it returns 200 with `role` in the body, and returns the last response.
async fn wait_ready(address: std::net::SocketAddr, role: &str) -> (u16, String) {
    let mut last = (0, String::new());
    for _ in 0..100 {
        last = http_get(address, "/readyz").await;
        if last.0 == 200 && last.1.contains(role) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

fn reporting_instances(events: &[k8s_openapi::api::events::v1::Event]) -> Vec<String> {
    events
        .iter()
        .map(|event| event.reporting_instance.clone().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_finishes_after_leader_killed() {
    let processes = ProcessWorld::start("leader").await;
    let old_key = processes.harness.world.credentials(world::APP_USER).access_key_id;
    processes.create_rotation().await;
    let mut leader = processes.spawn(&OperatorOptions::elected("akguard-a"));
    assert!(
        wait_for_holder(&processes, "akguard-a", Duration::from_secs(20)).await,
        "the first process acquires the Lease"
    );
    let standby = processes.spawn(&OperatorOptions::elected("akguard-b"));
    let (_, leader_health) = leader.addresses().await;
    let (standby_metrics, standby_health) = standby.addresses().await;
    processes.wait_adopted().await;

    let (code, body) = wait_ready(leader_health, "leader").await;
    assert_eq!(code, 200, "the leader is ready: {body}");
    assert!(body.contains("leader"), "the leader's /readyz names its role: {body}");
    let (code, body) = wait_ready(standby_health, "standby").await;
    assert_eq!(code, 200, "the standby is ready to take over: {body}");
    assert!(body.contains("standby"), "the standby's /readyz names its role: {body}");

    processes.harness.request_rotation(ROTATION, "failover").await;
    processes.drive_to_step(RotationStep::Verifying).await;

    let before = processes.events().await;
    assert!(!before.is_empty(), "the leader published Events");
    for instance in reporting_instances(&before) {
        assert_eq!(instance, "akguard-a", "only the leader acts before the kill");
    }
    assert!(!standby.logs().contains("\"reason\":\"RotationStep\""), "the standby logged no rotation step");
    let (_, metrics) = http_get(standby_metrics, "/metrics").await;
    assert!(
        !metrics.contains("akguard_cloud_api_calls_total{"),
        "the standby made no Huawei Cloud call"
    );
    assert_eq!(processes.lease_holder().await.as_deref(), Some("akguard-a"));

    let killed = Instant::now();
    leader.kill();
    assert!(
        wait_for_holder(&processes, "akguard-b", Duration::from_secs(10)).await,
        "the standby acquires the Lease"
    );
    let takeover = killed.elapsed();
    eprintln!("standby took over {takeover:?} after the leader was killed");
    assert!(
        takeover <= LEASE_DURATION + TAKEOVER_JITTER,
        "the standby took over within the lease duration plus the library's jitter, not after {takeover:?}"
    );
    let (code, body) = wait_ready(standby_health, "leader").await;
    assert_eq!(code, 200, "the new leader is ready: {body}");
    assert!(body.contains("leader"), "the new leader's /readyz names its role: {body}");

    let done = processes.drive_to_completion().await;

    let after = processes.events().await;
    let new_events = &after[before.len()..];
    assert!(!new_events.is_empty(), "the new leader published Events");
    for instance in reporting_instances(new_events) {
        assert_eq!(instance, "akguard-b", "only the new leader acts after the kill");
    }
    assert!(
        new_events.iter().any(|event| event.reason.as_deref() == Some("RotationSucceeded")),
        "the new leader finished the rotation"
    );
    processes.assert_rotated(&done, &old_key).await;
}

/// A leader whose Lease goes to another identity stops acting within the lease
/// duration, and the new holder finishes the rotation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_stops_after_losing_lease() {
    let processes = ProcessWorld::start("lease-lost").await;
    let old_key = processes.harness.world.credentials(world::APP_USER).access_key_id;
    processes.create_rotation().await;
    let first = processes.spawn(&OperatorOptions::elected("akguard-a"));
    assert!(
        wait_for_holder(&processes, "akguard-a", Duration::from_secs(20)).await,
        "the first process acquires the Lease"
    );
    let _second = processes.spawn(&OperatorOptions::elected("akguard-b"));
    let (_, first_health) = first.addresses().await;
    processes.wait_adopted().await;

    processes.harness.request_rotation(ROTATION, "lease-lost").await;
    processes.drive_to_step(RotationStep::Verifying).await;
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let patch = serde_json::json!({"spec": {
        "holderIdentity": "akguard-b",
        "acquireTime": now,
        "renewTime": now,
        "leaseDurationSeconds": 2,
    }});
    let leases: Api<Lease> = Api::namespaced(processes.harness.world.client.clone(), LEASE_NAMESPACE);
    let moved = Instant::now();
    leases
        .patch(LEASE, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("the Lease is handed to the second identity");

    let mut stopped = false;
    while moved.elapsed() < Duration::from_secs(10) {
        if first.logs().contains("lost the leader Lease; standing by") {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let noticed = moved.elapsed();
    eprintln!("the first process stood down {noticed:?} after it lost the Lease");
    assert!(stopped, "the first process stands down after it lost the Lease");
    assert!(noticed <= LEASE_DURATION, "it stood down within the lease duration, not after {noticed:?}");
    let (code, body) = http_get(first_health, "/readyz").await;
    assert_eq!(code, 200, "the former leader is a ready standby: {body}");
    assert!(body.contains("standby"), "the former leader reports its role: {body}");
    let handed_over = processes.events().await.len();

    let done = processes.drive_to_completion().await;

    let events = processes.events().await;
    for instance in reporting_instances(&events[handed_over..]) {
        assert_eq!(instance, "akguard-b", "only the new holder acts after the handover");
    }
    processes.assert_rotated(&done, &old_key).await;
}
