//! Validation of a `LeakIncident` spec.

use std::collections::BTreeSet;

use jiff::SignedDuration;

use super::provider::{check_credentials_ref, check_endpoints, check_region};
use super::{FieldError, FieldReason, quote};
use crate::api::leak::{LeakIncidentSpec, MAX_AUDIT_WINDOW};
use crate::schedule::parse_positive_duration;

/// Checks a `LeakIncident` spec and returns every problem found, in field order. An empty
/// list means the spec is valid.
pub fn validate_leak(spec: &LeakIncidentSpec) -> Vec<FieldError> {
    let mut errors = Vec::new();

    errors.extend(check_access_key_id(&spec.access_key_id));

    errors.extend(check_region("spec.provider.region", &spec.provider.region));
    if let Some(endpoints) = &spec.provider.endpoints {
        check_endpoints("spec.provider.endpoints", endpoints, &mut errors);
    }
    check_credentials_ref(
        "spec.provider.credentialsSecretRef",
        &spec.provider.credentials_secret_ref,
        &mut errors,
    );

    for (index, evidence) in spec.evidence.iter().enumerate() {
        if evidence.description.trim().is_empty() {
            errors.push(FieldError::new(
                format!("spec.evidence[{index}].description"),
                FieldReason::InvalidEvidence,
                "the description is empty; say what the evidence is, such as \"commit that \
                 added the key\"",
            ));
        }
    }

    check_deny_policy(spec, &mut errors);
    check_audit_window(spec, &mut errors);
    check_cost_threshold(spec, &mut errors);

    errors
}

/// Checks the leaked access key ID. The message never repeats the value, because a person
/// in a hurry may paste the secret access key here by mistake.
fn check_access_key_id(value: &str) -> Option<FieldError> {
    let valid = (10..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if valid {
        return None;
    }

    let has_lower_case = value.bytes().any(|b| b.is_ascii_lowercase());
    let hint = if has_lower_case && value.len() >= 30 {
        " The value looks like a secret access key: remove it from this resource and from \
         the Git history, and give the access key ID (AK) instead."
    } else {
        ""
    };
    Some(FieldError::new(
        "spec.accessKeyId",
        FieldReason::InvalidAccessKeyId,
        format!(
            "the value is not an access key ID; give the AK (IAM issues 20 upper-case letters \
             and digits, such as P83EVBZJMXCYTMUII6IS), never the secret access key.{hint}"
        ),
    ))
}

fn check_deny_policy(spec: &LeakIncidentSpec, errors: &mut Vec<FieldError>) {
    let policy = &spec.deny_policy;
    if policy.groups.is_empty() && policy.extra_actions.is_empty() {
        errors.push(FieldError::new(
            "spec.denyPolicy",
            FieldReason::InvalidDenyPolicy,
            "the deny policy names no group and no action, so a key that cannot be rotated \
             would stay unrestricted; remove spec.denyPolicy to deny the four high-risk groups",
        ));
    }

    let mut groups = BTreeSet::new();
    for (index, group) in policy.groups.iter().enumerate() {
        if !groups.insert(group) {
            errors.push(FieldError::new(
                format!("spec.denyPolicy.groups[{index}]"),
                FieldReason::InvalidDenyPolicy,
                format!("{group:?} is listed twice; list each group once"),
            ));
        }
    }

    for (index, action) in policy.extra_actions.iter().enumerate() {
        if !is_action_name(action) {
            errors.push(FieldError::new(
                format!("spec.denyPolicy.extraActions[{index}]"),
                FieldReason::InvalidDenyPolicy,
                format!(
                    "{} is not an IAM action name; write service:resource:action, such as \
                     ecs:cloudServers:delete (at most 128 characters)",
                    quote(action)
                ),
            ));
        }
    }
}

/// Returns whether `action` has the form `service:resource:action` of an IAM fine-grained action, with
/// `*` allowed as a wildcard.
fn is_action_name(action: &str) -> bool {
    let parts: Vec<&str> = action.split(':').collect();
    action.len() <= 128
        && parts.len() == 3
        && parts.iter().all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'_'))
        })
}

fn check_audit_window(spec: &LeakIncidentSpec, errors: &mut Vec<FieldError>) {
    let field = "spec.auditWindow";
    let window = match parse_positive_duration(field, spec.audit_window.as_str()) {
        Ok(window) => window,
        Err(error) => {
            errors.push(error);
            return;
        }
    };
    if window > SignedDuration::from_hours(7 * 24) {
        errors.push(FieldError::new(
            field,
            FieldReason::InvalidAuditWindow,
            format!(
                "{} is longer than {MAX_AUDIT_WINDOW}, the time Cloud Trace Service keeps traces \
                 queryable; give {MAX_AUDIT_WINDOW} or less",
                quote(spec.audit_window.as_str())
            ),
        ));
    }
}

fn check_cost_threshold(spec: &LeakIncidentSpec, errors: &mut Vec<FieldError>) {
    let threshold = &spec.cost_threshold;
    if !(1..=100_000).contains(&threshold.increase_percent) {
        errors.push(FieldError::new(
            "spec.costThreshold.increasePercent",
            FieldReason::InvalidCostThreshold,
            format!(
                "{} is out of range; give a percentage from 1 to 100000, such as 50",
                threshold.increase_percent
            ),
        ));
    }

    if !is_decimal_amount(&threshold.minimum_increase) {
        errors.push(FieldError::new(
            "spec.costThreshold.minimumIncrease",
            FieldReason::InvalidCostThreshold,
            format!(
                "{} is not an amount; write a decimal number with at most two decimal places, \
                 such as 100 or 25.50",
                quote(&threshold.minimum_increase)
            ),
        ));
    }
}

/// Returns whether `value` is a non-negative decimal with 1 to 12 integer digits and at most two
/// decimal places.
fn is_decimal_amount(value: &str) -> bool {
    let (whole, fraction) = match value.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (value, None),
    };
    let digits = |part: &str, max: usize| {
        (1..=max).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    digits(whole, 12) && fraction.is_none_or(|fraction| digits(fraction, 2))
}
