//! Input validation of both custom resources, beyond what the CRD schema enforces.
//!
//! The API server already rejects most malformed manifests through the schema, but the
//! operator may read objects written before a schema change, or from a simulator that does
//! not enforce patterns, so every rule is checked again here. Each error names the field
//! path, a `reason` for the condition and a message with the fix.

mod leak;
mod provider;
mod rotation;

#[cfg(test)]
mod tests;

use std::fmt;

pub use leak::validate_leak;
pub use rotation::validate_rotation;

/// A problem with one field of a spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field, such as `spec.schedule.cron` or `spec.targets[1].name`.
    pub field: String,
    pub reason: FieldReason,
    /// Problem and fix, for a person.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: FieldReason, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Machine-readable kinds of invalid input, used as condition reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldReason {
    InvalidSchedule,
    UnknownTimeZone,
    InvalidDuration,
    InvalidMaintenanceWindow,
    InvalidRotationRequest,
    MissingTarget,
    DuplicateTarget,
    InvalidName,
    InvalidDataKey,
    DuplicateDataKey,
    InvalidTemplate,
    DuplicateWorkloadRef,
    InvalidHttpCheck,
    InvalidRegion,
    InvalidEndpoint,
    InvalidUserId,
    InvalidAccessKeyId,
    InvalidDenyPolicy,
    InvalidAuditWindow,
    InvalidCostThreshold,
    InvalidEvidence,
    InvalidRestartMethod,
    TooManyItems,
}

impl FieldReason {
    /// Returns the reason in the CamelCase form Kubernetes conditions use.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldReason::InvalidSchedule => "InvalidSchedule",
            FieldReason::UnknownTimeZone => "UnknownTimeZone",
            FieldReason::InvalidDuration => "InvalidDuration",
            FieldReason::InvalidMaintenanceWindow => "InvalidMaintenanceWindow",
            FieldReason::InvalidRotationRequest => "InvalidRotationRequest",
            FieldReason::MissingTarget => "MissingTarget",
            FieldReason::DuplicateTarget => "DuplicateTarget",
            FieldReason::InvalidName => "InvalidName",
            FieldReason::InvalidDataKey => "InvalidDataKey",
            FieldReason::DuplicateDataKey => "DuplicateDataKey",
            FieldReason::InvalidTemplate => "InvalidTemplate",
            FieldReason::DuplicateWorkloadRef => "DuplicateWorkloadRef",
            FieldReason::InvalidHttpCheck => "InvalidHttpCheck",
            FieldReason::InvalidRegion => "InvalidRegion",
            FieldReason::InvalidEndpoint => "InvalidEndpoint",
            FieldReason::InvalidUserId => "InvalidUserId",
            FieldReason::InvalidAccessKeyId => "InvalidAccessKeyId",
            FieldReason::InvalidDenyPolicy => "InvalidDenyPolicy",
            FieldReason::InvalidAuditWindow => "InvalidAuditWindow",
            FieldReason::InvalidCostThreshold => "InvalidCostThreshold",
            FieldReason::InvalidEvidence => "InvalidEvidence",
            FieldReason::InvalidRestartMethod => "InvalidRestartMethod",
            FieldReason::TooManyItems => "TooManyItems",
        }
    }
}

impl fmt::Display for FieldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Condenses validation errors into one condition: the first error's reason, and a message
/// that lists every error as `field: message`, separated by `; `. Returns `None` for no
/// errors.
pub fn condition_summary(errors: &[FieldError]) -> Option<(&'static str, String)> {
    let first = errors.first()?;
    let message = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    Some((first.reason.as_str(), message))
}

/// Shortens a user-supplied value for a message, so a huge or multi-line value cannot flood
/// a condition or an Event.
pub(crate) fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut shown: String = value.chars().take(MAX_CHARS).collect();
    if value.chars().count() > MAX_CHARS {
        shown.push('…');
    }
    format!("{shown:?}")
}

/// Checks a Kubernetes object name (an RFC 1123 DNS subdomain).
pub(crate) fn check_object_name(field: &str, what: &str, name: &str) -> Option<FieldError> {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if !name.is_empty() && name.len() <= 253 && name.split('.').all(label_ok) {
        return None;
    }
    Some(FieldError::new(
        field,
        FieldReason::InvalidName,
        format!(
            "{} is not a valid {what} name; use at most 253 lower-case letters, digits, '-' \
             and '.', starting and ending with a letter or digit",
            quote(name)
        ),
    ))
}

/// Checks a key of a Secret's `data`.
pub(crate) fn check_data_key(field: &str, key: &str) -> Option<FieldError> {
    let valid = !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        return None;
    }
    Some(FieldError::new(
        field,
        FieldReason::InvalidDataKey,
        format!(
            "{} is not a valid Secret data key; use letters, digits, '-', '_' and '.' only, \
             such as HUAWEICLOUD_SDK_AK",
            quote(key)
        ),
    ))
}
