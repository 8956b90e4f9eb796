//! A rotation's spec, validated and turned into the values the decisions use.

use jiff::{SignedDuration, Timestamp};

use super::decision::{QuotaPolicy, Window};
use super::secrets::TargetFormat;
use crate::api::rotation::{AccessKeyRotationSpec, KeyQuotaPolicy, RestartMethod};
use crate::schedule::parse_duration;
use crate::validation::{FieldError, validate_rotation};
use crate::workloads::consumers::{WorkloadKind, WorkloadRef};
use crate::workloads::http_check::HttpCheck;

/// Soak of an emergency rotation at most: the leaked key must not stay around for the
/// days a routine soak may last.
pub const EMERGENCY_SOAK_LIMIT: SignedDuration = SignedDuration::from_hours(1);

/// The spec in the form the reconciler uses.
#[derive(Debug, Clone)]
pub struct Settings {
    pub targets: Vec<TargetFormat>,
    pub explicit_consumers: Vec<(WorkloadRef, bool)>,
    pub discover: bool,
    /// Whether discovered consumers are restarted (restart method `annotation`).
    pub restart_discovered: bool,
    pub rollout_timeout: SignedDuration,
    pub http_checks: Vec<HttpCheck>,
    pub require_new_key_use: bool,
    pub new_key_use_timeout: SignedDuration,
    pub idle_window: SignedDuration,
    pub soak: SignedDuration,
    pub delete_old_key: bool,
    pub quota_policy: QuotaPolicy,
}

impl Settings {
    /// Validates the spec and converts it. Every problem is returned, each naming its field.
    pub fn from_spec(spec: &AccessKeyRotationSpec) -> Result<Self, Vec<FieldError>> {
        let errors = validate_rotation(spec);
        if !errors.is_empty() {
            return Err(errors);
        }
        let duration = |field: &str, value: &str| parse_duration(field, value).map_err(|error| vec![error]);

        let targets = spec
            .targets
            .iter()
            .map(|target| TargetFormat {
                secret_name: target.name.clone(),
                access_key_id_key: target
                    .access_key_id_key
                    .clone()
                    .unwrap_or_else(|| target.format.access_key_id_key().to_string()),
                secret_access_key_key: target
                    .secret_access_key_key
                    .clone()
                    .unwrap_or_else(|| target.format.secret_access_key_key().to_string()),
                rendered: target
                    .extra_keys
                    .iter()
                    .map(|rendered| (rendered.key.clone(), rendered.template.clone()))
                    .collect(),
            })
            .collect();

        let default_restart = spec.workloads.restart_method == RestartMethod::Annotation;
        let explicit_consumers = spec
            .workloads
            .refs
            .iter()
            .map(|reference| {
                let kind = match reference.kind {
                    crate::api::rotation::WorkloadKind::Deployment => WorkloadKind::Deployment,
                    crate::api::rotation::WorkloadKind::StatefulSet => WorkloadKind::StatefulSet,
                    crate::api::rotation::WorkloadKind::DaemonSet => WorkloadKind::DaemonSet,
                };
                let restart = reference
                    .restart_method
                    .map_or(default_restart, |method| method == RestartMethod::Annotation);
                (
                    WorkloadRef {
                        kind,
                        name: reference.name.clone(),
                    },
                    restart,
                )
            })
            .collect();

        let mut http_checks = Vec::new();
        for (index, check) in spec.verification.http_checks.iter().enumerate() {
            let field = format!("spec.verification.httpChecks[{index}].timeout");
            let timeout = duration(&field, check.timeout.as_str())?;
            http_checks.push(HttpCheck {
                name: check.name.clone().unwrap_or_else(|| check.url.clone()),
                url: check.url.clone(),
                expected_status: u16::try_from(check.expected_status).unwrap_or(200),
                timeout: timeout.unsigned_abs(),
            });
        }

        Ok(Self {
            targets,
            explicit_consumers,
            discover: spec.workloads.discover,
            restart_discovered: default_restart,
            rollout_timeout: duration("spec.verification.rolloutTimeout", spec.verification.rollout_timeout.as_str())?,
            http_checks,
            require_new_key_use: spec.verification.require_new_key_use,
            new_key_use_timeout: duration(
                "spec.verification.newKeyUseTimeout",
                spec.verification.new_key_use_timeout.as_str(),
            )?,
            idle_window: duration("spec.retirement.idleWindow", spec.retirement.idle_window.as_str())?,
            soak: duration("spec.retirement.disabledSoak", spec.retirement.disabled_soak.as_str())?,
            delete_old_key: spec.retirement.delete_old_key,
            quota_policy: match spec.retirement.on_key_quota_full {
                KeyQuotaPolicy::Wait => QuotaPolicy::Wait,
                KeyQuotaPolicy::DeleteInactiveUnreferenced => QuotaPolicy::DeleteInactiveUnreferenced,
            },
        })
    }

    pub fn primary(&self) -> &TargetFormat {
        &self.targets[0]
    }

    pub fn soak_for(&self, emergency: bool) -> SignedDuration {
        if emergency {
            self.soak.min(EMERGENCY_SOAK_LIMIT)
        } else {
            self.soak
        }
    }
}

/// When the schedule next comes due and whether the maintenance window is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleState {
    pub due: Option<Timestamp>,
    pub window: Window,
}

impl ScheduleState {
    /// Computes the schedule's state from the spec. `since` is the last rotation's
    /// completion, or the current key's creation before the first rotation.
    pub fn compute(
        spec: &crate::api::rotation::ScheduleSpec,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Self, Vec<FieldError>> {
        let schedule = crate::schedule::RotationSchedule::from_spec(spec)?;
        let window = match &schedule.window {
            None => Window::Unrestricted,
            Some(window) => match window.state(now) {
                crate::schedule::WindowState::Open { .. } => Window::Open,
                crate::schedule::WindowState::Closed { opens } => Window::Closed { opens },
            },
        };
        Ok(Self {
            due: schedule.next_due(since),
            window,
        })
    }
}
