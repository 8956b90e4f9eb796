//! Process runtime of `akguard run`: configuration, logs, metrics, health endpoints and
//! leader election.

pub mod config;
pub mod file_clock;
pub mod health;
pub mod metrics;
pub mod operator;
pub mod telemetry;
