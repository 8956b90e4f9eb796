//! The controller loop: on every tick or workload write, it moves each workload's rollout
//! along the model and writes status, ReplicaSets and Pods that changed.

use super::children::{DesiredPod, owner_reference, pod_labels, pod_suffix, sync_pods, template_hash, upsert};
use super::model::{Progress, Strategy, progress};
use super::{RolloutPlan, WorkloadKind, WorkloadRef, status};
use crate::meta::{is_deleting, name_of, namespace_of, now_rfc3339, uid_of};
use crate::sim::Sim;
use crate::store::{State, key};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Nodes a DaemonSet runs on; the simulator has one node, `kubesim-node`.
const NODES: u32 = 1;

/// Interval between garbage collection passes when no deletion triggers one.
const GC_INTERVAL: Duration = Duration::from_secs(1);

/// Interval between passes over a workload whose rollout has settled and that no client
/// wrote since. These passes still recreate pods deleted by hand.
const SETTLED_INTERVAL: Duration = Duration::from_secs(1);

/// The rollout of one revision of one workload.
#[derive(Debug, Clone)]
struct Run {
    hash: String,
    started: Instant,
    plan: RolloutPlan,
    old_pods: u32,
    old_hash: Option<String>,
    revision: u64,
    /// resourceVersion of the workload after the last pass, and when that pass ran.
    synced_rv: String,
    synced_at: Instant,
    /// No further change is due from time passing alone.
    settled: bool,
    /// Whether the scale-up and scale-down Events of this revision were recorded.
    scaled_up_recorded: bool,
    scaled_down_recorded: bool,
}

type RunKey = (WorkloadKind, String, String, String);

/// Runs the workload controllers and the periodic garbage collection until shutdown.
pub async fn run_controllers(sim: Arc<Sim>, tick: Duration) {
    let mut runs: HashMap<RunKey, Run> = HashMap::new();
    let mut shutdown = sim.shutdown.clone();
    let mut last_gc = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = sim.controller_wake.notified() => {}
            _ = shutdown.changed() => return,
        }
        let mut state = sim.lock();
        sync_all(&sim, &mut state, &mut runs);
        if state.gc_pending || last_gc.elapsed() > GC_INTERVAL {
            crate::gc::collect(&mut state);
            last_gc = Instant::now();
        }
    }
}

fn sync_all(sim: &Sim, state: &mut State, runs: &mut HashMap<RunKey, Run>) {
    let now = Instant::now();
    let timestamp = now_rfc3339();
    let mut seen = HashSet::new();
    for kind in [WorkloadKind::Deployment, WorkloadKind::StatefulSet, WorkloadKind::DaemonSet] {
        let candidates: Vec<(RunKey, crate::store::ObjKey, String)> = state
            .range("apps", kind.plural(), None)
            .filter(|(_, o)| !is_deleting(o))
            .map(|(k, o)| {
                let id = (kind, namespace_of(o).to_string(), name_of(o).to_string(), uid_of(o).to_string());
                (id, k.clone(), crate::meta::resource_version_of(o).to_string())
            })
            .collect();
        for (id, object_key, rv) in candidates {
            seen.insert(id.clone());
            // Skipping settled, unwritten workloads keeps an idle simulator cheap: a pass
            // serializes the pod template and rebuilds every pod.
            let skip = runs.get(&id).is_some_and(|run| run.settled && run.synced_rv == rv && now - run.synced_at < SETTLED_INTERVAL);
            if skip {
                continue;
            }
            if let Some(object) = state.get(&object_key).cloned() {
                sync_one(sim, state, runs, id, kind, object, now, &timestamp);
            }
        }
    }
    runs.retain(|id, _| seen.contains(id));
}

