//! akguard: a Kubernetes operator that rotates Huawei Cloud access keys and responds to leaks.

pub mod workloads;
pub mod rotation;
pub mod runtime;
pub mod api;
pub mod schedule;
pub mod validation;
pub mod cli;
pub mod sandbox;
