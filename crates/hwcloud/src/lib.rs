//! Huawei Cloud client for akguard: request signing, IAM access keys, identity discovery,
//! CTS traces and BSS bills.
//!
//! Start with [`Client::new`]; every API call is a method of [`Client`].

pub mod bss;
pub mod client;
pub mod clock;
pub mod cts;
pub mod endpoints;
pub mod error;
pub mod iam;
pub mod iam_security;
pub mod identity;
mod lenient;
pub mod rate;
pub mod metrics;
pub mod retry;
pub mod secret;
pub mod signing;
pub mod timestamps;
mod transport;

pub use bss::{BillSum, MonthlySumQuery, MonthlySummary};
pub use client::{Client, ClientBuilder, ClientConfig, http_client, install_crypto_provider};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use cts::{Trace, TracePage, TraceQuery, TraceType, TraceUser};
pub use endpoints::{BillingSite, EndpointOverrides, Endpoints, IamScope, Region};
pub use error::{ApiError, Error, ErrorKind};
pub use iam::{AccessKey, AccessKeyStatus, AccessKeyUpdate, CreatedAccessKey};
pub use iam_security::{LoginProtect, MfaDevice, VerificationMethod};
pub use identity::{Domain, Identity, User};
pub use metrics::{CallObserver, CallRecord, RecordingObserver, Service};
pub use rate::RateLimiter;
pub use retry::{RetryPolicy, Sleeper};
pub use secret::{Credentials, SecretKey};
pub use transport::JSON_CONTENT_TYPE;
