//! Client scenarios against a small scripted HTTP server on 127.0.0.1. Each test queues
//! the responses the server sends, in order, then checks what the client sent and what it
//! returned. The server verifies every request's signature with the test's secret key.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use akguard_hwcloud::retry::Sleeper;
use akguard_hwcloud::signing::{self, Authorization};
use akguard_hwcloud::{
    AccessKeyStatus, AccessKeyUpdate, Client, ClientConfig, Credentials, EndpointOverrides,
    Error, ErrorKind, ManualClock, MonthlySumQuery, RecordingObserver, RetryPolicy, SecretKey,
    TraceQuery, VerificationMethod,
};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use jiff::Timestamp;

const AK: &str = "HPUAZXGBQK1JEXAMPLE0";
// Fake secret key of the test client; the scripted server verifies signatures with it.
const SK: &str = "FakeSecretKeyForScriptedServerTests00000";
const NEW_SK: &str = "NewFakeSecretReturnedByCreateInTests0000";

#[derive(Clone)]
struct Reply {
    status: u16,
    body: String,
    delay: Duration,
    headers: Vec<(&'static str, String)>,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        body: body.to_string(),
        delay: Duration::ZERO,
        headers: Vec::new(),
    }
}

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    signature_valid: bool,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        signing::header_value(&self.headers, name)
    }

    fn signed_headers(&self) -> Vec<String> {
        Authorization::parse(self.header("authorization").unwrap())
            .unwrap()
            .signed_headers
    }
}

#[derive(Default)]
struct Script {
    replies: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Seen>>,
}

async fn serve_scripted(State(script): State<Arc<Script>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap().to_vec();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("").to_string()))
        .collect();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let signature_valid = signing::header_value(&headers, "authorization")
        .and_then(|header| Authorization::parse(header).ok())
        .and_then(|auth| {
            let expected = signing::expected_signature(
                &auth,
                parts.method.as_str(),
                &path,
                &query,
                &headers,
                &body,
                SK,
            )
            .ok()?;
            Some(signing::signatures_match(&expected, &auth.signature))
        })
        .unwrap_or(false);
    script.seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path,
        query,
        headers,
        body,
        signature_valid,
    });

    let next = script.replies.lock().unwrap().pop_front();
    let reply = next.unwrap_or_else(|| reply(599, r#"{"error_msg":"no scripted reply left"}"#));
    tokio::time::sleep(reply.delay).await;
    let mut response = Response::builder()
        .status(reply.status)
        .header("Content-Type", "application/json");
    for (name, value) in &reply.headers {
        response = response.header(*name, value);
    }
    response.body(Body::from(reply.body)).unwrap()
}

struct Harness {
    script: Arc<Script>,
    base_url: String,
    sleeps: Arc<Mutex<Vec<Duration>>>,
    observer: Arc<RecordingObserver>,
}

impl Harness {
    async fn start(replies: Vec<Reply>) -> Self {
        let script = Arc::new(Script::default());
        script.replies.lock().unwrap().extend(replies);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(serve_scripted).with_state(script.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            script,
            base_url,
            sleeps: Arc::default(),
            observer: RecordingObserver::new(),
        }
    }

    fn client_with(&self, retry: RetryPolicy, domain_id: Option<&str>) -> Client {
        let mut config = ClientConfig::new("cn-north-4");
        config.endpoints = EndpointOverrides {
            iam: Some(self.base_url.clone()),
            cts: Some(self.base_url.clone()),
            bss: Some(self.base_url.clone()),
        };
        config.domain_id = domain_id.map(str::to_string);
        config.retry = retry;
        let sleeps = self.sleeps.clone();
        let sleeper: Sleeper = Arc::new(move |duration| {
            sleeps.lock().unwrap().push(duration);
            Box::pin(async {})
        });
        let clock = ManualClock::new("2026-03-05T10:11:12Z".parse().unwrap());
        Client::builder(config, Credentials::new(AK, SecretKey::new(SK)), clock)
            .sleeper(sleeper)
            .observer(self.observer.clone())
            .build()
            .unwrap()
    }

    fn client(&self) -> Client {
        self.client_with(fast_retries(), Some("domain-1"))
    }

    fn seen(&self) -> Vec<Seen> {
        self.script.seen.lock().unwrap().clone()
    }

    fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(2),
        multiplier: 2.0,
        // Long enough that a loaded test machine does not time out instant replies.
        attempt_timeout: Duration::from_secs(2),
        deadline: Duration::from_secs(30),
    }
}

