//! Waiting on files that change without notice (a container's state and
//! log): look again soon at first, then less and less often. A short run
//! (`docker run --rm busybox true`) is seen ending within milliseconds,
//! and a long one costs a look every 100 ms at most.

use std::time::Duration;

/// The first pause.
const FIRST: Duration = Duration::from_millis(2);
/// The longest pause.
const LONGEST: Duration = Duration::from_millis(100);

/// The pauses between looks.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: FIRST }
    }
}

impl Backoff {
    /// Sleeps, each time twice as long up to the longest.
    pub fn sleep(&mut self) {
        std::thread::sleep(self.next);
        self.next = (self.next * 2).min(LONGEST);
    }

    /// Something happened: look again soon.
    pub fn reset(&mut self) {
        self.next = FIRST;
    }

    #[cfg(test)]
    fn next(&self) -> Duration {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_longest_and_reset() {
        let mut b = Backoff::default();
        let mut seen = Vec::new();
        for _ in 0..8 {
            seen.push(b.next().as_millis());
            b.next = (b.next * 2).min(LONGEST);
        }
        assert_eq!(seen, [2, 4, 8, 16, 32, 64, 100, 100]);
        b.reset();
        assert_eq!(b.next(), FIRST);
    }
}
