//! The steps of an in-flight rotation. Each step checks what the cloud and the cluster
//! show before acting, so running it twice (after a crash or a lost status write) does
//! no harm.

use std::collections::BTreeSet;

use akguard_hwcloud::{AccessKeyStatus, AccessKeyUpdate, ErrorKind};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::ResourceExt;

use super::cloud::{key_view, traced_use_since};
use super::context::ReconcileError;
use super::decision::{
    ConsumerHealth, IdleDecision, KeyView, QuotaDecision, SoakDecision, Verification, idle_outcome,
    orphaned_keys, quota_decision, soak_outcome, verification_outcome,
};
use super::marker::KeyMarker;
use super::rollback;
use super::run::Run;
use super::secrets::{
    KeyMaterial, TargetState, create_target, find_staged, read_target, write_backup, write_staging, write_target,
};
use super::settings::Settings;
use crate::api::conditions::{self, reasons};
use crate::api::rotation::{
    ConsumerSource, ConsumerStatus, InFlightRotation, RotationStep, RotationTrigger,
    WorkloadKind as ApiWorkloadKind,
};
use crate::runtime::metrics::Metrics;
use crate::workloads::consumers::{self, WorkloadKind, WorkloadRef};
use crate::workloads::http_check;

pub async fn advance(run: &mut Run<'_>, settings: &Settings) -> Result<Action, ReconcileError> {
    let rotation = run
        .status
        .rotation
        .clone()
        .expect("advance is called with a rotation in flight");
    match rotation.step {
        RotationStep::CheckingQuota => check_quota(run, settings, &rotation).await,
        RotationStep::CreatingKey | RotationStep::StagingKey => create_key(run, settings, &rotation).await,
        RotationStep::BackingUpSecrets => {
            write_backup(&run.secrets, &run.owner_reference(), &rotation.id, &settings.targets).await?;
            run.move_to(RotationStep::WritingSecrets, "backed up the target Secrets' current values");
            Ok(run.next_now())
        }
        RotationStep::WritingSecrets => write_secrets(run, settings, &rotation).await,
        RotationStep::RestartingWorkloads => restart(run, settings, &rotation).await,
        RotationStep::Verifying => verify(run, settings, &rotation).await,
        RotationStep::WaitingForIdleOldKey => wait_idle(run, settings, &rotation).await,
        RotationStep::DisablingOldKey => disable_old(run, settings, &rotation).await,
        RotationStep::Soaking => soak(run, settings, &rotation).await,
        RotationStep::DeletingOldKey => delete_old(run, settings, &rotation).await,
        RotationStep::CleaningUp => clean_up(run, settings, &rotation).await,
        RotationStep::RollingBack => rollback::run(run, settings, &rotation).await,
    }
}

fn rotation_mut<'r>(run: &'r mut Run<'_>) -> &'r mut InFlightRotation {
    run.status
        .rotation
        .as_mut()
        .expect("a step runs with a rotation in flight")
}

macro_rules! acting_client {
    ($run:expr, $settings:expr) => {
        match $run.require_acting_client($settings).await? {
            Ok(client) => client,
            Err(action) => return Ok(action),
        }
    };
}

/// Access key IDs held by any target Secret or staged by this resource.
pub(super) async fn held_keys(run: &Run<'_>, settings: &Settings) -> Result<BTreeSet<String>, ReconcileError> {
    let mut held = BTreeSet::new();
    for target in &settings.targets {
        if let TargetState::Holds { access_key_id } = read_target(&run.secrets, target).await? {
            held.insert(access_key_id);
        }
    }
    for staged in find_staged(&run.secrets, &run.uid).await? {
        held.insert(staged.access_key_id);
    }
    Ok(held)
}

/// Access key IDs other AccessKeyRotations record as theirs.
pub(super) fn keys_of_other_resources(run: &Run<'_>) -> BTreeSet<String> {
    run.ctx
        .rotations
        .state()
        .iter()
        .filter(|other| other.uid() != Some(run.uid.clone()))
        .filter_map(|other| other.status.as_ref())
        .flat_map(|status| {
            [status.current_access_key_id.clone(), status.pending_access_key_id.clone()]
        })
        .flatten()
        .collect()
}

