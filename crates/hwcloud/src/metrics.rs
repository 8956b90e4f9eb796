//! Hook through which every cloud API call reports its outcome, so the operator can count
//! calls and errors by operation. A record contains names, a kind, a status and durations only.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::ErrorKind;

/// The Huawei Cloud service a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Iam,
    Cts,
    Bss,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Iam => "iam",
            Self::Cts => "cts",
            Self::Bss => "bss",
        }
    }
}

/// One finished call, after all its retries.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    pub service: Service,
    /// Operation name as in Huawei Cloud's API reference, such as `CreatePermanentAccessKey`.
    pub operation: &'static str,
    /// `None` for success, else the kind of the error returned.
    pub error: Option<ErrorKind>,
    /// HTTP status of the last response, when one arrived.
    pub status: Option<u16>,
    pub attempts: u32,
    /// Wall time of the whole call, backoffs included.
    pub duration: Duration,
}

impl CallRecord {
    /// Returns `ok` or the error kind's name, for a metrics label.
    pub fn outcome(&self) -> &'static str {
        self.error.map_or("ok", ErrorKind::as_str)
    }
}

/// Receives one [`CallRecord`] per call. Implementations must be cheap: they run inline.
pub trait CallObserver: Send + Sync {
    fn record(&self, call: &CallRecord);
}

/// An observer that keeps every record, for tests.
#[derive(Debug, Default)]
pub struct RecordingObserver {
    calls: Mutex<Vec<CallRecord>>,
}

impl RecordingObserver {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Returns the records so far, oldest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.calls.lock().expect("observer mutex poisoned").clone()
    }
}

impl CallObserver for RecordingObserver {
    fn record(&self, call: &CallRecord) {
        self.calls.lock().expect("observer mutex poisoned").push(call.clone());
    }
}
