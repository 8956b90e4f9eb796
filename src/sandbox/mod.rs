//! `akguard sandbox` and the local world it runs in.

pub mod command;
pub mod timeline;
pub mod world;
