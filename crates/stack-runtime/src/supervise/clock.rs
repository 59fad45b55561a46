//! Time, injected: the supervisor never reads the wall clock itself.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A monotonic clock. `now` is the time since the clock's own origin; only
/// differences between two readings mean anything.
pub trait Clock: Send + Sync {
    fn now(&self) -> Duration;
    /// Waits `d`. A test clock just moves its time forward.
    fn sleep(&self, d: Duration);
}

/// The real monotonic clock.
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    pub fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// A clock that moves only when told to (or when slept on), for tests and
/// for replaying recorded events.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Mutex<Duration>,
}

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn advance(&self, d: Duration) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) += d;
    }

    pub fn set(&self, t: Duration) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sleep(&self, d: Duration) {
        self.advance(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new();
        assert_eq!(c.now(), Duration::ZERO);
        c.sleep(Duration::from_millis(250));
        c.advance(Duration::from_secs(1));
        assert_eq!(c.now(), Duration::from_millis(1250));
        c.set(Duration::from_secs(7));
        assert_eq!(c.now(), Duration::from_secs(7));
    }

    #[test]
    fn system_clock_is_monotonic() {
        let c = SystemClock::new();
        let a = c.now();
        c.sleep(Duration::from_millis(1));
        assert!(c.now() > a);
    }
}
