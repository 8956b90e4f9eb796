//! Entry of an AccessKeyRotation reconcile: validation, conflicts, adoption, triggers and
//! the dry-run plan. An in-flight rotation is handed to [`super::steps`].

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use akguard_hwcloud::ErrorKind;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::ListParams;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};

use super::context::{Context, IDLE_RESYNC, ReconcileError};
use super::decision::{Trigger, TriggerDecision, TriggerInput, decide_trigger, namespace_has_room};
use super::marker::new_rotation_id;
use super::plan;
use super::run::{Run, cap_wait};
use super::secrets::{TargetState, find_staged, read_backup, read_key_pair, read_target};
use super::settings::{ScheduleState, Settings};
use super::steps;
use crate::api::conditions::{self, reasons};
use crate::api::leak::{LeakIncident, ResponseMode};
use crate::api::rotation::{
    AccessKeyRotation, AccessKeyRotationSpec, InFlightRotation, RotationPhase, RotationStep,
    RotationTrigger,
};
use crate::runtime::metrics::{Metrics, ResultLabels};
use crate::validation::condition_summary;

/// Reconciles one AccessKeyRotation and writes its status.
pub async fn reconcile(object: Arc<AccessKeyRotation>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    if object.metadata.deletion_timestamp.is_some() {
        // Owned staging and backup Secrets go with the resource through garbage collection.
        return Ok(Action::await_change());
    }
    let mut run = Run::new(&ctx, object);
    let outcome = drive(&mut run).await;
    if let Err(error) = &outcome {
        ctx.metrics
            .reconcile_errors
            .get_or_create(&ResultLabels {
                result: error.kind().to_string(),
            })
            .inc();
    }
    run.flush().await?;
    outcome
}

/// Logs a failed reconcile (the same error at most once a minute, with the count of
/// repeats) and retries it after a pause.
pub fn error_policy(object: Arc<AccessKeyRotation>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    let key = format!("{namespace}/{name}: {error}");
    if let Some(repeats) = ctx.error_log.admit(&key, std::time::Instant::now()) {
        tracing::warn!(
            %namespace,
            %name,
            access_key_id = %object.status.as_ref().and_then(|s| s.current_access_key_id.clone()).unwrap_or_default(),
            %error,
            repeats,
            "reconcile failed; retrying"
        );
    }
    Action::requeue(ctx.step_poll.max(Duration::from_millis(200)))
}

async fn drive(run: &mut Run<'_>) -> Result<Action, ReconcileError> {
    let spec = run.object.spec.clone();
    let settings = match Settings::from_spec(&spec) {
        Ok(settings) => settings,
        Err(errors) => return Ok(invalid_spec(run, &errors)),
    };
    if let Some(message) = find_conflict(run, &spec) {
        run.phase(RotationPhase::Failed);
        run.condition(conditions::READY, false, reasons::CONFLICT, &message);
        run.condition(conditions::DEGRADED, true, reasons::CONFLICT, &message);
        if !conditions::is_true(
            run.object.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or(&[]),
            conditions::DEGRADED,
        ) {
            run.event(EventType::Warning, reasons::CONFLICT, message);
        }
        return Ok(Action::requeue(Duration::from_secs(60)));
    }
    run.status.observed_generation = run.object.metadata.generation;

    if run.status.rotation.is_none() {
        recover_in_flight(run, &settings).await?;
    }
    if run.status.rotation.is_some() {
        return steps::advance(run, &settings).await;
    }
    idle(run, &spec, &settings).await
}

fn invalid_spec(run: &mut Run<'_>, errors: &[crate::validation::FieldError]) -> Action {
    let (reason, message) = condition_summary(errors)
        .unwrap_or(("InvalidSpec", "the spec is invalid".to_string()));
    let changed = run
        .status
        .conditions
        .iter()
        .all(|condition| condition.type_ != conditions::DEGRADED || condition.message != message);
    run.phase(RotationPhase::Failed);
    run.condition(conditions::READY, false, reason, &message);
    run.condition(conditions::DEGRADED, true, reason, &message);
    if changed {
        run.event(EventType::Warning, "InvalidSpec", message);
    }
    Action::await_change()
}

