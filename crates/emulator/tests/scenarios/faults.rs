//! Fault injection through the in-process API and start-up configuration.

use std::time::{Duration, Instant};

use akguard_emulator::{EmulatorConfig, FaultKind, FaultRule, Operation};

use crate::support::{World, world, world_with};

async fn list(w: &World) -> u16 {
    w.list_keys(&w.credentials("app"), None).await.status
}

#[tokio::test]
async fn status_fault_for_one_operation() {
    let w = world().await;
    w.emulator
        .set_fault(FaultRule::status(503).for_operation(Operation::ListCredentials))
        .unwrap();

    let faulted = w.list_keys(&w.credentials("app"), None).await;
    let other = w.call(&w.credentials("app"), "GET", "/v3/auth/domains", "", None).await;

    assert_eq!(faulted.status, 503);
    assert_eq!(faulted.error_code(), "IAM.0006");
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn error_rate_zero_never_fires() {
    let w = world().await;
    w.emulator.set_fault(FaultRule::status(500).with_rate(0.0)).unwrap();

    for _ in 0..5 {
        assert_eq!(list(&w).await, 200);
    }
}

#[tokio::test]
async fn error_rate_one_always_fires() {
    let w = world().await;
    w.emulator.set_fault(FaultRule::status(500).with_rate(1.0)).unwrap();

    for _ in 0..5 {
        assert_eq!(list(&w).await, 500);
    }
}

#[tokio::test]
async fn throttle_answers_429() {
    let w = world().await;
    w.emulator.set_fault(FaultRule::new(FaultKind::Throttle)).unwrap();

    let reply = w.list_keys(&w.credentials("app"), None).await;

    assert_eq!(reply.status, 429);
    assert_eq!(reply.error_code(), "IAM.0012");
}

#[tokio::test]
async fn latency_delays_response() {
    let w = world().await;
    w.emulator.set_fault(FaultRule::latency(300)).unwrap();
    let started = Instant::now();

    let status = list(&w).await;

    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
}

#[tokio::test]
async fn drop_closes_connection() {
    let w = world().await;
    w.emulator.set_fault(FaultRule::new(FaultKind::Drop)).unwrap();
    let app = w.credentials("app");

    let result = w
        .try_send_raw("GET", "/v3.0/OS-CREDENTIAL/credentials", "", Vec::new(), Vec::new())
        .await;

    let error = result.expect_err("a dropped connection yields no response");
    assert!(!error.is_timeout(), "{error}");
    assert!(!app.access_key_id.is_empty());
}

#[tokio::test]
async fn nth_call_fails_once() {
    let w = world().await;
    w.emulator.set_fault(FaultRule::status(500).on_nth(2)).unwrap();

    let statuses = [list(&w).await, list(&w).await, list(&w).await];

    assert_eq!(statuses, [200, 500, 200]);
}

#[tokio::test]
async fn clear_faults_restores_service() {
    let w = world().await;
    w.emulator.set_fault(FaultRule::status(503)).unwrap();

    w.emulator.clear_faults();

    assert_eq!(list(&w).await, 200);
}

#[tokio::test]
async fn config_faults_active_from_start() {
    let config = EmulatorConfig {
        faults: vec!["createCredential:status=502".parse().unwrap()],
        ..EmulatorConfig::default()
    };
    let w = world_with(config).await;

    let reply = w.create_key(&w.credentials("app"), &w.user_id("app"), "").await;

    assert_eq!(reply.status, 502);
}

#[tokio::test]
async fn invalid_rule_rejected() {
    let w = world().await;

    let result = w.emulator.set_fault(FaultRule::status(200));

    assert!(result.is_err());
}

#[tokio::test]
async fn drop_sends_no_bytes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let w = world().await;
    w.emulator.set_fault(FaultRule::new(FaultKind::Drop)).unwrap();
    let mut stream = tokio::net::TcpStream::connect(w.emulator.local_addr()).await.unwrap();
    stream
        .write_all(b"GET /v3/auth/domains HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();

    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut received)).await;

    assert!(read.is_ok(), "the connection stayed open");
    assert!(received.is_empty(), "received {} bytes", received.len());
}
