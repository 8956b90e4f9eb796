//! The description marker every key the operator creates carries, and rotation IDs.
//!
//! The marker ties a key in IAM to one resource and one rotation, so a key whose secret
//! access key was lost before it was stored (a crash between the create call and the
//! staging Secret write) is found by listing the user's keys and deleted before creation is
//! retried. IAM descriptions hold up to 255 characters; a marker is at most 90.

use jiff::Timestamp;

const PREFIX: &str = "akguard";

/// Resource and rotation that created a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMarker {
    pub resource_uid: String,
    pub rotation_id: String,
}

impl KeyMarker {
    pub fn new(resource_uid: impl Into<String>, rotation_id: impl Into<String>) -> Self {
        Self {
            resource_uid: resource_uid.into(),
            rotation_id: rotation_id.into(),
        }
    }

    /// Returns the key description: `akguard:<resource UID>:<rotation ID>`.
    pub fn description(&self) -> String {
        format!("{PREFIX}:{}:{}", self.resource_uid, self.rotation_id)
    }

    /// Reads a marker back from a key description; any other description gives `None`.
    pub fn parse(description: &str) -> Option<Self> {
        let mut parts = description.trim().splitn(3, ':');
        if parts.next()? != PREFIX {
            return None;
        }
        let resource_uid = parts.next()?.to_string();
        let rotation_id = parts.next()?.to_string();
        if resource_uid.is_empty() || rotation_id.is_empty() {
            return None;
        }
        Some(Self {
            resource_uid,
            rotation_id,
        })
    }
}

/// Returns a new rotation ID: UTC start time plus four random hex digits, valid as a label value
/// and a pod-template annotation value (`20261204-203000-3fa9`).
pub fn new_rotation_id(now: Timestamp) -> String {
    let suffix: u16 = rand::random();
    format!("{}-{suffix:04x}", now.strftime("%Y%m%d-%H%M%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trip() {
        let marker = KeyMarker::new("6f1c0a52-1b7e-4d7a-9d3e-0c9b0a1e2f3a", "20261204-203000-3fa9");

        assert_eq!(KeyMarker::parse(&marker.description()), Some(marker));
    }

    #[test]
    fn marker_rejects_other_descriptions() {
        for description in ["", "akguard", "akguard::x", "akguard:uid:", "ci key", "other:uid:rot"] {
            assert_eq!(KeyMarker::parse(description), None, "accepted {description:?}");
        }
    }

    #[test]
    fn rotation_id_is_label_safe() {
        let id = new_rotation_id("2026-12-04T20:30:00Z".parse().unwrap());

        assert!(id.starts_with("20261204-203000-"));
        assert!(id.len() <= 63);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
