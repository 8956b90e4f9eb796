//! The HTTP endpoints of an operator process: `/healthz`, `/readyz` and `/metrics`
//! before and after a rotation.

mod support;

use std::time::Duration;

use akguard::sandbox::world;
use support::process::{OperatorOptions, ProcessWorld, ROTATION, http_get};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_report_rotation() {
    let processes = ProcessWorld::start("endpoints").await;
    let old_key = processes.harness.world.credentials(world::APP_USER).access_key_id;
    processes.create_rotation().await;
    let operator = processes.spawn(&OperatorOptions::single("akguard-endpoints"));
    let (metrics, health) = operator.addresses().await;

    let (code, body) = http_get(health, "/healthz").await;
    assert_eq!(code, 200, "/healthz: {body}");
    processes.wait_adopted().await;
    let mut ready = (0, String::new());
    for _ in 0..100 {
        ready = http_get(health, "/readyz").await;
        if ready.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready.0, 200, "/readyz once the caches synced: {}", ready.1);
    assert!(ready.1.contains("leader"), "/readyz names the role: {}", ready.1);

    processes.harness.request_rotation(ROTATION, "endpoints").await;
    let done = processes.drive_to_completion().await;

    let (code, text) = http_get(metrics, "/metrics").await;
    assert_eq!(code, 200, "/metrics responds");
    assert!(
        text.lines().any(|line| line == "akguard_rotations_total{result=\"completed\"} 1"),
        "one completed rotation is counted:\n{text}"
    );
    let cloud_calls: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("akguard_cloud_api_calls_total{"))
        .collect();
    assert!(!cloud_calls.is_empty(), "cloud API calls are counted:\n{text}");
    assert!(
        cloud_calls.iter().any(|line| line.contains("outcome=\"ok\"")),
        "successful cloud API calls are counted: {cloud_calls:?}"
    );
    assert!(
        text.lines().any(|line| line.starts_with("akguard_rotation_step_duration_seconds_count{")),
        "step durations are recorded:\n{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "the exposition ends with # EOF");
    let (code, _) = http_get(health, "/healthz").await;
    assert_eq!(code, 200, "/healthz after the rotation");
    processes.assert_rotated(&done, &old_key).await;
}
