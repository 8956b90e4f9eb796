//! Crash safety of the operator process: SIGKILL at every rotation step, and while a
//! step's Huawei Cloud call is in flight, then a new process finishes the same rotation.

mod support;

use std::time::Duration;

use akguard::api::rotation::RotationStep;
use akguard::sandbox::world;
use akguard_emulator::{FaultRule, KeyStatus, Operation};
use support::process::{OperatorOptions, ProcessWorld, ROTATION, rotation_id_of, step_of};

/// Latency added to the call a mid-step kill lands in.
const CALL_LATENCY: Duration = Duration::from_millis(1500);
/// Time from seeing a step in status to the kill: the reconcile that runs the step starts
/// 50 ms after the status write, so its call is then waiting in the emulator.
const KILL_DELAY: Duration = Duration::from_millis(500);

/// Where in a step the first process dies.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// As soon as status shows the step.
    AtBoundary,
    /// While the step's call waits in the emulator, which may or may not carry the call
    /// out after its client is gone.
    DuringCall(Operation),
    /// After the step's call took effect in the emulator but before the process read the
    /// response: SIGSTOP while the call waits, SIGKILL once its effect shows.
    AfterCallLands(Operation),
}

/// Starts a rotation with one process, kills it at the point of `step` that `kill` names, and checks that
/// a second process finishes the same rotation correctly.
async fn kill_and_resume(test: &str, step: RotationStep, kill: Kill) {
    let processes = ProcessWorld::start(test).await;
    let old_key = processes.harness.world.credentials(world::APP_USER).access_key_id;
    processes.create_rotation().await;
    let mut first = processes.spawn(&OperatorOptions::single("akguard-first"));
    processes.wait_adopted().await;

    processes.harness.request_rotation(ROTATION, "crash").await;
    let seen = processes.drive_to_step(step).await;
    let rotation_id = rotation_id_of(&seen).expect("a rotation is in flight");
    match kill {
        Kill::AtBoundary => first.kill(),
        Kill::DuringCall(operation) => {
            delay_calls(&processes, operation);
            tokio::time::sleep(KILL_DELAY).await;
            first.kill();
            // Let the emulator finish or abandon the call the dead process sent.
            tokio::time::sleep(CALL_LATENCY).await;
            processes.harness.world.emulator.clear_faults();
        }
        Kill::AfterCallLands(operation) => {
            delay_calls(&processes, operation);
            tokio::time::sleep(KILL_DELAY).await;
            first.signal("STOP");
            let landed = wait_for(Duration::from_secs(5), || call_landed(&processes, operation, &old_key)).await;
            assert!(landed, "the {operation:?} call sent before SIGSTOP took effect");
            first.kill();
            processes.harness.world.emulator.clear_faults();
        }
    }
    let left = processes.harness.get(ROTATION).await;
    eprintln!(
        "{test}: killed at {step:?} ({kill:?}); status then shows {:?}; keys of the user: {:?}",
        step_of(&left),
        processes.app_keys().iter().map(|key| key.access_key_id.clone()).collect::<Vec<_>>()
    );

    let _second = processes.spawn(&OperatorOptions::single("akguard-second"));
    let done = processes.drive_to_completion().await;

    let history = &done.status.as_ref().unwrap().history;
    assert_eq!(history[0].id, rotation_id, "the interrupted rotation finished, not a new one");
    processes.assert_rotated(&done, &old_key).await;
}

fn delay_calls(processes: &ProcessWorld, operation: Operation) {
    let rule = FaultRule::latency(CALL_LATENCY.as_millis() as u64).for_operation(operation);
    processes.harness.world.emulator.set_fault(rule).unwrap();
}

/// Returns whether the effect of a delayed call shows in the emulator.
fn call_landed(processes: &ProcessWorld, operation: Operation, old_key: &str) -> bool {
    let keys = processes.app_keys();
    let old = keys.iter().find(|key| key.access_key_id == old_key);
    match operation {
        Operation::CreateCredential => keys.len() == 2,
        Operation::UpdateCredential => old.is_some_and(|key| key.status == KeyStatus::Inactive),
        Operation::DeleteCredential => old.is_none(),
        other => panic!("no visible effect to wait for after {other:?}"),
    }
}

