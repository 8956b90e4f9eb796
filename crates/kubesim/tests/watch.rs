//! Watches: kube-rs watcher and reflector, replay from a resourceVersion, bookmarks,
//! timeoutSeconds, 410 Gone, streaming lists and selector watches.

mod common;

use akguard_kubesim::SimConfig;
use common::{client, eventually, raw, start, start_with};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn secret(name: &str, labels: Value) -> Secret {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).unwrap()
}

fn events(body: &str) -> Vec<Value> {
    body.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("each line is one JSON event")).collect()
}

fn types(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["type"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn reflector_follows_changes() {
    let sim = start().await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));
    secrets.create(&PostParams::default(), &secret("before", json!({}))).await.unwrap();
    let (reader, writer) = reflector::store();
    let stream = reflector(writer, watcher(secrets.clone(), watcher::Config::default())).applied_objects();
    let task = tokio::spawn(stream.for_each(|_| async {}));

    tokio::time::timeout(Duration::from_secs(5), reader.wait_until_ready()).await.unwrap().unwrap();
    secrets.create(&PostParams::default(), &secret("after", json!({}))).await.unwrap();
    secrets.delete("before", &DeleteParams::default()).await.unwrap();
    let names = eventually("reflector to see the changes", Duration::from_secs(5), || {
        let mut names: Vec<String> = reader.state().iter().map(|s| s.metadata.name.clone().unwrap()).collect();
        names.sort();
        async move { (names == ["after"]).then_some(names) }
    })
    .await;

    assert_eq!(names, vec!["after"]);
    task.abort();
    sim.shutdown().await;
}

#[tokio::test]
async fn streaming_list_watcher_works() {
    let sim = start().await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));
    secrets.create(&PostParams::default(), &secret("a", json!({}))).await.unwrap();
    let (reader, writer) = reflector::store();
    let stream = reflector(writer, watcher(secrets.clone(), watcher::Config::default().streaming_lists())).applied_objects();
    let task = tokio::spawn(stream.for_each(|_| async {}));

    tokio::time::timeout(Duration::from_secs(5), reader.wait_until_ready()).await.unwrap().unwrap();
    secrets.create(&PostParams::default(), &secret("b", json!({}))).await.unwrap();
    eventually("streaming watcher to see b", Duration::from_secs(5), || {
        let count = reader.state().len();
        async move { (count == 2).then_some(()) }
    })
    .await;

    task.abort();
    sim.shutdown().await;
}

#[tokio::test]
async fn watch_replays_from_resource_version() {
    let sim = start().await;
    let client = client(&sim);
    let secrets: Api<Secret> = Api::default_namespaced(client.clone());
    let start_rv = secrets.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    secrets.create(&PostParams::default(), &secret("a", json!({}))).await.unwrap();
    secrets.patch("a", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}}))).await.unwrap();
    secrets.delete("a", &DeleteParams::default()).await.unwrap();

    let path = format!("/api/v1/namespaces/default/secrets?watch=true&resourceVersion={start_rv}&timeoutSeconds=1");
    let (code, body) = raw(&client, "GET", &path, "application/json", "").await;
    let events = events(&body);

    assert_eq!(code, 200);
    assert_eq!(types(&events), vec!["ADDED", "MODIFIED", "DELETED"]);
    let rvs: Vec<u64> = events.iter().map(|e| e["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap()).collect();
    assert!(rvs.windows(2).all(|w| w[0] < w[1]), "resourceVersions increase: {rvs:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn bookmarks_only_when_allowed() {
    let sim = start_with(SimConfig { bookmark_interval: Duration::from_millis(100), ..SimConfig::default() }).await;
    let client = client(&sim);
    let rv = Api::<Secret>::default_namespaced(client.clone()).list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();

    let base = format!("/api/v1/namespaces/default/secrets?watch=true&resourceVersion={rv}&timeoutSeconds=1");
    let (_, with) = raw(&client, "GET", &format!("{base}&allowWatchBookmarks=true"), "application/json", "").await;
    let (_, without) = raw(&client, "GET", &base, "application/json", "").await;

    let with = events(&with);
    assert!(with.len() >= 3, "about ten bookmarks in one second, got {}", with.len());
    assert!(types(&with).iter().all(|t| t == "BOOKMARK"));
    assert_eq!(with[0]["object"]["kind"], json!("Secret"));
    assert_eq!(with[0]["object"]["metadata"]["resourceVersion"], json!(rv));
    assert!(events(&without).is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn timeout_seconds_ends_watch() {
    let sim = start().await;
    let client = client(&sim);
    let started = Instant::now();

    let (code, _) = raw(&client, "GET", "/api/v1/namespaces/default/secrets?watch=true&timeoutSeconds=1", "application/json", "").await;

    assert_eq!(code, 200);
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900), "watch lasted {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "watch lasted {elapsed:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn watch_is_chunked_json() {
    let sim = start().await;
    let client = client(&sim);
    let request = http::Request::get("/api/v1/namespaces/default/secrets?watch=true&timeoutSeconds=1").body(Vec::new()).unwrap();

    let response = client.send(request.map(kube::client::Body::from)).await.unwrap();

    assert_eq!(response.headers().get("transfer-encoding").and_then(|v| v.to_str().ok()), Some("chunked"));
    assert_eq!(response.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
    sim.shutdown().await;
}

#[tokio::test]
async fn compacted_resource_version_is_gone() {
    let sim = start_with(SimConfig { watch_history: 5, ..SimConfig::default() }).await;
    let client = client(&sim);
    let secrets: Api<Secret> = Api::default_namespaced(client.clone());
    let page = {
        for i in 0..3 {
            secrets.create(&PostParams::default(), &secret(&format!("s{i}"), json!({}))).await.unwrap();
        }
        secrets.list(&ListParams::default().limit(1)).await.unwrap()
    };
    for i in 3..12 {
        secrets.create(&PostParams::default(), &secret(&format!("s{i}"), json!({}))).await.unwrap();
    }

    let (code, body) = raw(&client, "GET", "/api/v1/namespaces/default/secrets?watch=true&resourceVersion=1&timeoutSeconds=1", "application/json", "").await;
    let events = events(&body);
    let token = page.metadata.continue_.unwrap();
    let expired = secrets.list(&ListParams::default().limit(1).continue_token(&token)).await;

    assert_eq!(code, 200);
    assert_eq!(types(&events), vec!["ERROR"]);
    assert_eq!(events[0]["object"]["code"], json!(410));
    assert_eq!(events[0]["object"]["reason"], json!("Expired"));
    assert!(matches!(expired, Err(kube::Error::Api(s)) if s.code == 410));
    sim.shutdown().await;
}

#[tokio::test]
async fn watcher_recovers_from_gone() {
    let sim = start_with(SimConfig { watch_history: 3, ..SimConfig::default() }).await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));
    let (reader, writer) = reflector::store();
    let stream = reflector(writer, watcher(secrets.clone(), watcher::Config::default())).applied_objects();
    let task = tokio::spawn(stream.for_each(|_| async {}));
    tokio::time::timeout(Duration::from_secs(5), reader.wait_until_ready()).await.unwrap().unwrap();

    for i in 0..20 {
        secrets.create(&PostParams::default(), &secret(&format!("s{i}"), json!({}))).await.unwrap();
    }
    eventually("reflector to hold all 20 secrets", Duration::from_secs(10), || {
        let count = reader.state().len();
        async move { (count == 20).then_some(()) }
    })
    .await;

    task.abort();
    sim.shutdown().await;
}

#[tokio::test]
async fn selector_watch_sees_objects_leave() {
    let sim = start().await;
    let client = client(&sim);
    let secrets: Api<Secret> = Api::default_namespaced(client.clone());
    let rv = secrets.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    secrets.create(&PostParams::default(), &secret("a", json!({"app": "web"}))).await.unwrap();
    secrets.create(&PostParams::default(), &secret("b", json!({"app": "db"}))).await.unwrap();
    secrets.patch("a", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"app": "api"}}}))).await.unwrap();

    let path = format!("/api/v1/namespaces/default/secrets?watch=true&resourceVersion={rv}&timeoutSeconds=1&labelSelector=app%3Dweb");
    let (_, body) = raw(&client, "GET", &path, "application/json", "").await;
    let events = events(&body);

    assert_eq!(types(&events), vec!["ADDED", "DELETED"]);
    assert!(events.iter().all(|e| e["object"]["metadata"]["name"] == json!("a")));
    sim.shutdown().await;
}

