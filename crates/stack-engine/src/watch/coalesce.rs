//! Turning a stream of file events into one batch per burst.
//!
//! The kernel (and notify) splits a burst such as `git checkout` or a
//! formatter run into many events spread over tens of milliseconds; syncing
//! each one would restart a service many times. The coalescer collects
//! paths until nothing new arrived for `quiet`, but flushes anyway once the
//! first change is `cap` old, so a never-ending stream still makes
//! progress. Time is passed in, so the logic is tested without sleeping.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long to wait for quiet, and the longest a change may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Quiet that ends a small batch (a save touches a file or three).
    pub quiet: Duration,
    /// Quiet that ends a batch once it holds `burst_paths` paths or more:
    /// a checkout or a formatter run is under way, and a writer stalled on
    /// the disk or the CPU must not split it.
    pub burst_quiet: Duration,
    pub burst_paths: usize,
    /// The longest the first change of a batch waits.
    pub cap: Duration,
}

impl Default for Timing {
    /// 50 ms of quiet: long enough for an editor's write-rename-chmod
    /// sequence, short enough to keep a single save well under the 150 ms
    /// budget. 250 ms once a batch holds 16 paths, capped at 5 s.
    fn default() -> Timing {
        Timing {
            quiet: Duration::from_millis(50),
            burst_quiet: Duration::from_millis(250),
            burst_paths: 16,
            cap: Duration::from_secs(5),
        }
    }
}

/// What changed in one burst.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// When the first change of the burst was seen.
    pub first_seen: Option<Instant>,
    /// Host paths that changed (created, written, removed or renamed).
    pub paths: BTreeSet<PathBuf>,
    /// Trees whose events were lost (queue overflow): compare them whole.
    pub rescans: BTreeSet<PathBuf>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.rescans.is_empty()
    }
}

/// Collects changes until a burst is over.
#[derive(Debug)]
pub struct Coalescer {
    timing: Timing,
    last_seen: Option<Instant>,
    batch: Batch,
}

impl Coalescer {
    pub fn new(timing: Timing) -> Coalescer {
        Coalescer {
            timing,
            last_seen: None,
            batch: Batch::default(),
        }
    }

    fn touch(&mut self, now: Instant) {
        self.batch.first_seen.get_or_insert(now);
        self.last_seen = Some(now);
    }

    /// A path changed at `now`.
    pub fn push(&mut self, path: PathBuf, now: Instant) {
        self.touch(now);
        self.batch.paths.insert(path);
    }

    /// Events under `root` were lost at `now`.
    pub fn push_rescan(&mut self, root: PathBuf, now: Instant) {
        self.touch(now);
        self.batch.rescans.insert(root);
    }

    /// When the pending batch is due, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        let first = self.batch.first_seen?;
        let last = self.last_seen.unwrap_or(first);
        let quiet = if self.batch.paths.len() >= self.timing.burst_paths {
            self.timing.burst_quiet
        } else {
            self.timing.quiet
        };
        Some((last + quiet).min(first + self.timing.cap))
    }

    /// The pending batch, if it is due at `now`.
    pub fn take_due(&mut self, now: Instant) -> Option<Batch> {
        match self.deadline() {
            Some(due) if now >= due => {
                self.last_seen = None;
                Some(std::mem::take(&mut self.batch))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn coalescer() -> (Coalescer, Instant) {
        let timing = Timing {
            quiet: ms(30),
            burst_quiet: ms(100),
            burst_paths: 16,
            cap: ms(200),
        };
        (Coalescer::new(timing), Instant::now())
    }

    #[test]
    fn nothing_pending_means_no_deadline() {
        let (mut c, t0) = coalescer();
        assert_eq!(c.deadline(), None);
        assert_eq!(c.take_due(t0 + ms(1000)), None);
    }

    #[test]
    fn a_burst_is_one_batch_after_quiet() {
        let (mut c, t0) = coalescer();
        for i in 0..500u64 {
            c.push(
                PathBuf::from(format!("/src/f{i}")),
                t0 + Duration::from_micros(i * 100),
            );
        }
        let last = t0 + Duration::from_micros(499 * 100);
        assert_eq!(c.take_due(last + ms(99)), None, "a burst waits longer");
        let batch = c
            .take_due(last + ms(100))
            .expect("due after the burst's quiet");
        assert_eq!(batch.paths.len(), 500);
        assert_eq!(batch.first_seen, Some(t0));
        assert_eq!(c.deadline(), None, "emptied");
    }

    #[test]
    fn a_single_save_waits_only_the_short_quiet() {
        let (mut c, t0) = coalescer();
        c.push("/src/a".into(), t0);
        c.push("/src/.a.swp".into(), t0 + ms(2));
        assert_eq!(c.take_due(t0 + ms(31)), None);
        assert!(c.take_due(t0 + ms(32)).is_some());
    }

    #[test]
    fn a_stalled_burst_stays_one_batch() {
        let (mut c, t0) = coalescer();
        for i in 0..20u64 {
            c.push(PathBuf::from(format!("/src/{i}")), t0 + ms(i));
        }
        // The writer stalls for 80 ms: longer than a save's quiet.
        assert_eq!(c.take_due(t0 + ms(19 + 80)), None);
        c.push("/src/20".into(), t0 + ms(99));
        let b = c.take_due(t0 + ms(200)).expect("due at the cap");
        assert_eq!(b.paths.len(), 21);
    }

    #[test]
    fn duplicate_paths_collapse() {
        let (mut c, t0) = coalescer();
        c.push("/src/a".into(), t0);
        c.push("/src/a".into(), t0 + ms(5));
        let batch = c.take_due(t0 + ms(40)).expect("due");
        assert_eq!(batch.paths.len(), 1);
    }

    #[test]
    fn a_constant_stream_still_flushes_at_the_cap() {
        let (mut c, t0) = coalescer();
        let mut now = t0;
        let mut flushed = None;
        for i in 0..100u64 {
            c.push(PathBuf::from(format!("/src/{i}")), now);
            if let Some(b) = c.take_due(now) {
                flushed = Some((now, b));
                break;
            }
            now += ms(10);
        }
        let (when, batch) = flushed.expect("the cap forces a flush");
        assert_eq!(when, t0 + ms(200));
        assert_eq!(batch.paths.len(), 21);
    }

    #[test]
    fn a_later_burst_starts_a_new_batch() {
        let (mut c, t0) = coalescer();
        c.push("/src/a".into(), t0);
        assert!(c.take_due(t0 + ms(30)).is_some());
        c.push("/src/b".into(), t0 + ms(100));
        let b = c.take_due(t0 + ms(130)).expect("second batch");
        assert_eq!(b.first_seen, Some(t0 + ms(100)));
        assert_eq!(
            b.paths.into_iter().collect::<Vec<_>>(),
            vec![PathBuf::from("/src/b")]
        );
    }

    #[test]
    fn rescans_are_batched_with_paths() {
        let (mut c, t0) = coalescer();
        c.push_rescan("/src".into(), t0);
        let b = c.take_due(t0 + ms(30)).expect("due");
        assert!(b.paths.is_empty());
        assert_eq!(b.rescans.len(), 1);
        assert!(!b.is_empty());
    }
}
