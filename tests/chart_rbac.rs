//! The Helm chart's ServiceAccount and RBAC are enough for the operator, and requests outside
//! them are denied. The chart is rendered with helm and its RBAC objects are created in the
//! simulator, which enforces RBAC for ServiceAccount bearer tokens. The real operator then
//! runs with a token of the chart's ServiceAccount and must complete a rotation without one
//! denied request, and requests the chart does not grant must get 403.
//!
//! The harness keeps its own client without credentials, which the simulator treats as
//! `system:admin` in `system:masters`, to create the test objects and read the results.

mod support;

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use akguard::runtime::config::RunArgs;
use akguard::runtime::operator::{self, RunOptions};
use akguard::sandbox::world;
use axum::body::Bytes;
use axum::extract::State;
use axum::http;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use jiff::SignedDuration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Api, Client};
use serde_json::{Value, json};
use support::{Harness, NAMESPACE, completed_rotations};
use tokio::sync::watch;

/// Release name and namespace the chart is rendered for.
const RELEASE: &str = "rbac";
const RELEASE_NAMESPACE: &str = "akguard-system";
/// A namespace the chart's default values here do not watch.
const UNWATCHED_NAMESPACE: &str = "other";
/// Kinds of the rendered manifests that make up the operator's identity and permissions.
const RBAC_KINDS: [&str; 5] = ["ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];
/// Operator identity written into the Lease, in place of the pod name.
const IDENTITY: &str = "chart-rbac-test";

/// Renders the chart with `.tools/bin/helm` for release `rbac` in `akguard-system`, with
/// `values` passed to `--set`, and returns the non-empty documents.
async fn render_chart(values: &[&str]) -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let helm = root.join(".tools/bin/helm");
    assert!(
        helm.is_file(),
        "helm is missing at {}; install it with `bash scripts/install-tools.sh`",
        helm.display()
    );
    let mut command = tokio::process::Command::new(&helm);
    command
        .current_dir(root)
        .args(["template", RELEASE, "charts/akguard", "--namespace", RELEASE_NAMESPACE]);
    for value in values {
        command.args(["--set", value]);
    }
    let output = command.output().await.expect("helm runs");
    assert!(
        output.status.success(),
        "helm template with {values:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("helm writes UTF-8");
    let documents: Vec<Value> = serde_saphyr::from_multiple(&text).expect("helm writes valid YAML");
    documents.into_iter().filter(|document| !document.is_null()).collect()
}

fn kind_of(object: &Value) -> &str {
    object["kind"].as_str().unwrap_or_default()
}

fn name_of(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

/// Returns the one rendered object of `kind`.
fn only<'a>(manifests: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = manifests.iter().filter(|object| kind_of(object) == kind).collect();
    assert_eq!(found.len(), 1, "the chart renders exactly one {kind}");
    found[0]
}

/// Creates the rendered ServiceAccount, Roles, ClusterRoles and bindings with the admin
/// client and returns the ServiceAccount's name.
async fn install_rbac(admin: &Client, manifests: &[Value]) -> String {
    let mut created = Vec::new();
    for object in manifests.iter().filter(|object| RBAC_KINDS.contains(&kind_of(object))) {
        let dynamic: DynamicObject = serde_json::from_value(object.clone()).expect("rendered object has metadata");
        let types = dynamic.types.as_ref().expect("rendered object has apiVersion and kind");
        let gvk = GroupVersionKind::try_from(types).expect("rendered apiVersion parses");
        let resource = ApiResource::from_gvk(&gvk);
        let api: Api<DynamicObject> = match object["metadata"]["namespace"].as_str() {
            Some(namespace) => Api::namespaced_with(admin.clone(), namespace, &resource),
            None => Api::all_with(admin.clone(), &resource),
        };
        api.create(&PostParams::default(), &dynamic)
            .await
            .unwrap_or_else(|error| panic!("creating {} {} failed: {error}", gvk.kind, name_of(object)));
        created.push(format!("{}/{}", gvk.kind, name_of(object)));
    }
    assert!(created.iter().any(|c| c.starts_with("RoleBinding/") || c.starts_with("ClusterRoleBinding/")), "the chart renders bindings: {created:?}");

    let account = name_of(only(manifests, "ServiceAccount")).to_string();
    let deployment = only(manifests, "Deployment");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["serviceAccountName"].as_str(),
        Some(account.as_str()),
        "the Deployment runs as the chart's ServiceAccount"
    );
    account
}

