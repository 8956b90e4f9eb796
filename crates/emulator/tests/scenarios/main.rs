//! Scenario tests of the emulator over HTTP, signed with the project's signer.

mod admin;
mod auth;
mod cli;
mod faults;
mod identity;
mod keys;
mod logs;
mod support;
mod traces;
