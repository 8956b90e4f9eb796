//! The operator as a separate `akguard run` process against the in-process emulator and
//! simulator, for tests that kill, stop or signal it.
//!
//! Time: the world runs on the harness's manual clock, and every process reads the same
//! instant from a clock file (`--clock-file`). [`ProcessWorld::advance`] moves both.
//! Logs: each process writes standard output and standard error to files in the world's
//! work directory, which is kept when a test fails.

use std::collections::BTreeSet;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use akguard::api::rotation::{AccessKeyRotation, RotationStep};
use akguard::sandbox::world;
use akguard_emulator::KeyStatus;
use akguard_hwcloud::{Client, ClientConfig, Clock, Credentials, EndpointOverrides, SecretKey};
use futures::StreamExt;
use jiff::SignedDuration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::ListParams;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

use super::{Harness, NAMESPACE, completed_rotations, waits_on_time};

/// Name of the AccessKeyRotation the process tests create.
pub const ROTATION: &str = "app-key";
/// Lease the operator processes elect their leader on (the `--lease-name` default).
pub const LEASE: &str = "akguard-leader";
/// Namespace of that Lease (the `--lease-namespace` default).
pub const LEASE_NAMESPACE: &str = "default";
/// How far the clock moves per 50 ms while a rotation waits on time. It stays below the
/// emulator's 15-minute signature clock-skew limit, so a request signed just before a move
/// is still accepted after it.
pub const CLOCK_STEP: SignedDuration = SignedDuration::from_mins(10);

static WORLD_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Flags of one operator process beyond the fixed test settings.
#[derive(Debug, Clone)]
pub struct OperatorOptions {
    pub identity: String,
    pub leader_election: bool,
    /// `--lease-duration` value, for example `2s`.
    pub lease_duration: String,
    /// Kubeconfig to use instead of the world's, for example one that points at a proxy.
    pub kubeconfig: Option<PathBuf>,
}

impl OperatorOptions {
    pub fn single(identity: &str) -> Self {
        Self {
            identity: identity.to_string(),
            leader_election: false,
            lease_duration: "2s".to_string(),
            kubeconfig: None,
        }
    }

    pub fn elected(identity: &str) -> Self {
        Self {
            leader_election: true,
            ..Self::single(identity)
        }
    }
}

/// One `akguard run` child process. Dropping it sends SIGKILL and reaps it.
pub struct OperatorProcess {
    child: Child,
    pub identity: String,
    stderr_path: PathBuf,
    exit: Option<ExitStatus>,
}