/// Builds a client that sends a fresh token of `account` in `akguard-system`, from the
/// simulator's kubeconfig with its server replaced by `server`.
async fn token_client(sim: &akguard_kubesim::RunningSim, account: &str, server: &str) -> Client {
    let token = sim
        .service_account_token(RELEASE_NAMESPACE, account)
        .expect("the simulator issues a token for the chart's ServiceAccount");
    let mut kubeconfig = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_with_token(&token)).expect("kubeconfig parses");
    for cluster in &mut kubeconfig.clusters {
        if let Some(cluster) = cluster.cluster.as_mut() {
            cluster.server = Some(server.to_string());
        }
    }
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .expect("kubeconfig with a token builds a client config");
    Client::try_from(config).expect("client builds")
}

async fn create_namespaces(world: &world::World, names: &[&str]) {
    for name in names {
        world.namespace(name).await.unwrap_or_else(|error| panic!("creating namespace {name} failed: {error}"));
    }
}

/// Requests the proxy forwarded, those without credentials, and those the simulator denied
/// with 401 or 403.
#[derive(Default)]
struct ProxyLog {
    forwarded: usize,
    anonymous: usize,
    denied: Vec<String>,
}

struct ProxyState {
    upstream: Client,
    log: Mutex<ProxyLog>,
}

/// An HTTP proxy on 127.0.0.1 in front of the simulator. The simulator keeps no record of
/// the requests it denies, so the operator's client goes through this proxy, which records
/// the method, path and status of each denied request. Response bodies, watches included,
/// stream through unchanged.
struct RecordingProxy {
    url: String,
    state: Arc<ProxyState>,
}

