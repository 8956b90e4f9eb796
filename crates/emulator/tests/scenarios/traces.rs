//! CTS traces: what is recorded and the ListTraces query.

use jiff::SignedDuration;

use crate::support::world;

#[tokio::test]
async fn create_records_trace() {
    let w = world().await;
    let app = w.credentials("app");
    let created = w.create_key(&app, &w.user_id("app"), "").await;
    let new_ak = created.body["credential"]["access"].as_str().unwrap();

    let traces = w.emulator.traces();

    let trace = traces.last().unwrap();
    let user = trace.user.as_ref().unwrap();
    assert_eq!(trace.trace_name, "createCredential");
    assert_eq!(trace.service_type, "IAM");
    assert_eq!(trace.code, "201");
    assert_eq!(trace.trace_rating, "normal");
    assert_eq!(trace.resource_id, new_ak);
    assert_eq!(trace.source_ip, "127.0.0.1");
    assert_eq!(trace.time, w.emulator.now().as_millisecond());
    assert_eq!(user.access_key_id, app.access_key_id);
    assert_eq!(user.name, "app");
    assert_eq!(user.domain.id, w.account.domain_id);
}

#[tokio::test]
async fn rejected_call_recorded_as_warning() {
    let w = world().await;
    w.list_keys(&w.credentials("app"), Some(&w.user_id("other"))).await;

    let traces = w.emulator.traces();

    let trace = traces.last().unwrap();
    assert_eq!(trace.trace_name, "listCredentials");
    assert_eq!(trace.code, "403");
    assert_eq!(trace.trace_rating, "warning");
    assert_eq!(trace.message, "IAM.0002");
}

#[tokio::test]
async fn every_key_operation_named() {
    let w = world().await;
    let app = w.credentials("app");
    let created = w.create_key(&app, &w.user_id("app"), "").await;
    let new_ak = created.body["credential"]["access"].as_str().unwrap().to_string();
    w.list_keys(&app, None).await;
    w.show_key(&app, &new_ak).await;
    w.update_key(&app, &new_ak, serde_json::json!({"status": "inactive"})).await;
    w.delete_key(&app, &new_ak).await;

    let names: Vec<String> = w.emulator.traces().into_iter().map(|t| t.trace_name).collect();

    assert_eq!(
        names,
        ["createCredential", "listCredentials", "showCredential", "updateCredential", "deleteCredential"]
    );
}

#[tokio::test]
async fn list_traces_filters_by_access_key() {
    let w = world().await;
    let app = w.credentials("app");
    let owner = w.credentials("owner");
    w.list_keys(&app, None).await;
    w.list_keys(&owner, None).await;
    w.clock.advance(SignedDuration::from_secs(1));
    let project = w.account.project_id("ap-southeast-1").unwrap();
    let query = format!("trace_type=system&access_key_id={}", app.access_key_id);

    let reply = w.call(&owner, "GET", &format!("/v3/{project}/traces"), &query, None).await;

    let traces = reply.body["traces"].as_array().unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["meta_data"]["count"], 1);
    assert_eq!(traces[0]["user"]["access_key_id"], app.access_key_id.as_str());
    assert_eq!(traces[0]["code"], "200");
    assert!(traces[0]["time"].is_i64());
}

#[tokio::test]
async fn list_traces_pages_with_marker() {
    let w = world().await;
    let app = w.credentials("app");
    for _ in 0..3 {
        w.list_keys(&app, None).await;
        w.clock.advance(SignedDuration::from_secs(1));
    }
    let project = w.account.project_id("ap-southeast-1").unwrap();
    let path = format!("/v3/{project}/traces");
    let base = format!("trace_type=system&trace_name=listCredentials&limit=2&access_key_id={}", app.access_key_id);

    let first = w.call(&app, "GET", &path, &base, None).await;
    let marker = first.body["meta_data"]["marker"].as_str().unwrap().to_string();
    let second = w.call(&app, "GET", &path, &format!("{base}&next={marker}"), None).await;

    assert_eq!(first.body["meta_data"]["count"], 2);
    assert_eq!(second.body["meta_data"]["count"], 1);
    assert!(second.body["meta_data"]["marker"].is_null());
}

#[tokio::test]
async fn list_traces_time_window() {
    let w = world().await;
    let app = w.credentials("app");
    w.list_keys(&app, None).await;
    let before = w.emulator.now().as_millisecond();
    w.clock.advance(SignedDuration::from_mins(10));
    w.show_key(&app, &app.access_key_id).await;
    w.clock.advance(SignedDuration::from_secs(1));
    let project = w.account.project_id("ap-southeast-1").unwrap();
    let query = format!("trace_type=system&from={before}&service_type=IAM");

    let reply = w.call(&app, "GET", &format!("/v3/{project}/traces"), &query, None).await;

    let traces = reply.body["traces"].as_array().unwrap();
    assert_eq!(traces.len(), 1);
    assert_eq!(traces[0]["trace_name"], "showCredential");
}

#[tokio::test]
async fn iam_traces_only_in_trace_region() {
    let w = world().await;
    let app = w.credentials("app");
    w.list_keys(&app, None).await;
    w.clock.advance(SignedDuration::from_secs(1));
    let project = w.account.project_id("cn-north-4").unwrap();

    let reply = w
        .call(&app, "GET", &format!("/v3/{project}/traces"), "trace_type=system&service_type=IAM", None)
        .await;

    assert_eq!(reply.body["meta_data"]["count"], 0);
}

#[tokio::test]
async fn list_traces_rejects_large_limit() {
    let w = world().await;
    let project = w.account.project_id("ap-southeast-1").unwrap();

    let reply = w
        .call(&w.credentials("app"), "GET", &format!("/v3/{project}/traces"), "trace_type=system&limit=201", None)
        .await;

    assert_eq!(reply.status, 400);
}

#[tokio::test]
async fn foreign_project_forbidden() {
    let w = world().await;

    let reply = w
        .call(
            &w.credentials("app"),
            "GET",
            "/v3/0123456789abcdef0123456789abcdef/traces",
            "trace_type=system",
            None,
        )
        .await;

    assert_eq!(reply.status, 403);
}

#[tokio::test]
async fn traces_never_hold_secrets() {
    let w = world().await;
    let app = w.credentials("app");
    let created = w.create_key(&app, &w.user_id("app"), "").await;
    let new_sk = created.body["credential"]["secret"].as_str().unwrap().to_string();

    let text = serde_json::to_string(&w.emulator.traces()).unwrap();

    assert!(!text.contains(&new_sk), "secret key in traces");
    assert!(!text.contains(app.secret_access_key.expose()), "secret key in traces");
}

#[tokio::test]
async fn invalid_query_gets_json_error() {
    let w = world().await;
    let project = w.account.project_id("ap-southeast-1").unwrap();

    let reply = w
        .call(&w.credentials("app"), "GET", &format!("/v3/{project}/traces"), "trace_type=system&limit=ten", None)
        .await;

    assert_eq!(reply.status, 400);
    assert!(reply.body["error_msg"].as_str().unwrap().contains("limit"));
}
