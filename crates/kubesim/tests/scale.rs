//! Measurements, not assertions: start time and behaviour with 10,000 objects. Run with
//! `cargo test -p akguard-kubesim --test scale -- --ignored --nocapture`; the numbers
//! depend on the machine and on the debug build.

mod common;

use common::{client, start};
use futures::StreamExt;
use futures::stream;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;
use std::time::{Duration, Instant};

/// Resident memory of this test process (simulator and client together), from /proc.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

#[tokio::test]
#[ignore = "measurement; prints numbers"]
async fn measure_start_time() {
    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let sim = start().await;
        let client = client(&sim);
        kube::api::Api::<Secret>::default_namespaced(client).list(&ListParams::default()).await.unwrap();
        samples.push(started.elapsed());
        sim.shutdown().await;
    }
    println!("start to first answered list: {samples:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; prints numbers"]
async fn measure_ten_thousand_objects() {
    let rss_before = rss_mib();
    let sim = start().await;
    let secrets: Api<Secret> = Api::default_namespaced(client(&sim));
    let body = "x".repeat(1024);

    let probe = |label: &'static str, secrets: Api<Secret>| async move {
        let started = Instant::now();
        for i in 0..50 {
            let s: Secret = serde_json::from_value(json!({"metadata": {"name": format!("probe-{label}-{i}")}})).unwrap();
            secrets.create(&PostParams::default(), &s).await.unwrap();
            secrets.get(&format!("probe-{label}-{i}")).await.unwrap();
        }
        started.elapsed() / 50
    };
    let empty_latency = probe("empty", secrets.clone()).await;

    let started = Instant::now();
    stream::iter(0..10_000)
        .for_each_concurrent(16, |i| {
            let secrets = secrets.clone();
            let body = body.clone();
            async move {
                let s: Secret = serde_json::from_value(json!({"metadata": {"name": format!("s-{i:05}"), "labels": {"bulk": "true"}},
                    "stringData": {"payload": body}}))
                .unwrap();
                secrets.create(&PostParams::default(), &s).await.unwrap();
            }
        })
        .await;
    let create_time = started.elapsed();
    let rss_after_create = rss_mib();

    let full_latency = probe("full", secrets.clone()).await;
    let started = Instant::now();
    let listed = secrets.list(&ListParams::default().labels("bulk=true")).await.unwrap();
    let list_time = started.elapsed();
    let started = Instant::now();
    let selected = secrets.list(&ListParams::default().labels("bulk!=true")).await.unwrap();
    let selector_time = started.elapsed();
    let started = Instant::now();
    let mut pages = 0;
    let mut params = ListParams::default().limit(500);
    loop {
        let page = secrets.list(&params).await.unwrap();
        pages += 1;
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = ListParams::default().limit(500).continue_token(&token),
            None => break,
        }
    }
    let paged_time = started.elapsed();

    println!("objects stored: {}", sim.object_count());
    println!(
        "process RSS before start: {rss_before:.1} MiB; after creating 10,000 Secrets: {rss_after_create:.1} MiB; after the lists: {:.1} MiB",
        rss_mib()
    );
    println!("create 10,000 1 KiB Secrets, 16 concurrent: {create_time:?} ({:.0}/s)", 10_000.0 / create_time.as_secs_f64());
    println!("create+get latency with ~0 objects: {empty_latency:?}; with 10,000: {full_latency:?}");
    println!("list all 10,000 by label: {list_time:?} ({} items)", listed.items.len());
    println!("list with a selector matching 100: {selector_time:?} ({} items)", selected.items.len());
    println!("paged list in {pages} pages of 500: {paged_time:?}");
    assert!(create_time < Duration::from_secs(600));
    sim.shutdown().await;
}
