//! Consumers in the cluster: finding them, restarting them once per rotation, and reading
//! their rollout health.

use std::fmt;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PodTemplateSpec};
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::json;

use super::discovery::{SecretUse, consumes_secret};
use super::rollout::{RolloutState, daemon_set_rollout, deployment_rollout, stateful_set_rollout};
use crate::rotation::decision::ConsumerHealth;

/// Pod-template annotation carrying the ID of the rotation that last restarted a workload.
/// Its change is what rolls the pods; it never carries anything derived from a secret.
pub const ROTATION_ANNOTATION: &str = "akguard.io/rotation-id";
pub const FIELD_MANAGER: &str = "akguard";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "Deployment" => Some(Self::Deployment),
            "StatefulSet" => Some(Self::StatefulSet),
            "DaemonSet" => Some(Self::DaemonSet),
            _ => None,
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadRef {
    pub kind: WorkloadKind,
    pub name: String,
}

impl fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// A workload found to read a target Secret, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub workload: WorkloadRef,
    pub secret: String,
    pub how: SecretUse,
}

fn template_of_deployment(object: &Deployment) -> Option<&PodTemplateSpec> {
    object.spec.as_ref().map(|spec| &spec.template)
}

fn template_of_stateful_set(object: &StatefulSet) -> Option<&PodTemplateSpec> {
    object.spec.as_ref().map(|spec| &spec.template)
}

fn template_of_daemon_set(object: &DaemonSet) -> Option<&PodTemplateSpec> {
    object.spec.as_ref().map(|spec| &spec.template)
}

/// Lists the workloads of `namespace` whose pod templates read any of `secrets`.
pub async fn discover(
    client: &Client,
    namespace: &str,
    secrets: &[String],
) -> Result<Vec<Discovered>, kube::Error> {
    let claims: Vec<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace)
        .list(&ListParams::default())
        .await?
        .items;
    let mut templates: Vec<(WorkloadRef, PodTemplateSpec)> = Vec::new();

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    for object in deployments.list(&ListParams::default()).await?.items {
        if let Some(template) = template_of_deployment(&object) {
            let name = object.metadata.name.clone().unwrap_or_default();
            templates.push((WorkloadRef { kind: WorkloadKind::Deployment, name }, template.clone()));
        }
    }
    let stateful_sets: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
    for object in stateful_sets.list(&ListParams::default()).await?.items {
        if let Some(template) = template_of_stateful_set(&object) {
            let name = object.metadata.name.clone().unwrap_or_default();
            templates.push((WorkloadRef { kind: WorkloadKind::StatefulSet, name }, template.clone()));
        }
    }
    let daemon_sets: Api<DaemonSet> = Api::namespaced(client.clone(), namespace);
    for object in daemon_sets.list(&ListParams::default()).await?.items {
        if let Some(template) = template_of_daemon_set(&object) {
            let name = object.metadata.name.clone().unwrap_or_default();
            templates.push((WorkloadRef { kind: WorkloadKind::DaemonSet, name }, template.clone()));
        }
    }

    let mut found = Vec::new();
    for (workload, template) in templates {
        let Some(spec) = &template.spec else { continue };
        for secret in secrets {
            if let Some(how) = consumes_secret(spec, namespace, secret, &claims) {
                found.push(Discovered {
                    workload: workload.clone(),
                    secret: secret.clone(),
                    how,
                });
                break;
            }
        }
    }
    Ok(found)
}

fn restart_annotation(template: Option<&PodTemplateSpec>) -> Option<String> {
    template?
        .metadata
        .as_ref()?
        .annotations
        .as_ref()?
        .get(ROTATION_ANNOTATION)
        .cloned()
}

/// Sets the rotation annotation on a workload's pod template unless it already carries
/// `value`, so each rotation restarts each consumer once. `None` removes the annotation,
/// which returns a template to its form before the first rotation. Returns whether it
/// patched. A missing workload is `Ok(false)`; the health read reports it.
pub async fn restart(
    client: &Client,
    namespace: &str,
    workload: &WorkloadRef,
    value: Option<&str>,
) -> Result<bool, kube::Error> {
    let current = match workload.kind {
        WorkloadKind::Deployment => Api::<Deployment>::namespaced(client.clone(), namespace)
            .get_opt(&workload.name)
            .await?
            .map(|object| restart_annotation(template_of_deployment(&object))),
        WorkloadKind::StatefulSet => Api::<StatefulSet>::namespaced(client.clone(), namespace)
            .get_opt(&workload.name)
            .await?
            .map(|object| restart_annotation(template_of_stateful_set(&object))),
        WorkloadKind::DaemonSet => Api::<DaemonSet>::namespaced(client.clone(), namespace)
            .get_opt(&workload.name)
            .await?
            .map(|object| restart_annotation(template_of_daemon_set(&object))),
    };
    let Some(current) = current else {
        return Ok(false);
    };
    if current.as_deref() == value {
        return Ok(false);
    }

    let patch = Patch::Merge(json!({
        "spec": {"template": {"metadata": {"annotations": {ROTATION_ANNOTATION: value}}}}
    }));
    let params = PatchParams::default();
    match workload.kind {
        WorkloadKind::Deployment => {
            Api::<Deployment>::namespaced(client.clone(), namespace)
                .patch(&workload.name, &params, &patch)
                .await?;
        }
        WorkloadKind::StatefulSet => {
            Api::<StatefulSet>::namespaced(client.clone(), namespace)
                .patch(&workload.name, &params, &patch)
                .await?;
        }
        WorkloadKind::DaemonSet => {
            Api::<DaemonSet>::namespaced(client.clone(), namespace)
                .patch(&workload.name, &params, &patch)
                .await?;
        }
    }
    Ok(true)
}

/// Reads a consumer's rollout and whether its template carries `value` (`None`: no
/// annotation). With `expect_restart` false (restart method `none`) the annotation is not
/// required.
pub async fn health(
    client: &Client,
    namespace: &str,
    workload: &WorkloadRef,
    value: Option<&str>,
    expect_restart: bool,
) -> Result<ConsumerHealth, kube::Error> {
    let observed = match workload.kind {
        WorkloadKind::Deployment => Api::<Deployment>::namespaced(client.clone(), namespace)
            .get_opt(&workload.name)
            .await?
            .map(|object| (restart_annotation(template_of_deployment(&object)), deployment_rollout(&object))),
        WorkloadKind::StatefulSet => Api::<StatefulSet>::namespaced(client.clone(), namespace)
            .get_opt(&workload.name)
            .await?
            .map(|object| (restart_annotation(template_of_stateful_set(&object)), stateful_set_rollout(&object))),
        WorkloadKind::DaemonSet => Api::<DaemonSet>::namespaced(client.clone(), namespace)
            .get_opt(&workload.name)
            .await?
            .map(|object| (restart_annotation(template_of_daemon_set(&object)), daemon_set_rollout(&object))),
    };
    let (restarted, rollout) = match observed {
        Some((annotation, rollout)) => (!expect_restart || annotation.as_deref() == value, rollout),
        None => (
            false,
            RolloutState::Failed(format!("{workload} not found in namespace {namespace}")),
        ),
    };
    Ok(ConsumerHealth {
        name: workload.to_string(),
        restarted,
        rollout,
    })
}
