//! Fault injection: error statuses, throttling, dropped connections and added latency, for
//! one operation or all, always, at a rate, or on the N-th call only.

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::operation::Operation;

/// Effect of a fault on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Respond with `status` and an IAM error body.
    Status,
    /// Respond 429 with `IAM.0012`.
    Throttle,
    /// Close the connection without a response.
    Drop,
    /// Wait `latency_ms` before handling the request normally.
    Latency,
}

/// One fault rule. JSON example: `{"operation": "createCredential", "kind": "status",
/// "status": 503, "rate": 0.5}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Operation name (for example `createCredential`). `None` or `*` means every operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    pub kind: FaultKind,
    /// HTTP status for [`FaultKind::Status`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Added latency in milliseconds for [`FaultKind::Latency`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Probability from 0 to 1 that the rule fires on a matching call. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Fire only on the N-th matching call (1-based) after the rule was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
}

/// Error from an invalid fault rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("unknown operation {0:?}; expected one of {ops} or *", ops = operation_names())]
    UnknownOperation(String),
    #[error("a status fault needs a status between 400 and 599, got {0:?}")]
    InvalidStatus(Option<u16>),
    #[error("a latency fault needs latency_ms")]
    MissingLatency,
    #[error("rate must be between 0 and 1, got {0}")]
    InvalidRate(String),
    #[error("nth must be at least 1")]
    InvalidNth,
    #[error("set rate or nth, not both")]
    RateAndNth,
    #[error("invalid fault {spec:?}: {reason}")]
    Syntax { spec: String, reason: String },
}

fn operation_names() -> String {
    Operation::ALL.map(Operation::name).join(", ")
}

impl FaultRule {
    pub fn new(kind: FaultKind) -> Self {
        Self {
            operation: None,
            kind,
            status: None,
            latency_ms: None,
            rate: None,
            nth: None,
        }
    }

    /// Creates a rule that responds to every matching call with `status`.
    pub fn status(status: u16) -> Self {
        Self {
            status: Some(status),
            ..Self::new(FaultKind::Status)
        }
    }

    /// Creates a rule that delays every matching call by `ms` milliseconds.
    pub fn latency(ms: u64) -> Self {
        Self {
            latency_ms: Some(ms),
            ..Self::new(FaultKind::Latency)
        }
    }

    /// Limits the rule to one operation.
    pub fn for_operation(mut self, operation: Operation) -> Self {
        self.operation = Some(operation.name().to_string());
        self
    }

    /// Makes the rule fire with probability `rate` (0 to 1) on each matching call.
    pub fn with_rate(mut self, rate: f64) -> Self {
        self.rate = Some(rate);
        self
    }

    /// Makes the rule fire only on the `nth` matching call (1-based).
    pub fn on_nth(mut self, nth: u64) -> Self {
        self.nth = Some(nth);
        self
    }

    /// Checks the operation name, the fields the kind needs, and `rate` and `nth`.
    pub fn validate(&self) -> Result<(), FaultError> {
        if let Some(op) = &self.operation
            && op != "*"
            && Operation::from_name(op).is_none()
        {
            return Err(FaultError::UnknownOperation(op.clone()));
        }
        match self.kind {
            FaultKind::Status if !matches!(self.status, Some(400..=599)) => {
                return Err(FaultError::InvalidStatus(self.status));
            }
            FaultKind::Latency if self.latency_ms.is_none() => {
                return Err(FaultError::MissingLatency);
            }
            _ => {}
        }
        if let Some(rate) = self.rate
            && !(0.0..=1.0).contains(&rate)
        {
            return Err(FaultError::InvalidRate(rate.to_string()));
        }
        if self.nth == Some(0) {
            return Err(FaultError::InvalidNth);
        }
        if self.rate.is_some() && self.nth.is_some() {
            return Err(FaultError::RateAndNth);
        }
        Ok(())
    }

    fn matches(&self, operation: Operation) -> bool {
        match self.operation.as_deref() {
            None | Some("*") => true,
            Some(name) => name == operation.name(),
        }
    }
}

