//! One reconcile of one AccessKeyRotation: the working copy of its status, the Events to
//! publish, and the helpers every step uses. Status is written once, at the end, and only
//! when it changed; Events are published after that write succeeds.

use std::sync::Arc;
use std::time::Duration;

use akguard_hwcloud::{Client as CloudClient, Credentials};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{OwnerReference, Time};
use kube::api::PostParams;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::{Api, Resource, ResourceExt};

use super::context::{Context, ReconcileError};
use super::secrets::{StagedKey, find_staged, read_key_pair};
use super::settings::Settings;
use crate::api::conditions::{self, set_condition};
use crate::api::rotation::{AccessKeyRotation, AccessKeyRotationStatus, RotationPhase, RotationStep};
use crate::runtime::metrics::{Metrics, StepLabels};

pub struct Run<'a> {
    pub ctx: &'a Context,
    pub object: Arc<AccessKeyRotation>,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub status: AccessKeyRotationStatus,
    pub now: Timestamp,
    pub secrets: Api<Secret>,
    events: Vec<(EventType, &'static str, String)>,
}

impl<'a> Run<'a> {
    pub fn new(ctx: &'a Context, object: Arc<AccessKeyRotation>) -> Self {
        let namespace = object.namespace().unwrap_or_default();
        Self {
            ctx,
            namespace: namespace.clone(),
            name: object.name_any(),
            uid: object.uid().unwrap_or_default(),
            status: object.status.clone().unwrap_or_default(),
            now: ctx.clock.now(),
            secrets: Api::namespaced(ctx.client.clone(), &namespace),
            object,
            events: Vec::new(),
        }
    }

    pub fn owner_reference(&self) -> OwnerReference {
        self.object
            .controller_owner_ref(&())
            .expect("an AccessKeyRotation read from the API has a name and UID")
    }

    pub fn rotation_id(&self) -> Option<String> {
        self.status.rotation.as_ref().map(|rotation| rotation.id.clone())
    }

    /// Queues an Event and logs the same fact once, with the resource, rotation ID and
    /// access key IDs in the message.
    pub fn event(&mut self, type_: EventType, reason: &'static str, note: impl Into<String>) {
        let note = note.into();
        let rotation_id = self.rotation_id().unwrap_or_default();
        match type_ {
            EventType::Normal => tracing::info!(
                namespace = %self.namespace, name = %self.name, rotation_id = %rotation_id,
                access_key_id = %self.status.current_access_key_id.clone().unwrap_or_default(),
                reason, "{note}"
            ),
            EventType::Warning => tracing::warn!(
                namespace = %self.namespace, name = %self.name, rotation_id = %rotation_id,
                access_key_id = %self.status.current_access_key_id.clone().unwrap_or_default(),
                reason, "{note}"
            ),
        }
        self.events.push((type_, reason, note));
    }

    pub fn condition(&mut self, type_: &str, status: bool, reason: &str, message: impl AsRef<str>) {
        let generation = self.object.metadata.generation;
        set_condition(
            &mut self.status.conditions,
            type_,
            status,
            reason,
            message.as_ref(),
            generation,
            self.now,
        );
    }

    pub fn phase(&mut self, phase: RotationPhase) {
        self.status.phase = Some(phase);
    }

    /// Moves the in-flight rotation to `step`, recording the previous step's duration and
    /// an Event.
    pub fn move_to(&mut self, step: RotationStep, note: impl Into<String>) {
        let now = self.now;
        let Some(rotation) = self.status.rotation.as_mut() else {
            return;
        };
        let elapsed = now.duration_since(rotation.step_start_time.0);
        self.ctx
            .metrics
            .step_duration
            .get_or_create(&StepLabels {
                step: format!("{:?}", rotation.step),
            })
            .observe(elapsed.as_secs_f64().max(0.0));
        rotation.step = step;
        rotation.step_start_time = Time(now);
        let note = note.into();
        self.condition(
            conditions::ROTATING,
            true,
            conditions::reasons::ROTATION_IN_PROGRESS,
            format!("step {step:?}: {note}"),
        );
        self.event(EventType::Normal, "RotationStep", format!("{step:?}: {note}"));
    }