const CREATED: &str = r#"{"credential":{"access":"NEWAKEXAMPLE00000001","secret":"NewFakeSecretReturnedByCreateInTests0000","status":"active","user_id":"user-1","description":"akguard uid=r1 rotation=7","create_time":"2026-03-05T10:11:12.000000Z"}}"#;
const QUOTA: &str = r#"{"error":{"message":"akSkNumExceed","code":400,"title":"Bad Request"}}"#;
const SERVER_ERROR: &str = r#"{"error_code":"IAM.0006","error_msg":"unexpected error"}"#;
const THROTTLED: &str = r#"{"error_code":"IAM.0012","error_msg":"too many requests"}"#;
const LIST: &str = r#"{"credentials":[{"user_id":"user-1","access":"OLDAKEXAMPLE00000001","status":"active","create_time":"2026-01-01T00:00:00.000000Z","description":"workload key"},{"user_id":"user-1","access":"NEWAKEXAMPLE00000001","status":"active","create_time":"2026-03-05T10:11:12.000000Z","description":"akguard uid=r1 rotation=7"}]}"#;

#[tokio::test]
async fn create_sends_signed_json() {
    let harness = Harness::start(vec![reply(201, CREATED)]).await;
    let client = harness.client();

    let created = client.create_access_key("user-1", "akguard uid=r1 rotation=7").await.unwrap();

    assert_eq!(created.access_key_id, "NEWAKEXAMPLE00000001");
    assert_eq!(created.secret_access_key.expose(), NEW_SK);
    assert_eq!(created.status, AccessKeyStatus::Active);
    assert_eq!(created.create_time.to_string(), "2026-03-05T10:11:12Z");

    let seen = harness.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert!(request.signature_valid, "signature rejected");
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v3.0/OS-CREDENTIAL/credentials");
    assert_eq!(request.header("content-type"), Some("application/json;charset=utf8"));
    assert_eq!(request.header("x-sdk-date"), Some("20260305T101112Z"));
    assert_eq!(request.header("x-domain-id"), Some("domain-1"));
    assert_eq!(request.header("host"), Some(harness.base_url.trim_start_matches("http://")));
    assert_eq!(
        request.signed_headers(),
        vec!["content-type", "host", "x-domain-id", "x-sdk-date"]
    );
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["credential"]["user_id"], "user-1");
    assert_eq!(body["credential"]["description"], "akguard uid=r1 rotation=7");
}

#[tokio::test]
async fn list_show_update_delete_paths() {
    let harness = Harness::start(vec![
        reply(200, LIST),
        reply(200, r#"{"credential":{"user_id":"user-1","access":"OLDAKEXAMPLE00000001","status":"active","create_time":"2026-01-01T00:00:00.000000Z","last_use_time":"2026-03-01T08:00:00.123456Z","description":""}}"#),
        reply(200, r#"{"credential":{"user_id":"user-1","access":"OLDAKEXAMPLE00000001","status":"inactive","create_time":"2026-01-01T00:00:00.000000Z"}}"#),
        reply(204, ""),
    ])
    .await;
    let client = harness.client();

    let keys = client.list_access_keys(Some("user-1")).await.unwrap();
    let shown = client.show_access_key("OLDAKEXAMPLE00000001").await.unwrap();
    let updated = client
        .update_access_key("OLDAKEXAMPLE00000001", &AccessKeyUpdate::status(AccessKeyStatus::Inactive))
        .await
        .unwrap();
    client.delete_access_key("OLDAKEXAMPLE00000001").await.unwrap();

    assert_eq!(keys.len(), 2);
    assert_eq!(shown.last_use_time.unwrap().to_string(), "2026-03-01T08:00:00.123456Z");
    assert_eq!(shown.never_used(), Some(false));
    assert_eq!(updated.status, AccessKeyStatus::Inactive);
    assert_eq!(updated.description, "");

    let seen = harness.seen();
    let calls: Vec<(String, String, String)> = seen
        .iter()
        .map(|s| (s.method.clone(), s.path.clone(), s.query.clone()))
        .collect();
    let key_path = "/v3.0/OS-CREDENTIAL/credentials/OLDAKEXAMPLE00000001".to_string();
    assert_eq!(
        calls,
        vec![
            ("GET".into(), "/v3.0/OS-CREDENTIAL/credentials".into(), "user_id=user-1".into()),
            ("GET".into(), key_path.clone(), String::new()),
            ("PUT".into(), key_path.clone(), String::new()),
            ("DELETE".into(), key_path, String::new()),
        ]
    );
    assert!(seen.iter().all(|s| s.signature_valid), "a signature was rejected");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&seen[2].body).unwrap(),
        serde_json::json!({"credential": {"status": "inactive"}})
    );
    assert_eq!(seen[3].header("content-type"), None);
}

