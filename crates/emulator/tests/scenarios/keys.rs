//! IAM permanent access keys: create, list, show, update, delete, quota and authorization.

use jiff::SignedDuration;
use serde_json::json;

use crate::support::world;

fn is_key_time(value: &str) -> bool {
    // YYYY-MM-DDTHH:mm:ss.ssssssZ
    value.len() == 27 && value.ends_with('Z') && value.as_bytes()[19] == b'.' && value.parse::<jiff::Timestamp>().is_ok()
}

#[tokio::test]
async fn create_returns_real_formats() {
    let w = world().await;
    let app = w.credentials("app");

    let reply = w.create_key(&app, &w.user_id("app"), "second").await;

    let credential = &reply.body["credential"];
    let access = credential["access"].as_str().unwrap();
    let secret = credential["secret"].as_str().unwrap();
    assert_eq!(reply.status, 201);
    assert_eq!(access.len(), 20);
    assert!(access.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    assert_eq!(secret.len(), 40);
    assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(credential["status"], "active");
    assert_eq!(credential["description"], "second");
    assert_eq!(credential["user_id"], w.user_id("app"));
    assert!(is_key_time(credential["create_time"].as_str().unwrap()), "{credential}");
}

#[tokio::test]
async fn quota_error_is_keystone_shape() {
    let w = world().await;
    let app = w.credentials("app");
    let user = w.user_id("app");
    assert_eq!(w.create_key(&app, &user, "second").await.status, 201);

    let third = w.create_key(&app, &user, "third").await;

    assert_eq!(third.status, 400);
    assert_eq!(
        third.body,
        json!({"error": {"message": "akSkNumExceed", "code": 400, "title": "Bad Request"}})
    );
}

#[tokio::test]
async fn quota_counts_inactive_keys() {
    let w = world().await;
    let app = w.credentials("app");
    let user = w.user_id("app");
    let second = w.create_key(&app, &user, "").await;
    let second_ak = second.body["credential"]["access"].as_str().unwrap().to_string();
    w.update_key(&app, &second_ak, json!({"status": "inactive"})).await;

    let third = w.create_key(&app, &user, "").await;

    assert_eq!(third.body["error"]["message"], "akSkNumExceed");
}

#[tokio::test]
async fn list_own_keys_by_default() {
    let w = world().await;
    let app = w.credentials("app");

    let reply = w.list_keys(&app, None).await;

    let keys = reply.body["credentials"].as_array().unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["access"], app.access_key_id.as_str());
    assert!(keys[0].get("secret").is_none());
    assert!(keys[0].get("last_use_time").is_none());
}

#[tokio::test]
async fn unused_key_last_use_is_create_time() {
    let w = world().await;
    let app = w.credentials("app");
    let created = w.create_key(&app, &w.user_id("app"), "").await;
    let new_ak = created.body["credential"]["access"].as_str().unwrap();
    w.clock.advance(SignedDuration::from_hours(2));

    let shown = w.show_key(&app, new_ak).await;

    let credential = &shown.body["credential"];
    assert_eq!(credential["last_use_time"], credential["create_time"]);
}

#[tokio::test]
async fn last_use_time_follows_use() {
    let w = world().await;
    let app = w.credentials("app");
    let created = w.create_key(&app, &w.user_id("app"), "").await;
    let new_credentials = akguard_hwcloud::Credentials::new(
        created.body["credential"]["access"].as_str().unwrap(),
        akguard_hwcloud::SecretKey::new(created.body["credential"]["secret"].as_str().unwrap()),
    );
    w.clock.advance(SignedDuration::from_hours(3));
    let used_at = w.emulator.now();
    w.list_keys(&new_credentials, None).await;
    w.clock.advance(SignedDuration::from_hours(1));

    let shown = w.show_key(&app, &new_credentials.access_key_id).await;

    assert_eq!(
        shown.body["credential"]["last_use_time"],
        akguard_emulator::ids::format_key_time(used_at)
    );
}