impl OperatorProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by name (`KILL`, `TERM`, `STOP`, `CONT`) to this process only.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("the kill command runs");
        assert!(status.success(), "kill -{name} {} failed", self.pid());
    }

    /// SIGKILL, then waits for the exit.
    pub fn kill(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            self.exit = self.child.wait().ok();
        }
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while self.exit.is_none() && Instant::now() < deadline {
            self.exit = self.child.try_wait().expect("try_wait on a child works");
            if self.exit.is_none() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        self.exit
    }

    /// Returns the log lines (standard error) written so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Reads the metrics and health addresses from the "akguard started" log line.
    pub async fn addresses(&self) -> (SocketAddr, SocketAddr) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            for line in self.logs().lines() {
                let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                if entry["message"] != "akguard started" {
                    continue;
                }
                let address = |field: &str| -> SocketAddr {
                    entry[field]
                        .as_str()
                        .and_then(|text| text.parse().ok())
                        .unwrap_or_else(|| panic!("the start line lacks {field}: {line}"))
                };
                return (address("metrics_address"), address("health_address"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("operator {} logged no start line in 30 s; log:\n{}", self.identity, self.logs());
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The harness's world plus what operator processes need: a kubeconfig, a clock file and a
/// work directory for logs.
pub struct ProcessWorld {
    pub harness: Harness,
    dir: PathBuf,
    pub kubeconfig: PathBuf,
    clock_file: PathBuf,
    log_files: std::sync::Mutex<Vec<PathBuf>>,
}

impl ProcessWorld {
    /// Starts the harness's world (namespace `apps`, Secrets `hw` and `ops`, Deployment
    /// `api`) and writes the kubeconfig and clock file.
    pub async fn start(test: &str) -> Self {
        let harness = Harness::start().await;
        let dir = std::env::temp_dir().join(format!(
            "akguard-process-{test}-{}-{}",
            std::process::id(),
            WORLD_COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("work directory created");
        let kubeconfig = dir.join("kubeconfig");
        harness.world.sim.write_kubeconfig(&kubeconfig).expect("kubeconfig written");
        let world = Self {
            harness,
            clock_file: dir.join("clock"),
            kubeconfig,
            dir,
            log_files: std::sync::Mutex::new(Vec::new()),
        };
        world.write_clock();
        world
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes a kubeconfig pointing at `base_url` and returns its path.
    pub fn kubeconfig_for(&self, file_name: &str, base_url: &str) -> PathBuf {
        let text = self
            .harness
            .world
            .sim
            .kubeconfig_yaml()
            .replace(&self.harness.world.sim.base_url(), base_url);
        let path = self.dir.join(file_name);
        std::fs::write(&path, text).expect("kubeconfig written");
        path
    }

    fn write_clock(&self) {
        let now = self.harness.clock.now().to_string();
        let staging = self.clock_file.with_extension("new");
        std::fs::write(&staging, now).expect("clock file written");
        std::fs::rename(&staging, &self.clock_file).expect("clock file replaced");
    }

    /// Moves the emulator's clock and the processes' clock file together.
    pub fn advance(&self, by: SignedDuration) {
        self.harness.clock.advance(by);
        self.write_clock();
    }

    /// Starts `akguard run` with JSON logs, endpoints on free loopback ports and a 50 ms
    /// step poll interval.
    pub fn spawn(&self, options: &OperatorOptions) -> OperatorProcess {
        let count = self.log_files.lock().unwrap().len();
        let stem = format!("{count:02}-{}", options.identity);
        let stdout_path = self.dir.join(format!("{stem}.stdout.log"));
        let stderr_path = self.dir.join(format!("{stem}.stderr.log"));
        let kubeconfig = options.kubeconfig.clone().unwrap_or_else(|| self.kubeconfig.clone());

        let mut command = Command::new(env!("CARGO_BIN_EXE_akguard"));
        command
            .arg("run")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg(format!("--leader-election={}", options.leader_election))
            .arg("--lease-duration")
            .arg(&options.lease_duration)
            .arg("--identity")
            .arg(&options.identity)
            .args(["--metrics-address", "127.0.0.1:0", "--health-address", "127.0.0.1:0"])
            .args(["--step-poll-interval", "50ms", "--log-format", "json", "--log-level", "info"])
            .arg("--clock-file")
            .arg(&self.clock_file)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout_path).expect("stdout log created"))
            .stderr(File::create(&stderr_path).expect("stderr log created"));
        for (name, _) in std::env::vars() {
            if name.starts_with("AKGUARD_") || name == "KUBECONFIG" || name == "POD_NAME" || name == "POD_NAMESPACE" {
                command.env_remove(name);
            }
        }
        let child = command.spawn().expect("akguard run starts");
        self.log_files.lock().unwrap().extend([stdout_path, stderr_path.clone()]);
        OperatorProcess {
            child,
            identity: options.identity.clone(),
            stderr_path,
            exit: None,
        }
    }

    /// Returns what every process wrote so far to standard output and standard error.
    pub fn all_logs(&self) -> Vec<(PathBuf, String)> {
        self.log_files
            .lock()
            .unwrap()
            .iter()
            .map(|path| (path.clone(), std::fs::read_to_string(path).unwrap_or_default()))
            .collect()
    }

    /// Creates the rotation of Secret `hw`, acting with Secret `ops`.
    pub async fn create_rotation(&self) {
        let rotation = self.harness.world.rotation(ROTATION, "hw", Some("ops"));
        self.harness.create(&rotation).await;
    }

    /// Watches the rotation and returns the first state for which `done` holds. While the
    /// rotation waits on time alone, the clock moves by [`CLOCK_STEP`] every 50 ms. Panics
    /// with the last status after `timeout`.
    pub async fn drive(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&AccessKeyRotation) -> bool,
    ) -> AccessKeyRotation {
        let api = self.harness.rotations();
        let stream = watcher(api.clone(), watcher::Config::default())
            .default_backoff()
            .applied_objects();
        let mut stream = std::pin::pin!(stream);
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        let deadline = Instant::now() + timeout;
        let mut last: Option<AccessKeyRotation> = None;
        loop {
            tokio::select! {
                event = stream.next() => {
                    let Some(Ok(object)) = event else { continue };
                    if object.name_any() != ROTATION {
                        continue;
                    }
                    if done(&object) {
                        return object;
                    }
                    last = Some(object);
                }
                _ = tick.tick() => {
                    if Instant::now() > deadline {
                        panic!(
                            "rotation did not reach the expected state in {timeout:?}; last status: {}",
                            serde_json::to_string_pretty(&last.and_then(|o| o.status)).unwrap()
                        );
                    }
                    if let Some(object) = &last
                        && waits_on_time(object, self.harness.now())
                    {
                        self.advance(CLOCK_STEP);
                    }
                }
            }
        }
    }

    /// Waits until the operator adopted the current key and reports Ready.
    pub async fn wait_adopted(&self) -> AccessKeyRotation {
        self.drive(Duration::from_secs(60), |object| {
            object
                .status
                .as_ref()
                .is_some_and(|status| status.phase == Some(akguard::api::rotation::RotationPhase::Ready))
        })
        .await
    }

    /// Drives the rotation until it shows `step`.
    pub async fn drive_to_step(&self, step: RotationStep) -> AccessKeyRotation {
        self.drive(Duration::from_secs(90), |object| step_of(object) == Some(step)).await
    }

    /// Drives the rotation until its history records one success.
    pub async fn drive_to_completion(&self) -> AccessKeyRotation {
        self.drive(Duration::from_secs(120), |object| completed_rotations(object) == 1).await
    }

    /// Returns the application user's keys in the emulator.
    pub fn app_keys(&self) -> Vec<akguard_emulator::KeyView> {
        let user = self.harness.world.user_id(world::APP_USER);
        self.harness
            .world
            .emulator
            .keys()
            .into_iter()
            .filter(|key| key.user_id == user)
            .collect()
    }

    pub async fn secret_pair(&self, name: &str) -> Option<(String, SecretKey)> {
        let api: Api<Secret> = Api::namespaced(self.harness.world.client.clone(), NAMESPACE);
        let data = api.get_opt(name).await.unwrap()?.data?;
        let text = |key: &str| data.get(key).map(|value| String::from_utf8(value.0.clone()).unwrap());
        Some((text("HUAWEICLOUD_SDK_AK")?, SecretKey::new(text("HUAWEICLOUD_SDK_SK")?)))
    }

    /// Names of the staging and backup Secrets the operator owns.
    pub async fn owned_secrets(&self) -> Vec<String> {
        let api: Api<Secret> = Api::namespaced(self.harness.world.client.clone(), NAMESPACE);
        api.list(&ListParams::default().labels("akguard.io/role"))
            .await
            .unwrap()
            .items
            .iter()
            .map(|secret| secret.name_any())
            .collect()
    }

    /// Signs a call with the key pair: succeeds only when the secret access key is the one
    /// IAM issued for the access key ID and the key is active.
    pub async fn key_works(&self, access_key_id: &str, secret: SecretKey) -> bool {
        let mut config = ClientConfig::new(world::REGION);
        config.endpoints = EndpointOverrides {
            iam: Some(self.harness.world.emulator.base_url().to_string()),
            cts: None,
            bss: None,
        };
        let credentials = Credentials::new(access_key_id, secret);
        let client = Client::new(config, credentials, self.harness.clock.clone()).unwrap();
        client.list_access_keys(None).await.is_ok()
    }

    /// Events about the rotation, oldest first.
    pub async fn events(&self) -> Vec<Event> {
        let api: Api<Event> = Api::namespaced(self.harness.world.client.clone(), NAMESPACE);
        let mut events = api.list(&ListParams::default()).await.unwrap().items;
        events.retain(|event| event.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(ROTATION));
        events.sort_by_key(|event| event.metadata.creation_timestamp.clone().map(|time| time.0));
        events
    }

    pub async fn lease_holder(&self) -> Option<String> {
        let api: Api<Lease> = Api::namespaced(self.harness.world.client.clone(), LEASE_NAMESPACE);
        api.get_opt(LEASE)
            .await
            .unwrap()
            .and_then(|lease| lease.spec)
            .and_then(|spec| spec.holder_identity)
            .filter(|holder| !holder.is_empty())
    }

    /// Checks the end state of a successful rotation away from `old_key` and returns the
    /// new key's ID. The user holds one active key, the target Secret holds it and its pair
    /// signs a valid request, and no other key, staging or backup Secret is left. History
    /// records the success, the consumer restarted once, and no log contains a secret.
    pub async fn assert_rotated(&self, object: &AccessKeyRotation, old_key: &str) -> String {
        let status = object.status.clone().expect("the rotation has a status");
        assert_eq!(completed_rotations(object), 1, "history records one successful rotation");
        assert!(status.rotation.is_none(), "no rotation in flight: {:?}", status.rotation);
        let new_key = status.current_access_key_id.clone().expect("status names the current key");
        assert_ne!(new_key, old_key, "the key changed");

        let keys = self.app_keys();
        let ids: Vec<&str> = keys.iter().map(|key| key.access_key_id.as_str()).collect();
        assert_eq!(ids, vec![new_key.as_str()], "the user holds only the new key");
        assert_eq!(keys[0].status, KeyStatus::Active, "the new key is active");

        let (held, secret) = self.secret_pair("hw").await.expect("Secret hw holds a key pair");
        assert_eq!(held, new_key, "Secret hw holds the new key");
        assert!(self.key_works(&held, secret).await, "the pair in Secret hw signs a valid request");

        let held_ids: BTreeSet<String> = [held.clone()].into();
        for key in &keys {
            assert!(held_ids.contains(&key.access_key_id), "orphan key {} is held by no Secret", key.access_key_id);
        }
        assert_eq!(self.owned_secrets().await, Vec::<String>::new(), "no staging or backup Secret is left");

        let deployments: Api<Deployment> = Api::namespaced(self.harness.world.client.clone(), NAMESPACE);
        let api = deployments.get("api").await.unwrap();
        assert_eq!(api.metadata.generation, Some(2), "Deployment api restarted exactly once");

        self.assert_logs_clean().await;
        new_key
    }

    /// Fails when a process log contains a secret access key of the world (the old and
    /// current application keys, the administrator key) or a line that is not JSON. Also
    /// fails when a rotation step line lacks its resource, rotation or key field.
    pub async fn assert_logs_clean(&self) {
        let mut secrets = vec![
            ("old application key", self.harness.world.credentials(world::APP_USER).secret_access_key),
            ("administrator key", self.harness.world.credentials(world::ADMIN_USER).secret_access_key),
        ];
        if let Some((_, current)) = self.secret_pair("hw").await {
            secrets.push(("key in Secret hw", current));
        }
        let mut step_lines = 0;
        for (path, text) in self.all_logs() {
            for (name, secret) in &secrets {
                // Compare only: a failure names the file and the key's role, never its value.
                assert!(
                    !text.contains(secret.expose()),
                    "{} contains the secret access key of the {name}",
                    path.display()
                );
            }
            if path.to_string_lossy().ends_with(".stdout.log") {
                continue;
            }
            for line in text.lines().filter(|line| !line.trim().is_empty()) {
                let entry: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("{}: log line is not JSON ({error}): {line}", path.display()));
                if entry["reason"] != "RotationStep" {
                    continue;
                }
                step_lines += 1;
                for field in ["namespace", "name", "rotation_id", "access_key_id"] {
                    let value = entry[field].as_str().unwrap_or_default();
                    assert!(!value.is_empty(), "{}: step line lacks {field}: {line}", path.display());
                }
            }
        }
        assert!(step_lines > 0, "the processes logged no rotation step");
    }
}

impl Drop for ProcessWorld {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("process logs kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn step_of(object: &AccessKeyRotation) -> Option<RotationStep> {
    object.status.as_ref()?.rotation.as_ref().map(|rotation| rotation.step)
}

pub fn rotation_id_of(object: &AccessKeyRotation) -> Option<String> {
    object.status.as_ref()?.rotation.as_ref().map(|rotation| rotation.id.clone())
}

/// Sends an HTTP GET on the loopback and returns the status code and body.
pub async fn http_get(address: SocketAddr, path: &str) -> (u16, String) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let response = client
        .get(format!("http://{address}{path}"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {path} on {address} failed: {error}"));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// A TCP proxy on the loopback that can close every open connection at once, to drop the
/// watches and requests of a process that talks to the simulator through it. It can also
/// forward one request and then close its connection before the response, so the server
/// acts but the client sees a failure.
pub struct CuttingProxy {
    pub base_url: String,
    shared: Arc<ProxyShared>,
    task: tokio::task::JoinHandle<()>,
}

struct ProxyShared {
    cut: broadcast::Sender<()>,
    accepted: AtomicUsize,
    /// Start of the request whose response is dropped next.
    drop_response_of: std::sync::Mutex<Option<String>>,
    dropped_responses: AtomicUsize,
}

impl CuttingProxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(ProxyShared {
            cut: broadcast::channel(16).0,
            accepted: AtomicUsize::new(0),
            drop_response_of: std::sync::Mutex::new(None),
            dropped_responses: AtomicUsize::new(0),
        });
        let accept_shared = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                accept_shared.accepted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(relay(inbound, upstream, accept_shared.clone()));
            }
        });
        Self { base_url, shared, task }
    }

    /// Closes every open connection and returns how many there were.
    pub fn cut(&self) -> usize {
        self.shared.cut.send(()).unwrap_or(0)
    }

    /// Returns the number of connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Makes the next request whose bytes contain `request_start` (for example
    /// `POST /api/v1/namespaces/apps/secrets`) reach the server, and closes its connection
    /// before the response.
    pub fn drop_next_response(&self, request_start: &str) {
        *self.shared.drop_response_of.lock().unwrap() = Some(request_start.to_string());
    }

    /// Returns the number of responses dropped so far.
    pub fn dropped_responses(&self) -> usize {
        self.shared.dropped_responses.load(Ordering::SeqCst)
    }
}