#[tokio::test]
async fn quota_exceeded_not_retried() {
    let harness = Harness::start(vec![reply(400, QUOTA)]).await;

    let error = harness.client().create_access_key("user-1", "m").await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::QuotaExceeded);
    assert_eq!(harness.seen().len(), 1);
}

#[tokio::test]
async fn transient_errors_retried_with_backoff() {
    let mut throttled = reply(429, THROTTLED);
    throttled.headers.push(("Retry-After", "1".to_string()));
    let harness = Harness::start(vec![throttled, reply(500, SERVER_ERROR), reply(503, "<html>busy</html>"), reply(200, LIST)]).await;

    let keys = harness.client().list_access_keys(None).await.unwrap();

    assert_eq!(keys.len(), 2);
    assert_eq!(harness.seen().len(), 4);
    let sleeps = harness.sleeps();
    assert_eq!(sleeps.len(), 3);
    assert!(sleeps[0] >= Duration::from_secs(1), "Retry-After ignored: {sleeps:?}");
    assert!(sleeps[1] >= Duration::from_millis(100), "{sleeps:?}");
    assert!(sleeps[1] <= Duration::from_millis(200), "{sleeps:?}");
    assert!(sleeps[2] >= Duration::from_millis(200), "{sleeps:?}");
    assert!(sleeps[2] <= Duration::from_millis(400), "{sleeps:?}");

    let calls = harness.observer.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].operation, "ListPermanentAccessKeys");
    assert_eq!(calls[0].attempts, 4);
    assert_eq!(calls[0].outcome(), "ok");
}

#[tokio::test]
async fn retries_stop_after_max_attempts() {
    let harness = Harness::start(vec![reply(500, SERVER_ERROR); 5]).await;

    let error = harness.client().show_access_key("AK1").await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Server);
    assert_eq!(harness.seen().len(), 4);
    assert_eq!(harness.observer.calls()[0].outcome(), "server");
}

#[tokio::test]
async fn create_after_server_error_is_ambiguous() {
    let harness = Harness::start(vec![reply(500, SERVER_ERROR), reply(201, CREATED)]).await;

    let error = harness.client().create_access_key("user-1", "m").await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Ambiguous);
    let Error::Ambiguous { cause, .. } = &error else { unreachable!() };
    assert_eq!(cause.kind(), ErrorKind::Server);
    assert_eq!(harness.seen().len(), 1, "create was repeated blind");
}

#[tokio::test]
async fn create_after_timeout_is_ambiguous() {
    let mut slow = reply(201, CREATED);
    slow.delay = Duration::from_secs(6);
    let harness = Harness::start(vec![slow, reply(201, CREATED)]).await;

    let error = harness.client().create_access_key("user-1", "m").await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Ambiguous);
    let Error::Ambiguous { cause, .. } = &error else { unreachable!() };
    assert_eq!(cause.kind(), ErrorKind::Timeout);
    assert_eq!(harness.seen().len(), 1, "create was repeated blind");
}

#[tokio::test]
async fn create_retried_after_throttling() {
    let harness = Harness::start(vec![reply(429, THROTTLED), reply(201, CREATED)]).await;

    let created = harness.client().create_access_key("user-1", "m").await.unwrap();

    assert_eq!(created.access_key_id, "NEWAKEXAMPLE00000001");
    assert_eq!(harness.seen().len(), 2);
}

#[tokio::test]
async fn read_after_timeout_retried() {
    let mut slow = reply(200, LIST);
    slow.delay = Duration::from_secs(6);
    let harness = Harness::start(vec![slow, reply(200, LIST)]).await;

    let keys = harness.client().list_access_keys(None).await.unwrap();

    assert_eq!(keys.len(), 2);
    assert_eq!(harness.seen().len(), 2);
}