impl RecordingProxy {
    async fn start(sim_url: &str) -> Self {
        let upstream = Client::try_from(kube::Config::new(sim_url.parse().expect("simulator URL parses"))).expect("client builds");
        let state = Arc::new(ProxyState { upstream, log: Mutex::default() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("proxy binds a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(forward).with_state(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, state }
    }

    fn forwarded(&self) -> usize {
        self.state.log.lock().unwrap().forwarded
    }

    fn anonymous(&self) -> usize {
        self.state.log.lock().unwrap().anonymous
    }

    fn denied(&self) -> Vec<String> {
        self.state.log.lock().unwrap().denied.clone()
    }
}

/// Forwards one request, with its Authorization header, to the simulator.
async fn forward(State(state): State<Arc<ProxyState>>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, 16 << 20).await {
        Ok(body) => body,
        Err(error) => return (http::StatusCode::BAD_REQUEST, format!("reading the request body failed: {error}")).into_response(),
    };
    let path = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let mut builder = http::Request::builder().method(parts.method.clone()).uri(path.as_str());
    for (name, value) in &parts.headers {
        if name != http::header::HOST {
            builder = builder.header(name, value);
        }
    }
    let upstream_request = builder.body(kube::client::Body::from(body)).expect("a copied request is valid");

    {
        let mut log = state.log.lock().unwrap();
        log.forwarded += 1;
        if !parts.headers.contains_key(http::header::AUTHORIZATION) {
            log.anonymous += 1;
        }
    }
    let response = match state.upstream.send(upstream_request).await {
        Ok(response) => response,
        Err(error) => {
            return (http::StatusCode::BAD_GATEWAY, format!("forwarding to the simulator failed: {error}")).into_response();
        }
    };
    let status = response.status();
    if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN {
        state.log.lock().unwrap().denied.push(format!("{} {path} -> {status}", parts.method));
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(http::header::TRANSFER_ENCODING);
    parts.headers.remove(http::header::CONNECTION);
    Response::from_parts(parts, axum::body::Body::new(body))
}

/// Returns a loopback port that was free a moment ago.
// NOTE: another process can take the port between this call and the operator's bind. The
// operator then fails to start, and the test fails.
fn free_loopback_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Builds the operator's flags from the rendered Deployment's container args. The flags that
/// decide what the operator reads and writes (namespaces, leader election and the Lease) are
/// kept as the chart sets them. Endpoints, logs and the cloud rate limit are replaced with
/// test values, and `--lease-namespace` replaces the POD_NAMESPACE the pod receives.
fn operator_args(deployment: &Value, metrics_port: u16) -> RunArgs {
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: RunArgs,
    }

    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let chart_args: Vec<&str> = container["args"]
        .as_array()
        .expect("the operator container has args")
        .iter()
        .map(|arg| arg.as_str().expect("container args are strings"))
        .collect();
    assert_eq!(chart_args.first(), Some(&"run"), "the container runs `akguard run`: {chart_args:?}");

    let pod_namespace = container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|env| env["name"] == "POD_NAMESPACE")
        .map(|env| env["valueFrom"]["fieldRef"]["fieldPath"].clone());
    assert_eq!(
        pod_namespace,
        Some(json!("metadata.namespace")),
        "POD_NAMESPACE, and with it the Lease namespace, is the release namespace"
    );

    const KEPT: [&str; 6] = [
        "--namespaces",
        "--leader-election",
        "--lease-name",
        "--lease-duration",
        "--max-concurrent-rotations",
        "--max-concurrent-rotations-per-namespace",
    ];
    const REPLACED: [&str; 6] = [
        "--metrics-address",
        "--health-address",
        "--log-format",
        "--log-level",
        "--cloud-rate-limit",
        "--step-poll-interval",
    ];
    let mut args = vec!["akguard".to_string()];
    for arg in &chart_args[1..] {
        let flag = arg.split('=').next().unwrap_or_default();
        if KEPT.contains(&flag) {
            args.push(arg.to_string());
        } else {
            assert!(REPLACED.contains(&flag), "the chart passes {arg}; decide in this test whether it matters for RBAC");
        }
    }
    args.extend([
        format!("--lease-namespace={RELEASE_NAMESPACE}"),
        format!("--identity={IDENTITY}"),
        format!("--metrics-address=127.0.0.1:{metrics_port}"),
        "--health-address=127.0.0.1:0".to_string(),
        "--log-format=text".to_string(),
        // The local emulator needs no protection, and a limit would slow simulated soaks.
        "--cloud-rate-limit=0".to_string(),
    ]);
    Wrapper::parse_from(args).args
}

async fn scrape_metrics(port: u16) -> String {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("the operator serves /metrics")
        .text()
        .await
        .expect("/metrics returns text")
}

/// Requests a rotation of Secret `hw` and drives it until it has completed once.
async fn drive_rotation(harness: &Harness) -> akguard::api::rotation::AccessKeyRotation {
    harness.create(&harness.world.rotation("app-key", "hw", Some("ops"))).await;
    harness
        .drive_until("app-key", SignedDuration::ZERO, 200, |o| {
            o.status.as_ref().is_some_and(|s| s.phase == Some(akguard::api::rotation::RotationPhase::Ready))
        })
        .await;
    harness.request_rotation("app-key", "first").await;
    harness
        .drive_until("app-key", SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await
}

/// Installs the chart's RBAC for `values`, runs the operator with the chart's flags and a
/// token of the chart's ServiceAccount, and checks that a rotation in `apps` completes with
/// no request denied. `namespaces` lists the namespaces the values watch besides `apps`,
/// and `expected_flag` the `--namespaces` value the Deployment must pass (empty for all).
async fn rotate_with_chart_rbac(values: &[&str], namespaces: &[&str], expected_flag: &[&str]) {
    let harness = Harness::start().await;
    create_namespaces(&harness.world, &[RELEASE_NAMESPACE, UNWATCHED_NAMESPACE]).await;
    create_namespaces(&harness.world, namespaces).await;
    let admin = harness.world.client.clone();

    let manifests = render_chart(values).await;
    let account = install_rbac(&admin, &manifests).await;
    let deployment = only(&manifests, "Deployment");
    let metrics_port = free_loopback_port();
    let args = operator_args(deployment, metrics_port);
    let flag: Vec<&str> = args.namespaces.iter().map(String::as_str).filter(|ns| !ns.is_empty()).collect();
    assert_eq!(flag, expected_flag, "the chart's --namespaces flag");
    assert!(args.leader_election, "the chart turns leader election on");
    let lease_name = args.lease_name.clone();

    let proxy = RecordingProxy::start(&harness.world.sim.base_url()).await;
    let client = token_client(&harness.world.sim, &account, &proxy.url).await;
    let (stop, stop_rx) = watch::channel(false);
    let options = RunOptions {
        clock: harness.clock.clone(),
        step_poll: Duration::from_millis(50),
    };
    let operator = tokio::spawn(operator::run(args, options, client, stop_rx));

    // A denied request can stall the rotation, so a timed-out drive also lists the denials.
    let old_key = harness.world.credentials(world::APP_USER).access_key_id;
    let done = match AssertUnwindSafe(drive_rotation(&harness)).catch_unwind().await {
        Ok(done) => done,
        Err(panic) => {
            eprintln!("requests of the operator the simulator denied: {:#?}", proxy.denied());
            std::panic::resume_unwind(panic);
        }
    };

    let metrics = scrape_metrics(metrics_port).await;
    let leases: Api<Lease> = Api::namespaced(admin.clone(), RELEASE_NAMESPACE);
    let lease = leases.get(&lease_name).await.expect("the operator created its Lease in the release namespace");
    let _ = stop.send(true);
    let result = tokio::time::timeout(Duration::from_secs(10), operator)
        .await
        .expect("the operator stops within 10 s")
        .expect("the operator task does not panic");
    assert!(result.is_ok(), "the operator ended with an error: {result:?}");

    let denied = proxy.denied();
    assert!(denied.is_empty(), "the simulator denied requests of the operator: {denied:#?}");
    assert!(proxy.forwarded() > 0, "the operator's requests went through the recording proxy");
    // The simulator treats a request without credentials as an administrator, so one such
    // request would bypass RBAC.
    assert_eq!(proxy.anonymous(), 0, "every request of the operator carries its token");

    let holder = lease.spec.and_then(|spec| spec.holder_identity);
    assert_eq!(holder.as_deref(), Some(IDENTITY), "the operator held the leader Lease");

    let status = done.status.expect("the rotation has a status");
    let new_key = status.current_access_key_id.clone().expect("a current key after the rotation");
    assert_ne!(new_key, old_key);
    let (secret_key_id, _) = harness.secret_pair("hw").await;
    assert_eq!(secret_key_id, new_key, "the target Secret holds the new key");
    assert!(harness.secret_works("hw").await, "the Secret's key pair signs valid requests");

    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), NAMESPACE);
    let api = deployments.get("api").await.unwrap();
    assert_eq!(api.metadata.generation, Some(2), "the consumer was restarted exactly once");

