//! Graceful shutdown: SIGTERM while a step's Huawei Cloud call is in flight lets the step
//! finish, exits 0 promptly and releases the leader Lease, and a new process finishes the
//! rotation.

mod support;

use std::time::{Duration, Instant};

use akguard::api::rotation::{AccessKeyRotation, RotationStep};
use akguard::sandbox::world;
use akguard_emulator::{FaultRule, KeyStatus, Operation};
use support::process::{OperatorOptions, ProcessWorld, ROTATION, step_of};

/// Latency of the call that is in flight when SIGTERM arrives.
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

/// Sends SIGTERM to the only process while the call of `step` to `operation` waits in the
/// emulator, and checks a prompt exit with status 0, the released Lease and the stop log
/// line. `in_flight` must hold just before the signal, proving the call has not finished.
/// Returns the world and the status the process left.
async fn terminate_during_call(
    test: &str,
    step: RotationStep,
    operation: Operation,
    in_flight: impl Fn(&ProcessWorld) -> bool,
) -> (ProcessWorld, AccessKeyRotation) {
    let processes = ProcessWorld::start(test).await;
    processes.create_rotation().await;
    let mut first = processes.spawn(&OperatorOptions::elected("akguard-a"));
    assert!(wait_for_holder(&processes, "akguard-a").await, "the process acquires the Lease");
    processes.wait_adopted().await;

    processes.harness.request_rotation(ROTATION, test).await;
    processes.drive_to_step(step).await;
    let rule = FaultRule::latency(CALL_LATENCY.as_millis() as u64).for_operation(operation);
    processes.harness.world.emulator.set_fault(rule).unwrap();
    // The step's call starts about 50 ms after the step shows in status.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(in_flight(&processes), "the {operation:?} call has not finished when SIGTERM is sent");

    let sent = Instant::now();
    first.signal("TERM");
    let exit = first.wait_exit(Duration::from_secs(15)).await.expect("the process exits after SIGTERM");
    let took = sent.elapsed();
    processes.harness.world.emulator.clear_faults();
    eprintln!("{test}: exited {took:?} after SIGTERM with {exit}");
    assert!(exit.success(), "exit status after SIGTERM: {exit}");
    assert!(took < Duration::from_secs(5), "the process exited promptly, not after {took:?}");
    assert_eq!(processes.lease_holder().await, None, "the Lease is released");
    assert!(first.logs().contains("\"message\":\"akguard stopped\""), "the process logged its stop");

    let left = processes.harness.get(ROTATION).await;
    (processes, left)
}

/// Starts a new process and checks that it finishes the rotation away from the seeded key.
async fn finish_with_new_process(processes: &ProcessWorld) {
    let old_key = processes.harness.world.credentials(world::APP_USER).access_key_id;
    let _second = processes.spawn(&OperatorOptions::elected("akguard-b"));
    assert!(wait_for_holder(processes, "akguard-b").await, "a new process acquires the released Lease");
    let done = processes.drive_to_completion().await;
    processes.assert_rotated(&done, &old_key).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_disable_call() {
    let old_key = |processes: &ProcessWorld| processes.harness.world.credentials(world::APP_USER).access_key_id;
    let old_key_active = |processes: &ProcessWorld| {
        processes.harness.world.emulator.key(&old_key(processes)).unwrap().status == KeyStatus::Active
    };
    let step = RotationStep::DisablingOldKey;
    let (processes, left) =
        terminate_during_call("sigterm-disable", step, Operation::UpdateCredential, old_key_active).await;

    let old = processes.harness.world.emulator.key(&old_key(&processes)).expect("the old key still exists");
    assert_eq!(step_of(&left), Some(RotationStep::Soaking), "the step in flight finished and its status was written");
    assert_eq!(old.status, KeyStatus::Inactive, "the old key is disabled, as status says");
    finish_with_new_process(&processes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_create_call() {
    let only_old_key = |processes: &ProcessWorld| processes.app_keys().len() == 1;
    let step = RotationStep::CreatingKey;
    let (processes, left) =
        terminate_during_call("sigterm-create", step, Operation::CreateCredential, only_old_key).await;

    let status = left.status.clone().unwrap();
    let pending = status.pending_access_key_id.clone().expect("status names the created key");
    assert_eq!(step_of(&left), Some(RotationStep::BackingUpSecrets), "the step in flight finished and its status was written");
    assert!(
        processes.app_keys().iter().any(|key| key.access_key_id == pending),
        "the key status names exists in IAM"
    );
    let staged = processes.owned_secrets().await;
    assert_eq!(staged.len(), 1, "one owned Secret is left: {staged:?}");
    assert!(staged[0].contains("-akguard-staging-"), "it is the staging Secret: {staged:?}");
    finish_with_new_process(&processes).await;
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

/// A standby that gets SIGTERM exits at once and leaves the leader's Lease alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_on_standby_keeps_leader() {
    let processes = ProcessWorld::start("sigterm-on-standby").await;
    let old_key = processes.harness.world.credentials(world::APP_USER).access_key_id;
    processes.create_rotation().await;
    let _leader = processes.spawn(&OperatorOptions::elected("akguard-a"));
    assert!(wait_for_holder(&processes, "akguard-a").await, "the first process acquires the Lease");
    let mut standby = processes.spawn(&OperatorOptions::elected("akguard-b"));
    standby.addresses().await;
    processes.wait_adopted().await;

    let sent = Instant::now();
    standby.signal("TERM");
    let exit = standby.wait_exit(Duration::from_secs(15)).await.expect("the standby exits after SIGTERM");
    let took = sent.elapsed();
    assert!(exit.success(), "exit status after SIGTERM: {exit}");
    assert!(took < Duration::from_secs(2), "the standby exited promptly, not after {took:?}");
    assert_eq!(processes.lease_holder().await.as_deref(), Some("akguard-a"), "the leader keeps the Lease");

    processes.harness.request_rotation(ROTATION, "after-standby-stop").await;
    let done = processes.drive_to_completion().await;
    processes.assert_rotated(&done, &old_key).await;
}
