//! Huawei Cloud client for akguard: request signing, IAM access keys and identity discovery.

pub mod clock;
pub mod secret;
pub mod signing;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use secret::{Credentials, SecretKey};
