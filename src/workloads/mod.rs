//! Consumers of a rotation's Secrets: discovery, restart and rollout health.

pub mod discovery;
pub mod rollout;