async fn check_quota(run: &mut Run<'_>, settings: &Settings, rotation: &InFlightRotation) -> Result<Action, ReconcileError> {
    if rotation.step_start_time.0 > run.now {
        // A retry after a rollback waits out its backoff here, and a full quota its next
        // check.
        return Ok(run.wait_until(rotation.step_start_time.0));
    }
    let Some(user_id) = run.user_id() else {
        return Err(ReconcileError::Invariant(
            "no IAM user ID: set spec.userId or put the current key in the primary target".into(),
        ));
    };
    let client = acting_client!(run, settings);
    let keys = client
        .list_access_keys(Some(&user_id))
        .await
        .map_err(ReconcileError::cloud("ListPermanentAccessKeys"))?;
    let mut views: Vec<_> = keys.iter().map(key_view).collect();
    let held = held_keys(run, settings).await?;

    // The list omits last_use_time, so each key this resource marked that no Secret
    // contains is shown, to learn whether it was ever used, before it counts as an orphan.
    for view in views.iter_mut() {
        let ours = view.marker.as_ref().is_some_and(|marker| marker.resource_uid == run.uid);
        if ours && !held.contains(&view.access_key_id) {
            let shown = client
                .show_access_key(&view.access_key_id)
                .await
                .map_err(ReconcileError::cloud("ShowPermanentAccessKey"))?;
            view.last_used = shown.last_use_time;
        }
    }
    let orphans = orphaned_keys(&views, &run.uid, &held);
    if let Some(orphan) = orphans.first() {
        delete_key(run, &client, orphan).await?;
        run.event(
            EventType::Warning,
            "OrphanKeyDeleted",
            format!("deleted access key {orphan}: this resource created it, its secret access key was never stored, and it was never used"),
        );
        return Ok(run.next_now());
    }

    let mut referenced = held;
    referenced.extend(keys_of_other_resources(run));
    let current = run.status.current_access_key_id.clone();
    match quota_decision(&views, current.as_deref(), settings.quota_policy, &referenced) {
        QuotaDecision::Proceed => {
            run.condition(conditions::DEGRADED, false, reasons::ROTATION_IN_PROGRESS, "no problem found");
            run.move_to(RotationStep::CreatingKey, format!("IAM user {user_id} has room for a new key"));
            Ok(run.next_now())
        }
        QuotaDecision::DeleteFirst(spare) => {
            delete_key(run, &client, &spare).await?;
            run.event(
                EventType::Normal,
                "InactiveKeyDeleted",
                format!("deleted inactive access key {spare}, which no known Secret holds, to make room (spec.retirement.onKeyQuotaFull)"),
            );
            Ok(run.next_now())
        }
        QuotaDecision::Blocked(message) => {
            let first = !run.status.conditions.iter().any(|condition| {
                condition.type_ == conditions::DEGRADED && condition.reason == reasons::KEY_QUOTA_EXCEEDED
            });
            run.condition(conditions::DEGRADED, true, reasons::KEY_QUOTA_EXCEEDED, &message);
            if first {
                run.event(EventType::Warning, reasons::KEY_QUOTA_EXCEEDED, message);
            }
            // Look again in 5 minutes with one list call, never a create that is known to
            // fail. The step's start time delays the check, so polls in between call nothing.
            let next_check = run.now + jiff::SignedDuration::from_mins(5);
            rotation_mut(run).step_start_time = Time(next_check);
            Ok(run.wait_until(next_check))
        }
    }
}

async fn delete_key(run: &Run<'_>, client: &akguard_hwcloud::Client, access_key_id: &str) -> Result<(), ReconcileError> {
    match client.delete_access_key(access_key_id).await {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(()),
        Err(error) => {
            tracing::warn!(namespace = %run.namespace, name = %run.name, access_key_id, %error, "deleting an access key failed");
            Err(ReconcileError::Cloud { operation: "DeletePermanentAccessKey", source: error })
        }
    }
}