    /// Requeue for a step that waits: at `until` or after the poll interval, whichever
    /// is sooner.
    pub fn wait_until(&self, until: Timestamp) -> Action {
        let remaining = until.duration_since(self.now);
        Action::requeue(cap_wait(remaining, self.ctx.step_poll))
    }

    pub fn poll(&self) -> Action {
        Action::requeue(self.ctx.step_poll)
    }

    pub fn next_now(&self) -> Action {
        Action::requeue(Duration::from_millis(50))
    }

    pub fn user_id(&self) -> Option<String> {
        self.status
            .user_id
            .clone()
            .or_else(|| self.object.spec.user_id.clone())
    }

    /// Builds the client of the identity that acts: the privileged key from `spec.provider.credentialsSecretRef`,
    /// else the key in the primary target (self-managed: the current key creates its
    /// successor, and after the switch the new key retires the old one).
    pub async fn acting_client(&self, settings: &Settings) -> Result<Option<CloudClient>, ReconcileError> {
        let provider = &self.object.spec.provider;
        let pair = match &provider.credentials_secret_ref {
            Some(reference) => {
                read_key_pair(
                    &self.secrets,
                    &reference.name,
                    &reference.access_key_id_key,
                    &reference.secret_access_key_key,
                )
                .await?
            }
            None => {
                let primary = settings.primary();
                read_key_pair(
                    &self.secrets,
                    &primary.secret_name,
                    &primary.access_key_id_key,
                    &primary.secret_access_key_key,
                )
                .await?
            }
        };
        let Some((access_key_id, secret_access_key)) = pair else {
            return Ok(None);
        };
        let client = self
            .ctx
            .clouds
            .client(provider, Credentials::new(access_key_id, secret_access_key))
            .map_err(ReconcileError::cloud("client set-up"))?;
        Ok(Some(client))
    }

    /// Returns the acting client, or sets `Ready` false and `Degraded` conditions naming the Secret to
    /// fix, with one Event until the message changes.
    pub async fn require_acting_client(&mut self, settings: &Settings) -> Result<Result<CloudClient, Action>, ReconcileError> {
        if let Some(client) = self.acting_client(settings).await? {
            return Ok(Ok(client));
        }
        let (field, secret) = match &self.object.spec.provider.credentials_secret_ref {
            Some(reference) => ("spec.provider.credentialsSecretRef", reference.name.clone()),
            None => ("spec.targets[0]", settings.primary().secret_name.clone()),
        };
        let message = format!(
            "no access key to act with: Secret {secret} (named by {field}) is missing or lacks the access key ID or secret access key; create it or fix {field}"
        );
        let reason = conditions::reasons::SECRET_NOT_FOUND;
        let repeated = self
            .status
            .conditions
            .iter()
            .any(|c| c.type_ == conditions::DEGRADED && c.reason == reason && c.message == message);
        self.condition(conditions::READY, false, reason, &message);
        self.condition(conditions::DEGRADED, true, reason, &message);
        if !repeated {
            self.event(EventType::Warning, reason, message);
        }
        Ok(Err(Action::requeue(Duration::from_secs(60))))
    }

    pub async fn staged_for(&self, rotation_id: &str) -> Result<Option<StagedKey>, ReconcileError> {
        Ok(find_staged(&self.secrets, &self.uid)
            .await?
            .into_iter()
            .find(|staged| staged.rotation_id == rotation_id))
    }