#[allow(clippy::too_many_arguments)]
fn sync_one(sim: &Sim, state: &mut State, runs: &mut HashMap<RunKey, Run>, id: RunKey, kind: WorkloadKind, object: Value, now: Instant, timestamp: &str) {
    let template = object.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
    let hash = template_hash(&template);
    let desired = match kind {
        WorkloadKind::DaemonSet => NODES,
        _ => object.pointer("/spec/replicas").and_then(Value::as_u64).unwrap_or(1) as u32,
    };
    let paused = object.pointer("/spec/paused").and_then(Value::as_bool).unwrap_or(false);
    let strategy = match kind {
        WorkloadKind::Deployment => deployment_strategy(&object, desired),
        _ => Strategy::Replace,
    };
    let deadline = (kind == WorkloadKind::Deployment)
        .then(|| Duration::from_secs(object.pointer("/spec/progressDeadlineSeconds").and_then(Value::as_u64).unwrap_or(600)));
    let workload = WorkloadRef::new(kind, id.1.clone(), id.2.clone());

    let run = runs.entry(id).or_insert_with(|| Run {
        hash: hash.clone(),
        started: now,
        plan: sim.rollouts.plan_for(&workload),
        old_pods: 0,
        old_hash: None,
        revision: 1,
        synced_rv: String::new(),
        synced_at: now,
        settled: false,
        scaled_up_recorded: false,
        scaled_down_recorded: false,
    });
    if run.hash != hash && !paused {
        let previous = progress(strategy, desired, run.old_pods, &run.plan, now - run.started, deadline);
        *run = Run {
            hash: hash.clone(),
            started: now,
            plan: sim.rollouts.plan_for(&workload),
            old_pods: previous.ready(),
            old_hash: Some(run.hash.clone()),
            revision: run.revision + 1,
            synced_rv: String::new(),
            synced_at: now,
            settled: false,
            scaled_up_recorded: false,
            scaled_down_recorded: false,
        };
    }
    let p = progress(strategy, desired, run.old_pods, &run.plan, now - run.started, deadline);
    let generation = object.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
    let name = name_of(&object).to_string();
    let namespace = namespace_of(&object).to_string();

    let new_status = match kind {
        WorkloadKind::Deployment => {
            let unavailable = match strategy {
                Strategy::Surge { unavailable, .. } => unavailable,
                _ => 0,
            };
            status::deployment(desired, unavailable, generation, &p, &format!("{name}-{}", run.hash), object.get("status"), timestamp)
        }
        WorkloadKind::StatefulSet => {
            let current = run.old_hash.as_deref().unwrap_or(&run.hash);
            status::stateful_set(generation, &p, &format!("{name}-{current}"), &format!("{name}-{}", run.hash))
        }
        WorkloadKind::DaemonSet => status::daemon_set(generation, NODES, &p),
    };
    let mut updated = object.clone();
    updated["status"] = new_status;
    if kind == WorkloadKind::Deployment {
        // The deployment controller records the current revision on the Deployment itself;
        // `kubectl rollout undo` and `describe` read it.
        updated["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!(run.revision.to_string());
    }
    if kind == WorkloadKind::Deployment {
        record_scaling_events(state, &object, run, &p, desired, timestamp);
    }
    let workload_key = key("apps", kind.plural(), &namespace, &name);
    if updated != object {
        state.put(workload_key.clone(), updated);
    }
    run.settled = settled(&run.plan, &p, deadline.is_some());
    run.synced_at = now;
    run.synced_rv = state.get(&workload_key).map(|o| crate::meta::resource_version_of(o).to_string()).unwrap_or_default();

    match kind {
        WorkloadKind::Deployment => sync_replica_sets(state, &object, &template, run, &p, desired, timestamp),
        WorkloadKind::StatefulSet => {
            let pods = stateful_pods(&name, &template, run, &p, desired);
            sync_pods(state, &namespace, &object, &template, &pods, timestamp);
        }
        WorkloadKind::DaemonSet => {
            let revision = if p.new_pods > 0 { &run.hash } else { run.old_hash.as_ref().unwrap_or(&run.hash) };
            let labels = pod_labels(&template, &[("controller-revision-hash", revision)]);
            let pod = DesiredPod { name: format!("{name}-{}", pod_suffix(revision, 0)), labels, ready: p.ready() > 0, crashing: p.failed };
            sync_pods(state, &namespace, &object, &template, &[pod], timestamp);
        }
    }
}

/// Records "Scaled up" when a revision starts and "Scaled down" when its rollout retires the
/// previous ReplicaSet, with the reason and wording of the deployment controller.
fn record_scaling_events(state: &mut State, deployment: &Value, run: &mut Run, p: &Progress, desired: u32, timestamp: &str) {
    const COMPONENT: &str = "deployment-controller";
    let name = name_of(deployment);
    if !run.scaled_up_recorded {
        // A new Deployment's ReplicaSet starts at full size; a rollout's starts at one batch.
        let replicas = if run.old_hash.is_none() { desired } else { p.new_pods.min(desired) };
        let message = format!("Scaled up replica set {name}-{} to {replicas} from 0", run.hash);
        super::events::record(state, deployment, COMPONENT, "ScalingReplicaSet", message, timestamp);
        run.scaled_up_recorded = true;
    }
    if let Some(old) = run.old_hash.clone()
        && p.complete
        && !run.scaled_down_recorded
    {
        let message = format!("Scaled down replica set {name}-{old} to 0 from {}", run.old_pods);
        super::events::record(state, deployment, COMPONENT, "ScalingReplicaSet", message, timestamp);
        run.scaled_down_recorded = true;
    }
}

/// Reads a Deployment's strategy. maxSurge and maxUnavailable default to 25%. When both
/// resolve to zero, one pod of surge is used, because the API server rejects that spec and
/// the model needs a batch of at least one pod.
fn deployment_strategy(object: &Value, desired: u32) -> Strategy {
    if object.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate") {
        return Strategy::Recreate;
    }
    let surge = super::model::int_or_percent(object.pointer("/spec/strategy/rollingUpdate/maxSurge"), 25, desired, true);
    let unavailable = super::model::int_or_percent(object.pointer("/spec/strategy/rollingUpdate/maxUnavailable"), 25, desired, false);
    if surge == 0 && unavailable == 0 {
        return Strategy::Surge { surge: 1, unavailable: 0 };
    }
    Strategy::Surge { surge, unavailable }
}

