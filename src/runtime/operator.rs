//! `akguard run`: the operator process. Serves health and metrics at once, then acts only
//! while it holds the leader Lease (or always, with leader election off).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use akguard_hwcloud::{SharedClock, SystemClock};
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;

use super::config::RunArgs;
use super::health::{self, Readiness};
use super::metrics::Metrics;
use crate::rotation::controller::{self, ControllerSettings};

/// Builds a Kubernetes client from `--kubeconfig`, else the in-cluster or default config.
pub async fn kube_client(kubeconfig: Option<&std::path::Path>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path).map_err(|error| {
                anyhow::anyhow!("cannot read --kubeconfig {}: {error}", path.display())
            })?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default()).await?
        }
        None => kube::Config::infer().await.map_err(|error| {
            anyhow::anyhow!("no Kubernetes configuration found ({error}); run inside a cluster, set KUBECONFIG or pass --kubeconfig")
        })?,
    };
    Ok(kube::Client::try_from(config)?)
}

/// Resolves when SIGTERM or SIGINT arrives.
pub async fn termination_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler works on Unix");
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Options of an operator run that tests and the sandbox set beyond the flags.
pub struct RunOptions {
    pub clock: SharedClock,
    pub step_poll: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            step_poll: Duration::from_secs(30),
        }
    }
}

/// Time the controller gets after SIGTERM to finish the steps in flight. A step's cloud call
/// gives up after 20 s per attempt, so a healthy step ends well within it; past it the
/// process exits anyway (a watch stuck on an unreachable API server has nothing to finish).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Runs `acting` until it returns, or until `SHUTDOWN_GRACE` after `stop` flips to true.
async fn finish_within_grace(acting: impl std::future::Future<Output = ()>, mut stop: watch::Receiver<bool>) {
    tokio::pin!(acting);
    tokio::select! {
        () = &mut acting => return,
        _ = stop.wait_for(|stop| *stop) => {}
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, acting).await.is_err() {
        tracing::warn!(grace_seconds = SHUTDOWN_GRACE.as_secs(), "the controller did not stop within the shutdown grace; exiting");
    }
}

/// Returns the identity written into the leader Lease: `--identity` (the pod name in a cluster),
/// else the host name with a random suffix, so two processes on one host never share it.
pub fn lease_identity(requested: Option<&str>) -> anyhow::Result<String> {
    match requested {
        Some(identity) if identity.trim().is_empty() => anyhow::bail!(
            "invalid --identity (or POD_NAME): it is empty; two replicas with one identity would both act as leader, so set it to the pod name or leave it unset"
        ),
        Some(identity) => Ok(identity.to_string()),
        None => {
            let host = std::env::var("HOSTNAME").ok().filter(|host| !host.trim().is_empty());
            let suffix = uuid::Uuid::new_v4().simple().to_string();
            Ok(format!("{}-{}", host.as_deref().unwrap_or("akguard"), &suffix[..8]))
        }
    }
}

/// Runs the operator until `stop` flips to true.
pub async fn run(args: RunArgs, options: RunOptions, client: kube::Client, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    akguard_hwcloud::install_crypto_provider();
    let metrics = Metrics::new();
    let readiness = Arc::new(Readiness::default());
    let (metrics_address, health_address) = health::serve(
        args.metrics_address,
        args.health_address,
        metrics.clone(),
        readiness.clone(),
        stop.clone(),
    )
    .await?;
    let identity = lease_identity(args.identity.as_deref())?;
    tracing::info!(%metrics_address, %health_address, %identity, leader_election = args.leader_election, "akguard started");

    let settings = ControllerSettings {
        namespaces: args.namespaces.iter().filter(|ns| !ns.is_empty()).cloned().collect(),
        concurrency: args.max_concurrent_rotations.max(1),
        step_poll: options.step_poll,
        identity: identity.clone(),
        cloud_rate_limit: args.cloud_rate_limit,
        max_in_flight_per_namespace: args.max_concurrent_rotations_per_namespace.max(1),
    };

    if !args.leader_election {
        readiness.leader.store(true, Ordering::SeqCst);
        let mut stop_signal = stop.clone();
        let acting = controller::run(client, options.clock, metrics, readiness, settings, async move {
            let _ = stop_signal.wait_for(|stop| *stop).await;
        });
        finish_within_grace(acting, stop.clone()).await;
        tracing::info!("akguard stopped");
        return Ok(());
    }

    let lease_seconds = args.lease_duration.as_secs().max(2);
    let manager = LeaseManagerBuilder::new(client.clone(), &args.lease_name)
        .with_namespace(&args.lease_namespace)
        .with_identity(&identity)
        .with_duration(lease_seconds)
        .with_grace((lease_seconds / 3).max(1))
        .build()
        .await
        .map_err(|error| anyhow::anyhow!("leader election set-up on Lease {}/{} failed: {error}", args.lease_namespace, args.lease_name))?;
    readiness.lease_reachable.store(true, Ordering::SeqCst);
    let (mut leader, lease_task) = manager.watch().await;

    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            changed = leader.wait_for(|is_leader| *is_leader) => {
                if changed.is_err() {
                    anyhow::bail!("leader election stopped unexpectedly");
                }
            }
        }
        readiness.leader.store(true, Ordering::SeqCst);
        tracing::info!(%identity, "acquired the leader Lease; acting");

        // Stop acting on SIGTERM or as soon as the Lease is lost; a reconcile in flight
        // finishes its step first.
        let mut lost = leader.clone();
        let mut stop_signal = stop.clone();
        let acting = controller::run(
            client.clone(),
            options.clock.clone(),
            metrics.clone(),
            readiness.clone(),
            settings.clone(),
            async move {
                tokio::select! {
                    _ = lost.wait_for(|is_leader| !*is_leader) => {}
                    _ = stop_signal.wait_for(|stop| *stop) => {}
                }
            },
        );
        finish_within_grace(acting, stop.clone()).await;
        readiness.leader.store(false, Ordering::SeqCst);
        if *stop.borrow() {
            break;
        }
        tracing::warn!(%identity, "lost the leader Lease; standing by");
    }

    drop(leader);
    match lease_task.await {
        Ok(Ok(manager)) => {
            if let Err(error) = manager.release().await {
                tracing::warn!(%error, "releasing the leader Lease failed; a standby takes over when it expires");
            }
        }
        Ok(Err(error)) => tracing::warn!(%error, "leader election ended with an error"),
        Err(error) => tracing::warn!(%error, "leader election task failed"),
    }
    tracing::info!("akguard stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_rejects_empty() {
        assert!(lease_identity(Some("")).is_err());
        assert!(lease_identity(Some("  ")).is_err());
    }

    #[test]
    fn identity_keeps_given_name() {
        assert_eq!(lease_identity(Some("akguard-7d9f-abcde")).unwrap(), "akguard-7d9f-abcde");
    }

    #[test]
    fn default_identities_differ() {
        assert_ne!(lease_identity(None).unwrap(), lease_identity(None).unwrap());
    }
}
