//! End-to-end harness: the emulator, the simulator and the real operator in one process,
//! on a manual clock the test moves.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use akguard::api::rotation::{AccessKeyRotation, RotationStep};
use akguard::runtime::operator::{self, RunOptions};
use akguard::sandbox::world::{self, World};
use akguard_emulator::{SeedUser, Trace};
use akguard_hwcloud::{Client, ClientConfig, Credentials, EndpointOverrides, ManualClock, SecretKey};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub const NAMESPACE: &str = "apps";

pub struct Harness {
    pub world: World,
    pub clock: Arc<ManualClock>,
    stop: watch::Sender<bool>,
    operator: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Harness {
    /// A world with namespace `apps`, Secret `hw` holding the application key, Secret
    /// `ops` holding the administrator key, and Deployment `api` reading `hw`.
    pub async fn start() -> Self {
        let clock = ManualClock::new("2026-03-01T08:00:00Z".parse().unwrap());
        let world = World::start(clock.clone()).await.expect("world starts");
        Self::prepare(world, clock).await
    }

    /// The world of [`Harness::start`] with other seeded users of the same account in
    /// place of the default `app` and `ops` (see [`default_users`]). The users named
    /// `app` and `ops` must exist, each with at least one key.
    pub async fn start_with(users: Vec<SeedUser>) -> Self {
        let clock = ManualClock::new("2026-03-01T08:00:00Z".parse().unwrap());
        let world = start_world(clock.clone(), users).await;
        Self::prepare(world, clock).await
    }

    async fn prepare(world: World, clock: Arc<ManualClock>) -> Self {
        world.namespace(NAMESPACE).await.unwrap();
        world.key_secret(NAMESPACE, "hw", &world.credentials(world::APP_USER)).await.unwrap();
        world.key_secret(NAMESPACE, "ops", &world.credentials(world::ADMIN_USER)).await.unwrap();
        world.consumer(NAMESPACE, "api", "hw").await.unwrap();
        let (stop, _) = watch::channel(false);
        Self {
            world,
            clock,
            stop,
            operator: None,
        }
    }

    pub fn start_operator(&mut self) {
        let (stop, stop_rx) = watch::channel(false);
        self.stop = stop;
        let client = self.world.client.clone();
        let options = RunOptions {
            clock: self.clock.clone(),
            step_poll: Duration::from_millis(50),
        };
        self.operator = Some(tokio::spawn(operator::run(world::operator_args(), options, client, stop_rx)));
    }

    pub async fn stop_operator(&mut self) {
        let _ = self.stop.send(true);
        if let Some(handle) = self.operator.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
    }

    pub fn rotations(&self) -> Api<AccessKeyRotation> {
        Api::namespaced(self.world.client.clone(), NAMESPACE)
    }

    pub async fn create(&self, rotation: &AccessKeyRotation) {
        self.rotations().create(&PostParams::default(), rotation).await.expect("rotation created");
    }

    pub async fn request_rotation(&self, name: &str, value: &str) {
        let patch = serde_json::json!({"spec": {"schedule": {"rotationRequest": value}}});
        self.rotations()
            .patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .expect("rotationRequest patched");
    }

    pub async fn get(&self, name: &str) -> AccessKeyRotation {
        self.rotations().get(name).await.expect("rotation exists")
    }

    /// Polls until `done` holds, for at most `rounds` rounds of 50 ms. The manual clock moves
    /// by `step` in rounds where the rotation waits on time alone (idle window, soak, retry
    /// backoff); rollouts and checks run on real time, so the clock stays still for them.
    /// Panics with the last status otherwise.
    pub async fn drive_until(
        &self,
        name: &str,
        step: SignedDuration,
        rounds: usize,
        done: impl Fn(&AccessKeyRotation) -> bool,
    ) -> AccessKeyRotation {
        let mut last = None;
        for _ in 0..rounds {
            let object = self.get(name).await;
            if done(&object) {
                return object;
            }
            if waits_on_time(&object, self.now()) {
                self.clock.advance(step);
            }
            last = Some(object);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "condition not reached; last status: {}",
            serde_json::to_string_pretty(&last.and_then(|o| o.status)).unwrap()
        );
    }

    pub fn now(&self) -> Timestamp {
        use akguard_hwcloud::Clock;
        self.clock.now()
    }
}

pub fn completed_rotations(object: &AccessKeyRotation) -> usize {
    object
        .status
        .as_ref()
        .map(|status| {
            status
                .history
                .iter()
                .filter(|record| record.result == akguard::api::rotation::RotationResult::Succeeded)
                .count()
        })
        .unwrap_or(0)
}

/// Whether the rotation in flight waits for time to pass rather than for a rollout.
pub fn waits_on_time(object: &AccessKeyRotation, now: Timestamp) -> bool {
    use akguard::api::rotation::RotationStep;
    let Some(rotation) = object.status.as_ref().and_then(|status| status.rotation.as_ref()) else {
        return false;
    };
    matches!(rotation.step, RotationStep::WaitingForIdleOldKey | RotationStep::Soaking)
        || rotation.step_start_time.0 > now
}

/// Users of the default world: `app` with one active key and the administrator `ops`.
pub fn default_users() -> Vec<SeedUser> {
    world::default_users()
}

/// Starts a world like [`World::start`] but with `users` seeded into its one account.
pub async fn start_world(clock: Arc<ManualClock>, users: Vec<SeedUser>) -> World {
    World::start_with_users(clock, users).await.expect("world starts")
}

impl Harness {
    /// Polls like [`Harness::drive_until`], but moves the clock by whatever `advance`
    /// returns for the last status read, in every round.
    pub async fn drive(
        &self,
        name: &str,
        rounds: usize,
        advance: impl Fn(&AccessKeyRotation) -> SignedDuration,
        done: impl Fn(&AccessKeyRotation) -> bool,
    ) -> AccessKeyRotation {
        let mut last = None;
        for _ in 0..rounds {
            let object = self.get(name).await;
            if done(&object) {
                return object;
            }
            let step = advance(&object);
            if step.is_positive() {
                self.clock.advance(step);
            }
            last = Some(object);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "condition not reached; last status: {}",
            serde_json::to_string_pretty(&last.and_then(|o| o.status)).unwrap()
        );
    }

