//! Validation of an `AccessKeyRotation` spec.

use std::collections::{BTreeMap, BTreeSet};

use super::provider::{UrlUse, check_credentials_ref, check_endpoints, check_region, check_url};
use super::{FieldError, FieldReason, check_data_key, check_object_name, quote};
use crate::api::rotation::{
    AccessKeyRotationSpec, HttpCheck, MAX_HTTP_CHECKS, MAX_TARGETS, MAX_WORKLOAD_REFS,
    RestartMethod, RetirementSpec, SecretFormat, SecretTarget, VerificationSpec, WorkloadsSpec,
};
use crate::api::template;
use crate::schedule::{RotationSchedule, parse_duration, parse_positive_duration};

/// Checks an `AccessKeyRotation` spec and returns every problem found, in field order. An
/// empty list means the spec is valid.
pub fn validate_rotation(spec: &AccessKeyRotationSpec) -> Vec<FieldError> {
    let mut errors = Vec::new();

    errors.extend(check_region("spec.provider.region", &spec.provider.region));
    if let Some(endpoints) = &spec.provider.endpoints {
        check_endpoints("spec.provider.endpoints", endpoints, &mut errors);
    }
    if let Some(credentials) = &spec.provider.credentials_secret_ref {
        check_credentials_ref("spec.provider.credentialsSecretRef", credentials, &mut errors);
        if let Some(index) = spec.targets.iter().position(|target| target.name == credentials.name) {
            errors.push(FieldError::new(
                "spec.provider.credentialsSecretRef.name",
                FieldReason::DuplicateTarget,
                format!(
                    "the privileged credentials Secret {} is also spec.targets[{index}], so a \
                     rotation would overwrite it; keep the privileged key in its own Secret",
                    quote(&credentials.name)
                ),
            ));
        }
    }

    if let Some(user_id) = &spec.user_id {
        let valid = user_id.len() <= 64
            && user_id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && user_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            errors.push(FieldError::new(
                "spec.userId",
                FieldReason::InvalidUserId,
                format!(
                    "{} is not an IAM user ID; copy the user's ID (32 hexadecimal digits) from \
                     the IAM console, or remove the field to look up the owner of the current key",
                    quote(user_id)
                ),
            ));
        }
    }

    check_targets(&spec.targets, &mut errors);
    check_workloads(&spec.workloads, &mut errors);
    check_obs_restart(spec, &mut errors);
    check_verification(&spec.verification, &mut errors);
    check_retirement(&spec.retirement, &mut errors);

    if let Err(schedule_errors) = RotationSchedule::from_spec(&spec.schedule) {
        errors.extend(schedule_errors);
    }
    if let Some(request) = &spec.schedule.rotation_request
        && (request.len() > 253 || request.chars().any(char::is_control))
    {
        errors.push(FieldError::new(
            "spec.schedule.rotationRequest",
            FieldReason::InvalidRotationRequest,
            "the value is longer than 253 bytes or contains control characters; use a short \
             single-line value such as a date or a ticket ID",
        ));
    }

    errors
}

fn check_targets(targets: &[SecretTarget], errors: &mut Vec<FieldError>) {
    if targets.is_empty() {
        errors.push(FieldError::new(
            "spec.targets",
            FieldReason::MissingTarget,
            "no target Secret is listed; add at least one, such as \
             targets: [{name: app-huaweicloud-credentials}]",
        ));
        return;
    }
    if targets.len() > MAX_TARGETS {
        errors.push(FieldError::new(
            "spec.targets",
            FieldReason::TooManyItems,
            format!(
                "{} targets are listed, more than {MAX_TARGETS}; split the Secrets across \
                 several AccessKeyRotation resources, one per IAM user",
                targets.len()
            ),
        ));
    }

    let mut first_index_by_name: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, target) in targets.iter().enumerate() {
        let field = format!("spec.targets[{index}]");
        errors.extend(check_object_name(&format!("{field}.name"), "Secret", &target.name));
        if let Some(first) = first_index_by_name.get(target.name.as_str()) {
            errors.push(FieldError::new(
                format!("{field}.name"),
                FieldReason::DuplicateTarget,
                format!(
                    "Secret {} is already spec.targets[{first}]; list each Secret once",
                    quote(&target.name)
                ),
            ));
        } else {
            first_index_by_name.insert(&target.name, index);
        }

        check_target_keys(&field, target, errors);
    }
}

fn check_target_keys(field: &str, target: &SecretTarget, errors: &mut Vec<FieldError>) {
    if let Some(key) = &target.access_key_id_key {
        errors.extend(check_data_key(&format!("{field}.accessKeyIdKey"), key));
    }
    if let Some(key) = &target.secret_access_key_key {
        errors.extend(check_data_key(&format!("{field}.secretAccessKeyKey"), key));
    }
    if target.access_key_id_key() == target.secret_access_key_key() {
        errors.push(FieldError::new(
            format!("{field}.secretAccessKeyKey"),
            FieldReason::DuplicateDataKey,
            format!(
                "the access key ID and the secret access key would both go to data key {}; \
                 give them different keys",
                quote(target.access_key_id_key())
            ),
        ));
    }

    let mut used: BTreeSet<&str> = [target.access_key_id_key(), target.secret_access_key_key()]
        .into_iter()
        .collect();
    for (index, extra) in target.extra_keys.iter().enumerate() {
        let extra_field = format!("{field}.extraKeys[{index}]");
        errors.extend(check_data_key(&format!("{extra_field}.key"), &extra.key));
        if !used.insert(&extra.key) {
            errors.push(FieldError::new(
                format!("{extra_field}.key"),
                FieldReason::DuplicateDataKey,
                format!(
                    "data key {} is already written by this target; give each rendered key its \
                     own name",
                    quote(&extra.key)
                ),
            ));
        }
        if let Err(error) = template::check(&extra.template) {
            errors.push(FieldError::new(
                format!("{extra_field}.template"),
                FieldReason::InvalidTemplate,
                format!("the template is invalid: {error}"),
            ));
        }
    }
}

