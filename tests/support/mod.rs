//! End-to-end harness: the emulator, the simulator and the real operator in one process,
//! on a manual clock the test moves.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use akguard::api::rotation::AccessKeyRotation;
use akguard::runtime::operator::{self, RunOptions};
use akguard::sandbox::world::{self, World};
use akguard_hwcloud::ManualClock;
use jiff::{SignedDuration, Timestamp};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
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