async fn create_key(run: &mut Run<'_>, settings: &Settings, rotation: &InFlightRotation) -> Result<Action, ReconcileError> {
    let user_id = run.user_id().unwrap_or_default();
    let marker = KeyMarker::new(run.uid.clone(), rotation.id.clone()).description();
    let client = acting_client!(run, settings);

    // A key with this rotation's marker exists when an earlier attempt got as far as the
    // create call: keep it if it is staged, otherwise its secret is lost and it must go.
    let existing = client
        .find_key_by_marker(&user_id, &marker)
        .await
        .map_err(ReconcileError::cloud("ListPermanentAccessKeys"))?;
    if let Some(key) = existing.first() {
        if let Some(staged) = run.staged_for(&rotation.id).await?
            && staged.access_key_id == key.access_key_id
        {
            run.status.pending_access_key_id = Some(key.access_key_id.clone());
            run.move_to(RotationStep::BackingUpSecrets, format!("access key {} is staged", key.access_key_id));
            return Ok(run.next_now());
        }
        delete_key(run, &client, &key.access_key_id).await?;
        run.event(
            EventType::Warning,
            "OrphanKeyDeleted",
            format!(
                "deleted access key {} of rotation {}: its secret access key was lost before it was stored; creating a new key",
                key.access_key_id, rotation.id
            ),
        );
        return Ok(run.next_now());
    }
    if let Some(stale) = run.staged_for(&rotation.id).await? {
        // The API server stored a staging Secret although its write reported a failure
        // here, and its key is gone because no key carries this rotation's marker. The
        // staging write rejects a second key for one rotation, so the stale Secret goes first.
        super::secrets::delete_owned(&run.secrets, &run.uid, &rotation.id).await?;
        run.event(
            EventType::Warning,
            "StaleStagingDeleted",
            format!(
                "deleted the staging Secret of rotation {}: access key {} in it no longer exists in IAM; creating a new key",
                rotation.id, stale.access_key_id
            ),
        );
        return Ok(run.next_now());
    }

    let created = match client.create_access_key(&user_id, &marker).await {
        Ok(created) => created,
        Err(error) if error.kind() == ErrorKind::Ambiguous => {
            // The key may exist; the next pass finds it by its marker.
            run.event(
                EventType::Warning,
                "CreateKeyAmbiguous",
                format!("the create call's outcome is unknown ({error}); looking for the key by its marker before retrying"),
            );
            return Ok(run.next_now());
        }
        Err(error) if error.kind() == ErrorKind::QuotaExceeded => {
            run.move_to(RotationStep::CheckingQuota, "IAM reported the key quota full; checking again");
            return Ok(run.next_now());
        }
        Err(error) => return Err(ReconcileError::Cloud { operation: "CreatePermanentAccessKey", source: error }),
    };

    // The secret access key exists only in this process until the staging Secret stores it.
    if let Err(error) = write_staging(
        &run.secrets,
        &run.owner_reference(),
        &rotation.id,
        &created.access_key_id,
        &created.secret_access_key,
    )
    .await
    {
        let _ = delete_key(run, &client, &created.access_key_id).await;
        return Err(error.into());
    }
    run.status.pending_access_key_id = Some(created.access_key_id.clone());
    run.move_to(
        RotationStep::BackingUpSecrets,
        format!("created access key {} and stored it in the staging Secret", created.access_key_id),
    );
    Ok(run.next_now())
}

async fn write_secrets(run: &mut Run<'_>, settings: &Settings, rotation: &InFlightRotation) -> Result<Action, ReconcileError> {
    let Some(staged) = run.staged_for(&rotation.id).await? else {
        return Ok(rollback::start(
            run,
            reasons::SECRET_NOT_FOUND,
            format!("the staging Secret of rotation {} is gone; the new key cannot be written", rotation.id),
        ));
    };
    let user_id = run.user_id().unwrap_or_default();
    let region = run.object.spec.provider.region.clone();
    let material = KeyMaterial {
        access_key_id: &staged.access_key_id,
        secret_access_key: &staged.secret_access_key,
        region: &region,
        user_id: &user_id,
    };
    for target in &settings.targets {
        let missing = read_target(&run.secrets, target).await? == TargetState::Missing;
        if missing && rotation.trigger == RotationTrigger::Bootstrap {
            // The first key of a user goes into Secrets that may not exist yet.
            create_target(&run.secrets, target, &material).await?;
            continue;
        }
        if missing {
            return Ok(rollback::start(
                run,
                reasons::SECRET_NOT_FOUND,
                format!("target Secret {} does not exist; create it or remove it from spec.targets", target.secret_name),
            ));
        }
        write_target(&run.secrets, target, &material).await?;
    }
    rotation_mut(run).switch_time = Some(super::run::status_time(run.now));
    let names: Vec<&str> = settings.targets.iter().map(|t| t.secret_name.as_str()).collect();
    run.move_to(
        RotationStep::RestartingWorkloads,
        format!("wrote access key {} into Secret {}", staged.access_key_id, names.join(", ")),
    );
    Ok(run.next_now())
}

