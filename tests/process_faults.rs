//! Faults during a rotation run by an operator process do not change its outcome. The
//! faults are Huawei Cloud throttling, server errors, dropped connections and timeouts,
//! Kubernetes write conflicts, dropped watches and lost responses to Kubernetes writes.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use akguard::api::rotation::RotationStep;
use akguard::sandbox::world;
use akguard_emulator::{FaultKind, FaultRule, Operation};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams};
use support::NAMESPACE;
use support::process::{CuttingProxy, OperatorOptions, ProcessWorld, ROTATION};

/// Starts the world and one operator process, and waits until it adopted the key.
async fn adopted_world(test: &str, options: OperatorOptions) -> (ProcessWorld, support::process::OperatorProcess, String) {
    let processes = ProcessWorld::start(test).await;
    let old_key = processes.harness.world.credentials(world::APP_USER).access_key_id;
    processes.create_rotation().await;
    let operator = processes.spawn(&options);
    processes.wait_adopted().await;
    (processes, operator, old_key)
}

fn traces_with_code(processes: &ProcessWorld, code: &str) -> usize {
    processes
        .harness
        .world
        .emulator
        .traces()
        .iter()
        .filter(|trace| trace.code == code)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_errors_keep_outcome() {
    let (processes, _operator, old_key) = adopted_world("cloud-errors", OperatorOptions::single("akguard-faults")).await;
    let emulator = &processes.harness.world.emulator;
    // The first create call fails with 500, so the operator cannot know whether IAM acted.
    // The emulator applies the first rule that fires, so this one comes before the random
    // ones: a throttled first create would otherwise be retried and never fail.
    emulator.set_fault(FaultRule::status(500).for_operation(Operation::CreateCredential).on_nth(1)).unwrap();
    emulator.set_fault(FaultRule::new(FaultKind::Throttle).with_rate(0.3)).unwrap();
    emulator.set_fault(FaultRule::status(500).with_rate(0.2)).unwrap();
    emulator.set_fault(FaultRule::new(FaultKind::Drop).with_rate(0.1)).unwrap();

    processes.harness.request_rotation(ROTATION, "faults").await;
    let done = processes.drive_to_completion().await;
    emulator.clear_faults();

    assert!(traces_with_code(&processes, "429") > 0, "throttling was injected");
    assert!(traces_with_code(&processes, "500") > 0, "server errors were injected");
    let events = processes.events().await;
    assert!(
        events.iter().any(|event| event.reason.as_deref() == Some("CreateKeyAmbiguous")),
        "the failed create call was reported as ambiguous"
    );
    processes.assert_rotated(&done, &old_key).await;
}

/// A create call that outlasts the client's 20-second attempt timeout is ambiguous, so the
/// operator looks for the key by its marker before it creates again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_timeout_keeps_outcome() {
    let (processes, _operator, old_key) = adopted_world("cloud-timeout", OperatorOptions::single("akguard-timeout")).await;
    let emulator = &processes.harness.world.emulator;
    emulator
        .set_fault(FaultRule::latency(21_000).for_operation(Operation::CreateCredential).on_nth(1))
        .unwrap();

    processes.harness.request_rotation(ROTATION, "timeout").await;
    let done = processes.drive_to_completion().await;
    emulator.clear_faults();

    let events = processes.events().await;
    assert!(
        events.iter().any(|event| event.reason.as_deref() == Some("CreateKeyAmbiguous")),
        "the timed-out create call was reported as ambiguous"
    );
    processes.assert_rotated(&done, &old_key).await;
}

/// Another writer changes the AccessKeyRotation and the target Secret every 300 ms, so
/// some of the operator's status and Secret writes meet 409 Conflict responses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_conflicts_keep_outcome() {
    let (processes, _operator, old_key) = adopted_world("conflicts", OperatorOptions::single("akguard-conflicts")).await;
    let client = processes.harness.world.client.clone();
    let churn = tokio::spawn(async move {
        let rotations = Api::<akguard::api::rotation::AccessKeyRotation>::namespaced(client.clone(), NAMESPACE);
        let secrets = Api::<Secret>::namespaced(client, NAMESPACE);
        for round in 0u64.. {
            let patch = serde_json::json!({"metadata": {"annotations": {"test.akguard.io/churn": round.to_string()}}});
            let _ = rotations.patch(ROTATION, &PatchParams::default(), &Patch::Merge(&patch)).await;
            let _ = secrets.patch("hw", &PatchParams::default(), &Patch::Merge(&patch)).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });

    processes.harness.request_rotation(ROTATION, "conflicts").await;
    let done = processes.drive_to_completion().await;
    churn.abort();

    let conflicts = processes
        .all_logs()
        .iter()
        .flat_map(|(_, text)| text.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|line| line.contains("\"level\":\"WARN\"") && line.contains("409"))
        .count();
    assert!(conflicts > 0, "the operator met at least one 409 Conflict");
    processes.assert_rotated(&done, &old_key).await;
}

