//! Consumers of a rotation's Secrets: discovery, restart and rollout health.

pub mod consumers;
pub mod discovery;
pub mod http_check;
pub mod rollout;