/// Lists the consumers of this resource: explicit references, then discovered workloads.
/// Each comes with whether it is restarted by annotation.
pub async fn consumer_list(run: &Run<'_>, settings: &Settings) -> Result<Vec<(WorkloadRef, bool, ConsumerSource, Vec<String>)>, ReconcileError> {
    let mut list: Vec<(WorkloadRef, bool, ConsumerSource, Vec<String>)> = settings
        .explicit_consumers
        .iter()
        .map(|(workload, restart)| (workload.clone(), *restart, ConsumerSource::Explicit, Vec::new()))
        .collect();
    if settings.discover {
        let secrets: Vec<String> = settings.targets.iter().map(|t| t.secret_name.clone()).collect();
        for found in consumers::discover(&run.ctx.client, &run.namespace, &secrets).await? {
            let reference = format!("Secret/{}", found.secret);
            if let Some(entry) = list.iter_mut().find(|entry| entry.0 == found.workload) {
                entry.3.push(reference);
                continue;
            }
            list.push((found.workload, settings.restart_discovered, ConsumerSource::Discovered, vec![reference]));
        }
    }
    Ok(list)
}

/// Health of every consumer against the annotation `value`.
pub async fn consumer_health(
    run: &Run<'_>,
    settings: &Settings,
    value: Option<&str>,
    expect_restart: bool,
) -> Result<Vec<ConsumerHealth>, ReconcileError> {
    let mut health = Vec::new();
    for (workload, restart, _, _) in consumer_list(run, settings).await? {
        health.push(
            consumers::health(&run.ctx.client, &run.namespace, &workload, value, expect_restart && restart).await?,
        );
    }
    Ok(health)
}

/// Writes the consumers and their readiness into status.
pub async fn record_consumers(run: &mut Run<'_>, settings: &Settings, health: &[ConsumerHealth]) -> Result<(), ReconcileError> {
    let list = consumer_list(run, settings).await?;
    run.status.consumers = list
        .into_iter()
        .map(|(workload, _, source, references)| {
            let found = health.iter().find(|h| h.name == workload.to_string());
            ConsumerStatus {
                kind: match workload.kind {
                    WorkloadKind::Deployment => ApiWorkloadKind::Deployment,
                    WorkloadKind::StatefulSet => ApiWorkloadKind::StatefulSet,
                    WorkloadKind::DaemonSet => ApiWorkloadKind::DaemonSet,
                },
                name: workload.name.clone(),
                source,
                references,
                ready: found.is_some_and(|h| h.rollout.is_complete()),
                restarted_for: None,
                message: found.and_then(|h| match &h.rollout {
                    crate::workloads::rollout::RolloutState::Complete => None,
                    crate::workloads::rollout::RolloutState::Progressing(why)
                    | crate::workloads::rollout::RolloutState::Failed(why) => Some(why.clone()),
                }),
            }
        })
        .collect();
    Ok(())
}

async fn restart(run: &mut Run<'_>, settings: &Settings, rotation: &InFlightRotation) -> Result<Action, ReconcileError> {
    let mut restarted = Vec::new();
    for (workload, restart, _, _) in consumer_list(run, settings).await? {
        if !restart {
            continue;
        }
        consumers::restart(&run.ctx.client, &run.namespace, &workload, Some(&rotation.id)).await?;
        restarted.push(workload.to_string());
    }
    let note = if restarted.is_empty() {
        "no consumer to restart".to_string()
    } else {
        format!("restarted {}", restarted.join(", "))
    };
    run.move_to(RotationStep::Verifying, note);
    Ok(run.next_now())
}

