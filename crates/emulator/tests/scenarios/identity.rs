//! Identity discovery from an AK/SK alone.

use crate::support::world;

#[tokio::test]
async fn auth_domains_names_account() {
    let w = world().await;

    let reply = w.call(&w.credentials("app"), "GET", "/v3/auth/domains", "", None).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["domains"][0]["id"], w.account.domain_id.as_str());
    assert_eq!(reply.body["domains"][0]["name"], "acme");
}

#[tokio::test]
async fn projects_by_region_name() {
    let w = world().await;

    let reply = w
        .call(&w.credentials("app"), "GET", "/v3/projects", "name=cn-north-4", None)
        .await;

    let projects = reply.body["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0]["id"], w.account.project_id("cn-north-4").unwrap());
    assert_eq!(projects[0]["name"], "cn-north-4");
}

#[tokio::test]
async fn unknown_region_has_no_project() {
    let w = world().await;

    let reply = w
        .call(&w.credentials("app"), "GET", "/v3/projects", "name=mars-1", None)
        .await;

    assert_eq!(reply.body["projects"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn show_user_details() {
    let w = world().await;
    let path = format!("/v3.0/OS-USER/users/{}", w.user_id("app"));

    let reply = w.call(&w.credentials("app"), "GET", &path, "", None).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["user"]["name"], "app");
    assert_eq!(reply.body["user"]["is_domain_owner"], false);
    assert_eq!(reply.body["user"]["domain_id"], w.account.domain_id.as_str());
}

#[tokio::test]
async fn keystone_show_user() {
    let w = world().await;
    let path = format!("/v3/users/{}", w.user_id("app"));

    let reply = w.call(&w.credentials("owner"), "GET", &path, "", None).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["user"]["enabled"], true);
}

#[tokio::test]
async fn other_user_details_forbidden() {
    let w = world().await;
    let path = format!("/v3.0/OS-USER/users/{}", w.user_id("other"));

    let reply = w.call(&w.credentials("app"), "GET", &path, "", None).await;

    assert_eq!(reply.status, 403);
}

#[tokio::test]
async fn unknown_path_not_found() {
    let w = world().await;

    let reply = w.call(&w.credentials("app"), "GET", "/v3/nothing", "", None).await;

    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code(), "APIGW.0101");
}

#[tokio::test]
async fn wrong_method_not_found() {
    let w = world().await;

    let reply = w
        .call(&w.credentials("app"), "PATCH", "/v3.0/OS-CREDENTIAL/credentials", "", None)
        .await;

    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code(), "APIGW.0101");
}

#[tokio::test]
async fn responses_carry_request_id() {
    let w = world().await;
    let app = w.credentials("app");
    let mut request = akguard_hwcloud::signing::SignableRequest {
        method: "GET",
        path: "/v3/auth/domains",
        query: "",
        headers: Vec::new(),
        body: b"",
    };
    let authorization = akguard_hwcloud::signing::sign(&mut request, &app, w.emulator.now());
    let mut headers = request.headers;
    headers.push(("Authorization".into(), authorization));

    let response = w
        .try_send_raw("GET", "/v3/auth/domains", "", headers, Vec::new())
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["x-request-id"].len(), 32);
}
