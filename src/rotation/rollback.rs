//! Undoing a failed rotation: the old key is re-enabled, the target Secrets get their
//! backed-up values, the consumers go back to their previous pod template, and only when
//! they run on the old key again is the new key deleted. Then the rotation is retried
//! after a backoff, up to a limit.

use akguard_hwcloud::{AccessKeyStatus, AccessKeyUpdate, ErrorKind};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;

use super::context::ReconcileError;
use super::decision::{MAX_ATTEMPTS, retry_delay};
use super::marker::{KeyMarker, new_rotation_id};
use super::run::Run;
use super::secrets::{delete_owned, read_backup, restore_targets};
use super::settings::Settings;
use super::steps::{consumer_health, consumer_list};
use crate::api::conditions::{self, reasons};
use crate::api::rotation::{
    InFlightRotation, RotationPhase, RotationRecord, RotationResult, RotationStep,
};
use crate::runtime::metrics::ResultLabels;
use crate::workloads::consumers;

/// Switches the in-flight rotation to rolling back, with the reason for conditions.
pub fn start(run: &mut Run<'_>, reason: &str, message: String) -> Action {
    run.phase(RotationPhase::RollingBack);
    run.condition(conditions::DEGRADED, true, reason, &message);
    run.move_to(RotationStep::RollingBack, format!("rolling back: {message}"));
    run.event(EventType::Warning, "RollbackStarted", message);
    run.next_now()
}

/// Returns the annotation value the consumers had before this rotation: the ID of the last
/// successful rotation, or none before the first one.
fn previous_annotation(run: &Run<'_>) -> Option<String> {
    run.status
        .history
        .iter()
        .find(|record| record.result == RotationResult::Succeeded)
        .map(|record| record.id.clone())
}

pub async fn run(run: &mut Run<'_>, settings: &Settings, rotation: &InFlightRotation) -> Result<Action, ReconcileError> {
    // Both the privileged identity and a self-managed key (whichever the primary target
    // contains now) may re-enable the old key and delete the new one.
    let client = match run.require_acting_client(settings).await? {
        Ok(client) => client,
        Err(action) => return Ok(action),
    };

    if let Some(old) = run.status.current_access_key_id.clone() {
        let key = client
            .show_access_key(&old)
            .await
            .map_err(ReconcileError::cloud("ShowPermanentAccessKey"))?;
        if key.status == AccessKeyStatus::Inactive {
            client
                .update_access_key(&old, &AccessKeyUpdate::status(AccessKeyStatus::Active))
                .await
                .map_err(ReconcileError::cloud("UpdatePermanentAccessKey"))?;
            run.event(EventType::Normal, "OldKeyReEnabled", format!("re-enabled access key {old}"));
        }
    }

    if let Some(backup) = read_backup(&run.secrets, &run.uid, &rotation.id).await?
        && restore_targets(&run.secrets, &backup).await?
    {
        run.event(EventType::Normal, "SecretsRestored", "restored the target Secrets from the backup");
    }

    // Only consumers this rotation restarted go back; the others never moved.
    let previous = previous_annotation(run);
    for (workload, restart, _, _) in consumer_list(run, settings).await? {
        if restart {
            let health = consumers::health(&run.ctx.client, &run.namespace, &workload, Some(&rotation.id), true).await?;
            if health.restarted {
                consumers::restart(&run.ctx.client, &run.namespace, &workload, previous.as_deref()).await?;
            }
        }
    }
    let health = consumer_health(run, settings, previous.as_deref(), false).await?;
    let waiting: Vec<String> = health
        .iter()
        .filter(|consumer| !consumer.rollout.is_complete())
        .map(|consumer| consumer.name.clone())
        .collect();
    if !waiting.is_empty() {
        // The new key stays until every consumer runs on the old one again: deleting a key
        // that pods still hold would break them.
        run.condition(
            conditions::ROTATING,
            true,
            "RollingBack",
            format!("rolling back: waiting for {} to run on the old key", waiting.join(", ")),
        );
        return Ok(run.poll());
    }

    if let Some(new_key) = run.status.pending_access_key_id.clone() {
        let marker = KeyMarker::new(run.uid.clone(), rotation.id.clone()).description();
        let user_id = run.user_id().unwrap_or_default();
        let ours = client
            .find_key_by_marker(&user_id, &marker)
            .await
            .map_err(ReconcileError::cloud("ListPermanentAccessKeys"))?
            .iter()
            .any(|key| key.access_key_id == new_key);
        if ours {
            match client.delete_access_key(&new_key).await {
                Ok(()) => {}
                Err(error) if error.kind() == ErrorKind::NotFound => {}
                Err(error) => return Err(ReconcileError::Cloud { operation: "DeletePermanentAccessKey", source: error }),
            }
            run.event(EventType::Normal, "NewKeyDeleted", format!("deleted access key {new_key} of the failed rotation"));
        }
    }
    delete_owned(&run.secrets, &run.uid, &rotation.id).await?;
    finish(run, rotation);
    Ok(run.next_now())
}

fn finish(run: &mut Run<'_>, rotation: &InFlightRotation) {
    let message = run
        .status
        .conditions
        .iter()
        .find(|c| c.type_ == conditions::DEGRADED)
        .map(|c| c.message.clone())
        .unwrap_or_default();
    run.status.push_history(RotationRecord {
        id: rotation.id.clone(),
        trigger: rotation.trigger,
        result: RotationResult::RolledBack,
        start_time: rotation.start_time.clone(),
        completion_time: Time(run.now),
        old_access_key_id: run.status.current_access_key_id.clone(),
        new_access_key_id: run.status.pending_access_key_id.clone(),
        attempts: rotation.attempt,
        message: Some(message.clone()),
    });
    run.status.pending_access_key_id = None;
    run.ctx
        .metrics
        .rotations
        .get_or_create(&ResultLabels { result: "rolled_back".into() })
        .inc();

    let attempt = u32::try_from(rotation.attempt).unwrap_or(u32::MAX);
    if attempt < MAX_ATTEMPTS {
        let delay = retry_delay(attempt);
        let retry_at = run.now + delay;
        run.status.rotation = Some(InFlightRotation {
            id: new_rotation_id(run.now),
            trigger: rotation.trigger,
            leak_incident: rotation.leak_incident.clone(),
            step: RotationStep::CheckingQuota,
            start_time: Time(retry_at),
            step_start_time: Time(retry_at),
            attempt: rotation.attempt + 1,
            switch_time: None,
            disable_time: None,
        });
        run.phase(RotationPhase::Degraded);
        run.condition(
            conditions::ROTATING,
            false,
            reasons::ROLLED_BACK,
            format!("rotation {} rolled back; attempt {} of {MAX_ATTEMPTS} starts at {retry_at}", rotation.id, attempt + 1),
        );
        run.event(
            EventType::Warning,
            reasons::ROLLED_BACK,
            format!("rotation {} rolled back ({message}); retrying at {retry_at}", rotation.id),
        );
    } else {
        run.status.rotation = None;
        run.phase(RotationPhase::Failed);
        let text = format!(
            "rotation {} rolled back after {attempt} attempts ({message}); fix the cause, then change spec.schedule.rotationRequest to try again",
            rotation.id
        );
        run.condition(conditions::DEGRADED, true, reasons::RETRIES_EXHAUSTED, &text);
        run.condition(conditions::ROTATING, false, reasons::RETRIES_EXHAUSTED, &text);
        run.ctx
            .metrics
            .rotations
            .get_or_create(&ResultLabels { result: "failed".into() })
            .inc();
        run.event(EventType::Warning, reasons::RETRIES_EXHAUSTED, text);
    }
}
