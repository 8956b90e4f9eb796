//! With no rotation due, the operator makes no cloud API call and no Kubernetes write,
//! however often it looks at the resource.

mod support;

use jiff::SignedDuration;
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{Patch, PatchParams};
use support::{Harness, NAMESPACE};

const NAME: &str = "app-key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_operator_writes_nothing() {
    let mut harness = Harness::start().await;
    harness.create(&harness.world.rotation(NAME, "hw", Some("ops"))).await;
    harness.start_operator();
    harness.wait_ready(NAME).await;
    harness.settle(NAME, 10).await;

    let traces = harness.world.emulator.traces().len();
    let events = harness.events(NAME).await.len();
    let hw_version = harness.resource_version("hw").await;
    let ops_version = harness.resource_version("ops").await;
    let deployments: Api<Deployment> = Api::namespaced(harness.world.client.clone(), NAMESPACE);
    let generation = deployments.get("api").await.unwrap().metadata.generation;
    let status = harness.get(NAME).await.status;

    // Five reconciles, each a day apart on the clock and a few step polls apart in real
    // time; the annotation only wakes the operator.
    for round in 0..5 {
        harness.clock.advance(SignedDuration::from_hours(24));
        let patch = serde_json::json!({"metadata": {"annotations": {"test.akguard.io/wake": round.to_string()}}});
        let patched = harness
            .rotations()
            .patch(NAME, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .unwrap();
        let after = harness.settle(NAME, 8).await;
        assert_eq!(
            after.metadata.resource_version, patched.metadata.resource_version,
            "round {round}: the operator wrote the resource"
        );
    }

    assert_eq!(harness.world.emulator.traces().len(), traces, "no cloud API call");
    assert_eq!(harness.events(NAME).await.len(), events, "no Event");
    assert_eq!(harness.resource_version("hw").await, hw_version);
    assert_eq!(harness.resource_version("ops").await, ops_version);
    assert_eq!(deployments.get("api").await.unwrap().metadata.generation, generation);
    assert_eq!(harness.get(NAME).await.status, status);
    harness.stop_operator().await;
}
