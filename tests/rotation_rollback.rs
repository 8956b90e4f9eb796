//! Rollback paths: a consumer that never becomes ready, one that fails during the soak, a
//! failing HTTP check with its retries, and use of the old key after the switch. Each ends
//! with the workloads on a working key and no key deleted that was in use.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use akguard::api::conditions;
use akguard::api::rotation::{AccessKeyRotation, RotationPhase, RotationResult, RotationStep};
use akguard::sandbox::world::APP_USER;
use akguard_emulator::KeyStatus;
use akguard_kubesim::{RolloutPlan, WorkloadKind, WorkloadRef};
use jiff::SignedDuration;
use serde_json::json;
use support::{Harness, NAMESPACE, completed_rotations, message, reason, rotation_with, step, waits_on_time};

const NAME: &str = "app-key";

fn api_workload() -> WorkloadRef {
    WorkloadRef::new(WorkloadKind::Deployment, NAMESPACE, "api")
}

fn rolled_back(object: &AccessKeyRotation) -> usize {
    object
        .status
        .as_ref()
        .map(|s| s.history.iter().filter(|r| r.result == RotationResult::RolledBack).count())
        .unwrap_or(0)
}

/// Moves the clock through rollout timeouts as well as idle windows, soaks and backoffs.
fn through_timeouts(harness: &Harness) -> impl Fn(&AccessKeyRotation) -> SignedDuration + '_ {
    move |object| {
        if step(object) == Some(RotationStep::Verifying) || waits_on_time(object, harness.now()) {
            SignedDuration::from_mins(5)
        } else {
            SignedDuration::ZERO
        }
    }
}

/// Like [`through_timeouts`], but lets the verification time out only once every consumer
/// is ready, so only the HTTP check can fail it.
fn through_check_timeouts(harness: &Harness) -> impl Fn(&AccessKeyRotation) -> SignedDuration + '_ {
    move |object| {
        // The verification reports what it waits for; only the check is left.
        let only_check_pending = step(object) == Some(RotationStep::Verifying)
            && message(object, conditions::ROTATING).starts_with("verifying: waiting for check");
        if only_check_pending || waits_on_time(object, harness.now()) {
            SignedDuration::from_mins(5)
        } else {
            SignedDuration::ZERO
        }
    }
}

