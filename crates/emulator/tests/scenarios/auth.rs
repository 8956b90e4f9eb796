//! Signature verification: skew, bad signatures, lockout, key and user status.

use akguard_hwcloud::signing::{SignableRequest, sign};
use akguard_hwcloud::{Credentials, SecretKey};
use jiff::SignedDuration;
use serde_json::json;

use crate::support::{World, world};

const DOMAINS: &str = "/v3/auth/domains";

fn wrong_secret(credentials: &Credentials) -> Credentials {
    Credentials::new(
        credentials.access_key_id.clone(),
        SecretKey::new("0000000000000000000000000000000000000000"),
    )
}

async fn domains(w: &World, credentials: &Credentials) -> crate::support::Reply {
    w.call(credentials, "GET", DOMAINS, "", None).await
}

#[tokio::test]
async fn skew_over_15_minutes_rejected() {
    let w = world().await;
    let app = w.credentials("app");
    let signed_at = w.emulator.now() - SignedDuration::from_mins(16);

    let reply = w.call_at(&app, "GET", DOMAINS, "", None, signed_at).await;

    assert_eq!(reply.status, 401);
    assert_eq!(reply.error_code(), "APIGW.0301");
    assert!(reply.body["error_msg"].as_str().unwrap().contains("signature expired"));
}

