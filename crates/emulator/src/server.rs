//! Starting and stopping the emulator, and its in-process control API.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use akguard_hwcloud::{Clock, ManualClock, SharedClock, SystemClock};
use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use jiff::{SignedDuration, Timestamp};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::api::{self, DropConnection, PeerAddr};
use crate::cts::Trace;
use crate::faults::{FaultError, FaultRule, FaultSet};
use crate::seed::{SeedError, SeedRequest, SeededAccount};
use crate::state::{KeyView, User, World};

/// The time source of the emulator.
#[derive(Debug, Clone, Default)]
pub enum EmulatorClock {
    /// The operating system's clock.
    #[default]
    System,
    /// A clock that moves only through [`RunningEmulator::advance_clock`] or the admin API.
    Manual(Arc<ManualClock>),
    /// Any other clock, for example a scaled one; it cannot be moved through the emulator.
    Custom(SharedClock),
}

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address of the cloud API. Port 0 picks a free port. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Address of the admin API; `None` (the default) leaves it off.
    pub admin_listen: Option<SocketAddr>,
    pub clock: EmulatorClock,
    /// Fault rules active from the start.
    pub faults: Vec<FaultRule>,
    /// Accounts to create before serving.
    pub seeds: Vec<SeedRequest>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_listen: None,
            clock: EmulatorClock::System,
            faults: Vec::new(),
            seeds: Vec::new(),
        }
    }
}

/// Error from [`start`].
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("failed to listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid fault rule: {0}")]
    Fault(#[from] FaultError),
    #[error("invalid seed: {0}")]
    Seed(#[from] SeedError),
}

/// Error from [`RunningEmulator::advance_clock`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("the emulator does not run on a manual clock; start it with EmulatorClock::Manual or --manual-clock-start")]
    NotManual,
    #[error("cannot move the clock backwards")]
    Backwards,
}

/// Shared state of a running emulator.
#[derive(Debug)]
pub(crate) struct App {
    world: Mutex<World>,
    faults: Mutex<FaultSet>,
    clock: SharedClock,
    manual_clock: Option<Arc<ManualClock>>,
}

impl App {
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        // A panic while the lock was held leaves plain data behind; keep serving.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultSet> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn seed(&self, request: &SeedRequest) -> Result<SeededAccount, SeedError> {
        let now = self.now();
        self.world().seed(request, now)
    }

    pub(crate) fn advance_clock(&self, by: SignedDuration) -> Result<Timestamp, ClockError> {
        let clock = self.manual_clock.as_ref().ok_or(ClockError::NotManual)?;
        if by.is_negative() {
            return Err(ClockError::Backwards);
        }
        clock.advance(by);
        Ok(clock.now())
    }

    pub(crate) fn is_manual_clock(&self) -> bool {
        self.manual_clock.is_some()
    }
}

