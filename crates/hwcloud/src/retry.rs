//! Retry policy and the pure decision whether to retry a failed attempt.
//!
//! Transient failures (throttling, 5xx, timeouts, dropped connections) are retried with
//! capped exponential backoff and jitter, within a per-call deadline. A call that creates
//! something is retried only when the server cannot have acted on it: the connection was
//! never made, or the server responded "throttled". Any other failure of such a call is
//! ambiguous, and the caller must look before creating again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ErrorKind;

/// Retry settings of one call.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per call, the first one included; 1 disables retries.
    pub max_attempts: u32,
    /// Backoff before the second attempt.
    pub initial_backoff: Duration,
    /// Upper bound of one backoff, also applied to a server's `Retry-After`.
    pub max_backoff: Duration,
    /// Factor by which the backoff grows per attempt.
    pub multiplier: f64,
    /// Time limit of one attempt, from sending to the last byte of the response.
    pub attempt_timeout: Duration,
    /// Time limit of the whole call, all attempts and backoffs included.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            multiplier: 2.0,
            attempt_timeout: Duration::from_secs(20),
            deadline: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Returns a policy that makes one attempt only.
    pub fn no_retries() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Returns the backoff before attempt `attempt + 1`, after `attempt` failed ones.
    /// `jitter` in `[0, 1)` picks a point between half and all of the capped exponential
    /// value ("equal jitter"), so concurrent callers spread out and none retries without waiting.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(32) as i32;
        let uncapped = self.initial_backoff.as_secs_f64() * self.multiplier.max(1.0).powi(exponent);
        let capped = uncapped.min(self.max_backoff.as_secs_f64());
        Duration::from_secs_f64(capped * (0.5 + 0.5 * jitter.clamp(0.0, 1.0)))
    }
}

/// Whether the server can have acted on a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The request never left: the connection could not be made.
    NotSent,
    /// The server responded with an error status.
    Answered,
    /// The request may have arrived: timeout, or connection dropped after sending.
    Unknown,
}

/// Facts about one failed attempt that the decision uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttemptFailure {
    pub kind: ErrorKind,
    pub delivery: Delivery,
    /// Whether the call may be repeated without changing its effect (all but creates).
    pub idempotent: bool,
    /// Attempts made so far, this one included.
    pub attempt: u32,
    /// Time since the call started.
    pub elapsed: Duration,
    /// The server's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then try again.
    Retry(Duration),
    /// Return the error as it is.
    GiveUp,
    /// Return an ambiguous error: the call may have taken effect.
    GiveUpAmbiguous,
}

/// Decides what to do after a failed attempt. Pure: `jitter` in `[0, 1)` comes from the
/// caller.
pub fn decide(policy: &RetryPolicy, failure: &AttemptFailure, jitter: f64) -> RetryDecision {
    let transient = matches!(
        failure.kind,
        ErrorKind::Throttled | ErrorKind::Server | ErrorKind::Timeout | ErrorKind::Transport
    );
    // A create whose request may have reached the server is never repeated blind, even
    // when the error looks transient. A throttled response or a refused connection proves
    // nothing was created.
    let safe_to_repeat = failure.idempotent
        || failure.delivery == Delivery::NotSent
        || (failure.delivery == Delivery::Answered && failure.kind == ErrorKind::Throttled);
    let give_up = if !failure.idempotent && transient && !safe_to_repeat {
        return RetryDecision::GiveUpAmbiguous;
    } else {
        RetryDecision::GiveUp
    };
    if !transient || failure.attempt >= policy.max_attempts {
        return give_up;
    }

    let mut wait = policy.backoff(failure.attempt, jitter);
    if let Some(asked) = failure.retry_after {
        wait = wait.max(asked.min(policy.max_backoff));
    }
    if failure.elapsed.saturating_add(wait) >= policy.deadline {
        return give_up;
    }
    RetryDecision::Retry(wait)
}

