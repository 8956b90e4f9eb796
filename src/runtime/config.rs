//! Flags and environment of `akguard run`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Namespaces whose AccessKeyRotations and LeakIncidents the operator acts on,
    /// comma-separated. Empty means all namespaces.
    #[arg(long, env = "AKGUARD_NAMESPACES", value_delimiter = ',', default_value = "")]
    pub namespaces: Vec<String>,

    /// Address of the Prometheus endpoint `/metrics`.
    #[arg(long, env = "AKGUARD_METRICS_ADDRESS", default_value = "0.0.0.0:8080")]
    pub metrics_address: SocketAddr,

    /// Address of the `/healthz` (process alive) and `/readyz` (caches synced) endpoints.
    #[arg(long, env = "AKGUARD_HEALTH_ADDRESS", default_value = "0.0.0.0:8081")]
    pub health_address: SocketAddr,

    /// Log line format.
    #[arg(long, env = "AKGUARD_LOG_FORMAT", value_enum, default_value = "json")]
    pub log_format: LogFormat,

    /// Log filter in tracing's `EnvFilter` syntax, for example `info` or `akguard=debug,info`.
    #[arg(long, env = "AKGUARD_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Elect one acting replica through a coordination.k8s.io Lease. Turn off only when a
    /// single replica runs.
    #[arg(long, env = "AKGUARD_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_election: bool,

    /// Name of the Lease used for leader election.
    #[arg(long, env = "AKGUARD_LEASE_NAME", default_value = "akguard-leader")]
    pub lease_name: String,

    /// Namespace of the Lease; the pod's own namespace inside a cluster.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,

    /// How long a leader's Lease stays valid without renewal, for example `15s`. A standby
    /// takes over within this time after the leader stops.
    #[arg(long, env = "AKGUARD_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,

    /// Identity written into the Lease, unique per replica (the pod name in a cluster).
    /// Unset: the host name with a random suffix.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,

    /// Maximum rotations reconciled at the same time across all namespaces.
    #[arg(long, env = "AKGUARD_MAX_CONCURRENT_ROTATIONS", default_value_t = 10)]
    pub max_concurrent_rotations: u16,

    /// Maximum rotations in flight in one namespace; others wait their turn.
    #[arg(long, env = "AKGUARD_MAX_CONCURRENT_ROTATIONS_PER_NAMESPACE", default_value_t = 2)]
    pub max_concurrent_rotations_per_namespace: u16,

    /// Huawei Cloud API requests per second the operator sends at most, over all resources
    /// and retries; 0 means no limit.
    #[arg(long, env = "AKGUARD_CLOUD_RATE_LIMIT", default_value_t = 10)]
    pub cloud_rate_limit: u32,

    /// How often a rotation step that waits (for rollouts, checks, the idle window or the
    /// soak) looks again, for example `30s`. Each look at the idle window or the soak costs
    /// one Huawei Cloud API call.
    #[arg(long, env = "AKGUARD_STEP_POLL_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    pub step_poll_interval: Duration,

    /// Test hook: read the current time from this file (an RFC 3339 timestamp) instead of
    /// the system clock, so tests can move days in milliseconds. Never set in production.
    #[arg(long, env = "AKGUARD_CLOCK_FILE", hide = true)]
    pub clock_file: Option<std::path::PathBuf>,

    /// Kubeconfig file to use instead of the in-cluster configuration or `$KUBECONFIG`.
    #[arg(long, env = "AKGUARD_KUBECONFIG")]
    pub kubeconfig: Option<std::path::PathBuf>,
}

/// Parses durations such as `500ms`, `15s`, `2m`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("invalid duration {text:?}: add a unit (ms, s, m or h), for example 15s"))?;
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: expected a whole number before the unit"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(value),
        "s" => Duration::from_secs(value),
        "m" => Duration::from_secs(value * 60),
        "h" => Duration::from_secs(value * 3600),
        _ => return Err(format!("invalid duration {text:?}: unit must be ms, s, m or h")),
    };
    if duration.is_zero() {
        return Err(format!("invalid duration {text:?}: must be greater than zero"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_table() {
        let cases = [
            ("15s", Some(Duration::from_secs(15))),
            ("500ms", Some(Duration::from_millis(500))),
            ("2m", Some(Duration::from_secs(120))),
            ("1h", Some(Duration::from_secs(3600))),
            ("15", None),
            ("0s", None),
            ("s", None),
            ("3d", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text).ok(), expected, "case {text}");
        }
    }
}