async fn verify(run: &mut Run<'_>, settings: &Settings, rotation: &InFlightRotation) -> Result<Action, ReconcileError> {
    let health = consumer_health(run, settings, Some(&rotation.id), true).await?;
    let mut checks = Vec::new();
    for check in &settings.http_checks {
        checks.push(http_check::run(&run.ctx.http, check).await);
    }
    record_consumers(run, settings, &health).await?;

    let started = rotation.step_start_time.0;
    match verification_outcome(&health, &checks, started, settings.rollout_timeout, run.now) {
        Verification::Waiting(what) => {
            run.condition(conditions::ROTATING, true, reasons::ROTATION_IN_PROGRESS, format!("verifying: waiting for {what}"));
            Ok(run.poll())
        }
        Verification::Failed(why) => {
            let reason = if checks.iter().any(|check| !check.passed) && health.iter().all(|h| h.rollout.is_complete()) {
                reasons::HTTP_CHECK_FAILED
            } else {
                reasons::ROLLOUT_FAILED
            };
            Ok(rollback::start(run, reason, why))
        }
        Verification::Passed => {
            if settings.require_new_key_use && rotation.trigger != RotationTrigger::Bootstrap {
                // NOTE: with a self-managed key the operator's own calls after the switch
                // use the new key, so this evidence needs spec.provider.credentialsSecretRef.
                let new_key = run.status.pending_access_key_id.clone().unwrap_or_default();
                let client = acting_client!(run, settings);
                let key = client
                    .show_access_key(&new_key)
                    .await
                    .map_err(ReconcileError::cloud("ShowPermanentAccessKey"))?;
                let switched = rotation.switch_time.as_ref().map(|t| t.0).unwrap_or(started);
                let used = key.last_use_time.is_some_and(|used| used > switched);
                if !used {
                    let until = started + settings.new_key_use_timeout;
                    if run.now >= until {
                        return Ok(rollback::start(
                            run,
                            reasons::NEW_KEY_UNUSED,
                            format!("access key {new_key} shows no use within spec.verification.newKeyUseTimeout after the switch"),
                        ));
                    }
                    run.condition(conditions::ROTATING, true, reasons::NEW_KEY_UNUSED, format!("waiting for access key {new_key} to be used"));
                    return Ok(run.wait_until(until));
                }
            }
            let next = match (&run.status.current_access_key_id, rotation.trigger) {
                (None, _) => RotationStep::CleaningUp,
                (Some(_), RotationTrigger::Emergency) => RotationStep::DisablingOldKey,
                (Some(_), _) => RotationStep::WaitingForIdleOldKey,
            };
            run.move_to(next, "every consumer is healthy on the new key and every check passed");
            Ok(run.next_now())
        }
    }
}

async fn show_old_key(run: &mut Run<'_>, settings: &Settings) -> Result<Result<(akguard_hwcloud::AccessKey, akguard_hwcloud::Client), Action>, ReconcileError> {
    let old = run.status.current_access_key_id.clone().unwrap_or_default();
    let client = match run.require_acting_client(settings).await? {
        Ok(client) => client,
        Err(action) => return Ok(Err(action)),
    };
    let key = client
        .show_access_key(&old)
        .await
        .map_err(ReconcileError::cloud("ShowPermanentAccessKey"))?;
    Ok(Ok((key, client)))
}

/// Reads the old key as the decisions use it: its `last_use_time` is the later of IAM's value
/// and the latest call CTS recorded with it after `since`. When the acting identity may
/// not read CTS, IAM's value alone counts and a `TracesUnavailable` condition reports it.
async fn old_key_view(
    run: &mut Run<'_>,
    client: &akguard_hwcloud::Client,
    key: &akguard_hwcloud::AccessKey,
    since: jiff::Timestamp,
) -> Result<KeyView, ReconcileError> {
    let mut view = key_view(key);
    match traced_use(run, client, &key.access_key_id, since).await {
        Ok(traced) => {
            if traced > view.last_used {
                view.last_used = traced;
            }
        }
        Err(error) if matches!(error.kind(), ErrorKind::Forbidden | ErrorKind::Unauthorized) => {
            report_traces_unavailable(run, &key.access_key_id, &error);
        }
        Err(error) => return Err(ReconcileError::Cloud { operation: "ListTraces", source: error }),
    }
    Ok(view)
}