#[tokio::test]
async fn future_skew_rejected() {
    let w = world().await;
    let app = w.credentials("app");
    let signed_at = w.emulator.now() + SignedDuration::from_mins(16);

    let reply = w.call_at(&app, "GET", DOMAINS, "", None, signed_at).await;

    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn skew_within_limit_accepted() {
    let w = world().await;
    let app = w.credentials("app");
    let signed_at = w.emulator.now() - SignedDuration::from_mins(14);

    let reply = w.call_at(&app, "GET", DOMAINS, "", None, signed_at).await;

    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn bad_signature_rejected() {
    let w = world().await;
    let bad = wrong_secret(&w.credentials("app"));

    let reply = domains(&w, &bad).await;

    assert_eq!(reply.status, 401);
    assert_eq!(reply.error_code(), "APIGW.0301");
    assert!(reply.body["error_msg"].as_str().unwrap().contains("verify aksk signature fail"));
    assert!(reply.body["request_id"].is_string());
}

#[tokio::test]
async fn lockout_after_five_bad_signatures() {
    let w = world().await;
    let app = w.credentials("app");
    let bad = wrong_secret(&app);
    for _ in 0..5 {
        assert_eq!(domains(&w, &bad).await.status, 401);
    }

    let locked = domains(&w, &app).await;
    w.clock.advance(SignedDuration::from_mins(4));
    let still_locked = domains(&w, &app).await;
    w.clock.advance(SignedDuration::from_mins(1));
    let unlocked = domains(&w, &app).await;

    assert_eq!(locked.status, 401);
    assert!(locked.body["error_msg"].as_str().unwrap().contains("reach the limit"));
    assert_eq!(still_locked.status, 401);
    assert_eq!(unlocked.status, 200);
}

#[tokio::test]
async fn four_bad_signatures_do_not_lock() {
    let w = world().await;
    let app = w.credentials("app");
    let bad = wrong_secret(&app);
    for _ in 0..4 {
        domains(&w, &bad).await;
    }

    let reply = domains(&w, &app).await;

    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn unknown_key_rejected() {
    let w = world().await;
    let stranger = Credentials::new("AAAAAAAAAAAAAAAAAAAA", SecretKey::new("x".repeat(40)));

    let reply = domains(&w, &stranger).await;

    assert_eq!(reply.status, 401);
    assert!(reply.body["error_msg"].as_str().unwrap().contains("ak not exist"));
}

#[tokio::test]
async fn deleted_key_rejected() {
    let w = world().await;
    let app = w.credentials("app");
    w.delete_key(&w.credentials("owner"), &app.access_key_id).await;

    let reply = domains(&w, &app).await;

    assert_eq!(reply.status, 401);
    assert_eq!(reply.error_code(), "APIGW.0301");
}

#[tokio::test]
async fn inactive_key_rejected() {
    let w = world().await;
    let app = w.credentials("app");
    w.update_key(&w.credentials("owner"), &app.access_key_id, json!({"status": "inactive"}))
        .await;

    let reply = domains(&w, &app).await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), "IAM.1107");
}

#[tokio::test]
async fn disabled_user_rejected() {
    let w = world().await;
    let app = w.credentials("app");
    w.emulator.set_user_enabled(&w.user_id("app"), false);

    let reply = domains(&w, &app).await;

    assert_eq!(reply.status, 403);
    assert_eq!(reply.error_code(), "IAM.0080");
}

#[tokio::test]
async fn missing_authorization_rejected() {
    let w = world().await;

    let reply = w.send_raw("GET", DOMAINS, "", Vec::new(), Vec::new()).await;

    assert_eq!(reply.status, 401);
    assert_eq!(reply.error_code(), "IAM.0001");
}

#[tokio::test]
async fn unsigned_date_rejected() {
    let w = world().await;
    let app = w.credentials("app");
    let mut request = SignableRequest {
        method: "GET",
        path: DOMAINS,
        query: "",
        headers: vec![("Host".into(), w.emulator.local_addr().to_string())],
        body: b"",
    };
    let authorization = sign(&mut request, &app, w.emulator.now()).replace("host;x-sdk-date", "host");
    let mut headers = request.headers;
    headers.push(("Authorization".into(), authorization));

    let reply = w.send_raw("GET", DOMAINS, "", headers, Vec::new()).await;

    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn unsigned_host_accepted() {
    // The Go SDK signs neither Host nor Content-Type.
    let w = world().await;
    let app = w.credentials("app");
    let mut request = SignableRequest {
        method: "GET",
        path: "/v3.0/OS-CREDENTIAL/credentials",
        query: "",
        headers: vec![("User-Agent".into(), "huaweicloud-usdk-go/3.0".into())],
        body: b"",
    };
    let authorization = sign(&mut request, &app, w.emulator.now());
    let mut headers = request.headers;
    headers.push(("Authorization".into(), authorization.clone()));

    let reply = w
        .send_raw("GET", "/v3.0/OS-CREDENTIAL/credentials", "", headers, Vec::new())
        .await;

    assert!(authorization.contains("SignedHeaders=user-agent;x-sdk-date"), "{authorization}");
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn signed_query_checked() {
    let w = world().await;
    let owner = w.credentials("owner");
    let app_id = w.user_id("app");
    let query = format!("user_id={app_id}");
    let mut request = SignableRequest {
        method: "GET",
        path: "/v3.0/OS-CREDENTIAL/credentials",
        query: &query,
        headers: vec![("Host".into(), w.emulator.local_addr().to_string())],
        body: b"",
    };
    let authorization = sign(&mut request, &owner, w.emulator.now());
    let mut headers = request.headers;
    headers.push(("Authorization".into(), authorization));
    let tampered = format!("user_id={}", w.user_id("other"));

    let reply = w
        .send_raw("GET", "/v3.0/OS-CREDENTIAL/credentials", &tampered, headers, Vec::new())
        .await;

    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn other_domain_id_rejected() {
    let w = world().await;
    let app = w.credentials("app");
    let mut request = SignableRequest {
        method: "GET",
        path: DOMAINS,
        query: "",
        headers: vec![("X-Domain-Id".into(), "ffffffffffffffffffffffffffffffff".into())],
        body: b"",
    };
    let authorization = sign(&mut request, &app, w.emulator.now());
    let mut headers = request.headers;
    headers.push(("Authorization".into(), authorization));

    let reply = w.send_raw("GET", DOMAINS, "", headers, Vec::new()).await;

    assert_eq!(reply.status, 401);
}