    let owned = harness.secrets().list(&ListParams::default().labels("akguard.io/role")).await.unwrap();
    assert!(owned.items.is_empty(), "the staging and backup Secrets were deleted");

    assert!(
        metrics.lines().any(|line| line == "akguard_rotations_total{result=\"completed\"} 1"),
        "one completed rotation in the metrics"
    );
    let errors: Vec<&str> = metrics
        .lines()
        .filter(|line| line.starts_with("akguard_reconcile_errors_total") && !line.ends_with(" 0"))
        .collect();
    assert!(errors.is_empty(), "reconcile errors: {errors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_rbac_suffices_for_rotation() {
    rotate_with_chart_rbac(&[&format!("watch.namespaces={{{NAMESPACE}}}")], &[], &[NAMESPACE]).await;
}

/// With more than one namespace the operator watches its resources at cluster scope, which
/// the chart grants through a separate read-only ClusterRole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_rbac_suffices_for_two_namespaces() {
    rotate_with_chart_rbac(&[&format!("watch.namespaces={{{NAMESPACE},team}}")], &["team"], &[NAMESPACE, "team"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_rbac_suffices_for_all_namespaces() {
    rotate_with_chart_rbac(&["watch.allNamespaces=true"], &[], &[]).await;
}

fn secret(name: &str) -> Secret {
    Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        string_data: Some([("note".to_string(), "not a credential".to_string())].into()),
        ..Secret::default()
    }
}

#[track_caller]
fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, kube::Error>, request: &str) {
    match result {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{request}: expected 403, got {status:?}"),
        other => panic!("{request}: expected 403 Forbidden, got {other:?}"),
    }
}

#[track_caller]
fn assert_allowed<T>(result: Result<T, kube::Error>, request: &str) {
    if let Err(error) = result {
        panic!("{request}: expected success, got {error}");
    }
}

/// A simulator with the namespaces the RBAC tests use and the chart's RBAC for `values`,
/// plus a client holding a token of the chart's ServiceAccount.
struct RbacWorld {
    world: world::World,
    operator: Client,
    /// `--lease-name` of the rendered Deployment.
    lease_name: String,
}

impl RbacWorld {
    async fn start(values: &[&str]) -> Self {
        let clock = akguard_hwcloud::ManualClock::new("2026-03-01T08:00:00Z".parse().unwrap());
        let world = world::World::start(clock).await.expect("world starts");
        create_namespaces(&world, &[RELEASE_NAMESPACE, NAMESPACE, UNWATCHED_NAMESPACE]).await;
        let admin = world.client.clone();
        let manifests = render_chart(values).await;
        let account = install_rbac(&admin, &manifests).await;
        let operator = token_client(&world.sim, &account, &world.sim.base_url()).await;
        let lease_name = operator_args(only(&manifests, "Deployment"), 0).lease_name;

        let existing: Api<Secret> = Api::namespaced(admin.clone(), UNWATCHED_NAMESPACE);
        existing.create(&PostParams::default(), &secret("existing")).await.expect("admin creates a Secret");
        Self { world, operator, lease_name }
    }

