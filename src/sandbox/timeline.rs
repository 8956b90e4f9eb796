//! Prints a rotation's progress as a timeline: one line per step change, with the real
//! time since the sandbox started, the simulated clock, and the keys involved.

use std::time::Instant;

use crate::api::rotation::{AccessKeyRotation, AccessKeyRotationStatus};

/// What the last printed line showed, so only changes are printed.
#[derive(Debug, Default)]
pub struct Timeline {
    last: Option<String>,
    started: Option<Instant>,
}

impl Timeline {
    pub fn new() -> Self {
        Self {
            last: None,
            started: Some(Instant::now()),
        }
    }

    /// Prints a line when the rotation's step, phase or keys changed.
    pub fn observe(&mut self, object: &AccessKeyRotation, simulated_now: jiff::Timestamp) {
        let status = object.status.clone().unwrap_or_default();
        let line = describe(&status);
        if self.last.as_deref() == Some(line.as_str()) {
            return;
        }
        self.note(simulated_now, &line);
        self.last = Some(line);
    }

    /// Prints a free-form line in the same layout.
    pub fn note(&self, simulated_now: jiff::Timestamp, text: &str) {
        let real = self.started.map(|s| s.elapsed().as_secs_f64()).unwrap_or_default();
        println!(
            "  +{real:6.2}s  {}  {text}",
            simulated_now.strftime("%Y-%m-%d %H:%M")
        );
    }
}

fn describe(status: &AccessKeyRotationStatus) -> String {
    let phase = status.phase.map(|p| format!("{p:?}")).unwrap_or_else(|| "-".into());
    let current = status.current_access_key_id.clone().unwrap_or_else(|| "-".into());
    match &status.rotation {
        Some(rotation) => {
            let pending = status.pending_access_key_id.clone().unwrap_or_else(|| "(not yet created)".into());
            format!(
                "{phase:<11} {:<22} {current} -> {pending}  (rotation {}, {:?}, attempt {})",
                format!("{:?}", rotation.step),
                rotation.id,
                rotation.trigger,
                rotation.attempt
            )
        }
        None => {
            let consumers: Vec<String> = status
                .consumers
                .iter()
                .map(|c| format!("{:?}/{} {}", c.kind, c.name, if c.ready { "ready" } else { "not ready" }))
                .collect();
            format!(
                "{phase:<11} {:<22} {current}  consumers: {}",
                "idle",
                if consumers.is_empty() { "none".into() } else { consumers.join(", ") }
            )
        }
    }
}
