//! The admin HTTP API.

use std::net::SocketAddr;

use akguard_emulator::EmulatorConfig;
use akguard_hwcloud::{Credentials, SecretKey};
use serde_json::{Value, json};

use crate::support::{World, world, world_with};

async fn admin_world() -> World {
    world_with(EmulatorConfig {
        admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..EmulatorConfig::default()
    })
    .await
}

async fn admin(w: &World, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}{}", w.emulator.admin_url().unwrap(), path);
    let mut request = w.http.request(method.parse().unwrap(), url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
    (status, body)
}

#[tokio::test]
async fn admin_off_by_default() {
    let w = world().await;

    assert_eq!(w.emulator.admin_url(), None);
}

#[tokio::test]
async fn seed_returns_usable_keys() {
    let w = admin_world().await;
    let seed = json!({"domain_name": "globex", "users": [{"name": "ops", "keys": [{"description": "k"}]}]});

    let (status, body) = admin(&w, "POST", "/admin/seed", Some(seed)).await;
    let key = &body["users"][0]["keys"][0];
    let credentials = Credentials::new(
        key["access_key_id"].as_str().unwrap(),
        SecretKey::new(key["secret_access_key"].as_str().unwrap()),
    );
    let mut request = akguard_hwcloud::signing::SignableRequest {
        method: "GET",
        path: "/v3/auth/domains",
        query: "",
        headers: Vec::new(),
        body: b"",
    };
    let authorization = akguard_hwcloud::signing::sign(&mut request, &credentials, w.emulator.now());
    let mut headers = request.headers;
    headers.push(("Authorization".into(), authorization));
    let reply = w.send_raw("GET", "/v3/auth/domains", "", headers, Vec::new()).await;

    assert_eq!(status, 201);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["domains"][0]["name"], "globex");
}

#[tokio::test]
async fn keys_listing_has_no_secrets() {
    let w = admin_world().await;

    let (status, body) = admin(&w, "GET", "/admin/keys", None).await;

    assert_eq!(status, 200);
    assert_eq!(body.as_array().map(Vec::len), Some(3));
    assert!(!body.to_string().contains(w.credentials("app").secret_access_key.expose()));
}

#[tokio::test]
async fn faults_set_and_cleared() {
    let w = admin_world().await;

    let (added, _) = admin(&w, "POST", "/admin/faults", Some(json!({"kind": "throttle"}))).await;
    let throttled = w.list_keys(&w.credentials("app"), None).await.status;
    let (cleared, _) = admin(&w, "DELETE", "/admin/faults", None).await;
    let restored = w.list_keys(&w.credentials("app"), None).await.status;

    assert_eq!(added, 201);
    assert_eq!(throttled, 429);
    assert_eq!(cleared, 204);
    assert_eq!(restored, 200);
}

#[tokio::test]
async fn invalid_fault_rejected() {
    let w = admin_world().await;

    let (status, body) = admin(&w, "POST", "/admin/faults", Some(json!({"kind": "status", "status": 200}))).await;

    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("status"));
}

#[tokio::test]
async fn clock_advances() {
    let w = admin_world().await;

    let (status, body) = admin(&w, "POST", "/admin/clock/advance", Some(json!({"seconds": 3600}))).await;

    assert_eq!(status, 200);
    assert_eq!(body["now"], "2026-03-01T13:00:00Z");
}

#[tokio::test]
async fn user_disabled_through_admin() {
    let w = admin_world().await;
    let path = format!("/admin/users/{}", w.user_id("app"));

    let (status, _) = admin(&w, "PATCH", &path, Some(json!({"enabled": false}))).await;
    let reply = w.list_keys(&w.credentials("app"), None).await;

    assert_eq!(status, 200);
    assert_eq!(reply.error_code(), "IAM.0080");
}

#[tokio::test]
async fn traces_readable() {
    let w = admin_world().await;
    w.list_keys(&w.credentials("app"), None).await;

    let (status, body) = admin(&w, "GET", "/admin/traces", None).await;

    assert_eq!(status, 200);
    assert_eq!(body[0]["trace_name"], "listCredentials");
}

#[tokio::test]
async fn system_clock_cannot_advance() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emulator = akguard_emulator::start(EmulatorConfig {
        admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let url = format!("{}/admin/clock/advance", emulator.admin_url().unwrap());

    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(url)
        .json(&json!({"seconds": 1}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 409);
    emulator.shutdown().await;
}

#[tokio::test]
async fn cloud_port_serves_no_admin() {
    let w = admin_world().await;
    let url = format!("{}/admin/keys", w.emulator.base_url());

    let response = w.http.get(url).send().await.unwrap();

    assert_ne!(w.emulator.admin_url(), Some(w.emulator.base_url()));
    assert_eq!(response.status().as_u16(), 404);
}