    /// Waits `rounds` rounds of 50 ms without moving the clock and returns the last read.
    pub async fn settle(&self, name: &str, rounds: usize) -> AccessKeyRotation {
        tokio::time::sleep(Duration::from_millis(50 * rounds as u64)).await;
        self.get(name).await
    }

    /// Touches an annotation so the operator reconciles now. An idle resource is looked
    /// at again only after an hour of real time, and a moved manual clock does not wake it.
    pub async fn wake(&self, name: &str) {
        let value = format!("{}", self.now());
        let patch = serde_json::json!({"metadata": {"annotations": {"test.akguard.io/wake": value}}});
        self.rotations()
            .patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .expect("wake annotation patched");
    }

    /// Merges `patch` into the spec of an existing resource.
    pub async fn patch_spec(&self, name: &str, patch: serde_json::Value) {
        let patch = serde_json::json!({ "spec": patch });
        self.rotations()
            .patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .expect("spec patched");
    }

    /// Waits until the resource has adopted the key in its primary target and is Ready.
    pub async fn wait_ready(&self, name: &str) -> AccessKeyRotation {
        self.drive_until(name, SignedDuration::ZERO, 200, |o| {
            o.status
                .as_ref()
                .is_some_and(|s| s.phase == Some(akguard::api::rotation::RotationPhase::Ready))
        })
        .await
    }

