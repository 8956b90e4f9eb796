//! Dry run: what a due rotation would do, shown in status and an Event, with no write to
//! the cloud or to any Secret.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;

use super::cloud::key_view;
use super::context::{IDLE_RESYNC, ReconcileError};
use super::decision::{QuotaDecision, Trigger, quota_decision};
use super::run::Run;
use super::settings::Settings;
use super::steps::{consumer_list, held_keys, keys_of_other_resources};
use crate::api::conditions::{self, reasons};
use crate::api::rotation::{DryRunPlan, RotationTrigger};

/// Computes and shows the plan of a rotation with `trigger` that would start at `start`
/// (now, or when the maintenance window opens).
pub async fn dry_run(
    run: &mut Run<'_>,
    settings: &Settings,
    trigger: &Trigger,
    start: jiff::Timestamp,
) -> Result<Action, ReconcileError> {
    let current = run.status.current_access_key_id.clone();
    let mut blockers = Vec::new();
    // A spare key the quota policy would delete first, as the real quota check judges it.
    let mut spare_deletion = None;
    if let (Some(user_id), Some(client)) = (run.user_id(), run.acting_client(settings).await?) {
        match client.list_access_keys(Some(&user_id)).await {
            Ok(keys) => {
                let views: Vec<_> = keys.iter().map(key_view).collect();
                let mut referenced = held_keys(run, settings).await?;
                referenced.extend(keys_of_other_resources(run));
                match quota_decision(&views, current.as_deref(), settings.quota_policy, &referenced) {
                    QuotaDecision::Proceed => {}
                    QuotaDecision::DeleteFirst(spare) => spare_deletion = Some(spare),
                    QuotaDecision::Blocked(message) => blockers.push(message),
                }
            }
            Err(error) => blockers.push(format!("listing the user's keys failed: {error}")),
        }
    }
    let workloads = consumer_list(run, settings)
        .await?
        .into_iter()
        .map(|(workload, restart, _, _)| {
            if restart {
                format!("{workload} (restart)")
            } else {
                format!("{workload} (no restart)")
            }
        })
        .collect();

    let plan = DryRunPlan {
        compute_time: Time(run.now),
        trigger: match trigger {
            Trigger::Schedule => RotationTrigger::Schedule,
            Trigger::Request(_) => RotationTrigger::Request,
            Trigger::Emergency(_) => RotationTrigger::Emergency,
        },
        start_time: Some(Time(start)),
        create_key: true,
        disable_access_key_ids: current.iter().cloned().collect(),
        delete_access_key_ids: spare_deletion
            .clone()
            .into_iter()
            .chain(current.iter().cloned().filter(|_| settings.delete_old_key))
            .collect(),
        secrets: settings.targets.iter().map(|t| t.secret_name.clone()).collect(),
        workloads,
        blockers,
    };

    let unchanged = run.status.dry_run_plan.as_ref().is_some_and(|old| {
        DryRunPlan { compute_time: old.compute_time.clone(), start_time: old.start_time.clone(), ..plan.clone() } == *old
    });
    if let Trigger::Request(_) = trigger {
        run.status.observed_rotation_request = run.object.spec.schedule.rotation_request.clone();
    }
    if !unchanged {
        let summary = format!(
            "dry run: would {}create a new key, write Secret {}, restart {}, then disable{} access key {}{}",
            spare_deletion
                .map(|spare| format!("delete inactive access key {spare} to make room, "))
                .unwrap_or_default(),
            plan.secrets.join(", "),
            if plan.workloads.is_empty() { "nothing".to_string() } else { plan.workloads.join(", ") },
            if settings.delete_old_key { " and delete" } else { "" },
            current.clone().unwrap_or_else(|| "(none)".into()),
            if plan.blockers.is_empty() { String::new() } else { format!("; blocked: {}", plan.blockers.join("; ")) }
        );
        run.status.dry_run_plan = Some(plan);
        run.condition(conditions::ROTATING, false, reasons::DRY_RUN, &summary);
        run.event(EventType::Normal, reasons::DRY_RUN, summary);
    }
    Ok(Action::requeue(IDLE_RESYNC))
}