/// Checks whether a rollout has reached a state that time alone no longer changes.
fn settled(plan: &RolloutPlan, p: &Progress, has_deadline: bool) -> bool {
    match plan.outcome {
        super::Outcome::Healthy => p.complete,
        super::Outcome::FailAfterReady => p.failed,
        super::Outcome::NeverReady => !has_deadline || p.deadline_exceeded,
    }
}

fn replica_set(deployment: &Value, template: &Value, hash: &str, replicas: u32, ready: u32, revision: u64) -> Value {
    let name = format!("{}-{hash}", name_of(deployment));
    let mut selector = deployment.pointer("/spec/selector").cloned().unwrap_or_else(|| json!({}));
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut rs_template = template.clone();
    rs_template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut status = json!({"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready, "observedGeneration": 1});
    for field in ["readyReplicas", "availableReplicas", "fullyLabeledReplicas"] {
        if status[field] == json!(0) {
            status.as_object_mut().map(|m| m.remove(field));
        }
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": namespace_of(deployment),
            "labels": pod_labels(template, &[("pod-template-hash", hash)]),
            "annotations": {"deployment.kubernetes.io/revision": revision.to_string()},
            "ownerReferences": [owner_reference(deployment)],
            "generation": 1,
        },
        "spec": {"replicas": replicas, "selector": selector, "template": rs_template},
        "status": status,
    })
}

