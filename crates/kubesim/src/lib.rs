//! In-memory Kubernetes API server with real HTTP semantics, for akguard's tests and sandbox.
//!
//! It serves discovery, the core, apps, events, coordination, RBAC and apiextensions kinds,
//! and any CustomResourceDefinition applied to it. Objects support list and watch,
//! resourceVersions, optimistic concurrency, merge, JSON, strategic merge and server-side
//! apply patches, finalizers and garbage collection. Deployments, StatefulSets and
//! DaemonSets roll out, and the caller chooses the outcome through [`RolloutControl`] or the
//! HTTP control API under `/simulator/v1`. Features it does not implement get 501 with a
//! `Status` body.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = akguard_kubesim::start(akguard_kubesim::SimConfig::default()).await?;
//! // kube::Client::try_from(kube::Config::new(sim.base_url().parse()?))
//! println!("{}", sim.kubeconfig_yaml());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod apply;
pub mod auth;
pub mod cli;
mod discovery;
pub mod error;
mod fields;
mod gc;
mod http;
mod kinds;
mod kubeconfig;
mod meta;
mod openapi;
mod partial;
mod patch;
mod protobuf;
mod rbac;
mod schema;
mod registry;
mod selectors;
mod sim;
mod store;
mod tokens;
mod validation;
mod strategic;
mod table;
mod verbs;
mod watch;
pub mod workloads;

pub use error::ApiError;
pub use workloads::{Outcome, RolloutControl, RolloutPlan, WorkloadKind, WorkloadRef};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Watch events kept for resuming watches; a watch from an older resourceVersion gets
    /// 410 Gone.
    pub watch_history: usize,
    /// Time between BOOKMARK events on watches that allow them. kube-apiserver sends them
    /// about once a minute; a shorter interval keeps tests fast.
    pub bookmark_interval: Duration,
    /// Time between workload controller passes; writes to workloads also wake them.
    pub controller_interval: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            watch_history: 10_000,
            bookmark_interval: Duration::from_secs(1),
            controller_interval: Duration::from_millis(20),
        }
    }
}

/// Failure to start the simulator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("failed to listen on {address}: {source}")]
    Listen { address: SocketAddr, source: std::io::Error },
    #[error("failed to write the kubeconfig to {path}: {source}")]
    Kubeconfig { path: PathBuf, source: std::io::Error },
}

/// A running simulator. Dropping it without [`RunningSim::shutdown`] leaves the server
/// running until the Tokio runtime stops.
pub struct RunningSim {
    sim: Arc<sim::Sim>,
    address: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: JoinHandle<()>,
    controllers: JoinHandle<()>,
}

/// Starts the simulator on the configured address and returns once it accepts connections.
pub async fn start(config: SimConfig) -> Result<RunningSim, StartError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen { address: config.listen, source })?;
    let address = listener.local_addr().map_err(|source| StartError::Listen { address: config.listen, source })?;

    let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    let sim = Arc::new(sim::Sim::new(config.watch_history, config.bookmark_interval, RolloutControl::default(), shutdown_rx.clone()));
    let authorizer = Arc::new(auth::TokenRbac::new(sim.clone()));
    let app = Arc::new(http::App { sim: sim.clone(), authorizer, address: address.to_string() });
    let router = http::router(app);

    let mut server_shutdown = shutdown_rx.clone();
    let server = tokio::spawn(async move {
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = server_shutdown.wait_for(|stop| *stop).await;
        });
        if let Err(error) = serve.await {
            tracing::error!(%error, "Kubernetes API simulator server failed");
        }
    });
    let controllers = tokio::spawn(workloads::run_controllers(sim.clone(), config.controller_interval));
    Ok(RunningSim { sim, address, shutdown, server, controllers })
}

impl RunningSim {
    /// `http://127.0.0.1:<port>`, usable as `kube::Config::new(url)`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Renders a kubeconfig whose current context points at this simulator.
    pub fn kubeconfig_yaml(&self) -> String {
        kubeconfig::render(&self.base_url())
    }

    /// Writes the kubeconfig to `path` through a temporary file and a rename, so a process
    /// polling for the file never reads it half written.
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let path = path.as_ref();
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        std::fs::write(&temporary, self.kubeconfig_yaml())?;
        std::fs::rename(&temporary, path)
    }

    /// Returns the handle that chooses how each workload's rollouts behave.
    pub fn rollouts(&self) -> RolloutControl {
        self.sim.rollouts.clone()
    }

    /// Issues a bearer token for an existing ServiceAccount; requests with it are held to
    /// RBAC. The token stays valid until the ServiceAccount is deleted.
    pub fn service_account_token(&self, namespace: &str, name: &str) -> Result<String, ApiError> {
        self.sim.issue_token(namespace, name)
    }

    /// Renders a kubeconfig like [`RunningSim::kubeconfig_yaml`] whose user sends `token`.
    pub fn kubeconfig_with_token(&self, token: &str) -> String {
        kubeconfig::render_with_token(&self.base_url(), Some(token))
    }

    /// Objects stored, across all types and namespaces.
    pub fn object_count(&self) -> usize {
        self.sim.object_count()
    }

    /// Stops the controllers, ends open watches and waits for the server to close.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.controllers.await;
        // Open keep-alive connections can hold graceful shutdown; stop waiting after 5 s.
        let mut server = self.server;
        if tokio::time::timeout(Duration::from_secs(5), &mut server).await.is_err() {
            server.abort();
        }
    }
}