async fn traced_use(
    run: &Run<'_>,
    client: &akguard_hwcloud::Client,
    access_key_id: &str,
    since: jiff::Timestamp,
) -> Result<Option<jiff::Timestamp>, akguard_hwcloud::Error> {
    let project_id = run.ctx.clouds.project_id(client, &run.object.spec.provider.region).await?;
    traced_use_since(client, &project_id, access_key_id, since, run.now).await
}

fn report_traces_unavailable(run: &mut Run<'_>, access_key_id: &str, error: &akguard_hwcloud::Error) {
    const REASON: &str = "TracesUnavailable";
    let message = format!(
        "cannot read the CTS traces of access key {access_key_id} ({error}); a call with the disabled key is rejected without moving its last_use_time, so such a use goes unseen; let the acting identity list CTS traces"
    );
    let first = !run
        .status
        .conditions
        .iter()
        .any(|c| c.type_ == conditions::DEGRADED && c.reason == REASON);
    run.condition(conditions::DEGRADED, true, REASON, &message);
    if first {
        run.event(EventType::Warning, REASON, message);
    }
}

fn report_old_key_in_use(run: &mut Run<'_>, old: &str, since: jiff::Timestamp, switched: jiff::Timestamp) {
    let message = format!(
        "access key {old} was used at {since}, after the switch to its successor at {switched}; something outside the target Secrets still uses it, so it is neither disabled nor deleted"
    );
    let first = !run
        .status
        .conditions
        .iter()
        .any(|c| c.type_ == conditions::DEGRADED && c.reason == reasons::OLD_KEY_IN_USE && c.message == message);
    run.condition(conditions::DEGRADED, true, reasons::OLD_KEY_IN_USE, &message);
    run.ctx
        .metrics
        .old_key_in_use
        .get_or_create(&Metrics::resource(&run.namespace, &run.name))
        .set(1);
    if first {
        run.event(EventType::Warning, reasons::OLD_KEY_IN_USE, message);
    }
}

async fn wait_idle(run: &mut Run<'_>, settings: &Settings, rotation: &InFlightRotation) -> Result<Action, ReconcileError> {
    let (key, client) = match show_old_key(run, settings).await? {
        Ok(found) => found,
        Err(action) => return Ok(action),
    };
    let switched = rotation.switch_time.as_ref().map(|t| t.0).unwrap_or(rotation.step_start_time.0);
    let view = old_key_view(run, &client, &key, switched).await?;
    match idle_outcome(&view, switched, settings.idle_window, run.now) {
        IdleDecision::Ready => {
            run.ctx
                .metrics
                .old_key_in_use
                .get_or_create(&Metrics::resource(&run.namespace, &run.name))
                .set(0);
            run.condition(conditions::DEGRADED, false, reasons::ROTATION_IN_PROGRESS, "no problem found");
            run.move_to(
                RotationStep::DisablingOldKey,
                format!("access key {} stayed unused for the idle window", key.access_key_id),
            );
            Ok(run.next_now())
        }
        IdleDecision::Wait { until, in_use_since } => {
            if let Some(since) = in_use_since {
                report_old_key_in_use(run, &key.access_key_id, since, switched);
            }
            Ok(run.wait_until(until))
        }
    }
}

/// Runs every HTTP check and returns the ones that fail.
async fn failing_checks(run: &Run<'_>, settings: &Settings) -> Vec<super::decision::CheckOutcome> {
    let mut failing = Vec::new();
    for check in &settings.http_checks {
        let outcome = http_check::run(&run.ctx.http, check).await;
        if !outcome.passed {
            failing.push(outcome);
        }
    }
    failing
}