fn sync_replica_sets(state: &mut State, deployment: &Value, template: &Value, run: &Run, p: &Progress, desired: u32, timestamp: &str) {
    let namespace = namespace_of(deployment).to_string();
    let deployment_uid = uid_of(deployment).to_string();
    let mut wanted: Vec<(String, u32, u32, u64)> = vec![(run.hash.clone(), desired.max(p.new_pods), p.new_ready, run.revision)];
    if let Some(old) = &run.old_hash
        && *old != run.hash
    {
        wanted.push((old.clone(), p.old_pods, p.old_pods, run.revision.saturating_sub(1)));
    }
    let owned: Vec<(String, Value)> = state
        .range("apps", "replicasets", Some(&namespace))
        .filter(|(_, rs)| rs.pointer("/metadata/ownerReferences/0/uid").and_then(Value::as_str) == Some(deployment_uid.as_str()))
        .map(|(k, rs)| (k.3.clone(), rs.clone()))
        .collect();

    for (hash, replicas, ready, revision) in &wanted {
        let rs_name = format!("{}-{hash}", name_of(deployment));
        // Only the new ReplicaSet's template carries this deployment's current template.
        let rs_template = if *hash == run.hash {
            template.clone()
        } else {
            owned.iter().find(|(n, _)| *n == rs_name).and_then(|(_, rs)| rs.pointer("/spec/template").cloned()).unwrap_or_else(|| template.clone())
        };
        let mut rs_template_clean = rs_template.clone();
        if let Some(labels) = rs_template_clean.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
            labels.remove("pod-template-hash");
        }
        let object = replica_set(deployment, &rs_template_clean, hash, *replicas, *ready, *revision);
        upsert(state, key("apps", "replicasets", &namespace, &rs_name), object, timestamp);
        let Some(rs) = state.get(&key("apps", "replicasets", &namespace, &rs_name)).cloned() else { continue };
        let is_new = *hash == run.hash;
        let count = if is_new { p.new_pods } else { p.old_pods };
        let pods: Vec<DesiredPod> = (0..count)
            .map(|i| DesiredPod {
                name: format!("{rs_name}-{}", pod_suffix(&rs_name, i)),
                labels: pod_labels(&rs_template_clean, &[("pod-template-hash", hash)]),
                ready: if is_new { i < p.new_ready } else { true },
                crashing: is_new && p.failed,
            })
            .collect();
        sync_pods(state, &namespace, &rs, &rs_template_clean, &pods, timestamp);
    }

    for (rs_name, rs) in owned {
        if wanted.iter().any(|(hash, ..)| format!("{}-{hash}", name_of(deployment)) == rs_name) {
            continue;
        }
        let mut scaled = rs.clone();
        scaled["spec"]["replicas"] = json!(0);
        scaled["status"] = json!({"replicas": 0, "observedGeneration": 1});
        let template = rs.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
        upsert(state, key("apps", "replicasets", &namespace, &rs_name), scaled, timestamp);
        sync_pods(state, &namespace, &rs, &template, &[], timestamp);
    }
}

fn stateful_pods(name: &str, template: &Value, run: &Run, p: &Progress, desired: u32) -> Vec<DesiredPod> {
    let new_revision = format!("{name}-{}", run.hash);
    let old_revision = format!("{name}-{}", run.old_hash.as_deref().unwrap_or(&run.hash));
    let mut pods = Vec::new();
    for ordinal in 0..desired {
        let pod_name = format!("{name}-{ordinal}");
        // Initial creation starts pods in ordinal order; updates replace from the highest.
        let (is_new, rank) = if run.old_hash.is_none() {
            (ordinal < p.new_pods, ordinal)
        } else {
            (ordinal >= desired - p.new_pods, desired - 1 - ordinal)
        };
        let is_old = !is_new && run.old_hash.is_some() && ordinal < p.old_pods;
        if !is_new && !is_old {
            continue;
        }
        let revision = if is_new { &new_revision } else { &old_revision };
        pods.push(DesiredPod {
            name: pod_name.clone(),
            labels: pod_labels(template, &[("controller-revision-hash", revision), ("statefulset.kubernetes.io/pod-name", &pod_name)]),
            ready: if is_new { rank < p.new_ready } else { true },
            crashing: is_new && p.failed,
        });
    }
    pods
}
