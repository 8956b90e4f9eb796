//! Command-line surfaces besides the operator itself.

pub mod plugin;