/// Serves GET /healthz on 127.0.0.1 with the status code in `status`; returns its URL.
async fn health_server(status: Arc<AtomicU16>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/healthz",
        axum::routing::get(move || {
            let code = status.load(Ordering::SeqCst);
            async move { axum::http::StatusCode::from_u16(code).unwrap() }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/healthz")
}

/// Asserts the end state of a rolled-back rotation: the old key active and in Secret
/// `hw`, its pair working, and no other key left.
async fn assert_back_on_old_key(harness: &Harness, old_key: &str) {
    let keys = harness.user_keys(APP_USER);
    assert_eq!(keys.len(), 1, "only the old key is left: {:?}", keys.iter().map(|k| &k.access_key_id).collect::<Vec<_>>());
    assert_eq!(keys[0].access_key_id, old_key);
    assert_eq!(keys[0].status, KeyStatus::Active);
    assert_eq!(harness.secret_pair("hw").await.0, old_key);
    assert!(harness.secret_works("hw").await, "the Secret's key pair signs valid requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_ready_consumer_rolls_back() {
    let mut harness = Harness::start().await;
    let old_key = harness.world.credentials(APP_USER).access_key_id;
    harness.world.sim.rollouts().set(api_workload(), RolloutPlan::never_ready());
    harness.create(&harness.world.rotation(NAME, "hw", Some("ops"))).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    harness
        .drive(NAME, 200, |_| SignedDuration::ZERO, |o| step(o) == Some(RotationStep::Verifying))
        .await;
    // The new revision keeps the plan it started with; the rollback's revision is healthy.
    harness.world.sim.rollouts().set(api_workload(), RolloutPlan::healthy(Duration::from_millis(50)));
    let back = harness.drive(NAME, 600, through_timeouts(&harness), |o| rolled_back(o) == 1).await;

    let status = back.status.clone().unwrap();
    assert_eq!(reason(&back, conditions::DEGRADED), "RolloutFailed");
    assert!(status.history[0].message.as_deref().unwrap_or("").contains("timed out"));
    assert_eq!(status.phase, Some(RotationPhase::Degraded));
    assert_eq!(status.rotation.as_ref().map(|r| r.attempt), Some(2), "a retry is scheduled");
    assert!(status.rotation.as_ref().unwrap().step_start_time.0 > harness.now(), "after a backoff");
    assert_back_on_old_key(&harness, &old_key).await;

    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(5), 800, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let record = &done.status.as_ref().unwrap().history[0];
    assert_eq!(record.result, RotationResult::Succeeded);
    assert_eq!(record.attempts, 2);
    assert!(harness.secret_works("hw").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_failure_rolls_back() {
    let mut harness = Harness::start().await;
    let old_key = harness.world.credentials(APP_USER).access_key_id;
    let crash = RolloutPlan::fail_after_ready(Duration::from_millis(50), Duration::from_millis(2500));
    harness.world.sim.rollouts().set(api_workload(), crash);
    harness.create(&harness.world.rotation(NAME, "hw", Some("ops"))).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    harness
        .drive(NAME, 200, |_| SignedDuration::ZERO, |o| step(o) == Some(RotationStep::Verifying))
        .await;
    harness.world.sim.rollouts().set(api_workload(), RolloutPlan::healthy(Duration::from_millis(50)));
    // Idle window at 15 minutes a round; the soak waits on real time for the crash.
    let soaking = harness
        .drive(
            NAME,
            200,
            |o| {
                if step(o) == Some(RotationStep::WaitingForIdleOldKey) {
                    SignedDuration::from_mins(15)
                } else {
                    SignedDuration::ZERO
                }
            },
            |o| step(o) == Some(RotationStep::Soaking),
        )
        .await;
    let disabled = harness.world.emulator.key(&old_key).unwrap();
    assert_eq!(disabled.status, KeyStatus::Inactive, "disabled before the crash");
    assert!(soaking.status.unwrap().rotation.unwrap().disable_time.is_some());

    let back = harness.drive(NAME, 400, |_| SignedDuration::ZERO, |o| rolled_back(o) == 1).await;
    harness.stop_operator().await;

    assert_eq!(reason(&back, conditions::DEGRADED), "RolloutFailed");
    assert!(message(&back, conditions::DEGRADED).contains(&format!("while access key {old_key} was disabled")));
    assert_back_on_old_key(&harness, &old_key).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_check_exhausts_retries() {
    let mut harness = Harness::start().await;
    let old_key = harness.world.credentials(APP_USER).access_key_id;
    let status_code = Arc::new(AtomicU16::new(503));
    let url = health_server(status_code.clone()).await;
    let spec = json!({"verification": {"rolloutTimeout": "10m", "httpChecks": [{"name": "health", "url": url, "timeout": "2s"}]}});
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    let first = harness.drive(NAME, 600, through_check_timeouts(&harness), |o| rolled_back(o) == 1).await;
    assert_eq!(reason(&first, conditions::DEGRADED), "HttpCheckFailed");
    assert_eq!(reason(&first, conditions::ROTATING), "RolledBack");
    let failed = harness
        .drive(NAME, 1500, through_check_timeouts(&harness), |o| {
            reason(o, conditions::DEGRADED) == "RetriesExhausted"
        })
        .await;

    let status = failed.status.clone().unwrap();
    assert_eq!(status.phase, Some(RotationPhase::Failed));
    assert!(status.rotation.is_none());
    let attempts: Vec<i32> = status.history.iter().map(|r| r.attempts).collect();
    assert_eq!(attempts, vec![3, 2, 1]);
    assert!(status.history.iter().all(|r| r.result == RotationResult::RolledBack));
    assert!(status.history[2].message.as_deref().unwrap_or("").contains("check health"));
    let gaps: Vec<SignedDuration> = status
        .history
        .windows(2)
        .map(|pair| pair[0].start_time.0.duration_since(pair[1].completion_time.0))
        .collect();
    assert!(gaps[1] >= SignedDuration::from_mins(5), "first backoff: {gaps:?}");
    assert!(gaps[0] >= SignedDuration::from_mins(10), "second backoff doubles: {gaps:?}");
    assert_back_on_old_key(&harness, &old_key).await;

    // Neither the schedule nor time starts a fourth attempt.
    harness.clock.advance(SignedDuration::from_hours(24 * 91));
    harness.wake(NAME).await;
    let still = harness.settle(NAME, 20).await;
    assert!(still.status.as_ref().unwrap().rotation.is_none());
    assert_eq!(still.status.as_ref().unwrap().history.len(), 3);

    status_code.store(200, Ordering::SeqCst);
    harness.request_rotation(NAME, "second").await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 800, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    assert_eq!(done.status.as_ref().unwrap().history[0].attempts, 1);
    assert_ne!(harness.secret_pair("hw").await.0, old_key);
    assert!(harness.secret_works("hw").await);
}

/// Runs a requested rotation up to `until` and returns the old key's pair.
async fn rotate_until(harness: &mut Harness, until: RotationStep) -> (String, akguard_hwcloud::SecretKey) {
    let old = harness.world.credentials(APP_USER);
    harness.create(&harness.world.rotation(NAME, "hw", Some("ops"))).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;
    harness.request_rotation(NAME, "first").await;
    harness
        .drive(
            NAME,
            400,
            |o| {
                if step(o) == Some(RotationStep::WaitingForIdleOldKey) && until != RotationStep::WaitingForIdleOldKey {
                    SignedDuration::from_mins(15)
                } else {
                    SignedDuration::ZERO
                }
            },
            |o| step(o) == Some(until),
        )
        .await;
    (old.access_key_id, old.secret_access_key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_key_use_in_idle_window_holds_disable() {
    let mut harness = Harness::start().await;
    let (old_key, old_secret) = rotate_until(&mut harness, RotationStep::WaitingForIdleOldKey).await;

    harness.clock.advance(SignedDuration::from_secs(5));
    assert!(harness.key_works(&old_key, old_secret).await, "a stray consumer still uses the old key");
    let flagged = harness
        .drive(NAME, 200, |_| SignedDuration::ZERO, |o| reason(o, conditions::DEGRADED) == "OldKeyInUse")
        .await;
    let later = harness.settle(NAME, 10).await;
    harness.stop_operator().await;

    assert!(message(&flagged, conditions::DEGRADED).contains(&old_key));
    assert_eq!(step(&later), Some(RotationStep::WaitingForIdleOldKey));
    assert_eq!(harness.world.emulator.key(&old_key).unwrap().status, KeyStatus::Active);
    assert!(harness.has_event(NAME, "OldKeyInUse", &old_key).await);
    assert!(harness.secret_works("hw").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_key_use_in_soak_blocks_delete() {
    let mut harness = Harness::start().await;
    let (old_key, old_secret) = rotate_until(&mut harness, RotationStep::Soaking).await;

    harness.clock.advance(SignedDuration::from_mins(1));
    assert!(!harness.key_works(&old_key, old_secret).await, "the disabled key is rejected");
    let flagged = harness
        .drive(
            NAME,
            400,
            |o| {
                if step(o) == Some(RotationStep::Soaking) {
                    SignedDuration::from_mins(15)
                } else {
                    SignedDuration::ZERO
                }
            },
            |o| reason(o, conditions::DEGRADED) == "OldKeyInUse" || completed_rotations(o) == 1,
        )
        .await;
    harness.stop_operator().await;

    assert_eq!(reason(&flagged, conditions::DEGRADED), "OldKeyInUse", "the soak noticed the use");
    assert!(message(&flagged, conditions::DEGRADED).contains(&old_key));
    let kept = harness.world.emulator.key(&old_key);
    assert!(kept.is_some(), "the old key is not deleted");
    assert_eq!(kept.unwrap().status, KeyStatus::Active, "the old key is enabled again");
    assert!(harness.secret_works("hw").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_check_in_soak_rolls_back() {
    let mut harness = Harness::start().await;
    let old_key = harness.world.credentials(APP_USER).access_key_id;
    let status_code = Arc::new(AtomicU16::new(200));
    let url = health_server(status_code.clone()).await;
    let spec = json!({"verification": {"httpChecks": [{"name": "health", "url": url, "timeout": "2s"}]}});
    harness.create(&rotation_with(&harness.world, NAME, "hw", Some("ops"), spec)).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    harness
        .drive(
            NAME,
            400,
            |o| {
                if step(o) == Some(RotationStep::WaitingForIdleOldKey) {
                    SignedDuration::from_mins(15)
                } else {
                    SignedDuration::ZERO
                }
            },
            |o| step(o) == Some(RotationStep::Soaking),
        )
        .await;
    status_code.store(503, Ordering::SeqCst);
    let back = harness
        .drive(
            NAME,
            400,
            |o| {
                if step(o) == Some(RotationStep::Soaking) {
                    SignedDuration::from_mins(15)
                } else {
                    SignedDuration::ZERO
                }
            },
            |o| rolled_back(o) == 1 || completed_rotations(o) == 1,
        )
        .await;
    harness.stop_operator().await;

    assert_eq!(rolled_back(&back), 1, "the failing check during the soak rolls back");
    assert_eq!(reason(&back, conditions::DEGRADED), "HttpCheckFailed");
    assert_back_on_old_key(&harness, &old_key).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_consumer_blocks_disable() {
    let mut harness = Harness::start().await;
    let old_key = harness.world.credentials(APP_USER).access_key_id;
    let crash = RolloutPlan::fail_after_ready(Duration::from_millis(50), Duration::from_millis(1000));
    harness.world.sim.rollouts().set(api_workload(), crash);
    harness.create(&harness.world.rotation(NAME, "hw", Some("ops"))).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;

    harness.request_rotation(NAME, "first").await;
    harness
        .drive(NAME, 200, |_| SignedDuration::ZERO, |o| step(o) == Some(RotationStep::WaitingForIdleOldKey))
        .await;
    harness.world.sim.rollouts().set(api_workload(), RolloutPlan::healthy(Duration::from_millis(50)));
    // The consumer crashes while the idle window still runs.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let back = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 400, |o| rolled_back(o) == 1 || completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    assert_eq!(rolled_back(&back), 1);
    assert_eq!(reason(&back, conditions::DEGRADED), "RolloutFailed");
    assert!(harness.traces_named("updateCredential").is_empty(), "the old key was never disabled");
    assert_back_on_old_key(&harness, &old_key).await;
}