/// Another resource that manages the same IAM user or a target Secret of this one.
fn find_conflict(run: &Run<'_>, spec: &AccessKeyRotationSpec) -> Option<String> {
    let my_targets: BTreeSet<&str> = spec.targets.iter().map(|t| t.name.as_str()).collect();
    let my_user = run.user_id();
    for other in run.ctx.rotations.state() {
        if other.uid() == Some(run.uid.clone()) {
            continue;
        }
        let same_namespace = other.namespace().as_deref() == Some(run.namespace.as_str());
        let shared: Vec<&str> = other
            .spec
            .targets
            .iter()
            .map(|t| t.name.as_str())
            .filter(|name| same_namespace && my_targets.contains(name))
            .collect();
        if !shared.is_empty() {
            return Some(format!(
                "AccessKeyRotation {}/{} also manages Secret {}; two resources must not write the same Secret, so neither acts until one of them drops it from spec.targets",
                other.namespace().unwrap_or_default(),
                other.name_any(),
                shared.join(", ")
            ));
        }
        let other_user = other
            .status
            .as_ref()
            .and_then(|status| status.user_id.clone())
            .or_else(|| other.spec.user_id.clone());
        if my_user.is_some() && my_user == other_user {
            return Some(format!(
                "AccessKeyRotation {}/{} manages the same IAM user {}; an IAM user holds at most two keys, so neither acts until one resource is removed",
                other.namespace().unwrap_or_default(),
                other.name_any(),
                my_user.unwrap_or_default()
            ));
        }
    }
    None
}

/// Returns whether two resources share a target Secret or the IAM user, which
/// [`find_conflict`] reports as a conflict.
pub fn overlaps(a: &AccessKeyRotation, b: &AccessKeyRotation) -> bool {
    let user = |object: &AccessKeyRotation| {
        object
            .status
            .as_ref()
            .and_then(|status| status.user_id.clone())
            .or_else(|| object.spec.user_id.clone())
    };
    let same_secret = a.namespace() == b.namespace()
        && a.spec.targets.iter().any(|t| b.spec.targets.iter().any(|u| u.name == t.name));
    let same_user = user(a).is_some() && user(a) == user(b);
    same_secret || same_user
}

/// Rebuilds a lost in-flight rotation from what the cluster shows: a staging Secret of
/// this resource means a rotation was under way.
async fn recover_in_flight(run: &mut Run<'_>, settings: &Settings) -> Result<(), ReconcileError> {
    let Some(staged) = find_staged(&run.secrets, &run.uid).await?.pop() else {
        return Ok(());
    };

    let primary = read_target(&run.secrets, settings.primary()).await?;
    let switched = primary
        == TargetState::Holds {
            access_key_id: staged.access_key_id.clone(),
        };
    if run.status.current_access_key_id.as_deref() == Some(staged.access_key_id.as_str()) {
        // The rotation finished but its clean-up did not: the staged key is current.
        super::secrets::delete_owned(&run.secrets, &run.uid, &staged.rotation_id).await?;
        return Ok(());
    }
    if run.status.current_access_key_id.is_none() {
        // The old key's ID is the primary target's value before the switch, kept in the backup.
        let backup = read_backup(&run.secrets, &run.uid, &staged.rotation_id).await?;
        let old = backup.and_then(|backup| {
            backup
                .targets
                .get(&settings.primary().secret_name)
                .and_then(|values| values.get(&settings.primary().access_key_id_key).cloned().flatten())
                .map(|value| String::from_utf8_lossy(&value.0).trim().to_string())
        });
        run.status.current_access_key_id = old;
    }

    let step = if switched {
        RotationStep::RestartingWorkloads
    } else {
        RotationStep::BackingUpSecrets
    };
    run.status.pending_access_key_id = Some(staged.access_key_id.clone());
    run.status.rotation = Some(InFlightRotation {
        id: staged.rotation_id.clone(),
        trigger: RotationTrigger::Request,
        leak_incident: None,
        step,
        start_time: Time(run.now),
        step_start_time: Time(run.now),
        attempt: 1,
        switch_time: switched.then_some(Time(run.now)),
        disable_time: None,
    });
    run.phase(RotationPhase::Rotating);
    run.event(
        EventType::Warning,
        "RotationResumed",
        format!(
            "found staged access key {} of rotation {} without an in-flight record in status; resuming at {step:?}",
            staged.access_key_id, staged.rotation_id
        ),
    );
    Ok(())
}