    /// Writes the status when it changed, then publishes the queued Events.
    pub async fn flush(self) -> Result<(), ReconcileError> {
        self.ctx
            .metrics
            .rotation_blocked
            .get_or_create(&Metrics::resource(&self.namespace, &self.name))
            .set(i64::from(is_blocked(&self.status)));

        let original = self.object.status.clone().unwrap_or_default();
        if original != self.status {
            let api: Api<AccessKeyRotation> = Api::namespaced(self.ctx.client.clone(), &self.namespace);
            let mut object = (*self.object).clone();
            object.metadata.managed_fields = None;
            object.status = Some(self.status.clone());
            api.replace_status(&self.name, &PostParams::default(), &object)
                .await?;
        }

        let reference = self.object.object_ref(&());
        for (type_, reason, note) in self.events {
            let event = Event {
                type_,
                reason: reason.to_string(),
                action: event_action(reason, &note),
                note: Some(truncate(&note, 1000)),
                secondary: None,
            };
            if let Err(error) = self.ctx.recorder.publish(&event, &reference).await {
                tracing::warn!(namespace = %self.namespace, name = %self.name, %error, "could not publish Event");
            }
        }
        Ok(())
    }
}

/// Returns whether a resource needs a person to go on: its key is not adopted (Pending), it failed,
/// or `Degraded` is true. A rotation in flight, however long its soak, is not blocked.
pub fn is_blocked(status: &AccessKeyRotationStatus) -> bool {
    matches!(status.phase, Some(RotationPhase::Pending | RotationPhase::Failed))
        || conditions::is_true(&status.conditions, conditions::DEGRADED)
}

/// The Event's action: the reason plus a hash of the message. kube-runtime's recorder folds
/// Events with the same reason and action into one series that keeps the first message, so
/// distinct messages need distinct actions. Identical ones still count up in one series.
fn event_action(reason: &str, note: &str) -> String {
    // FNV-1a, 32 bits: stable across runs and releases, unlike the standard hasher.
    let hash = note
        .bytes()
        .fold(0x811c_9dc5u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193));
    format!("{reason}-{hash:08x}")
}

fn truncate(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Rounds `now` up to a whole second. Status times have one-second precision while IAM
/// reports microseconds, so a switch or disable time is recorded rounded up. A use of the
/// old key in the same second before the switch then does not count as a use after it.
pub fn status_time(now: Timestamp) -> Time {
    let truncated = Timestamp::from_second(now.as_second()).unwrap_or(now);
    if truncated == now {
        Time(now)
    } else {
        Time(truncated + SignedDuration::from_secs(1))
    }
}

/// Caps a wait at the poll interval and keeps it at least 50 ms.
pub fn cap_wait(remaining: SignedDuration, poll: Duration) -> Duration {
    let remaining = remaining.unsigned_abs().min(poll);
    if remaining < Duration::from_millis(50) {
        Duration::from_millis(50)
    } else {
        remaining
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_table() {
        let cases = [
            (Some(RotationPhase::Ready), false, false),
            (Some(RotationPhase::Rotating), false, false),
            (Some(RotationPhase::Pending), false, true),
            (Some(RotationPhase::Failed), false, true),
            (Some(RotationPhase::Rotating), true, true),
        ];
        for (phase, degraded, expected) in cases {
            let mut status = AccessKeyRotationStatus { phase, ..Default::default() };
            if degraded {
                set_condition(&mut status.conditions, conditions::DEGRADED, true, "X", "x", None, Timestamp::UNIX_EPOCH);
            }
            assert_eq!(is_blocked(&status), expected, "{phase:?} degraded={degraded}");
        }
    }

    #[test]
    fn event_action_separates_messages() {
        let first = event_action("RotationStep", "CreatingKey: room for a new key");
        let second = event_action("RotationStep", "WritingSecrets: backed up");

        assert_ne!(first, second);
        assert_eq!(first, event_action("RotationStep", "CreatingKey: room for a new key"));
        assert!(first.starts_with("RotationStep-"));
        assert!(first.len() <= 128);
    }
}
