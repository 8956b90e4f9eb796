//! Simulated workload rollouts: status fields and conditions of Deployments, StatefulSets
//! and DaemonSets, pods and ReplicaSets, and the rollout control API (Rust and HTTP).

mod common;

use akguard_kubesim::{RolloutPlan, WorkloadKind, WorkloadRef};
use common::{client, eventually, raw, start};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

fn template(name: &str) -> Value {
    json!({"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "app:1",
        "env": [{"name": "HUAWEICLOUD_SDK_AK", "valueFrom": {"secretKeyRef": {"name": "cloud-key", "key": "ak"}}}]}]}})
}

fn deployment(name: &str, replicas: i32, deadline: i32) -> Deployment {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"replicas": replicas, "progressDeadlineSeconds": deadline,
        "selector": {"matchLabels": {"app": name}}, "template": template(name)}}))
    .unwrap()
}

fn restart_patch(value: &str) -> Patch<Value> {
    Patch::Strategic(json!({"spec": {"template": {"metadata": {"annotations": {"akguard.io/rotation": value}}}}}))
}

fn condition_reason(d: &Deployment, kind: &str) -> Option<String> {
    d.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == kind).and_then(|c| c.reason.clone())
}

/// Waits until the Deployment satisfies what `kubectl rollout status` checks for success.
async fn wait_rolled_out(api: &Api<Deployment>, name: &str) -> Deployment {
    eventually("deployment rollout to complete", WAIT, || async {
        let d = api.get(name).await.ok()?;
        let s = d.status.clone()?;
        let desired = d.spec.as_ref()?.replicas?;
        let done = s.observed_generation == d.metadata.generation
            && s.updated_replicas == Some(desired)
            && s.replicas == Some(desired)
            && s.available_replicas == Some(desired)
            && condition_reason(&d, "Progressing").as_deref() == Some("NewReplicaSetAvailable");
        done.then_some(d)
    })
    .await
}