#[tokio::test]
async fn find_key_by_marker_matches_description() {
    let harness = Harness::start(vec![reply(200, LIST), reply(200, LIST)]).await;
    let client = harness.client();

    let found = client.find_key_by_marker("user-1", "rotation=7").await.unwrap();
    let missing = client.find_key_by_marker("user-1", "rotation=8").await.unwrap();

    assert_eq!(found.len(), 1);
    assert_eq!(found[0].access_key_id, "NEWAKEXAMPLE00000001");
    assert!(missing.is_empty());
    assert_eq!(harness.seen()[0].query, "user_id=user-1");
}

#[tokio::test]
async fn gateway_rejection_is_unauthorized() {
    let harness = Harness::start(vec![reply(
        401,
        r#"{"error_msg":"Incorrect IAM authentication information: verify aksk signature fail","error_code":"APIGW.0301","request_id":"r1"}"#,
    )])
    .await;

    let error = harness.client().list_access_keys(None).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    assert_eq!(error.api().unwrap().code.as_deref(), Some("APIGW.0301"));
    assert_eq!(harness.seen().len(), 1);
}

#[tokio::test]
async fn unreachable_create_is_not_ambiguous() {
    // Bind, then drop, a listener so the port refuses connections.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut config = ClientConfig::new("cn-north-4");
    config.endpoints.iam = Some(format!("http://127.0.0.1:{port}"));
    config.retry = fast_retries();
    let sleeper: Sleeper = Arc::new(|_| Box::pin(async {}));
    let client = Client::builder(
        config,
        Credentials::new(AK, SecretKey::new(SK)),
        ManualClock::new(Timestamp::UNIX_EPOCH),
    )
    .sleeper(sleeper)
    .build()
    .unwrap();

    let error = client.create_access_key("user-1", "m").await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
}