    pub fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.world.client.clone(), NAMESPACE)
    }

    /// The access key ID and secret access key a Secret holds under the SDK data keys.
    pub async fn secret_pair(&self, name: &str) -> (String, SecretKey) {
        let data = self.secrets().get(name).await.unwrap().data.unwrap();
        (
            String::from_utf8(data["HUAWEICLOUD_SDK_AK"].0.clone()).unwrap(),
            SecretKey::new(String::from_utf8(data["HUAWEICLOUD_SDK_SK"].0.clone()).unwrap()),
        )
    }

    /// A client of the emulator signing with `credentials`.
    pub fn cloud(&self, credentials: Credentials) -> Client {
        let mut config = ClientConfig::new(world::REGION);
        config.endpoints = EndpointOverrides {
            iam: Some(self.world.emulator.base_url().to_string()),
            cts: Some(self.world.emulator.base_url().to_string()),
            bss: None,
        };
        Client::new(config, credentials, self.clock.clone()).unwrap()
    }

    /// Whether a signed call with the pair succeeds: the secret access key is the one IAM
    /// issued for the access key ID and the key is active.
    pub async fn key_works(&self, access_key_id: &str, secret: SecretKey) -> bool {
        self.cloud(Credentials::new(access_key_id, secret))
            .list_access_keys(None)
            .await
            .is_ok()
    }

    /// Whether the key pair in Secret `name` signs a valid request.
    pub async fn secret_works(&self, name: &str) -> bool {
        let (access_key_id, secret) = self.secret_pair(name).await;
        self.key_works(&access_key_id, secret).await
    }

    /// Every trace of a call that creates, updates or deletes something.
    pub fn write_traces(&self) -> Vec<Trace> {
        self.world
            .emulator
            .traces()
            .into_iter()
            .filter(|trace| !trace.read_only)
            .collect()
    }

    /// Traces named `name` (for example `createCredential`).
    pub fn traces_named(&self, name: &str) -> Vec<Trace> {
        self.world
            .emulator
            .traces()
            .into_iter()
            .filter(|trace| trace.trace_name == name)
            .collect()
    }

    /// Returns the keys the emulator holds for the seeded user `user`.
    pub fn user_keys(&self, user: &str) -> Vec<akguard_emulator::KeyView> {
        let user_id = self.world.user_id(user);
        self.world
            .emulator
            .keys()
            .into_iter()
            .filter(|key| key.user_id == user_id)
            .collect()
    }

    /// Events whose regarding object is the resource `name`.
    pub async fn events(&self, name: &str) -> Vec<Event> {
        let api: Api<Event> = Api::namespaced(self.world.client.clone(), NAMESPACE);
        api.list(&ListParams::default())
            .await
            .expect("Events listed")
            .items
            .into_iter()
            .filter(|event| event.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .collect()
    }

    /// Whether an Event with `reason` whose note contains `text` was published for `name`.
    pub async fn has_event(&self, name: &str, reason: &str, text: &str) -> bool {
        self.events(name).await.iter().any(|event| {
            event.reason.as_deref() == Some(reason) && event.note.as_deref().is_some_and(|note| note.contains(text))
        })
    }

    pub async fn resource_version(&self, secret: &str) -> String {
        self.secrets()
            .get(secret)
            .await
            .unwrap()
            .metadata
            .resource_version
            .unwrap()
    }

    /// A Secret with arbitrary string data.
    pub async fn raw_secret(&self, name: &str, data: &[(&str, &str)]) {
        let secret = Secret {
            metadata: kube::api::ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            string_data: Some(data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            ..Secret::default()
        };
        self.secrets().create(&PostParams::default(), &secret).await.expect("Secret created");
    }
}

/// The rotation manifest of [`World::rotation`] with `patch` merged into its spec.
pub fn rotation_with(
    world: &World,
    name: &str,
    secret: &str,
    credentials: Option<&str>,
    patch: serde_json::Value,
) -> AccessKeyRotation {
    let mut value = serde_json::to_value(world.rotation(name, secret, credentials)).unwrap();
    merge(&mut value["spec"], patch);
    serde_json::from_value(value).expect("patched manifest matches the CRD types")
}

/// JSON merge patch (RFC 7386) of `patch` into `target`.
pub fn merge(target: &mut serde_json::Value, patch: serde_json::Value) {
    match patch {
        serde_json::Value::Object(fields) => {
            if !target.is_object() {
                *target = serde_json::Value::Object(Default::default());
            }
            let object = target.as_object_mut().unwrap();
            for (key, value) in fields {
                if value.is_null() {
                    object.remove(&key);
                } else {
                    merge(object.entry(key).or_insert(serde_json::Value::Null), value);
                }
            }
        }
        other => *target = other,
    }
}

pub fn condition<'a>(object: &'a AccessKeyRotation, type_: &str) -> Option<&'a Condition> {
    object
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|condition| condition.type_ == type_)
}

/// Returns the reason of condition `type_`, or "" when it is absent.
pub fn reason(object: &AccessKeyRotation, type_: &str) -> String {
    condition(object, type_).map(|c| c.reason.clone()).unwrap_or_default()
}

/// Returns the message of condition `type_`, or "" when it is absent.
pub fn message(object: &AccessKeyRotation, type_: &str) -> String {
    condition(object, type_).map(|c| c.message.clone()).unwrap_or_default()
}

/// Returns the step of the rotation in flight.
pub fn step(object: &AccessKeyRotation) -> Option<RotationStep> {
    object.status.as_ref()?.rotation.as_ref().map(|rotation| rotation.step)
}

/// Returns the access key ID that signed the call `trace` records.
pub fn caller(trace: &Trace) -> String {
    trace.user.as_ref().map(|user| user.access_key_id.clone()).unwrap_or_default()
}

pub mod process;