/// Parses the command-line form `[OPERATION:]KIND[=VALUE][,rate=R][,nth=N]`, where KIND is
/// `status=CODE`, `throttle`, `drop` or `latency=MS`. Examples: `createCredential:status=503`,
/// `latency=250`, `listCredentials:throttle,nth=3`, `drop,rate=0.1`.
impl FromStr for FaultRule {
    type Err = FaultError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let syntax = |reason: &str| FaultError::Syntax {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let (operation, rest) = match spec.split_once(':') {
            Some((op, rest)) => (Some(op.trim().to_string()), rest),
            None => (None, spec),
        };

        let mut parts = rest.split(',').map(str::trim);
        let kind_part = parts.next().filter(|p| !p.is_empty()).ok_or_else(|| syntax("missing kind"))?;
        let (kind_name, kind_value) = match kind_part.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (kind_part, None),
        };
        let number = |value: Option<&str>, what: &str| -> Result<u64, FaultError> {
            value
                .ok_or_else(|| syntax(&format!("{what} needs a value")))?
                .parse::<u64>()
                .map_err(|_| syntax(&format!("{what} must be a whole number")))
        };

        let mut rule = match kind_name {
            "status" => {
                let status = number(kind_value, "status")?;
                FaultRule::status(u16::try_from(status).map_err(|_| syntax("status out of range"))?)
            }
            "latency" => FaultRule::latency(number(kind_value, "latency")?),
            "throttle" => FaultRule::new(FaultKind::Throttle),
            "drop" => FaultRule::new(FaultKind::Drop),
            _ => return Err(syntax("kind must be status, throttle, drop or latency")),
        };
        rule.operation = operation;

        for part in parts {
            match part.split_once('=') {
                Some(("rate", value)) => {
                    rule.rate = Some(value.parse().map_err(|_| syntax("rate must be a number"))?);
                }
                Some(("nth", value)) => rule.nth = Some(number(Some(value), "nth")?),
                _ => return Err(syntax("options are rate=R and nth=N")),
            }
        }
        rule.validate()?;
        Ok(rule)
    }
}

/// Decision of the fault rules for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultDecision {
    /// Sum of the latencies of the rules that fired.
    pub delay: Duration,
    pub outcome: FaultOutcome,
}

/// What happens to a call after the delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultOutcome {
    /// Handle the call normally.
    Pass,
    /// Respond with this HTTP status and an IAM error body.
    Respond(u16),
    /// Respond 429 with `IAM.0012`.
    Throttle,
    /// Close the connection without a response.
    Drop,
}

/// The active rules with their per-rule call counters.
#[derive(Debug, Default)]
pub struct FaultSet {
    rules: Vec<(FaultRule, u64)>,
}

impl FaultSet {
    /// Validates and adds a rule; its call counter starts at zero.
    pub fn add(&mut self, rule: FaultRule) -> Result<(), FaultError> {
        rule.validate()?;
        self.rules.push((rule, 0));
        Ok(())
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Returns the active rules, in the order they were added.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.rules.iter().map(|(rule, _)| rule.clone()).collect()
    }

