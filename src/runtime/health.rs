//! HTTP endpoints: `/metrics` on the metrics address, `/healthz` and `/readyz` on the
//! health address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;

use super::metrics::Metrics;

/// Readiness facts the probes report.
#[derive(Debug, Default)]
pub struct Readiness {
    /// Every watch cache listed once.
    pub caches_synced: AtomicBool,
    /// This replica holds the leader Lease (or leader election is off).
    pub leader: AtomicBool,
    /// Leader election read or created the Lease, so this replica can take over. A standby
    /// runs no watch caches.
    pub lease_reachable: AtomicBool,
}

impl Readiness {
    /// `/readyz` body and status. The leader is ready once its caches synced. A standby is
    /// ready once it reached the Lease, since it must be able to take over. The body names
    /// the replica's role.
    pub fn report(&self) -> (StatusCode, String) {
        if self.leader.load(Ordering::SeqCst) {
            if self.caches_synced.load(Ordering::SeqCst) {
                return (StatusCode::OK, "ready: caches synced, leader\n".to_string());
            }
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: caches not synced yet, leader\n".to_string(),
            );
        }
        if self.lease_reachable.load(Ordering::SeqCst) {
            (StatusCode::OK, "ready: standby, watching the leader Lease\n".to_string())
        } else {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: leader Lease not read yet, standby\n".to_string(),
            )
        }
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(readiness): State<Arc<Readiness>>) -> (StatusCode, String) {
    readiness.report()
}

async fn metrics(State(metrics): State<Metrics>) -> ([(&'static str, &'static str); 1], String) {
    (
        [("content-type", "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        metrics.render(),
    )
}

/// Binds both servers and serves them until `shutdown` resolves. Returns the bound
/// addresses, which differ from the requested ones when a port of 0 was asked for.
pub async fn serve(
    metrics_address: SocketAddr,
    health_address: SocketAddr,
    metrics_registry: Metrics,
    readiness: Arc<Readiness>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<(SocketAddr, SocketAddr)> {
    let metrics_listener = TcpListener::bind(metrics_address).await.map_err(|error| {
        anyhow::anyhow!("cannot listen on --metrics-address {metrics_address}: {error}")
    })?;
    let health_listener = TcpListener::bind(health_address).await.map_err(|error| {
        anyhow::anyhow!("cannot listen on --health-address {health_address}: {error}")
    })?;
    let bound = (metrics_listener.local_addr()?, health_listener.local_addr()?);

    let metrics_app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(metrics_registry);
    let health_app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(readiness);

    for (listener, app) in [(metrics_listener, metrics_app), (health_listener, health_app)] {
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let stop = async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            };
            if let Err(error) = axum::serve(listener, app).with_graceful_shutdown(stop).await {
                tracing::error!(%error, "HTTP endpoint stopped");
            }
        });
    }
    Ok(bound)
}
