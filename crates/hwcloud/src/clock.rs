//! Injectable time source. Every component that compares times (signing dates, key ages,
//! soak and idle windows, schedules) reads `now` from a [`Clock`], so tests can move days
//! ahead in microseconds.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// Shared handle to a clock.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told to, for tests and simulations.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Arc<Self> {
        Arc::new(Self {
            now: Mutex::new(start),
        })
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.now.lock().expect("clock mutex poisoned");
        *now = now.checked_add(by).expect("manual clock overflowed");
    }

    pub fn set(&self, to: Timestamp) {
        *self.now.lock().expect("clock mutex poisoned") = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().expect("clock mutex poisoned")
    }
}

/// A clock that runs at wall-clock speed from a start offset, optionally faster: the
/// sandbox uses it to play a multi-day soak in seconds. `speedup` is simulated seconds per
/// real second.
#[derive(Debug)]
pub struct ScaledClock {
    origin_real: std::time::Instant,
    origin_simulated: Timestamp,
    speedup: f64,
}

impl ScaledClock {
    pub fn new(origin_simulated: Timestamp, speedup: f64) -> Arc<Self> {
        Arc::new(Self {
            origin_real: std::time::Instant::now(),
            origin_simulated,
            speedup,
        })
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Timestamp {
        let real = self.origin_real.elapsed().as_secs_f64();
        let simulated = SignedDuration::from_secs_f64(real * self.speedup);
        self.origin_simulated
            .checked_add(simulated)
            .unwrap_or(Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = ManualClock::new(start);

        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_hours(24 * 7));
        assert_eq!(clock.now().to_string(), "2026-01-08T00:00:00Z");
    }
}