/// No rotation in flight: adopt or bootstrap the key, then decide whether one starts.
async fn idle(run: &mut Run<'_>, spec: &AccessKeyRotationSpec, settings: &Settings) -> Result<Action, ReconcileError> {
    let primary = settings.primary().clone();
    let pair = read_key_pair(
        &run.secrets,
        &primary.secret_name,
        &primary.access_key_id_key,
        &primary.secret_access_key_key,
    )
    .await?;

    let Some((access_key_id, _)) = pair else {
        let state = read_target(&run.secrets, &primary).await?;
        if spec.user_id.is_some() && spec.provider.credentials_secret_ref.is_some() {
            if let Err(action) = check_bootstrap_user(run, settings).await? {
                return Ok(action);
            }
            start(run, Trigger::Request("bootstrap".into()), RotationTrigger::Bootstrap, None);
            return Ok(run.next_now());
        }
        let (reason, message) = match state {
            TargetState::Missing => (
                reasons::SECRET_NOT_FOUND,
                format!(
                    "target Secret {} (spec.targets[0].name) does not exist; create it with the current key, or set spec.userId and spec.provider.credentialsSecretRef to create the first key",
                    primary.secret_name
                ),
            ),
            _ => (
                reasons::DATA_KEY_MISSING,
                format!(
                    "target Secret {} (spec.targets[0]) lacks data key {} or {}; put the current access key ID and secret access key there, name the data keys it uses in spec.targets[0].accessKeyIdKey and secretAccessKeyKey, or set spec.userId and spec.provider.credentialsSecretRef to create the first key",
                    primary.secret_name, primary.access_key_id_key, primary.secret_access_key_key
                ),
            ),
        };
        report_blocked(run, reason, message);
        return Ok(Action::requeue(Duration::from_secs(60)));
    };

    if run.status.current_access_key_id.as_deref() != Some(access_key_id.as_str()) {
        if let Err(action) = adopt(run, spec, settings, &access_key_id).await? {
            return Ok(action);
        }
    }

    let since = run
        .status
        .last_rotation_time
        .clone()
        .or_else(|| run.status.key_creation_time.clone())
        .map(|time| time.0)
        .unwrap_or(run.now);
    let schedule = match ScheduleState::compute(&spec.schedule, since, run.now) {
        Ok(schedule) => schedule,
        Err(errors) => return Ok(invalid_spec(run, &errors)),
    };
    let emergency = open_incident(run).await?;
    let exhausted = run.status.conditions.iter().any(|condition| {
        condition.type_ == conditions::DEGRADED
            && condition.status == "True"
            && condition.reason == reasons::RETRIES_EXHAUSTED
    });
    let decision = decide_trigger(&TriggerInput {
        now: run.now,
        suspended: spec.schedule.suspend,
        scheduled_due: if exhausted { None } else { schedule.due },
        window: schedule.window,
        rotation_request: spec.schedule.rotation_request.as_deref(),
        handled_request: run.status.observed_rotation_request.as_deref(),
        emergency: emergency.as_deref(),
    });
    update_schedule_metrics(run, schedule.due);

    match decision {
        TriggerDecision::Rotate(trigger) => {
            if spec.schedule.dry_run {
                let now = run.now;
                return plan::dry_run(run, settings, &trigger, now).await;
            }
            let in_flight = in_flight_in_namespace(run);
            if !namespace_has_room(in_flight, run.ctx.max_in_flight_per_namespace, &trigger) {
                run.condition(
                    conditions::ROTATING,
                    false,
                    "WaitingForSlot",
                    format!(
                        "a {} rotation is due but {in_flight} rotations are in flight in namespace {} (--max-concurrent-rotations-per-namespace); it starts when one finishes",
                        trigger.label(),
                        run.namespace
                    ),
                );
                return Ok(run.poll());
            }
            let kind = match trigger {
                Trigger::Schedule => RotationTrigger::Schedule,
                Trigger::Request(_) => RotationTrigger::Request,
                Trigger::Emergency(_) => RotationTrigger::Emergency,
            };
            start(run, trigger, kind, emergency);
            Ok(run.next_now())
        }
        TriggerDecision::Idle { until } => {
            run.status.next_rotation_time = until.map(Time);
            let message = match until {
                Some(next) => format!("no rotation in flight; the next scheduled rotation is due at {next}"),
                None => "no rotation in flight and no schedule; change spec.schedule.rotationRequest to rotate".to_string(),
            };
            run.condition(conditions::ROTATING, false, "Idle", message);
            let ready = mark_ready(run, settings).await?;
            // Until the consumers are healthy, look again soon: nothing else wakes this
            // resource when a workload's rollout moves.
            let resync = if ready { IDLE_RESYNC } else { run.ctx.step_poll };
            let wait = until
                .map(|until| cap_wait(until.duration_since(run.now), resync))
                .unwrap_or(resync);
            Ok(Action::requeue(wait))
        }
        TriggerDecision::HeldByWindow { opens } => {
            run.status.next_rotation_time = Some(Time(opens));
            if spec.schedule.dry_run {
                return plan::dry_run(run, settings, &Trigger::Schedule, opens).await;
            }
            run.condition(
                conditions::ROTATING,
                false,
                reasons::WAITING_FOR_MAINTENANCE_WINDOW,
                format!("a scheduled rotation is due; it starts when the maintenance window opens at {opens}"),
            );
            let ready = mark_ready(run, settings).await?;
            let resync = if ready { IDLE_RESYNC } else { run.ctx.step_poll };
            Ok(Action::requeue(cap_wait(opens.duration_since(run.now), resync)))
        }
        TriggerDecision::Suspended { trigger } => {
            run.phase(RotationPhase::Suspended);
            run.condition(
                conditions::ROTATING,
                false,
                reasons::SUSPENDED,
                format!(
                    "a {} rotation is due but spec.schedule.suspend is true; set it to false to let it start",
                    trigger.label()
                ),
            );
            Ok(Action::requeue(IDLE_RESYNC))
        }
    }
}

