//! AccessKeyRotation: pure decisions, key markers, Secrets, and the reconciler that
//! performs one step at a time.

pub mod cloud;
pub mod context;
pub mod controller;
pub mod decision;
pub mod marker;
pub mod plan;
pub mod reconcile;
pub mod rollback;
pub mod run;
pub mod secrets;
pub mod settings;
pub mod steps;
