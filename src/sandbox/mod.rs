//! `akguard sandbox` and the local world it runs in.

pub mod world;
