//! Huawei Cloud emulator: IAM permanent access keys, identity discovery and CTS traces, on
//! the real wire protocol with `SDK-HMAC-SHA256` verification, for akguard's tests and
//! sandbox.
//!
//! Start one in-process with [`start`] and an [`EmulatorConfig`], seed accounts with
//! [`RunningEmulator::seed`], point a client at [`RunningEmulator::base_url`]. The same
//! server runs as `akguard emulator` through [`cli`].

mod admin;
mod api;
pub mod cli;
pub mod cts;
pub mod errors;
pub mod faults;
pub mod ids;
pub mod operation;
pub mod seed;
mod server;
pub mod state;
pub mod verify;

pub use cts::{Trace, TracePage};
pub use faults::{FaultError, FaultKind, FaultRule};
pub use operation::Operation;
pub use seed::{SeedError, SeedFile, SeedKey, SeedRequest, SeedUser, SeededAccount, SeededKey, SeededUser};
pub use server::{ClockError, EmulatorClock, EmulatorConfig, RunningEmulator, StartError, start};
pub use state::{KeyStatus, KeyView, User};