    fn secrets(&self, namespace: &str) -> Api<Secret> {
        Api::namespaced(self.operator.clone(), namespace)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_rbac_denies_ungranted_requests() {
    let rbac = RbacWorld::start(&[&format!("watch.namespaces={{{NAMESPACE}}}")]).await;
    let post = PostParams::default();
    let merge = Patch::Merge(json!({"metadata": {"labels": {"touched": "yes"}}}));

    // The token works and the chart grants Secret writes in the watched namespace, so the
    // denials below come from RBAC and not from a broken client.
    assert_allowed(rbac.secrets(NAMESPACE).create(&post, &secret("granted")).await, "create Secret in apps");
    assert_allowed(
        rbac.secrets(NAMESPACE).patch("granted", &PatchParams::default(), &merge).await,
        "patch Secret in apps",
    );

    let other = rbac.secrets(UNWATCHED_NAMESPACE);
    assert_forbidden(other.create(&post, &secret("new")).await, "create Secret in other");
    assert_forbidden(other.patch("existing", &PatchParams::default(), &merge).await, "patch Secret in other");
    assert_forbidden(other.replace("existing", &post, &secret("existing")).await, "update Secret in other");
    assert_forbidden(other.delete("existing", &DeleteParams::default()).await, "delete Secret in other");
    assert_forbidden(other.get("existing").await, "get Secret in other");
    assert_forbidden(
        rbac.secrets(RELEASE_NAMESPACE).create(&post, &secret("new")).await,
        "create Secret in the release namespace, which is not watched",
    );

    let cluster_secrets: Api<Secret> = Api::all(rbac.operator.clone());
    assert_forbidden(cluster_secrets.list(&ListParams::default()).await, "list Secrets at cluster scope");
    assert_forbidden(
        cluster_secrets.delete_collection(&DeleteParams::default(), &ListParams::default()).await,
        "delete Secrets at cluster scope",
    );
    assert_forbidden(
        rbac.secrets(NAMESPACE).delete_collection(&DeleteParams::default(), &ListParams::default()).await,
        "deletecollection of Secrets in apps, a verb the chart does not grant",
    );

    let deployments: Api<Deployment> = Api::namespaced(rbac.operator.clone(), NAMESPACE);
    assert_forbidden(deployments.delete("api", &DeleteParams::default()).await, "delete Deployment in apps");
    let config_maps: Api<ConfigMap> = Api::namespaced(rbac.operator.clone(), NAMESPACE);
    let config_map = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some("new".into()),
            ..Default::default()
        },
        ..ConfigMap::default()
    };
    assert_forbidden(config_maps.create(&post, &config_map).await, "create ConfigMap in apps");