#[tokio::test]
async fn identity_discovery_sequence() {
    let harness = Harness::start(vec![
        reply(200, r#"{"domains":[{"enabled":true,"id":"domain-9","name":"acme","description":"","links":{"self":"x"}}],"links":{"self":"x"}}"#),
        reply(200, r#"{"credential":{"user_id":"user-1","access":"HPUAZXGBQK1JEXAMPLE0","status":"active","create_time":"2026-01-01T00:00:00.000000Z","last_use_time":"2026-03-05T10:00:00.000000Z","description":""}}"#),
        reply(200, r#"{"user":{"enabled":true,"id":"user-1","domain_id":"domain-9","name":"ci-bot","is_domain_owner":false,"create_time":"2020-07-08 02:19:03.0","last_login_time":null,"access_mode":"programmatic"}}"#),
        reply(200, r#"{"projects":[{"id":"proj-cn4","name":"cn-north-4"},{"id":"proj-sub","name":"cn-north-4_sub"}]}"#),
    ])
    .await;
    let client = harness.client_with(fast_retries(), None);

    let identity = client.discover_identity().await.unwrap();
    let project_id = client.project_id("cn-north-4").await.unwrap();

    assert_eq!(identity.domain.id, "domain-9");
    assert_eq!(identity.domain.name, "acme");
    assert_eq!(identity.user.id, "user-1");
    assert_eq!(identity.user.name, "ci-bot");
    assert!(identity.user.enabled);
    assert!(!identity.user.is_domain_owner);
    assert_eq!(project_id, "proj-cn4");

    let seen = harness.seen();
    assert_eq!(seen[0].path, "/v3/auth/domains");
    assert_eq!(seen[0].header("x-domain-id"), None, "domain lookup must not send X-Domain-Id");
    assert_eq!(seen[1].path, "/v3.0/OS-CREDENTIAL/credentials/HPUAZXGBQK1JEXAMPLE0");
    assert_eq!(seen[1].header("x-domain-id"), Some("domain-9"));
    assert_eq!(seen[2].path, "/v3.0/OS-USER/users/user-1");
    assert_eq!(seen[3].path, "/v3/projects");
    assert_eq!(seen[3].query, "name=cn-north-4");
    assert!(seen.iter().all(|s| s.signature_valid));
}

#[tokio::test]
async fn project_lookup_wrong_region() {
    let harness = Harness::start(vec![
        reply(200, r#"{"projects":[]}"#),
        reply(200, r#"{"projects":[{"id":"a","name":"cn-north-4"},{"id":"b","name":"cn-north-4"}]}"#),
    ])
    .await;
    let client = harness.client();

    let none = client.project_id("cn-north-4").await.unwrap_err();
    let several = client.project_id("cn-north-4").await.unwrap_err();

    assert!(matches!(none, Error::WrongRegion { matches: 0, .. }), "{none}");
    assert!(matches!(several, Error::WrongRegion { matches: 2, .. }), "{several}");
    assert!(none.to_string().contains("region"), "{none}");
}

#[tokio::test]
async fn cts_traces_follow_markers() {
    let harness = Harness::start(vec![
        reply(200, r#"{"traces":[{"trace_id":"t3","code":"200","user":{"access_key_id":"LEAKEDAK"}},{"trace_id":"t2","code":403}],"meta_data":{"count":2,"marker":"t2"}}"#),
        reply(200, r#"{"traces":[{"trace_id":"t1","code":200,"response":{"code":"X","message":"y"}}],"meta_data":{"count":1,"marker":null}}"#),
    ])
    .await;
    let client = harness.client();
    let query = TraceQuery {
        access_key_id: Some("LEAKEDAK".into()),
        limit: Some(2),
        ..Default::default()
    };

    let (traces, truncated) = client.list_all_traces("proj-cn4", &query, 10).await.unwrap();

    assert!(!truncated);
    let ids: Vec<&str> = traces.iter().map(|t| t.trace_id.as_str()).collect();
    assert_eq!(ids, ["t3", "t2", "t1"]);
    assert_eq!(traces[1].status_code(), Some(403));
    let seen = harness.seen();
    assert_eq!(seen[0].path, "/v3/proj-cn4/traces");
    assert_eq!(seen[0].query, "access_key_id=LEAKEDAK&limit=2&trace_type=system");
    assert_eq!(seen[1].query, "access_key_id=LEAKEDAK&limit=2&next=t2&trace_type=system");
    assert_eq!(seen[0].header("x-project-id"), Some("proj-cn4"));
    assert_eq!(seen[0].header("x-domain-id"), None);
    assert!(seen.iter().all(|s| s.signature_valid));
}

#[tokio::test]
async fn bss_monthly_sum_query() {
    let harness = Harness::start(vec![reply(
        200,
        r#"{"total_count":1,"bill_sums":[{"bill_cycle":"2026-03","service_type_code":"hws.service.type.ecs","consume_amount":12.5}],"consume_amount":12.5,"currency":"CNY","measure_id":1}"#,
    )])
    .await;

    let summary = harness
        .client()
        .monthly_sum(&MonthlySumQuery {
            bill_cycle: "2026-03".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    assert_eq!(summary.consume_amount, Some(12.5));
    let seen = harness.seen();
    assert_eq!(seen[0].path, "/v2/bills/customer-bills/monthly-sum");
    assert_eq!(seen[0].query, "bill_cycle=2026-03");
    assert_eq!(seen[0].header("x-domain-id"), Some("domain-1"));
}

#[tokio::test]
async fn unreadable_create_is_ambiguous() {
    // A secret where a status belongs must not end up quoted in the error.
    let harness = Harness::start(vec![reply(
        201,
        r#"{"credential":{"access":"AK2","secret":"x","status":"NewFakeSecretReturnedByCreateInTests0000","user_id":"u","create_time":"2026-03-05T10:11:12Z"}}"#,
    )])
    .await;

    let error = harness.client().create_access_key("user-1", "m").await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Ambiguous, "unreadable create must be ambiguous");
    let Error::Ambiguous { cause, .. } = &error else { unreachable!() };
    assert_eq!(cause.kind(), ErrorKind::InvalidResponse);
    assert!(!format!("{error} {error:?}").contains(NEW_SK), "secret quoted in error");
    assert_eq!(harness.observer.calls()[0].outcome(), "ambiguous");
}

#[tokio::test]
async fn path_segments_percent_encoded() {
    let harness = Harness::start(vec![reply(404, r#"{"error_code":"IAM.0004","error_msg":"not found"}"#)]).await;

    let error = harness.client().show_access_key("a b/c").await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::NotFound);
    let seen = harness.seen();
    assert_eq!(seen[0].path, "/v3.0/OS-CREDENTIAL/credentials/a%20b%2Fc");
    assert!(seen[0].signature_valid);
}

#[tokio::test]
async fn security_token_sent_and_signed() {
    let harness = Harness::start(vec![reply(200, LIST)]).await;
    let mut credentials = Credentials::new(AK, SecretKey::new(SK));
    credentials.security_token = Some(SecretKey::new("FakeSecurityTokenForScriptedTest"));
    let mut config = ClientConfig::new("cn-north-4");
    config.endpoints.iam = Some(harness.base_url.clone());
    let client = Client::new(config, credentials, ManualClock::new(Timestamp::UNIX_EPOCH)).unwrap();

    client.list_access_keys(None).await.unwrap();

    let seen = harness.seen();
    assert_eq!(seen[0].header("x-security-token"), Some("FakeSecurityTokenForScriptedTest"));
    assert!(seen[0].signed_headers().contains(&"x-security-token".to_string()));
    assert!(seen[0].signature_valid);
}

#[tokio::test]
async fn unreadable_read_is_invalid_response() {
    let harness = Harness::start(vec![reply(200, "<html>proxy login</html>")]).await;

    let error = harness.client().list_access_keys(None).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::InvalidResponse, "{error}");
    assert_eq!(harness.seen().len(), 1, "parse failure was retried");
    assert_eq!(harness.observer.calls()[0].outcome(), "invalid_response");
}

#[tokio::test]
async fn user_security_controls() {
    let harness = Harness::start(vec![
        reply(200, r#"{"user":{"id":"user-1","name":"app","enabled":false,"domain_id":"domain-1","access_mode":"default"}}"#),
        reply(404, r#"{"error_code":"IAM.0004","error_msg":"Could not find login protect."}"#),
        reply(200, r#"{"login_protect":{"user_id":"user-1","enabled":true,"verification_method":"email"}}"#),
        reply(200, r#"{"login_protects":[{"user_id":"user-1","enabled":true,"verification_method":"email"}]}"#),
        reply(200, r#"{"virtual_mfa_devices":[{"user_id":"user-2","serial_number":"iam/mfa/user-2"}]}"#),
        reply(404, r#"{"error_code":"IAM.0004","error_msg":"no device"}"#),
    ])
    .await;
    let client = harness.client();

    let user = client.set_user_enabled("user-1", false).await.unwrap();
    let before = client.show_login_protect("user-1").await.unwrap();
    let updated = client.update_login_protect("user-1", true, VerificationMethod::Email).await.unwrap();
    let protects = client.list_login_protects().await.unwrap();
    let devices = client.list_mfa_devices().await.unwrap();
    let device = client.show_mfa_device("user-1").await.unwrap();
    let rejected = client.update_login_protect("user-1", false, VerificationMethod::None).await;

    assert!(!user.enabled);
    assert_eq!(before, None);
    assert!(updated.is_on());
    assert_eq!(protects.len(), 1);
    assert_eq!(devices[0].serial_number, "iam/mfa/user-2");
    assert_eq!(device, None);
    assert!(matches!(rejected, Err(Error::Config { field: "verification_method", .. })));

    let seen = harness.seen();
    let calls: Vec<(&str, &str)> = seen.iter().map(|s| (s.method.as_str(), s.path.as_str())).collect();
    assert_eq!(
        calls,
        vec![
            ("PUT", "/v3.0/OS-USER/users/user-1"),
            ("GET", "/v3.0/OS-USER/users/user-1/login-protect"),
            ("PUT", "/v3.0/OS-USER/users/user-1/login-protect"),
            ("GET", "/v3.0/OS-USER/login-protects"),
            ("GET", "/v3.0/OS-MFA/virtual-mfa-devices"),
            ("GET", "/v3.0/OS-MFA/users/user-1/virtual-mfa-device"),
        ]
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&seen[0].body).unwrap(),
        serde_json::json!({"user": {"enabled": false}})
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&seen[2].body).unwrap(),
        serde_json::json!({"login_protect": {"enabled": true, "verification_method": "email"}})
    );
    assert!(seen.iter().all(|s| s.signature_valid));
}

#[tokio::test]
async fn shared_http_client_reused() {
    let harness = Harness::start(vec![reply(200, LIST), reply(200, LIST)]).await;
    let http = akguard_hwcloud::http_client(Duration::from_secs(1)).unwrap();
    let build = || {
        let mut config = ClientConfig::new("cn-north-4");
        config.endpoints.iam = Some(harness.base_url.clone());
        Client::builder(config, Credentials::new(AK, SecretKey::new(SK)), ManualClock::new(Timestamp::UNIX_EPOCH))
            .http_client(http.clone())
            .build()
            .unwrap()
    };

    build().list_access_keys(None).await.unwrap();
    build().list_access_keys(None).await.unwrap();

    assert_eq!(harness.seen().len(), 2);
    assert!(harness.seen().iter().all(|s| s.signature_valid));
}