#[tokio::test]
async fn update_status_and_description() {
    let w = world().await;
    let owner = w.credentials("owner");
    let app = w.credentials("app");

    let reply = w
        .update_key(&owner, &app.access_key_id, json!({"status": "inactive", "description": "retired"}))
        .await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["credential"]["status"], "inactive");
    assert_eq!(reply.body["credential"]["description"], "retired");
    assert_eq!(reply.body["credential"]["access"], app.access_key_id.as_str());
}

#[tokio::test]
async fn update_rejects_bad_status() {
    let w = world().await;
    let app = w.credentials("app");

    let reply = w.update_key(&app, &app.access_key_id, json!({"status": "paused"})).await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), "IAM.0011");
}

#[tokio::test]
async fn update_needs_a_field() {
    let w = world().await;
    let app = w.credentials("app");

    let reply = w.update_key(&app, &app.access_key_id, json!({})).await;

    assert_eq!(reply.status, 400);
}

#[tokio::test]
async fn create_rejects_malformed_body() {
    let w = world().await;
    let app = w.credentials("app");

    let reply = w
        .call(&app, "POST", "/v3.0/OS-CREDENTIAL/credentials", "", Some(json!({"user_id": "x"})))
        .await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), "IAM.0011");
}

#[tokio::test]
async fn delete_then_show_is_not_found() {
    let w = world().await;
    let owner = w.credentials("owner");
    let app = w.credentials("app");

    let deleted = w.delete_key(&owner, &app.access_key_id).await;
    let shown = w.show_key(&owner, &app.access_key_id).await;

    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, serde_json::Value::Null);
    assert_eq!(shown.status, 404);
    assert_eq!(shown.error_code(), "IAM.0004");
}

#[tokio::test]
async fn other_users_keys_forbidden() {
    let w = world().await;
    let app = w.credentials("app");
    let other = w.credentials("other");
    let other_id = w.user_id("other");

    let list = w.list_keys(&app, Some(&other_id)).await;
    let show = w.show_key(&app, &other.access_key_id).await;
    let create = w.create_key(&app, &other_id, "").await;
    let update = w.update_key(&app, &other.access_key_id, json!({"status": "inactive"})).await;
    let delete = w.delete_key(&app, &other.access_key_id).await;

    for reply in [&list, &show, &create, &update, &delete] {
        assert_eq!(reply.status, 403, "{reply:?}");
        assert_eq!(reply.error_code(), "IAM.0002", "{reply:?}");
    }
}

#[tokio::test]
async fn admin_manages_other_users_keys() {
    let w = world().await;
    let owner = w.credentials("owner");

    let list = w.list_keys(&owner, Some(&w.user_id("app"))).await;
    let create = w.create_key(&owner, &w.user_id("app"), "by admin").await;

    assert_eq!(list.status, 200);
    assert_eq!(create.status, 201);
}

#[tokio::test]
async fn admin_unknown_user_not_found() {
    let w = world().await;
    let owner = w.credentials("owner");

    let reply = w.list_keys(&owner, Some("0123456789abcdef0123456789abcdef")).await;

    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn secret_only_in_create_response() {
    let w = world().await;
    let app = w.credentials("app");
    let created = w.create_key(&app, &w.user_id("app"), "").await;
    let new_ak = created.body["credential"]["access"].as_str().unwrap().to_string();
    let new_sk = created.body["credential"]["secret"].as_str().unwrap().to_string();

    let bodies = [
        w.list_keys(&app, None).await.body,
        w.show_key(&app, &new_ak).await.body,
        w.update_key(&app, &new_ak, json!({"description": "x"})).await.body,
    ];

    for body in bodies {
        assert!(!body.to_string().contains(&new_sk), "secret key in a response");
        assert!(!body.to_string().contains(app.secret_access_key.expose()), "secret key in a response");
    }
}