    // The Lease rules name the chart's Lease, so another Lease in the release namespace is denied.
    let leases: Api<Lease> = Api::namespaced(rbac.operator.clone(), RELEASE_NAMESPACE);
    assert_forbidden(leases.get("another-lease").await, "get another Lease");
    match leases.get(&rbac.lease_name).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 404, "get the chart's Lease before it exists: {status:?}"),
        other => panic!("get the chart's Lease before it exists: expected 404, got {other:?}"),
    }

    rbac.world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_namespaces_chart_grants_cluster_secrets() {
    let rbac = RbacWorld::start(&["watch.allNamespaces=true"]).await;
    let post = PostParams::default();
    let merge = Patch::Merge(json!({"metadata": {"labels": {"touched": "yes"}}}));

    let other = rbac.secrets(UNWATCHED_NAMESPACE);
    assert_allowed(other.create(&post, &secret("new")).await, "create Secret in other");
    assert_allowed(other.patch("existing", &PatchParams::default(), &merge).await, "patch Secret in other");
    assert_allowed(other.delete("existing", &DeleteParams::default()).await, "delete Secret in other");
    let cluster_secrets: Api<Secret> = Api::all(rbac.operator.clone());
    assert_allowed(cluster_secrets.list(&ListParams::default()).await, "list Secrets at cluster scope");

    // Still least privilege: no deletecollection of Secrets and no Deployment deletes.
    assert_forbidden(
        cluster_secrets.delete_collection(&DeleteParams::default(), &ListParams::default()).await,
        "delete Secrets at cluster scope",
    );
    let deployments: Api<Deployment> = Api::namespaced(rbac.operator.clone(), UNWATCHED_NAMESPACE);
    assert_forbidden(deployments.delete("web", &DeleteParams::default()).await, "delete Deployment in other");

    rbac.world.shutdown().await;
}

/// `rbac.cceClusterObsSecret.read` grants `get` on CCE's cluster-wide OBS key Secret and
/// nothing else in kube-system. Without it that Secret is denied too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cce_obs_secret_read_grants_one_secret() {
    for read in [false, true] {
        let rbac = RbacWorld::start(&[&format!("rbac.cceClusterObsSecret.read={read}")]).await;
        create_namespaces(&rbac.world, &["kube-system"]).await;
        let admin: Api<Secret> = Api::namespaced(rbac.world.client.clone(), "kube-system");
        for name in ["paas.longaksk", "unrelated"] {
            admin.create(&PostParams::default(), &secret(name)).await.expect("admin creates a Secret");
        }

        let kube_system = rbac.secrets("kube-system");
        if read {
            assert_allowed(kube_system.get("paas.longaksk").await, "get kube-system/paas.longaksk with read on");
        } else {
            assert_forbidden(kube_system.get("paas.longaksk").await, "get kube-system/paas.longaksk with read off");
        }
        assert_forbidden(kube_system.get("unrelated").await, "get another Secret in kube-system");
        assert_forbidden(kube_system.list(&ListParams::default()).await, "list Secrets in kube-system");
        assert_forbidden(
            kube_system.patch("paas.longaksk", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"touched": "yes"}}}))).await,
            "patch kube-system/paas.longaksk",
        );

        rbac.world.shutdown().await;
    }
}