/// An injectable sleep, so tests can skip backoffs. The default is `tokio::time::sleep`.
pub type Sleeper = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Returns a [`Sleeper`] backed by `tokio::time::sleep`.
pub fn tokio_sleeper() -> Sleeper {
    Arc::new(|duration| Box::pin(tokio::time::sleep(duration)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorKind::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            multiplier: 2.0,
            attempt_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(10),
        }
    }

    fn failure(kind: ErrorKind, delivery: Delivery, idempotent: bool, attempt: u32) -> AttemptFailure {
        AttemptFailure {
            kind,
            delivery,
            idempotent,
            attempt,
            elapsed: Duration::ZERO,
            retry_after: None,
        }
    }

    #[test]
    fn retry_decision_table() {
        use Delivery::*;
        use RetryDecision::*;
        let ms = Duration::from_millis;
        // (kind, delivery, idempotent, attempt, expected with jitter 0)
        let cases = [
            // Idempotent calls retry every transient error.
            (Throttled, Answered, true, 1, Retry(ms(50))),
            (Server, Answered, true, 1, Retry(ms(50))),
            (Server, Answered, true, 2, Retry(ms(100))),
            (Server, Answered, true, 3, Retry(ms(200))),
            (Timeout, Unknown, true, 1, Retry(ms(50))),
            (Transport, Unknown, true, 1, Retry(ms(50))),
            (Transport, NotSent, true, 1, Retry(ms(50))),
            // ... until the attempts run out.
            (Server, Answered, true, 4, GiveUp),
            // Errors the caller must fix are never retried.
            (Unauthorized, Answered, true, 1, GiveUp),
            (Forbidden, Answered, true, 1, GiveUp),
            (NotFound, Answered, true, 1, GiveUp),
            (QuotaExceeded, Answered, false, 1, GiveUp),
            (KeyInactive, Answered, true, 1, GiveUp),
            (UserDisabled, Answered, true, 1, GiveUp),
            (BadRequest, Answered, true, 1, GiveUp),
            (InvalidResponse, Answered, true, 1, GiveUp),
            // Creates retry only when nothing can have been created.
            (Transport, NotSent, false, 1, Retry(ms(50))),
            (Throttled, Answered, false, 1, Retry(ms(50))),
            (Throttled, Answered, false, 4, GiveUp),
            (Transport, NotSent, false, 4, GiveUp),
            (Server, Answered, false, 1, GiveUpAmbiguous),
            (Timeout, Unknown, false, 1, GiveUpAmbiguous),
            (Transport, Unknown, false, 1, GiveUpAmbiguous),
            (Server, Answered, false, 4, GiveUpAmbiguous),
        ];
        for (kind, delivery, idempotent, attempt, expected) in cases {
            let decision = decide(&policy(), &failure(kind, delivery, idempotent, attempt), 0.0);
            assert_eq!(
                decision, expected,
                "{kind:?} {delivery:?} idempotent={idempotent} attempt={attempt}"
            );
        }
    }

    #[test]
    fn backoff_capped_and_jittered() {
        let policy = policy();

        assert_eq!(policy.backoff(1, 0.0), Duration::from_millis(50));
        assert_eq!(policy.backoff(1, 0.999_999), Duration::from_secs_f64(0.1 * (0.5 + 0.5 * 0.999_999)));
        assert_eq!(policy.backoff(10, 0.0), Duration::from_millis(500));
        assert!(policy.backoff(10, 0.999) <= policy.max_backoff);
        assert_eq!(policy.backoff(u32::MAX, 1.0), policy.max_backoff);
    }

    #[test]
    fn retry_after_honoured_up_to_cap() {
        let mut throttled = failure(Throttled, Delivery::Answered, true, 1);
        throttled.retry_after = Some(Duration::from_millis(700));
        assert_eq!(
            decide(&policy(), &throttled, 0.0),
            RetryDecision::Retry(Duration::from_millis(700))
        );

        throttled.retry_after = Some(Duration::from_secs(3600));
        assert_eq!(
            decide(&policy(), &throttled, 0.0),
            RetryDecision::Retry(Duration::from_secs(1))
        );
    }

    #[test]
    fn deadline_stops_retries() {
        let mut late = failure(Server, Delivery::Answered, true, 1);
        late.elapsed = Duration::from_millis(9_990);

        assert_eq!(decide(&policy(), &late, 0.0), RetryDecision::GiveUp);
    }
}
