//! A complete local world: the Huawei Cloud emulator, the Kubernetes API simulator with the
//! CRDs installed, and helpers to create the objects a rotation needs. The sandbox command
//! and the end-to-end tests build on it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use akguard_emulator::{EmulatorClock, EmulatorConfig, RunningEmulator, SeedRequest, SeedUser, SeededAccount};
use akguard_hwcloud::{Credentials, SharedClock};
use akguard_kubesim::{RunningSim, SimConfig};
use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use serde_json::json;

use crate::api::rotation::AccessKeyRotation;

/// Region the world's account has a project in.
pub const REGION: &str = "cn-north-4";
/// IAM user whose key is rotated.
pub const APP_USER: &str = "app";
/// Administrator whose key acts for the operator (the privileged identity).
pub const ADMIN_USER: &str = "ops";

pub struct World {
    pub emulator: RunningEmulator,
    pub sim: RunningSim,
    pub client: Client,
    pub account: SeededAccount,
}

impl World {
    /// Starts the emulator on `clock`, seeds an account with an application user holding
    /// one key and an administrator, starts the simulator and installs the CRDs.
    pub async fn start(clock: SharedClock) -> anyhow::Result<Self> {
        Self::start_with_users(clock, default_users()).await
    }

    /// Like [`World::start`], with `users` seeded into the account instead.
    pub async fn start_with_users(clock: SharedClock, users: Vec<SeedUser>) -> anyhow::Result<Self> {
        akguard_hwcloud::install_crypto_provider();
        let seed = SeedRequest {
            domain_name: "sandbox-account".into(),
            domain_id: None,
            regions: vec![REGION.into()],
            iam_trace_region: None,
            users,
        };
        let emulator = akguard_emulator::start(EmulatorConfig {
            clock: EmulatorClock::Custom(clock),
            seeds: vec![seed],
            ..EmulatorConfig::default()
        })
        .await?;
        let account = emulator
            .seeded()
            .first()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the emulator did not return the seeded account"))?;

        let sim = akguard_kubesim::start(SimConfig::default()).await?;
        let config = kube::Config::new(sim.base_url().parse()?);
        let client = Client::try_from(config)?;
        install_crds(&client).await?;
        Ok(Self {
            emulator,
            sim,
            client,
            account,
        })
    }

    pub fn credentials(&self, user: &str) -> Credentials {
        self.account
            .credentials(user, 0)
            .unwrap_or_else(|| panic!("seeded user {user} has a key"))
    }

    pub fn user_id(&self, user: &str) -> String {
        self.account
            .user(user)
            .map(|user| user.id.clone())
            .unwrap_or_default()
    }

    pub async fn namespace(&self, name: &str) -> anyhow::Result<()> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        create_or_keep(api.create(&PostParams::default(), &namespace).await)
    }

    /// Creates a Secret holding a key under the SDK's data keys.
    pub async fn key_secret(&self, namespace: &str, name: &str, credentials: &Credentials) -> anyhow::Result<()> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            data: Some(BTreeMap::from([
                (
                    "HUAWEICLOUD_SDK_AK".to_string(),
                    ByteString(credentials.access_key_id.as_bytes().to_vec()),
                ),
                (
                    "HUAWEICLOUD_SDK_SK".to_string(),
                    ByteString(credentials.secret_access_key.expose().as_bytes().to_vec()),
                ),
            ])),
            ..Secret::default()
        };
        create_or_keep(api.create(&PostParams::default(), &secret).await)
    }

    /// Creates a two-replica Deployment whose container reads `secret` through envFrom.
    pub async fn consumer(&self, namespace: &str, name: &str, secret: &str) -> anyhow::Result<()> {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), namespace);
        let deployment: Deployment = serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{
                        "name": "app",
                        "image": "registry.example/app:1.0",
                        "envFrom": [{"secretRef": {"name": secret}}]
                    }]}
                }
            }
        }))?;
        create_or_keep(api.create(&PostParams::default(), &deployment).await)
    }

    /// Builds an AccessKeyRotation of the application user's key in Secret `secret`, acting with
    /// the administrator key in Secret `credentials`, pointed at the emulator.
    pub fn rotation(&self, name: &str, secret: &str, credentials: Option<&str>) -> AccessKeyRotation {
        let mut provider = json!({
            "region": REGION,
            "endpoints": {"iam": self.emulator.base_url(), "cts": self.emulator.base_url()},
        });
        if let Some(credentials) = credentials {
            provider["credentialsSecretRef"] = json!({"name": credentials});
        }
        serde_json::from_value(json!({
            "apiVersion": "akguard.io/v1alpha1",
            "kind": "AccessKeyRotation",
            "metadata": {"name": name},
            "spec": {
                "provider": provider,
                "targets": [{"name": secret}],
                "verification": {"rolloutTimeout": "10m"},
                "retirement": {"idleWindow": "1h", "disabledSoak": "1d"},
                "schedule": {"interval": "90d"}
            }
        }))
        .expect("the sandbox rotation manifest matches the CRD types")
    }

    pub async fn shutdown(self) {
        self.sim.shutdown().await;
        self.emulator.shutdown().await;
    }
}

/// Returns the application user `app` with one active key and the administrator `ops`, who may
/// manage other users' keys.
pub fn default_users() -> Vec<SeedUser> {
    let mut admin = SeedUser::new(ADMIN_USER).with_key();
    admin.admin = true;
    vec![SeedUser::new(APP_USER).with_key(), admin]
}

fn create_or_keep<T>(result: Result<T, kube::Error>) -> anyhow::Result<()> {
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Creates the CRDs and waits until the API serves them.
pub async fn install_crds(client: &Client) -> anyhow::Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crate::api::crds() {
        create_or_keep(api.create(&PostParams::default(), &crd).await)?;
    }
    let rotations: Api<AccessKeyRotation> = Api::all(client.clone());
    for _ in 0..100 {
        if rotations.list(&Default::default()).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the API did not serve AccessKeyRotations 5 s after the CRD was created")
}

/// Operator flags for an in-process run against the world: one replica, no leader
/// election, endpoints on free loopback ports.
pub fn operator_args() -> crate::runtime::config::RunArgs {
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: crate::runtime::config::RunArgs,
    }
    Wrapper::parse_from([
        "akguard",
        "--leader-election=false",
        "--metrics-address=127.0.0.1:0",
        "--health-address=127.0.0.1:0",
        "--log-format=text",
        // The local emulator needs no protection, and a limit would slow simulated soaks.
        "--cloud-rate-limit=0",
    ])
    .args
}

/// Returns a manual clock as the shared clock tests and the sandbox pass around.
pub fn shared(clock: Arc<akguard_hwcloud::ManualClock>) -> SharedClock {
    clock
}