#[tokio::test]
async fn deployment_rolls_out_and_creates_pods() {
    let sim = start().await;
    let client = client(&sim);
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let replica_sets: Api<ReplicaSet> = Api::default_namespaced(client.clone());
    deployments.create(&PostParams::default(), &deployment("web", 2, 600)).await.unwrap();

    let done = wait_rolled_out(&deployments, "web").await;
    let listed = pods.list(&ListParams::default().labels("app=web")).await.unwrap().items;
    let rs = replica_sets.list(&ListParams::default().labels("app=web")).await.unwrap().items;

    assert_eq!(done.status.as_ref().unwrap().ready_replicas, Some(2));
    assert_eq!(condition_reason(&done, "Available").as_deref(), Some("MinimumReplicasAvailable"));
    assert_eq!(listed.len(), 2);
    assert_eq!(rs.len(), 1);
    let rs_uid = rs[0].metadata.uid.clone();
    for pod in &listed {
        let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(owner.kind, "ReplicaSet");
        assert_eq!(Some(owner.uid.clone()), rs_uid);
        assert!(pod.metadata.labels.as_ref().unwrap().contains_key("pod-template-hash"));
        let env = &pod.spec.as_ref().unwrap().containers[0].env.as_ref().unwrap()[0];
        assert_eq!(env.value_from.as_ref().unwrap().secret_key_ref.as_ref().unwrap().name, "cloud-key");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn template_change_starts_rollout() {
    let sim = start().await;
    let client = client(&sim);
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    sim.rollouts().set(WorkloadRef::new(WorkloadKind::Deployment, "default", "web"), RolloutPlan::healthy(Duration::from_millis(150)));
    deployments.create(&PostParams::default(), &deployment("web", 3, 600)).await.unwrap();
    let before = wait_rolled_out(&deployments, "web").await;

    deployments.patch("web", &PatchParams::default(), &restart_patch("r1")).await.unwrap();
    let progressing = eventually("rollout in progress", WAIT, || async {
        let d = deployments.get("web").await.ok()?;
        let s = d.status.clone()?;
        let observed = s.observed_generation == Some(2);
        (observed && s.updated_replicas.unwrap_or(0) < 3 && condition_reason(&d, "Progressing").as_deref() == Some("ReplicaSetUpdated")).then_some(d)
    })
    .await;
    let after = wait_rolled_out(&deployments, "web").await;

    assert_eq!(before.metadata.generation, Some(1));
    assert!(progressing.status.unwrap().replicas.unwrap() >= 3, "old pods keep serving during the rollout");
    assert_eq!(after.status.unwrap().observed_generation, Some(2));
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let listed = pods.list(&ListParams::default().labels("app=web")).await.unwrap().items;
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|p| p.metadata.annotations.as_ref().unwrap().get("akguard.io/rotation").map(String::as_str) == Some("r1")));
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::default_namespaced(client.clone());
    let messages: Vec<String> = events
        .list(&ListParams::default().fields("involvedObject.name=web,reason=ScalingReplicaSet"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|e| e.message)
        .collect();
    assert_eq!(messages.iter().filter(|m| m.starts_with("Scaled up")).count(), 2, "{messages:?}");
    assert_eq!(messages.iter().filter(|m| m.starts_with("Scaled down")).count(), 1, "{messages:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn never_ready_exceeds_progress_deadline() {
    let sim = start().await;
    let deployments: Api<Deployment> = Api::default_namespaced(client(&sim));
    deployments.create(&PostParams::default(), &deployment("web", 2, 1)).await.unwrap();
    wait_rolled_out(&deployments, "web").await;

    sim.rollouts().set(WorkloadRef::new(WorkloadKind::Deployment, "default", "web"), RolloutPlan::never_ready());
    deployments.patch("web", &PatchParams::default(), &restart_patch("r1")).await.unwrap();
    let stuck = eventually("ProgressDeadlineExceeded", WAIT, || async {
        let d = deployments.get("web").await.ok()?;
        (condition_reason(&d, "Progressing").as_deref() == Some("ProgressDeadlineExceeded")).then_some(d)
    })
    .await;

    let status = stuck.status.unwrap();
    assert_eq!(status.updated_replicas, Some(1));
    assert_eq!(status.ready_replicas, Some(2), "old pods stay ready");
    assert_eq!(status.observed_generation, Some(2));
    let progressing = status.conditions.unwrap().into_iter().find(|c| c.type_ == "Progressing").unwrap();
    assert_eq!(progressing.status, "False");
    sim.shutdown().await;
}

#[tokio::test]
async fn fail_after_ready_through_http_control() {
    let sim = start().await;
    let client = client(&sim);
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    deployments.create(&PostParams::default(), &deployment("web", 2, 600)).await.unwrap();
    wait_rolled_out(&deployments, "web").await;

    let plan = r#"{"outcome": "fail-after-ready", "stepMs": 20, "failAfterMs": 300}"#;
    let (code, _) = raw(&client, "PUT", "/simulator/v1/rollouts/deployments/default/web", "application/json", plan).await;
    deployments.patch("web", &PatchParams::default(), &restart_patch("r1")).await.unwrap();
    let healthy = wait_rolled_out(&deployments, "web").await;
    let failed = eventually("pods to fail after becoming ready", WAIT, || async {
        let d = deployments.get("web").await.ok()?;
        (d.status.as_ref()?.ready_replicas.unwrap_or(0) == 0).then_some(d)
    })
    .await;

    assert_eq!(code, 200);
    assert_eq!(healthy.status.unwrap().ready_replicas, Some(2));
    assert_eq!(condition_reason(&failed, "Available").as_deref(), Some("MinimumReplicasUnavailable"));
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let crashing = pods.list(&ListParams::default().labels("app=web")).await.unwrap().items;
    let waiting = crashing[0].status.as_ref().unwrap().container_statuses.as_ref().unwrap()[0].state.as_ref().unwrap().waiting.clone();
    assert_eq!(waiting.unwrap().reason.as_deref(), Some("CrashLoopBackOff"));
    sim.shutdown().await;
}

#[tokio::test]
async fn step_time_paces_rollout() {
    let sim = start().await;
    let deployments: Api<Deployment> = Api::default_namespaced(client(&sim));
    deployments.create(&PostParams::default(), &deployment("web", 2, 600)).await.unwrap();
    wait_rolled_out(&deployments, "web").await;
    sim.rollouts().set(WorkloadRef::new(WorkloadKind::Deployment, "default", "web"), RolloutPlan::healthy(Duration::from_millis(300)));

    let started = Instant::now();
    deployments.patch("web", &PatchParams::default(), &restart_patch("r1")).await.unwrap();
    wait_rolled_out(&deployments, "web").await;
    let elapsed = started.elapsed();

    assert!(elapsed >= Duration::from_millis(550), "two 300 ms steps took only {elapsed:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn stateful_set_rolls_revision() {
    let sim = start().await;
    let client = client(&sim);
    let sets: Api<StatefulSet> = Api::default_namespaced(client.clone());
    let set: StatefulSet = serde_json::from_value(json!({"metadata": {"name": "db"}, "spec": {"replicas": 3, "serviceName": "db",
        "selector": {"matchLabels": {"app": "db"}}, "template": template("db")}}))
    .unwrap();
    sets.create(&PostParams::default(), &set).await.unwrap();
    let ready = |generation: i64| {
        let sets = sets.clone();
        async move {
            eventually("statefulset rollout", WAIT, || async {
                let s = sets.get("db").await.ok()?;
                let st = s.status.clone()?;
                let done = st.observed_generation == Some(generation)
                    && st.ready_replicas == Some(3)
                    && st.updated_replicas == Some(3)
                    && st.current_revision.is_some()
                    && st.current_revision == st.update_revision;
                done.then_some(st)
            })
            .await
        }
    };
    let first = ready(1).await;

    sets.patch("db", &PatchParams::default(), &restart_patch("r1")).await.unwrap();
    let second = ready(2).await;

    assert_ne!(first.update_revision, second.update_revision);
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let mut names: Vec<String> = pods.list(&ListParams::default().labels("app=db")).await.unwrap().items.into_iter().map(|p| p.metadata.name.unwrap()).collect();
    names.sort();
    assert_eq!(names, vec!["db-0", "db-1", "db-2"]);
    assert_eq!(sets.get("db").await.unwrap().spec.unwrap().update_strategy.unwrap().type_.as_deref(), Some("RollingUpdate"));
    sim.shutdown().await;
}

#[tokio::test]
async fn daemon_set_rolls_out() {
    let sim = start().await;
    let sets: Api<DaemonSet> = Api::default_namespaced(client(&sim));
    let set: DaemonSet = serde_json::from_value(json!({"metadata": {"name": "agent"}, "spec": {
        "selector": {"matchLabels": {"app": "agent"}}, "template": template("agent")}}))
    .unwrap();
    sets.create(&PostParams::default(), &set).await.unwrap();

    sets.patch("agent", &PatchParams::default(), &restart_patch("r1")).await.unwrap();
    let status = eventually("daemonset rollout", WAIT, || async {
        let st = sets.get("agent").await.ok()?.status?;
        let done = st.observed_generation == Some(2) && st.updated_number_scheduled == Some(1) && st.number_available == Some(1);
        done.then_some(st)
    })
    .await;

    assert_eq!(status.desired_number_scheduled, 1);
    assert_eq!(status.number_ready, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn deleting_deployment_collects_pods() {
    let sim = start().await;
    let client = client(&sim);
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    deployments.create(&PostParams::default(), &deployment("web", 2, 600)).await.unwrap();
    wait_rolled_out(&deployments, "web").await;

    deployments.delete("web", &DeleteParams::default()).await.unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let replica_sets: Api<ReplicaSet> = Api::default_namespaced(client.clone());

    assert!(pods.list(&ListParams::default()).await.unwrap().items.is_empty());
    assert!(replica_sets.list(&ListParams::default()).await.unwrap().items.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn control_api_lists_and_rejects_bad_plans() {
    let sim = start().await;
    let client = client(&sim);

    let (put, _) = raw(&client, "PUT", "/simulator/v1/rollouts/statefulsets/ns/db", "application/json", r#"{"outcome": "never-ready"}"#).await;
    let (bad_kind, _) = raw(&client, "PUT", "/simulator/v1/rollouts/jobs/ns/x", "application/json", "{}").await;
    let (bad_plan, _) = raw(&client, "PUT", "/simulator/v1/rollouts/default", "application/json", r#"{"outcome": "sometimes"}"#).await;
    let (_, listed) = raw(&client, "GET", "/simulator/v1/rollouts", "application/json", "").await;
    let (_, stats) = raw(&client, "GET", "/simulator/v1/stats", "application/json", "").await;

    assert_eq!(put, 200);
    assert_eq!(bad_kind, 400);
    assert_eq!(bad_plan, 400);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["workloads"][0]["plan"]["outcome"], json!("never-ready"));
    assert_eq!(sim.rollouts().plan_for(&WorkloadRef::new(WorkloadKind::StatefulSet, "ns", "db")), RolloutPlan::never_ready());
    let stats: Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["objects"].as_u64(), Some(sim.object_count() as u64));
    sim.shutdown().await;
}

#[tokio::test]
async fn recreate_strategy_stops_old_pods_first() {
    let sim = start().await;
    let deployments: Api<Deployment> = Api::default_namespaced(client(&sim));
    let mut recreate = deployment("web", 3, 600);
    recreate.spec.as_mut().unwrap().strategy = Some(serde_json::from_value(json!({"type": "Recreate"})).unwrap());
    deployments.create(&PostParams::default(), &recreate).await.unwrap();
    wait_rolled_out(&deployments, "web").await;
    sim.rollouts().set(WorkloadRef::new(WorkloadKind::Deployment, "default", "web"), RolloutPlan::healthy(Duration::from_millis(300)));

    deployments.patch("web", &PatchParams::default(), &restart_patch("r1")).await.unwrap();
    let gap = eventually("all pods replaced at once", WAIT, || async {
        let s = deployments.get("web").await.ok()?.status?;
        (s.observed_generation == Some(2) && s.updated_replicas == Some(3) && s.ready_replicas.unwrap_or(0) == 0).then_some(s)
    })
    .await;
    let done = wait_rolled_out(&deployments, "web").await;

    assert_eq!(gap.replicas, Some(3), "no old pods remain while new ones start");
    assert_eq!(done.status.unwrap().ready_replicas, Some(3));
    sim.shutdown().await;
}

#[tokio::test]
async fn max_unavailable_speeds_rollout() {
    let sim = start().await;
    let deployments: Api<Deployment> = Api::default_namespaced(client(&sim));
    let mut fast = deployment("web", 4, 600);
    fast.spec.as_mut().unwrap().strategy =
        Some(serde_json::from_value(json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "100%"}})).unwrap());
    deployments.create(&PostParams::default(), &fast).await.unwrap();
    wait_rolled_out(&deployments, "web").await;
    sim.rollouts().set(WorkloadRef::new(WorkloadKind::Deployment, "default", "web"), RolloutPlan::healthy(Duration::from_millis(500)));

    let started = Instant::now();
    deployments.patch("web", &PatchParams::default(), &restart_patch("r1")).await.unwrap();
    wait_rolled_out(&deployments, "web").await;
    let elapsed = started.elapsed();

    // All four pods start in one batch: one 500 ms step, where one pod at a time takes 2 s.
    assert!(elapsed < Duration::from_millis(1500), "rollout took {elapsed:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn scale_subresource_sets_replicas() {
    let sim = start().await;
    let deployments: Api<Deployment> = Api::default_namespaced(client(&sim));
    deployments.create(&PostParams::default(), &deployment("web", 2, 600)).await.unwrap();

    let before = deployments.get_scale("web").await.unwrap();
    let after = deployments.patch_scale("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 5}}))).await.unwrap();
    let spec = deployments.get("web").await.unwrap().spec.unwrap();

    assert_eq!(before.spec.unwrap().replicas, Some(2));
    assert_eq!(after.spec.unwrap().replicas, Some(5));
    assert_eq!(spec.replicas, Some(5));
    assert_eq!(before.status.unwrap().selector.as_deref(), Some("app=web"));
    sim.shutdown().await;
}