fn describe_checks(failing: &[super::decision::CheckOutcome]) -> String {
    failing
        .iter()
        .map(|check| format!("check {} ({})", check.name, check.detail))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Finds what forbids disabling the old key now: a target Secret that no longer contains
/// the new key, a consumer that is not healthy on it, or a failing HTTP check. The idle
/// window may last hours after the verification, so this is checked again right before.
async fn disable_blocker(
    run: &Run<'_>,
    settings: &Settings,
    rotation: &InFlightRotation,
) -> Result<Option<(&'static str, String)>, ReconcileError> {
    let new_key = run.status.pending_access_key_id.clone().unwrap_or_default();
    for target in &settings.targets {
        let state = read_target(&run.secrets, target).await?;
        if state != (TargetState::Holds { access_key_id: new_key.clone() }) {
            return Ok(Some((
                "TargetsOutOfSync",
                format!("target Secret {} no longer contains access key {new_key}", target.secret_name),
            )));
        }
    }
    let health = consumer_health(run, settings, Some(&rotation.id), true).await?;
    let unhealthy: Vec<String> = health
        .iter()
        .filter(|consumer| !consumer.restarted || !consumer.rollout.is_complete())
        .map(|consumer| consumer.name.clone())
        .collect();
    if !unhealthy.is_empty() {
        return Ok(Some((
            reasons::ROLLOUT_FAILED,
            format!("{} not healthy on access key {new_key}", unhealthy.join(", ")),
        )));
    }
    let failing = failing_checks(run, settings).await;
    if !failing.is_empty() {
        return Ok(Some((reasons::HTTP_CHECK_FAILED, describe_checks(&failing))));
    }
    Ok(None)
}

async fn disable_old(run: &mut Run<'_>, settings: &Settings, rotation: &InFlightRotation) -> Result<Action, ReconcileError> {
    let (key, client) = match show_old_key(run, settings).await? {
        Ok(found) => found,
        Err(action) => return Ok(action),
    };
    if key.status == AccessKeyStatus::Active {
        if let Some((reason, why)) = disable_blocker(run, settings, rotation).await? {
            let message = format!("access key {} stays enabled: {why}", key.access_key_id);
            return Ok(rollback::start(run, reason, message));
        }
        client
            .update_access_key(&key.access_key_id, &AccessKeyUpdate::status(AccessKeyStatus::Inactive))
            .await
            .map_err(ReconcileError::cloud("UpdatePermanentAccessKey"))?;
    }
    rotation_mut(run).disable_time = Some(super::run::status_time(run.now));
    run.move_to(RotationStep::Soaking, format!("disabled access key {}", key.access_key_id));
    Ok(run.next_now())
}

async fn soak(run: &mut Run<'_>, settings: &Settings, rotation: &InFlightRotation) -> Result<Action, ReconcileError> {
    let (key, client) = match show_old_key(run, settings).await? {
        Ok(found) => found,
        Err(action) => return Ok(action),
    };
    let health = consumer_health(run, settings, Some(&rotation.id), false).await?;
    record_consumers(run, settings, &health).await?;
    let disabled_at = rotation.disable_time.as_ref().map(|t| t.0).unwrap_or(rotation.step_start_time.0);
    let emergency = rotation.trigger == RotationTrigger::Emergency;

    let view = old_key_view(run, &client, &key, disabled_at).await?;
    let decision = soak_outcome(disabled_at, settings.soak_for(emergency), None, &view, &health, run.now);
    if matches!(decision, SoakDecision::Wait { .. } | SoakDecision::Done) {
        let failing = failing_checks(run, settings).await;
        if !failing.is_empty() {
            let message = format!(
                "a check failed while access key {} was disabled: {}",
                key.access_key_id,
                describe_checks(&failing)
            );
            return Ok(rollback::start(run, reasons::HTTP_CHECK_FAILED, message));
        }
    }
    match decision {
        SoakDecision::Wait { until } => Ok(run.wait_until(until)),
        SoakDecision::Done => {
            let next = if settings.delete_old_key {
                RotationStep::DeletingOldKey
            } else {
                RotationStep::CleaningUp
            };
            run.move_to(next, format!("soak of disabled access key {} passed", key.access_key_id));
            Ok(run.next_now())
        }
        SoakDecision::OldKeyUsed { since } => {
            client
                .update_access_key(&key.access_key_id, &AccessKeyUpdate::status(AccessKeyStatus::Active))
                .await
                .map_err(ReconcileError::cloud("UpdatePermanentAccessKey"))?;
            let switched = rotation.switch_time.as_ref().map(|t| t.0).unwrap_or(disabled_at);
            report_old_key_in_use(run, &key.access_key_id, since, switched);
            run.move_to(
                RotationStep::WaitingForIdleOldKey,
                format!("re-enabled access key {}: it was used while disabled", key.access_key_id),
            );
            Ok(run.next_now())
        }
        SoakDecision::ConsumerBroken(why) => Ok(rollback::start(
            run,
            reasons::ROLLOUT_FAILED,
            format!("a consumer broke while access key {} was disabled: {why}", key.access_key_id),
        )),
    }
}

async fn delete_old(run: &mut Run<'_>, settings: &Settings, rotation: &InFlightRotation) -> Result<Action, ReconcileError> {
    let (key, client) = match show_old_key(run, settings).await {
        Ok(Ok(found)) => found,
        Ok(Err(action)) => return Ok(action),
        Err(ReconcileError::Cloud { source, .. }) if source.kind() == ErrorKind::NotFound => {
            // The delete call went through but the process died before it wrote the
            // status, so the step is done.
            let old = run.status.current_access_key_id.clone().unwrap_or_default();
            run.move_to(RotationStep::CleaningUp, format!("access key {old} is already deleted"));
            return Ok(run.next_now());
        }
        Err(error) => return Err(error),
    };
    let disabled_at = rotation.disable_time.as_ref().map(|t| t.0).unwrap_or(rotation.step_start_time.0);
    let view = old_key_view(run, &client, &key, disabled_at).await?;
    let used_since_disable = view.last_used.is_some_and(|used| used > disabled_at);
    if key.status == AccessKeyStatus::Active || used_since_disable {
        // Someone re-enabled or tried the key since the soak: it is still wanted.
        run.move_to(
            RotationStep::WaitingForIdleOldKey,
            format!("access key {} is active or was used again; not deleting it", key.access_key_id),
        );
        return Ok(run.next_now());
    }
    delete_key(run, &client, &key.access_key_id).await?;
    run.move_to(RotationStep::CleaningUp, format!("deleted access key {}", key.access_key_id));
    Ok(run.next_now())
}

async fn clean_up(run: &mut Run<'_>, settings: &Settings, rotation: &InFlightRotation) -> Result<Action, ReconcileError> {
    let new_key = run.status.pending_access_key_id.clone();
    let created = match (&new_key, run.acting_client(settings).await?) {
        (Some(new_key), Some(client)) => client.show_access_key(new_key).await.ok().map(|key| key.create_time),
        _ => None,
    };
    super::secrets::delete_owned(&run.secrets, &run.uid, &rotation.id).await?;

    let old_key = run.status.current_access_key_id.clone();
    run.status.previous_access_key_id = old_key.clone();
    run.status.current_access_key_id = new_key.clone();
    run.status.pending_access_key_id = None;
    run.status.key_creation_time = Some(Time(created.unwrap_or(rotation.start_time.0)));
    run.status.last_rotation_time = Some(Time(run.now));
    run.status.push_history(crate::api::rotation::RotationRecord {
        id: rotation.id.clone(),
        trigger: rotation.trigger,
        result: crate::api::rotation::RotationResult::Succeeded,
        start_time: rotation.start_time.clone(),
        completion_time: Time(run.now),
        old_access_key_id: old_key.clone(),
        new_access_key_id: new_key.clone(),
        attempts: rotation.attempt,
        message: None,
    });
    run.status.rotation = None;
    run.phase(crate::api::rotation::RotationPhase::Ready);
    run.condition(conditions::ROTATING, false, reasons::ROTATION_SUCCEEDED, format!("rotation {} completed", rotation.id));
    run.condition(conditions::DEGRADED, false, reasons::ROTATION_SUCCEEDED, "no problem found");
    run.condition(
        conditions::READY,
        true,
        reasons::ROTATION_SUCCEEDED,
        format!("access key {} is in every target Secret and every consumer passed verification", new_key.clone().unwrap_or_default()),
    );
    run.ctx
        .metrics
        .rotations
        .get_or_create(&crate::runtime::metrics::ResultLabels { result: "completed".into() })
        .inc();
    run.ctx
        .metrics
        .old_key_in_use
        .get_or_create(&Metrics::resource(&run.namespace, &run.name))
        .set(0);
    run.event(
        EventType::Normal,
        "RotationSucceeded",
        format!(
            "rotation {} completed: access key {} replaced {}",
            rotation.id,
            new_key.unwrap_or_default(),
            old_key.unwrap_or_else(|| "(none)".into())
        ),
    );
    Ok(run.next_now())
}