fn report_blocked(run: &mut Run<'_>, reason: &str, message: String) {
    let already = run.status.conditions.iter().any(|condition| {
        condition.type_ == conditions::READY && condition.reason == reason && condition.message == message
    });
    run.phase(RotationPhase::Pending);
    run.condition(conditions::READY, false, reason, &message);
    if !already {
        let reason: &'static str = match reason {
            reasons::SECRET_NOT_FOUND => reasons::SECRET_NOT_FOUND,
            reasons::DATA_KEY_MISSING => reasons::DATA_KEY_MISSING,
            reasons::USER_NOT_FOUND => reasons::USER_NOT_FOUND,
            reasons::PERMISSION_DENIED => reasons::PERMISSION_DENIED,
            _ => "Blocked",
        };
        run.event(EventType::Warning, reason, message);
    }
}

/// Records the key found in the primary target as the current key, after looking up its
/// owner and creation time.
async fn adopt(
    run: &mut Run<'_>,
    spec: &AccessKeyRotationSpec,
    settings: &Settings,
    access_key_id: &str,
) -> Result<Result<(), Action>, ReconcileError> {
    let client = match run.require_acting_client(settings).await? {
        Ok(client) => client,
        Err(action) => return Ok(Err(action)),
    };
    let key = match client.show_access_key(access_key_id).await {
        Ok(key) => key,
        Err(error) => {
            let (reason, message) = describe_cloud_error(&error, access_key_id);
            report_blocked(run, reason, message);
            return Ok(Err(Action::requeue(Duration::from_secs(300))));
        }
    };
    // IAM is global, so only a project lookup shows that the account has no project in
    // the region, before anything else needs one.
    if let Err(error) = client.project_id(&spec.provider.region).await {
        let (reason, message) = describe_cloud_error(&error, access_key_id);
        report_blocked(run, reason, message);
        return Ok(Err(Action::requeue(Duration::from_secs(300))));
    }
    if let Some(user_id) = &spec.user_id
        && user_id != &key.user_id
    {
        report_blocked(
            run,
            reasons::USER_NOT_FOUND,
            format!(
                "access key {access_key_id} in Secret {} belongs to IAM user {}, not to spec.userId {user_id}; fix spec.userId or the Secret",
                settings.primary().secret_name,
                key.user_id
            ),
        );
        return Ok(Err(Action::requeue(Duration::from_secs(300))));
    }

    let first_sight = run.status.current_access_key_id.is_none();
    run.status.current_access_key_id = Some(access_key_id.to_string());
    run.status.user_id = Some(key.user_id.clone());
    run.status.key_creation_time = Some(Time(key.create_time));
    if first_sight && run.status.observed_rotation_request.is_none() {
        // A request already in the manifest at adoption is history, not a new request.
        run.status.observed_rotation_request = spec.schedule.rotation_request.clone();
    }
    run.event(
        EventType::Normal,
        "KeyAdopted",
        format!(
            "managing access key {access_key_id} of IAM user {} found in Secret {}",
            key.user_id,
            settings.primary().secret_name
        ),
    );
    Ok(Ok(()))
}

