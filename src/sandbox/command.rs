//! `akguard sandbox`: the whole product on one machine. It starts the Huawei Cloud emulator
//! and the Kubernetes API simulator, runs the operator against them, rotates a key on
//! request, then answers a LeakIncident with an emergency rotation, printing a timeline of
//! both. It exits non-zero unless every check at the end passes.

use std::sync::Arc;
use std::time::Duration;

use akguard_hwcloud::{Client as CloudClient, ClientConfig, Clock, Credentials, EndpointOverrides, ManualClock, SecretKey};
use jiff::SignedDuration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::timeline::Timeline;
use super::world::{self, World};
use crate::api::leak::LeakIncident;
use crate::api::rotation::{AccessKeyRotation, RotationResult, RotationStep};
use crate::runtime::operator::{self, RunOptions};

const NAMESPACE: &str = "payments";
const ROTATION: &str = "payments-api-key";
/// Simulated time the clock jumps while a rotation waits on time alone (idle window, soak).
/// It stays below the 15 minutes of clock skew the emulator accepts, since a jump can land
/// between signing a request and verifying it.
const TIME_STEP: SignedDuration = SignedDuration::from_mins(10);
/// Real-time limit of each phase of the sandbox.
const PHASE_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Keep the emulator and the simulator running after the checks, printing a kubeconfig
    /// path to explore them with kubectl, until Ctrl-C.
    #[arg(long)]
    pub keep: bool,
}

struct Sandbox {
    world: World,
    clock: Arc<ManualClock>,
    timeline: Timeline,
}

pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    println!("akguard sandbox: emulator, Kubernetes API simulator and operator on this machine\n");
    let clock = ManualClock::new(jiff::Timestamp::now());
    let world = World::start(clock.clone()).await?;
    println!("  Huawei Cloud emulator      {}", world.emulator.base_url());
    println!("  Kubernetes API simulator   {}", world.sim.base_url());

    world.namespace(NAMESPACE).await?;
    world.key_secret(NAMESPACE, "payments-hwcloud", &world.credentials(world::APP_USER)).await?;
    world.key_secret(NAMESPACE, "akguard-admin", &world.credentials(world::ADMIN_USER)).await?;
    world.consumer(NAMESPACE, "payments-api", "payments-hwcloud").await?;
    world.consumer(NAMESPACE, "payments-worker", "payments-hwcloud").await?;
    println!(
        "  namespace {NAMESPACE}: Secret payments-hwcloud (access key {} of IAM user {}), Deployments payments-api and payments-worker read it\n",
        world.credentials(world::APP_USER).access_key_id,
        world::APP_USER
    );

    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let options = RunOptions {
        clock: clock.clone(),
        step_poll: Duration::from_millis(50),
    };
    let operator = tokio::spawn(operator::run(world::operator_args(), options, world.client.clone(), stop_rx));

    let mut sandbox = Sandbox {
        world,
        clock,
        timeline: Timeline::new(),
    };
    let outcome = sandbox.script().await;

    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), operator).await;
    if args.keep && outcome.is_ok() {
        let path = std::env::temp_dir().join("akguard-sandbox.kubeconfig");
        sandbox.world.sim.write_kubeconfig(&path)?;
        println!("\nkept running: kubectl --kubeconfig {} get akr -A; Ctrl-C to stop", path.display());
        operator::termination_signal().await;
    }
    sandbox.world.shutdown().await;

    match outcome {
        Ok(()) => {
            println!("\nsandbox: all checks passed");
            Ok(())
        }
        Err(error) => {
            println!("\nsandbox: FAILED: {error:#}");
            Err(error)
        }
    }
}

impl Sandbox {
    fn rotations(&self) -> Api<AccessKeyRotation> {
        Api::namespaced(self.world.client.clone(), NAMESPACE)
    }

    async fn script(&mut self) -> anyhow::Result<()> {
        let old_key = self.world.credentials(world::APP_USER).access_key_id;
        let rotation = self.world.rotation(ROTATION, "payments-hwcloud", Some("akguard-admin"));
        self.rotations().create(&PostParams::default(), &rotation).await?;
        println!("1. adopt the key: AccessKeyRotation {ROTATION} (idle window 1h, disabled soak 1d)");
        self.follow(|object| {
            object.status.as_ref().is_some_and(|s| {
                s.phase == Some(crate::api::rotation::RotationPhase::Ready) && s.current_access_key_id.is_some()
            })
        })
        .await?;

        println!("\n2. rotation on request: spec.schedule.rotationRequest changes in Git");
        let patch = json!({"spec": {"schedule": {"rotationRequest": "sandbox-1"}}});
        self.rotations().patch(ROTATION, &PatchParams::default(), &Patch::Merge(patch)).await?;
        let rotated = self.follow(|object| succeeded(object) >= 1).await?;
        let second_key = rotated.status.as_ref().and_then(|s| s.current_access_key_id.clone()).unwrap_or_default();
        self.check_rotation(&old_key, &second_key, 1).await?;

        println!("\n3. leak response: a LeakIncident names the current key {second_key}");
        self.report_leak(&second_key).await?;
        let emergency = self.follow(|object| succeeded(object) >= 2).await?;
        let third_key = emergency.status.as_ref().and_then(|s| s.current_access_key_id.clone()).unwrap_or_default();
        self.check_rotation(&second_key, &third_key, 2).await?;
        let record = &emergency.status.as_ref().expect("status exists").history[0];
        println!(
            "  emergency rotation {} ({:?}) replaced leaked key {second_key} with {third_key}, skipping the idle window, soaking 1h instead of 1d",
            record.id, record.trigger
        );
        Ok(())
    }