/// A running emulator. Dropping it without [`RunningEmulator::shutdown`] stops the accept
/// loops too, but without waiting for open connections.
#[derive(Debug)]
pub struct RunningEmulator {
    app: Arc<App>,
    addr: SocketAddr,
    base_url: String,
    admin_url: Option<String>,
    seeded: Vec<SeededAccount>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Starts the emulator: binds the cloud API (and the admin API when configured), seeds the
/// configured accounts and serves until [`RunningEmulator::shutdown`].
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, StartError> {
    let (clock, manual_clock): (SharedClock, _) = match config.clock {
        EmulatorClock::System => (Arc::new(SystemClock), None),
        EmulatorClock::Manual(manual) => (manual.clone(), Some(manual)),
        EmulatorClock::Custom(clock) => (clock, None),
    };
    let mut faults = FaultSet::default();
    for rule in config.faults {
        faults.add(rule)?;
    }
    let app = Arc::new(App {
        world: Mutex::new(World::default()),
        faults: Mutex::new(faults),
        clock,
        manual_clock,
    });
    let seeded = config
        .seeds
        .iter()
        .map(|seed| app.seed(seed))
        .collect::<Result<Vec<_>, _>>()?;

    let (shutdown, shutdown_rx) = watch::channel(false);
    let listener = bind(config.listen).await?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let mut tasks = vec![tokio::spawn(serve(
        listener,
        api::router(app.clone()),
        shutdown_rx.clone(),
    ))];

    let mut admin_url = None;
    if let Some(admin_addr) = config.admin_listen {
        let listener = bind(admin_addr).await?;
        let bound = listener.local_addr().map_err(|source| StartError::Bind {
            addr: admin_addr,
            source,
        })?;
        admin_url = Some(format!("http://{bound}"));
        tasks.push(tokio::spawn(serve(
            listener,
            crate::admin::router(app.clone()),
            shutdown_rx,
        )));
    }

    tracing::info!(%addr, admin = admin_url.as_deref().unwrap_or("off"), "emulator started");
    Ok(RunningEmulator {
        app,
        addr,
        base_url: format!("http://{addr}"),
        admin_url,
        seeded,
        shutdown,
        tasks,
    })
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

impl RunningEmulator {
    /// URL of the cloud API, `http://<ip>:<port>`; use it as the IAM and CTS endpoint.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Returns the socket address of the cloud API.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// URL of the admin API when it is on.
    pub fn admin_url(&self) -> Option<&str> {
        self.admin_url.as_deref()
    }

    /// Accounts created from [`EmulatorConfig::seeds`], in order.
    pub fn seeded(&self) -> &[SeededAccount] {
        &self.seeded
    }

    /// Creates an account with its users and keys; the result contains each key's secret.
    pub fn seed(&self, request: SeedRequest) -> Result<SeededAccount, SeedError> {
        self.app.seed(&request)
    }

    /// Returns every user of every account.
    pub fn users(&self) -> Vec<User> {
        self.app.world().users.values().cloned().collect()
    }

    /// Returns every access key, without secrets.
    pub fn keys(&self) -> Vec<KeyView> {
        self.app.world().keys.values().map(|key| key.view()).collect()
    }

    /// Returns one access key, without its secret.
    pub fn key(&self, access_key_id: &str) -> Option<KeyView> {
        self.app.world().key(access_key_id).map(|key| key.view())
    }

    /// Returns every recorded trace, oldest first, across accounts and regions.
    pub fn traces(&self) -> Vec<Trace> {
        self.app.world().traces.clone()
    }

    /// Enables or disables a user; returns false when there is no such user.
    pub fn set_user_enabled(&self, user_id: &str, enabled: bool) -> bool {
        match self.app.world().users.get_mut(user_id) {
            Some(user) => {
                user.enabled = enabled;
                true
            }
            None => false,
        }
    }

    /// Adds a fault rule; its N-th-call counter starts now.
    pub fn set_fault(&self, rule: FaultRule) -> Result<(), FaultError> {
        self.app.faults().add(rule)
    }

    /// Returns the active fault rules.
    pub fn faults(&self) -> Vec<FaultRule> {
        self.app.faults().rules()
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.app.faults().clear();
    }

    /// Returns the emulator's current time.
    pub fn now(&self) -> Timestamp {
        self.app.now()
    }

    /// Moves a manual clock forward and returns the new time.
    pub fn advance_clock(&self, by: SignedDuration) -> Result<Timestamp, ClockError> {
        self.app.advance_clock(by)
    }

    /// Stops accepting connections, lets open requests finish (up to 5 seconds) and returns.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// How long a connection may take to finish its request after shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Accepts connections until shutdown and serves each with HTTP/1.1.
async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(%error, "failed to accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        connections.spawn(serve_connection(stream, peer, router.clone(), shutdown.clone()));
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    connections.abort_all();
}

/// Returned to hyper to make it close a connection without writing a response.
#[derive(Debug)]
struct DroppedByFault;

impl std::fmt::Display for DroppedByFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DroppedByFault {}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let router = router.clone();
        async move {
            request.extensions_mut().insert(PeerAddr(peer));
            let response = match router.oneshot(request.map(Body::new)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if response.extensions().get::<DropConnection>().is_some() {
                return Err(DroppedByFault);
            }
            Ok::<_, DroppedByFault>(response)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = shutdown.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}