/// Copies bytes both ways between a client and the upstream until either side closes, a
/// cut, or a dropped response ends the connection.
async fn relay(inbound: TcpStream, upstream: SocketAddr, shared: Arc<ProxyShared>) {
    use tokio::io::AsyncReadExt;

    let Ok(outbound) = TcpStream::connect(upstream).await else {
        return;
    };
    let mut cut = shared.cut.subscribe();
    let (mut client_read, mut client_write) = inbound.into_split();
    let (mut server_read, mut server_write) = outbound.into_split();
    let swallow = Arc::new(std::sync::atomic::AtomicBool::new(false));

    let to_server = {
        let swallow = swallow.clone();
        let shared = shared.clone();
        async move {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let Ok(read) = client_read.read(&mut buffer).await else { return };
                if read == 0 {
                    return;
                }
                let chunk = &buffer[..read];
                let text = String::from_utf8_lossy(chunk);
                {
                    let mut armed = shared.drop_response_of.lock().unwrap();
                    if armed.as_deref().is_some_and(|start| text.contains(start)) {
                        *armed = None;
                        swallow.store(true, Ordering::SeqCst);
                        shared.dropped_responses.fetch_add(1, Ordering::SeqCst);
                    }
                }
                if server_write.write_all(chunk).await.is_err() {
                    return;
                }
                if swallow.load(Ordering::SeqCst) {
                    // Give the server time to act on the request, then close unanswered.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    return;
                }
            }
        }
    };
    let to_client = async move {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let Ok(read) = server_read.read(&mut buffer).await else { return };
            if read == 0 || swallow.load(Ordering::SeqCst) {
                return;
            }
            if client_write.write_all(&buffer[..read]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = to_server => {}
        _ = to_client => {}
        _ = cut.recv() => {}
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