    /// Prints the timeline until `done` holds, moving the clock while the rotation waits
    /// on time alone.
    async fn follow(&mut self, done: impl Fn(&AccessKeyRotation) -> bool) -> anyhow::Result<AccessKeyRotation> {
        let started = std::time::Instant::now();
        loop {
            let object = self.rotations().get(ROTATION).await?;
            self.timeline.observe(&object, self.clock.now());
            if done(&object) {
                return Ok(object);
            }
            if started.elapsed() > PHASE_LIMIT {
                anyhow::bail!(
                    "no progress within {PHASE_LIMIT:?}; status: {}",
                    serde_json::to_string(&object.status).unwrap_or_default()
                );
            }
            let waits = object.status.as_ref().and_then(|s| s.rotation.as_ref()).is_some_and(|rotation| {
                matches!(rotation.step, RotationStep::WaitingForIdleOldKey | RotationStep::Soaking)
                    || rotation.step_start_time.0 > self.clock.now()
            });
            if waits {
                self.clock.advance(TIME_STEP);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn report_leak(&self, access_key_id: &str) -> anyhow::Result<()> {
        let incident: LeakIncident = serde_json::from_value(json!({
            "apiVersion": "akguard.io/v1alpha1",
            "kind": "LeakIncident",
            "metadata": {"name": "leak-from-public-repo"},
            "spec": {
                "accessKeyId": access_key_id,
                "provider": {
                    "region": world::REGION,
                    "endpoints": {"iam": self.world.emulator.base_url(), "cts": self.world.emulator.base_url()},
                    "credentialsSecretRef": {"name": "akguard-admin"}
                },
                "source": {"type": "repository", "description": "found in a public Git repository"}
            }
        }))?;
        let api: Api<LeakIncident> = Api::namespaced(self.world.client.clone(), NAMESPACE);
        api.create(&PostParams::default(), &incident).await?;
        self.timeline.note(self.clock.now(), "LeakIncident leak-from-public-repo created (mode automatic)");
        Ok(())
    }

    /// Checks the facts a finished rotation must leave behind.
    async fn check_rotation(&self, old_key: &str, new_key: &str, rotations: i64) -> anyhow::Result<()> {
        let app_user = self.world.user_id(world::APP_USER);
        let keys: Vec<_> = self.world.emulator.keys().into_iter().filter(|k| k.user_id == app_user).collect();
        ensure(keys.len() == 1 && keys[0].access_key_id == new_key, format!(
            "IAM user {} holds only the new key {new_key} (holds {:?})",
            world::APP_USER,
            keys.iter().map(|k| k.access_key_id.clone()).collect::<Vec<_>>()
        ))?;
        ensure(!keys.iter().any(|k| k.access_key_id == old_key), format!("old key {old_key} is deleted"))?;

        let secrets: Api<Secret> = Api::namespaced(self.world.client.clone(), NAMESPACE);
        let data = secrets.get("payments-hwcloud").await?.data.unwrap_or_default();
        let held = data.get("HUAWEICLOUD_SDK_AK").map(|v| String::from_utf8_lossy(&v.0).to_string()).unwrap_or_default();
        ensure(held == new_key, format!("Secret payments-hwcloud holds {new_key}"))?;
        let secret = SecretKey::new(data.get("HUAWEICLOUD_SDK_SK").map(|v| String::from_utf8_lossy(&v.0).to_string()).unwrap_or_default());
        let mut config = ClientConfig::new(world::REGION);
        config.endpoints = EndpointOverrides { iam: Some(self.world.emulator.base_url().to_string()), cts: None, bss: None };
        let client = CloudClient::new(config, Credentials::new(held.clone(), secret), self.clock.clone())?;
        ensure(client.list_access_keys(None).await.is_ok(), format!("the key pair in Secret payments-hwcloud signs valid requests"))?;

        let deployments: Api<Deployment> = Api::namespaced(self.world.client.clone(), NAMESPACE);
        for name in ["payments-api", "payments-worker"] {
            let generation = deployments.get(name).await?.metadata.generation.unwrap_or_default();
            ensure(generation == 1 + rotations, format!("Deployment {name} restarted once per rotation (generation {generation})"))?;
        }
        let owned = secrets.list(&ListParams::default().labels("akguard.io/role")).await?;
        ensure(owned.items.is_empty(), "no staging or backup Secret is left".to_string())?;
        Ok(())
    }
}

fn ensure(condition: bool, fact: String) -> anyhow::Result<()> {
    if condition {
        println!("  check: {fact}");
        Ok(())
    } else {
        anyhow::bail!("check failed: {fact}")
    }
}

fn succeeded(object: &AccessKeyRotation) -> usize {
    object
        .status
        .as_ref()
        .map(|s| s.history.iter().filter(|r| r.result == RotationResult::Succeeded).count())
        .unwrap_or(0)
}
