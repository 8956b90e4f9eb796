//! The AccessKeyRotation controller: watches the resources and runs reconciles with a
//! concurrency limit.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use akguard_hwcloud::SharedClock;
use futures::StreamExt;
use kube::runtime::controller::{Config, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};

use super::cloud::CloudClients;
use super::context::Context;
use super::reconcile::{error_policy, overlaps, reconcile};
use crate::api::leak::LeakIncident;
use crate::api::rotation::AccessKeyRotation;
use crate::runtime::health::Readiness;
use crate::runtime::metrics::Metrics;

/// Settings of the controller, beside its Kubernetes client.
#[derive(Debug, Clone)]
pub struct ControllerSettings {
    /// Namespaces to act in; empty means all.
    pub namespaces: Vec<String>,
    /// Reconciles running at the same time at most.
    pub concurrency: u16,
    /// Poll interval while a step waits.
    pub step_poll: Duration,
    /// Identity in Events (the pod name in a cluster).
    pub identity: String,
    /// Huawei Cloud requests per second over all resources; 0 means no limit.
    pub cloud_rate_limit: u32,
    /// Rotations in flight in one namespace at most; emergencies do not wait.
    pub max_in_flight_per_namespace: u16,
}

/// Runs the controller until `shutdown` resolves; reconciles in flight then finish their
/// step before this returns.
pub async fn run(
    client: Client,
    clock: SharedClock,
    metrics: Metrics,
    readiness: Arc<Readiness>,
    settings: ControllerSettings,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let api = api_for(&client, &settings.namespaces);
    let controller = Controller::new(api, watcher::Config::default().any_semantic());
    let store = controller.store();

    // A LeakIncident wakes the rotation whose current key leaked, for an emergency rotation.
    let incidents: Api<LeakIncident> = match settings.namespaces.as_slice() {
        [single] => Api::namespaced(client.clone(), single),
        _ => Api::all(client.clone()),
    };
    let incident_store = store.clone();
    let peers = api_for(&client, &settings.namespaces);
    let peer_store = store.clone();
    let controller = controller
        .watches(incidents, watcher::Config::default().any_semantic(), move |incident| {
            let namespace = incident.namespace();
            incident_store
                .state()
                .into_iter()
                .filter(|rotation| rotation.namespace() == namespace)
                .filter(|rotation| {
                    rotation.status.as_ref().and_then(|s| s.current_access_key_id.as_deref())
                        == Some(incident.spec.access_key_id.as_str())
                })
                .map(|rotation| ObjectRef::from_obj(&*rotation))
                .collect::<Vec<_>>()
        })
        // A change to one resource wakes the others that share a target Secret or the IAM
        // user with it, so both sides of a conflict report it, not only the newer one.
        .watches(peers, watcher::Config::default().any_semantic(), move |changed| {
            peer_store
                .state()
                .into_iter()
                .filter(|other| other.uid() != changed.uid() && overlaps(&changed, other))
                .map(|other| ObjectRef::from_obj(&*other))
                .collect::<Vec<_>>()
        })
        .with_config(Config::default().concurrency(settings.concurrency))
        .graceful_shutdown_on(shutdown);

    let reporter = Reporter {
        controller: "akguard".into(),
        instance: Some(settings.identity.clone()),
    };
    let context = Arc::new(Context {
        client: client.clone(),
        clock: clock.clone(),
        metrics: metrics.clone(),
        recorder: Recorder::new(client.clone(), reporter),
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a default HTTP client builds"),
        clouds: CloudClients::new(clock, metrics, settings.cloud_rate_limit),
        rotations: store.clone(),
        step_poll: settings.step_poll,
        max_in_flight_per_namespace: settings.max_in_flight_per_namespace,
        error_log: Default::default(),
    });

    let ready_store = store.clone();
    let ready_flag = readiness.clone();
    tokio::spawn(async move {
        // NOTE: kube-runtime 5's `Store::wait_until_ready` wakes only the last of several
        // concurrent waiters, and the controller waits on it too, so look again every 100 ms.
        loop {
            match tokio::time::timeout(Duration::from_millis(100), ready_store.wait_until_ready()).await {
                Ok(Ok(())) => {
                    ready_flag.caches_synced.store(true, Ordering::SeqCst);
                    break;
                }
                Ok(Err(_)) => break,
                Err(_) => continue,
            }
        }
    });

    let namespaces = settings.namespaces.clone();
    let watch_errors = Arc::new(super::context::RepeatFilter::default());
    controller
        .run(
            move |object, ctx| {
                let skip = !namespaces.is_empty()
                    && !namespaces.iter().any(|ns| Some(ns.as_str()) == object.namespace().as_deref());
                async move {
                    if skip {
                        return Ok(kube::runtime::controller::Action::await_change());
                    }
                    reconcile(object, ctx).await
                }
            },
            error_policy,
            context,
        )
        .for_each(|result| {
            let filter = watch_errors.clone();
            async move {
                let Err(error) = result else { return };
                // Reconcile failures are logged by the error policy; a failing watch is
                // logged here, since it stops every reconcile.
                if let kube::runtime::controller::Error::QueueError(watch_error) = &error
                    && filter.admit(&watch_error.to_string(), std::time::Instant::now()).is_some()
                {
                    tracing::error!(
                        error = %watch_error,
                        "watching AccessKeyRotations failed; check that the CRDs are installed (akguard crds | kubectl apply -f -) and that the operator may list them"
                    );
                }
            }
        })
        .await;
}

fn api_for(client: &Client, namespaces: &[String]) -> Api<AccessKeyRotation> {
    match namespaces {
        [single] => Api::namespaced(client.clone(), single),
        _ => Api::all(client.clone()),
    }
}