async fn wait_for(timeout: Duration, check: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_at_checking_quota() {
    kill_and_resume("checking-quota", RotationStep::CheckingQuota, Kill::AtBoundary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_at_creating_key() {
    kill_and_resume("creating-key", RotationStep::CreatingKey, Kill::AtBoundary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_at_backing_up_secrets() {
    kill_and_resume("backing-up", RotationStep::BackingUpSecrets, Kill::AtBoundary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_at_writing_secrets() {
    kill_and_resume("writing-secrets", RotationStep::WritingSecrets, Kill::AtBoundary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_at_restarting_workloads() {
    kill_and_resume("restarting", RotationStep::RestartingWorkloads, Kill::AtBoundary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_at_verifying() {
    kill_and_resume("verifying", RotationStep::Verifying, Kill::AtBoundary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_at_waiting_for_idle() {
    kill_and_resume("waiting-idle", RotationStep::WaitingForIdleOldKey, Kill::AtBoundary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_at_disabling_old_key() {
    kill_and_resume("disabling", RotationStep::DisablingOldKey, Kill::AtBoundary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_at_soaking() {
    kill_and_resume("soaking", RotationStep::Soaking, Kill::AtBoundary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_at_deleting_old_key() {
    kill_and_resume("deleting", RotationStep::DeletingOldKey, Kill::AtBoundary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_at_cleaning_up() {
    kill_and_resume("cleaning-up", RotationStep::CleaningUp, Kill::AtBoundary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_quota_list() {
    kill_and_resume("quota-list", RotationStep::CheckingQuota, Kill::DuringCall(Operation::ListCredentials)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_create_call() {
    kill_and_resume("create-call", RotationStep::CreatingKey, Kill::DuringCall(Operation::CreateCredential)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_idle_check() {
    kill_and_resume("idle-check", RotationStep::WaitingForIdleOldKey, Kill::DuringCall(Operation::ShowCredential)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_disable_call() {
    kill_and_resume("disable-call", RotationStep::DisablingOldKey, Kill::DuringCall(Operation::UpdateCredential)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_soak_check() {
    kill_and_resume("soak-check", RotationStep::Soaking, Kill::DuringCall(Operation::ShowCredential)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_delete_call() {
    kill_and_resume("delete-call", RotationStep::DeletingOldKey, Kill::DuringCall(Operation::DeleteCredential)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_clean_up_call() {
    kill_and_resume("clean-up-call", RotationStep::CleaningUp, Kill::DuringCall(Operation::ShowCredential)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_after_disable_lands() {
    kill_and_resume("disable-landed", RotationStep::DisablingOldKey, Kill::AfterCallLands(Operation::UpdateCredential)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_after_delete_lands() {
    kill_and_resume("delete-landed", RotationStep::DeletingOldKey, Kill::AfterCallLands(Operation::DeleteCredential)).await;
}

/// A process stopped while its create call waits in the emulator receives the response
/// into a frozen socket and dies before the staging Secret write: the key exists in IAM
/// but its secret access key is lost. The next process must find that key by its
/// description marker and delete it before it creates another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_key_found_and_deleted() {
    let processes = ProcessWorld::start("orphan").await;
    let old_key = processes.harness.world.credentials(world::APP_USER).access_key_id;
    processes.create_rotation().await;
    let mut first = processes.spawn(&OperatorOptions::single("akguard-first"));
    processes.wait_adopted().await;

    processes.harness.request_rotation(ROTATION, "orphan").await;
    let seen = processes.drive_to_step(RotationStep::CreatingKey).await;
    let rotation_id = rotation_id_of(&seen).unwrap();
    let marker = format!("akguard:{}:{rotation_id}", seen.metadata.uid.clone().unwrap());
    let rule = FaultRule::latency(CALL_LATENCY.as_millis() as u64).for_operation(Operation::CreateCredential);
    processes.harness.world.emulator.set_fault(rule).unwrap();
    tokio::time::sleep(KILL_DELAY).await;
    first.signal("STOP");

    let mut orphan = None;
    for _ in 0..100 {
        orphan = processes.app_keys().into_iter().find(|key| key.description == marker);
        if orphan.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let orphan = orphan.expect("the create call sent before SIGSTOP created a key with the rotation's marker");
    assert_eq!(processes.owned_secrets().await, Vec::<String>::new(), "no staging Secret was written before the kill");
    first.kill();
    processes.harness.world.emulator.clear_faults();

    let _second = processes.spawn(&OperatorOptions::single("akguard-second"));
    let done = processes.drive_to_completion().await;

    assert!(
        processes.app_keys().iter().all(|key| key.access_key_id != orphan.access_key_id),
        "orphan key {} is deleted",
        orphan.access_key_id
    );
    let events = processes.events().await;
    assert!(
        events.iter().any(|event| event.reason.as_deref() == Some("OrphanKeyDeleted")
            && event.note.as_deref().is_some_and(|note| note.contains(&orphan.access_key_id))),
        "an OrphanKeyDeleted Event names key {}",
        orphan.access_key_id
    );
    let new_key = processes.assert_rotated(&done, &old_key).await;
    assert_ne!(new_key, orphan.access_key_id, "the orphan did not become the current key");
}
