//! Graceful shutdown: SIGTERM while a step's Huawei Cloud call is in flight lets the step
//! finish, exits 0 promptly and releases the leader Lease, and a new process finishes the
//! rotation.

mod support;

use std::time::{Duration, Instant};

use akguard::api::rotation::RotationStep;
use akguard::sandbox::world;
use akguard_emulator::{FaultRule, KeyStatus, Operation};
use support::process::{OperatorOptions, ProcessWorld, ROTATION, step_of};

/// Latency of the disable call that is in flight when SIGTERM arrives.
const CALL_LATENCY: Duration = Duration::from_millis(1500);
/// `--lease-duration` of the processes.
const LEASE_DURATION: Duration = Duration::from_secs(2);
/// Margin for the Lease update and this test's 20 ms polling of the Lease.
const TAKEOVER_MARGIN: Duration = Duration::from_millis(500);

async fn wait_for_holder(processes: &ProcessWorld, identity: &str) -> bool {
    for _ in 0..500 {
        if processes.lease_holder().await.as_deref() == Some(identity) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_step_in_flight() {
    let processes = ProcessWorld::start("sigterm").await;
    let old_key = processes.harness.world.credentials(world::APP_USER).access_key_id;
    processes.create_rotation().await;
    let mut first = processes.spawn(&OperatorOptions::elected("akguard-a"));
    assert!(wait_for_holder(&processes, "akguard-a").await, "the process acquires the Lease");
    processes.wait_adopted().await;

    processes.harness.request_rotation(ROTATION, "sigterm").await;
    processes.drive_to_step(RotationStep::DisablingOldKey).await;
    let rule = FaultRule::latency(CALL_LATENCY.as_millis() as u64).for_operation(Operation::UpdateCredential);
    processes.harness.world.emulator.set_fault(rule).unwrap();
    // The disable call starts about 50 ms after the step shows in status.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        processes.harness.world.emulator.key(&old_key).unwrap().status,
        KeyStatus::Active,
        "the disable call has not finished when SIGTERM is sent"
    );

    let sent = Instant::now();
    first.signal("TERM");
    let exit = first.wait_exit(Duration::from_secs(15)).await.expect("the process exits after SIGTERM");
    let took = sent.elapsed();
    processes.harness.world.emulator.clear_faults();
    eprintln!("exited {took:?} after SIGTERM with {exit}");
    assert!(exit.success(), "exit status after SIGTERM: {exit}");
    assert!(took < Duration::from_secs(5), "the process exited promptly, not after {took:?}");

    let left = processes.harness.get(ROTATION).await;
    let old = processes.harness.world.emulator.key(&old_key).expect("the old key still exists");
    assert_eq!(step_of(&left), Some(RotationStep::Soaking), "the step in flight finished and its status was written");
    assert_eq!(old.status, KeyStatus::Inactive, "the old key is disabled, as status says");
    assert_eq!(processes.lease_holder().await, None, "the Lease is released");
    assert!(first.logs().contains("\"message\":\"akguard stopped\""), "the process logged its stop");

    let _second = processes.spawn(&OperatorOptions::elected("akguard-b"));
    assert!(wait_for_holder(&processes, "akguard-b").await, "a new process acquires the released Lease");
    let done = processes.drive_to_completion().await;
    processes.assert_rotated(&done, &old_key).await;
}

/// With a standby running, the leader's SIGTERM hands the rotation over: the released
/// Lease goes to the standby within the lease duration (kube-lease-manager 0.13 lets a
/// standby sleep until the expiry it last read), and the standby finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hands_over_to_standby() {
    let processes = ProcessWorld::start("sigterm-standby").await;
    let old_key = processes.harness.world.credentials(world::APP_USER).access_key_id;
    processes.create_rotation().await;
    let mut leader = processes.spawn(&OperatorOptions::elected("akguard-a"));
    assert!(wait_for_holder(&processes, "akguard-a").await, "the first process acquires the Lease");
    let _standby = processes.spawn(&OperatorOptions::elected("akguard-b"));
    processes.wait_adopted().await;

    processes.harness.request_rotation(ROTATION, "handover").await;
    processes.drive_to_step(RotationStep::Verifying).await;
    let sent = Instant::now();
    leader.signal("TERM");
    let exit = leader.wait_exit(Duration::from_secs(15)).await.expect("the leader exits after SIGTERM");
    assert!(exit.success(), "exit status after SIGTERM: {exit}");
    let holder = processes.lease_holder().await;
    assert!(
        holder.is_none() || holder.as_deref() == Some("akguard-b"),
        "the leader released the Lease, holder now {holder:?}"
    );

    assert!(wait_for_holder(&processes, "akguard-b").await, "the standby acquires the Lease");
    let takeover = sent.elapsed();
    eprintln!("standby took over {takeover:?} after SIGTERM");
    assert!(takeover <= LEASE_DURATION + TAKEOVER_MARGIN, "the takeover took {takeover:?}");
    let done = processes.drive_to_completion().await;
    processes.assert_rotated(&done, &old_key).await;
}
