//! akguard: a Kubernetes operator that rotates Huawei Cloud access keys and responds to leaks.

pub mod workloads;
pub mod rotation;
pub mod runtime;