#[tokio::test]
async fn watch_without_resource_version_lists_first() {
    let sim = start().await;
    let client = client(&sim);
    let secrets: Api<Secret> = Api::default_namespaced(client.clone());
    secrets.create(&PostParams::default(), &secret("a", json!({}))).await.unwrap();

    let (_, body) = raw(&client, "GET", "/api/v1/namespaces/default/secrets?watch=true&timeoutSeconds=1", "application/json", "").await;

    assert_eq!(types(&events(&body)), vec!["ADDED"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_open_watches() {
    let sim = start().await;
    let client = client(&sim);
    let watch = tokio::spawn(async move { raw(&client, "GET", "/api/v1/namespaces/default/secrets?watch=true", "application/json", "").await });
    tokio::time::sleep(Duration::from_millis(200)).await;

    tokio::time::timeout(Duration::from_secs(6), sim.shutdown()).await.expect("shutdown finishes");
    let result = tokio::time::timeout(Duration::from_secs(5), watch).await;

    assert!(result.is_ok(), "the open watch ended with the server");
}

#[tokio::test]
async fn metadata_watcher_gets_partial_objects() {
    use kube::core::PartialObjectMeta;
    let sim = start().await;
    let client = client(&sim);
    let secrets: Api<Secret> = Api::default_namespaced(client.clone());
    let full: Secret = serde_json::from_value(json!({"metadata": {"name": "a", "labels": {"app": "web"}}, "stringData": {"k": "v"}})).unwrap();
    secrets.create(&PostParams::default(), &full).await.unwrap();
    let metadata: Api<PartialObjectMeta<Secret>> = Api::default_namespaced(client.clone());
    let (reader, writer) = reflector::store();
    let stream = reflector(writer, watcher(metadata.clone(), watcher::Config::default())).applied_objects();
    let task = tokio::spawn(stream.for_each(|_| async {}));

    tokio::time::timeout(Duration::from_secs(5), reader.wait_until_ready()).await.unwrap().unwrap();
    let listed = metadata.list(&ListParams::default()).await.unwrap();
    let (_, raw_body) = raw(&client, "GET", "/api/v1/namespaces/default/secrets/a", "application/json", "").await;
    let request = http::Request::get("/api/v1/namespaces/default/secrets")
        .header("accept", "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")
        .body(Vec::new())
        .unwrap();
    let partial_text = client.request_text(request).await.unwrap();

    assert_eq!(reader.state().len(), 1);
    assert_eq!(listed.items[0].metadata.labels.as_ref().unwrap()["app"], "web");
    assert!(raw_body.contains("\"data\""), "a plain GET still returns data");
    assert!(!partial_text.contains("\"data\""), "{partial_text}");
    assert!(partial_text.contains("PartialObjectMetadataList"), "{partial_text}");
    task.abort();
    sim.shutdown().await;
}