/// The operator reaches the simulator through a proxy that closes every connection every
/// 500 ms, so its watches and some of its requests drop during the rotation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_keep_outcome() {
    let processes = ProcessWorld::start("dropped-watches").await;
    let old_key = processes.harness.world.credentials(world::APP_USER).access_key_id;
    let proxy = CuttingProxy::start(processes.harness.world.sim.address()).await;
    let kubeconfig = processes.kubeconfig_for("kubeconfig-proxy", &proxy.base_url);
    processes.create_rotation().await;
    let options = OperatorOptions {
        kubeconfig: Some(kubeconfig),
        ..OperatorOptions::single("akguard-proxied")
    };
    let _operator = processes.spawn(&options);
    processes.wait_adopted().await;

    let proxy = Arc::new(proxy);
    let closed = Arc::new(AtomicUsize::new(0));
    let cutter = {
        let proxy = proxy.clone();
        let closed = closed.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                closed.fetch_add(proxy.cut(), Ordering::SeqCst);
            }
        })
    };
    let accepted_before = proxy.accepted();
    processes.harness.request_rotation(ROTATION, "dropped").await;
    let done = processes.drive_to_completion().await;
    cutter.abort();

    let closed = closed.load(Ordering::SeqCst);
    assert!(closed >= 3, "the proxy closed the operator's connections ({closed} closed)");
    let reconnects = proxy.accepted() - accepted_before;
    assert!(reconnects >= 3, "the operator reconnected after the cuts ({reconnects} new connections)");
    processes.assert_rotated(&done, &old_key).await;
}

/// Runs a rotation through a proxy that drops the response to one Kubernetes write: the
/// first request starting with `request_start` once status shows `armed_at` (or at once).
/// The API server carries the write out but the operator sees it fail. Returns the world
/// for further checks.
async fn lose_response(test: &str, armed_at: Option<RotationStep>, request_start: &str) -> ProcessWorld {
    let processes = ProcessWorld::start(test).await;
    let old_key = processes.harness.world.credentials(world::APP_USER).access_key_id;
    let proxy = CuttingProxy::start(processes.harness.world.sim.address()).await;
    let kubeconfig = processes.kubeconfig_for("kubeconfig-proxy", &proxy.base_url);
    processes.create_rotation().await;
    let options = OperatorOptions {
        kubeconfig: Some(kubeconfig),
        ..OperatorOptions::single("akguard-proxied")
    };
    let _operator = processes.spawn(&options);
    processes.wait_adopted().await;

    match armed_at {
        None => {
            proxy.drop_next_response(request_start);
            processes.harness.request_rotation(ROTATION, test).await;
        }
        Some(step) => {
            processes.harness.request_rotation(ROTATION, test).await;
            processes.drive_to_step(step).await;
            proxy.drop_next_response(request_start);
        }
    }
    let done = processes.drive_to_completion().await;

    assert_eq!(proxy.dropped_responses(), 1, "the response to {request_start} was dropped");
    processes.assert_rotated(&done, &old_key).await;
    processes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_status_response_keeps_outcome() {
    let status = format!("PUT /apis/akguard.io/v1alpha1/namespaces/{NAMESPACE}/accesskeyrotations/{ROTATION}/status");
    lose_response("lost-status", None, &status).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_backup_response_keeps_outcome() {
    let create = format!("POST /api/v1/namespaces/{NAMESPACE}/secrets");
    lose_response("lost-backup", Some(RotationStep::BackingUpSecrets), &create).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_target_response_keeps_outcome() {
    let replace = format!("PUT /api/v1/namespaces/{NAMESPACE}/secrets/hw");
    lose_response("lost-target", Some(RotationStep::WritingSecrets), &replace).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_restart_response_keeps_outcome() {
    let patch = format!("PATCH /apis/apps/v1/namespaces/{NAMESPACE}/deployments/api");
    lose_response("lost-restart", Some(RotationStep::RestartingWorkloads), &patch).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_clean_up_response_keeps_outcome() {
    let delete = format!("DELETE /api/v1/namespaces/{NAMESPACE}/secrets/");
    lose_response("lost-clean-up", Some(RotationStep::CleaningUp), &delete).await;
}

/// The API server stores the staging Secret but its response never reaches the operator,
/// which then sees a failed write of a Secret that exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_staging_response_keeps_outcome() {
    // The first Secret a rotation creates is the staging Secret.
    let create = format!("POST /api/v1/namespaces/{NAMESPACE}/secrets");
    let processes = lose_response("lost-staging", None, &create).await;

    let events = processes.events().await;
    assert!(
        events.iter().any(|event| event.reason.as_deref() == Some("StaleStagingDeleted")),
        "the staging Secret of the deleted key was removed before a new key was created"
    );
}