fn check_workloads(workloads: &WorkloadsSpec, errors: &mut Vec<FieldError>) {
    if workloads.refs.len() > MAX_WORKLOAD_REFS {
        errors.push(FieldError::new(
            "spec.workloads.refs",
            FieldReason::TooManyItems,
            format!(
                "{} workloads are listed, more than {MAX_WORKLOAD_REFS}; rely on discovery \
                 (spec.workloads.discover: true) for the rest",
                workloads.refs.len()
            ),
        ));
    }

    let mut seen = BTreeSet::new();
    for (index, reference) in workloads.refs.iter().enumerate() {
        let field = format!("spec.workloads.refs[{index}]");
        errors.extend(check_object_name(
            &format!("{field}.name"),
            reference.kind.as_str(),
            &reference.name,
        ));
        if !seen.insert((reference.kind, reference.name.as_str())) {
            errors.push(FieldError::new(
                field,
                FieldReason::DuplicateWorkloadRef,
                format!(
                    "{}/{} is listed twice; list each workload once",
                    reference.kind.as_str(),
                    reference.name
                ),
            ));
        }
    }
}

/// Rejects `restartMethod: none` when a target is an Everest OBS Secret. An OBS volume reads
/// its key only when it is mounted, so pods that mount one keep using the old key until
/// they restart, and disabling the old key would break them.
fn check_obs_restart(spec: &AccessKeyRotationSpec, errors: &mut Vec<FieldError>) {
    if spec.workloads.restart_method != RestartMethod::None {
        return;
    }
    let Some(index) = spec
        .targets
        .iter()
        .position(|target| target.format == SecretFormat::EverestObs)
    else {
        return;
    };
    errors.push(FieldError::new(
        "spec.workloads.restartMethod",
        FieldReason::InvalidRestartMethod,
        format!(
            "spec.targets[{index}] is an Everest OBS Secret. OBS volumes read their key only \
             when they are mounted, so their pods must restart before the old key is disabled. \
             Set restartMethod to annotation, and set restartMethod: none only on single \
             workloads in spec.workloads.refs"
        ),
    ));
}

fn check_verification(verification: &VerificationSpec, errors: &mut Vec<FieldError>) {
    if let Err(error) = parse_positive_duration(
        "spec.verification.rolloutTimeout",
        verification.rollout_timeout.as_str(),
    ) {
        errors.push(error);
    }
    if let Err(error) = parse_positive_duration(
        "spec.verification.newKeyUseTimeout",
        verification.new_key_use_timeout.as_str(),
    ) {
        errors.push(error);
    }

    if verification.http_checks.len() > MAX_HTTP_CHECKS {
        errors.push(FieldError::new(
            "spec.verification.httpChecks",
            FieldReason::TooManyItems,
            format!(
                "{} checks are listed, more than {MAX_HTTP_CHECKS}; check a shared health \
                 endpoint instead",
                verification.http_checks.len()
            ),
        ));
    }
    for (index, check) in verification.http_checks.iter().enumerate() {
        check_http_check(&format!("spec.verification.httpChecks[{index}]"), check, errors);
    }
}

fn check_http_check(field: &str, check: &HttpCheck, errors: &mut Vec<FieldError>) {
    if let Err(why) = check_url(&check.url, UrlUse::Request) {
        errors.push(FieldError::new(
            format!("{field}.url"),
            FieldReason::InvalidHttpCheck,
            format!(
                "{} is not a usable URL ({why}); give an http or https URL such as \
                 http://app.default.svc.cluster.local:8080/healthz",
                quote(&check.url)
            ),
        ));
    }
    if !(100..=599).contains(&check.expected_status) {
        errors.push(FieldError::new(
            format!("{field}.expectedStatus"),
            FieldReason::InvalidHttpCheck,
            format!(
                "{} is not an HTTP status code; give a value from 100 to 599, such as 200",
                check.expected_status
            ),
        ));
    }
    if let Err(error) = parse_positive_duration(&format!("{field}.timeout"), check.timeout.as_str()) {
        errors.push(error);
    }
}

fn check_retirement(retirement: &RetirementSpec, errors: &mut Vec<FieldError>) {
    if let Err(error) = parse_duration("spec.retirement.idleWindow", retirement.idle_window.as_str()) {
        errors.push(error);
    }
    if let Err(error) = parse_duration(
        "spec.retirement.disabledSoak",
        retirement.disabled_soak.as_str(),
    ) {
        errors.push(error);
    }
}
