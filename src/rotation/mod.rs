//! AccessKeyRotation: pure decisions, key markers, and the reconciler that performs them.

pub mod decision;
pub mod marker;
pub mod secrets;