/// Checks that the IAM user of a bootstrap exists and the acting identity may list its
/// keys, before a rotation creates its first key.
async fn check_bootstrap_user(run: &mut Run<'_>, settings: &Settings) -> Result<Result<(), Action>, ReconcileError> {
    let client = match run.require_acting_client(settings).await? {
        Ok(client) => client,
        Err(action) => return Ok(Err(action)),
    };
    let user_id = run.object.spec.user_id.clone().unwrap_or_default();
    let Err(error) = client.list_access_keys(Some(&user_id)).await else {
        return Ok(Ok(()));
    };
    let (reason, message) = match error.kind() {
        ErrorKind::NotFound => (
            reasons::USER_NOT_FOUND,
            format!("IAM user {user_id} (spec.userId) was not found: {error}; fix spec.userId"),
        ),
        _ => describe_cloud_error(&error, &user_id),
    };
    report_blocked(run, reason, message);
    Ok(Err(Action::requeue(Duration::from_secs(300))))
}

/// Condition reason and message for a failed cloud call about `access_key_id`.
pub fn describe_cloud_error(error: &akguard_hwcloud::Error, access_key_id: &str) -> (&'static str, String) {
    match error.kind() {
        ErrorKind::NotFound => (
            reasons::USER_NOT_FOUND,
            format!("IAM does not know access key {access_key_id}: {error}; put a valid key in the primary target Secret (spec.targets[0])"),
        ),
        ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::KeyInactive | ErrorKind::UserDisabled => (
            reasons::PERMISSION_DENIED,
            format!(
                "Huawei Cloud rejected the acting credentials: {error}; check the key in spec.provider.credentialsSecretRef (or the primary target) and its IAM permissions"
            ),
        ),
        ErrorKind::WrongRegion | ErrorKind::Config => (
            "InvalidProvider",
            format!("{error}; fix spec.provider.region or spec.provider.endpoints"),
        ),
        _ => ("CloudUnavailable", format!("Huawei Cloud call failed: {error}; will retry")),
    }
}

