//! A limit on how many Huawei Cloud API requests per second a process sends, shared by
//! every client that holds it. Requests are spaced evenly; there is no burst allowance, so
//! a quiet period does not let a later flood through.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next_slot: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// At most `per_second` requests per second; 0 means no limit.
    pub fn per_second(per_second: u32) -> Self {
        let interval = if per_second == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(1) / per_second
        };
        Self {
            interval,
            next_slot: Mutex::new(None),
        }
    }

    /// Waits for this request's slot.
    pub async fn acquire(&self) {
        if self.interval.is_zero() {
            return;
        }
        let wait_until = {
            let mut next_slot = self.next_slot.lock().await;
            let now = Instant::now();
            let slot = next_slot.map_or(now, |next| next.max(now));
            *next_slot = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(wait_until).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_requests_evenly() {
        let limiter = RateLimiter::per_second(10);
        let start = Instant::now();

        for _ in 0..5 {
            limiter.acquire().await;
        }

        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_means_unlimited() {
        let limiter = RateLimiter::per_second(0);
        let start = Instant::now();

        for _ in 0..100 {
            limiter.acquire().await;
        }

        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
