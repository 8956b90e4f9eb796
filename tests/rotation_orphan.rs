//! Keys that carry this resource's description marker but whose secret was never stored.
//! An unused one is found and deleted before a new key is created, and a used one is kept.

mod support;

use akguard::api::conditions;
use akguard::sandbox::world::{ADMIN_USER, APP_USER};
use akguard_hwcloud::CreatedAccessKey;
use jiff::SignedDuration;
use kube::ResourceExt;
use support::{Harness, completed_rotations, reason};

const NAME: &str = "app-key";

/// Starts the operator on the sandbox rotation and, once it is Ready, creates a key for
/// the application user with this resource's marker in its description. A rotation that
/// crashed before storing the secret would leave such a key behind.
async fn start_with_marked_key(harness: &mut Harness) -> CreatedAccessKey {
    harness.create(&harness.world.rotation(NAME, "hw", Some("ops"))).await;
    harness.start_operator();
    let ready = harness.wait_ready(NAME).await;
    let marker = format!("akguard:{}:20260301-075900-dead", ready.uid().unwrap());
    let admin = harness.cloud(harness.world.credentials(ADMIN_USER));
    admin
        .create_access_key(&harness.world.user_id(APP_USER), &marker)
        .await
        .expect("marked key created")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unused_marked_key_deleted() {
    let mut harness = Harness::start().await;
    let orphan = start_with_marked_key(&mut harness).await;

    harness.request_rotation(NAME, "first").await;
    let done = harness
        .drive_until(NAME, SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    harness.stop_operator().await;

    let deleted: Vec<String> = harness.traces_named("deleteCredential").into_iter().map(|t| t.resource_id).collect();
    assert!(deleted.contains(&orphan.access_key_id), "the orphan key is deleted");
    assert!(harness.has_event(NAME, "OrphanKeyDeleted", &orphan.access_key_id).await);
    let keys: Vec<String> = harness.user_keys(APP_USER).into_iter().map(|k| k.access_key_id).collect();
    assert_eq!(keys, vec![done.status.unwrap().current_access_key_id.unwrap()]);
    assert!(harness.secret_works("hw").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn used_marked_key_kept() {
    let mut harness = Harness::start().await;
    let marked = start_with_marked_key(&mut harness).await;
    harness.clock.advance(SignedDuration::from_secs(5));
    assert!(harness.key_works(&marked.access_key_id, marked.secret_access_key.clone()).await);

    harness.request_rotation(NAME, "first").await;
    let blocked = harness
        .drive(NAME, 200, |_| SignedDuration::ZERO, |o| reason(o, conditions::DEGRADED) == "KeyQuotaExceeded")
        .await;
    harness.stop_operator().await;

    assert!(support::message(&blocked, conditions::DEGRADED).contains(&marked.access_key_id));
    assert!(harness.world.emulator.key(&marked.access_key_id).is_some(), "a used key is kept");
    assert!(harness.write_traces().iter().all(|t| t.trace_name == "createCredential"), "only the test's own create call");
}