/// Returns the name of an open LeakIncident in this namespace that names the current key and
/// allows an automatic rotation.
async fn open_incident(run: &Run<'_>) -> Result<Option<String>, ReconcileError> {
    let Some(current) = run.status.current_access_key_id.clone() else {
        return Ok(None);
    };
    let api: Api<LeakIncident> = Api::namespaced(run.ctx.client.clone(), &run.namespace);
    let incidents = match api.list(&ListParams::default()).await {
        Ok(list) => list.items,
        // Without the LeakIncident CRD installed there is no incident to react to.
        Err(kube::Error::Api(status)) if status.code == 404 => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    Ok(incidents
        .into_iter()
        .filter(|incident| incident.spec.access_key_id == current)
        .filter(|incident| incident.spec.mode == ResponseMode::Automatic || incident.spec.approved)
        .filter(|incident| {
            !incident
                .status
                .as_ref()
                .is_some_and(|status| conditions::is_true(&status.conditions, conditions::RESOLVED))
        })
        .map(|incident| incident.name_any())
        .min())
}

fn start(run: &mut Run<'_>, trigger: Trigger, kind: RotationTrigger, incident: Option<String>) {
    let id = new_rotation_id(run.now);
    if let Trigger::Request(_) = &trigger {
        run.status.observed_rotation_request = run.object.spec.schedule.rotation_request.clone();
    }
    run.status.rotation = Some(InFlightRotation {
        id: id.clone(),
        trigger: kind,
        leak_incident: if kind == RotationTrigger::Emergency { incident } else { None },
        step: RotationStep::CheckingQuota,
        start_time: Time(run.now),
        step_start_time: Time(run.now),
        attempt: 1,
        switch_time: None,
        disable_time: None,
    });
    run.status.dry_run_plan = None;
    run.phase(RotationPhase::Rotating);
    // Ready means a settled key: while a rotation moves keys and pods it is false.
    run.condition(
        conditions::READY,
        false,
        reasons::ROTATION_IN_PROGRESS,
        format!("rotation {id} is in progress; Ready returns when the new key is current and every consumer is healthy"),
    );
    run.condition(
        conditions::ROTATING,
        true,
        reasons::ROTATION_IN_PROGRESS,
        format!("rotation {id} started ({})", trigger.label()),
    );
    run.event(
        EventType::Normal,
        "RotationStarted",
        format!(
            "rotation {id} of access key {} started: {}",
            run.status.current_access_key_id.clone().unwrap_or_else(|| "(none)".into()),
            trigger.label()
        ),
    );
}

/// Sets `Ready` from the targets and the consumers' health: reads only. Returns whether
/// the resource is ready.
async fn mark_ready(run: &mut Run<'_>, settings: &Settings) -> Result<bool, ReconcileError> {
    let current = run.status.current_access_key_id.clone().unwrap_or_default();
    let mut out_of_sync = Vec::new();
    for target in &settings.targets {
        let state = read_target(&run.secrets, target).await?;
        if state != (TargetState::Holds { access_key_id: current.clone() }) {
            out_of_sync.push(target.secret_name.clone());
        }
    }
    let consumers = steps::consumer_health(run, settings, None, false).await?;
    let unhealthy: Vec<String> = consumers
        .iter()
        .filter(|consumer| !consumer.rollout.is_complete())
        .map(|consumer| consumer.name.clone())
        .collect();
    steps::record_consumers(run, settings, &consumers).await?;

    if !out_of_sync.is_empty() {
        run.phase(RotationPhase::Pending);
        run.condition(
            conditions::READY,
            false,
            "TargetsOutOfSync",
            format!(
                "Secret {} does not hold the current access key {current}; copy the key there or request a rotation, which writes every target",
                out_of_sync.join(", ")
            ),
        );
    } else if !unhealthy.is_empty() {
        run.phase(RotationPhase::Pending);
        run.condition(
            conditions::READY,
            false,
            reasons::CONSUMERS_NOT_READY,
            format!("consumers not healthy: {}", unhealthy.join(", ")),
        );
    } else {
        if run.status.phase != Some(RotationPhase::Degraded) && run.status.phase != Some(RotationPhase::Failed) {
            run.phase(RotationPhase::Ready);
        }
        // A problem found earlier (a missing Secret, a refused call) is gone once the key is
        // adopted and healthy. Exhausted retries stay until a new rotationRequest.
        let stale = run.status.conditions.iter().any(|c| {
            c.type_ == conditions::DEGRADED && c.status == "True" && c.reason != reasons::RETRIES_EXHAUSTED
        });
        if stale {
            run.condition(conditions::DEGRADED, false, reasons::ROTATION_SUCCEEDED, "no problem found");
            if run.status.phase == Some(RotationPhase::Failed) || run.status.phase == Some(RotationPhase::Degraded) {
                run.phase(RotationPhase::Ready);
            }
        }
        run.condition(
            conditions::READY,
            true,
            reasons::ROTATION_SUCCEEDED,
            format!("access key {current} is in every target Secret and every consumer is healthy"),
        );
    }
    Ok(out_of_sync.is_empty() && unhealthy.is_empty())
}

/// Rotations of other resources in this namespace that are in flight.
fn in_flight_in_namespace(run: &Run<'_>) -> usize {
    run.ctx
        .rotations
        .state()
        .iter()
        .filter(|other| other.uid() != Some(run.uid.clone()))
        .filter(|other| other.namespace().as_deref() == Some(run.namespace.as_str()))
        .filter(|other| other.status.as_ref().is_some_and(|status| status.rotation.is_some()))
        .count()
}

fn update_schedule_metrics(run: &Run<'_>, due: Option<jiff::Timestamp>) {
    let labels = Metrics::resource(&run.namespace, &run.name);
    if let Some(due) = due {
        run.ctx
            .metrics
            .next_rotation
            .get_or_create(&labels)
            .set(due.as_millisecond() as f64 / 1000.0);
    }
    if let Some(created) = &run.status.key_creation_time {
        let age = run.now.duration_since(created.0).as_secs_f64().max(0.0);
        run.ctx.metrics.key_age.get_or_create(&labels).set(age);
    }
}