    /// Decides the fate of one call. Every matching rule counts the call. Latencies add up,
    /// and the first rule that fires with another kind sets the outcome. `roll` returns a
    /// uniform number in `[0, 1)`.
    pub fn decide(&mut self, operation: Operation, roll: &mut dyn FnMut() -> f64) -> FaultDecision {
        let mut decision = FaultDecision {
            delay: Duration::ZERO,
            outcome: FaultOutcome::Pass,
        };
        for (rule, calls) in &mut self.rules {
            if !rule.matches(operation) {
                continue;
            }
            *calls += 1;
            let fires = match (rule.nth, rule.rate) {
                (Some(nth), _) => *calls == nth,
                (None, Some(rate)) => roll() < rate,
                (None, None) => true,
            };
            if !fires {
                continue;
            }
            let outcome = match rule.kind {
                FaultKind::Latency => {
                    decision.delay += Duration::from_millis(rule.latency_ms.unwrap_or(0));
                    continue;
                }
                FaultKind::Status => FaultOutcome::Respond(rule.status.unwrap_or(500)),
                FaultKind::Throttle => FaultOutcome::Throttle,
                FaultKind::Drop => FaultOutcome::Drop,
            };
            if decision.outcome == FaultOutcome::Pass {
                decision.outcome = outcome;
            }
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> impl FnMut() -> f64 {
        || 0.99
    }

    #[test]
    fn spec_parsing() {
        let cases: [(&str, FaultRule); 5] = [
            (
                "createCredential:status=503",
                FaultRule::status(503).for_operation(Operation::CreateCredential),
            ),
            ("latency=250", FaultRule::latency(250)),
            (
                "listCredentials:throttle,nth=3",
                FaultRule::new(FaultKind::Throttle)
                    .for_operation(Operation::ListCredentials)
                    .on_nth(3),
            ),
            ("drop,rate=0.1", FaultRule::new(FaultKind::Drop).with_rate(0.1)),
            (
                "*:status=500,rate=1",
                FaultRule {
                    operation: Some("*".into()),
                    ..FaultRule::status(500).with_rate(1.0)
                },
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(spec.parse::<FaultRule>(), Ok(expected), "{spec}");
        }
    }

    #[test]
    fn spec_errors() {
        let cases = [
            "nosuchOp:drop",
            "status=200",
            "status",
            "latency=fast",
            "explode",
            "drop,rate=2",
            "drop,nth=0",
            "drop,rate=0.5,nth=2",
            "drop,color=red",
        ];
        for spec in cases {
            assert!(spec.parse::<FaultRule>().is_err(), "{spec} parsed");
        }
    }

    #[test]
    fn nth_fires_once() {
        let mut set = FaultSet::default();
        set.add(FaultRule::status(500).on_nth(2)).unwrap();
        let mut roll = never();

        let outcomes: Vec<FaultOutcome> = (0..4)
            .map(|_| set.decide(Operation::ListCredentials, &mut roll).outcome)
            .collect();

        assert_eq!(
            outcomes,
            [
                FaultOutcome::Pass,
                FaultOutcome::Respond(500),
                FaultOutcome::Pass,
                FaultOutcome::Pass
            ]
        );
    }

    #[test]
    fn rate_uses_roll() {
        let mut set = FaultSet::default();
        set.add(FaultRule::new(FaultKind::Drop).with_rate(0.5)).unwrap();

        let low = set.decide(Operation::ShowUser, &mut || 0.1).outcome;
        let high = set.decide(Operation::ShowUser, &mut || 0.9).outcome;

        assert_eq!(low, FaultOutcome::Drop);
        assert_eq!(high, FaultOutcome::Pass);
    }

    #[test]
    fn operation_filter() {
        let mut set = FaultSet::default();
        set.add(FaultRule::new(FaultKind::Throttle).for_operation(Operation::CreateCredential))
            .unwrap();
        let mut roll = never();

        assert_eq!(set.decide(Operation::ListCredentials, &mut roll).outcome, FaultOutcome::Pass);
        assert_eq!(set.decide(Operation::CreateCredential, &mut roll).outcome, FaultOutcome::Throttle);
    }

    #[test]
    fn latencies_add_up() {
        let mut set = FaultSet::default();
        set.add(FaultRule::latency(100)).unwrap();
        set.add(FaultRule::latency(50)).unwrap();

        let decision = set.decide(Operation::ListTraces, &mut never());

        assert_eq!(decision.delay, Duration::from_millis(150));
        assert_eq!(decision.outcome, FaultOutcome::Pass);
    }

    #[test]
    fn first_firing_rule_wins() {
        let mut set = FaultSet::default();
        set.add(FaultRule::status(503)).unwrap();
        set.add(FaultRule::new(FaultKind::Drop)).unwrap();

        let decision = set.decide(Operation::ListTraces, &mut never());

        assert_eq!(decision.outcome, FaultOutcome::Respond(503));
    }

    #[test]
    fn clear_removes_rules() {
        let mut set = FaultSet::default();
        set.add(FaultRule::status(503)).unwrap();

        set.clear();

        assert_eq!(set.decide(Operation::ListTraces, &mut never()).outcome, FaultOutcome::Pass);
    }
}
