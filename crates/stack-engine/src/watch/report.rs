//! What the dev loop tells its user, one line per event:
//! `web: synced 3 files, restarted (took 42 ms)`.

use std::fmt;
use std::time::Duration;

/// What one batch did for one service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub service: String,
    /// Files and directories written into the container(s).
    pub synced: usize,
    /// Paths removed from the container(s).
    pub removed: usize,
    /// Containers restarted.
    pub restarted: usize,
    /// Exit codes of `sync+exec` commands, in order.
    pub exec_codes: Vec<i32>,
    /// The batch came from an initial sync or a rescan, not from events.
    pub full_compare: bool,
    /// Running containers the batch went to.
    pub containers: usize,
    /// Problems met on the way (the rest of the batch still went through).
    pub errors: Vec<String>,
    /// From the first change seen to everything applied.
    pub took: Duration,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for BatchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.containers == 0 {
            parts.push("no running container, nothing applied".to_string());
        } else {
            if self.full_compare {
                parts.push("compared in full".to_string());
            }
            if self.synced > 0
                || (self.removed == 0 && self.restarted == 0 && self.exec_codes.is_empty())
            {
                parts.push(format!("synced {}", plural(self.synced, "file", "files")));
            }
            if self.removed > 0 {
                parts.push(format!("removed {}", plural(self.removed, "file", "files")));
            }
            if self.restarted > 0 {
                parts.push("restarted".to_string());
            }
            for code in &self.exec_codes {
                parts.push(format!("exec exited {code}"));
            }
        }
        for e in &self.errors {
            parts.push(format!("error: {e}"));
        }
        write!(
            f,
            "{}: {} (took {} ms)",
            self.service,
            parts.join(", "),
            self.took.as_millis()
        )
    }
}

/// Everything the loop reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// Watching started (or restarted after a stack file change).
    Watching {
        rules: usize,
        roots: usize,
    },
    Batch(BatchReport),
    /// The stack file changed and loaded; the applier accepted it.
    StackApplied {
        services: Vec<String>,
    },
    /// The stack file changed but does not load: nothing was touched.
    StackInvalid(String),
    /// The applier refused or failed: the running stack is as it was.
    ApplyFailed(String),
    /// Something worth knowing that changes nothing.
    Warning(String),
    /// A service's image was built again (its containers recreated if the
    /// image changed).
    Rebuilt {
        service: String,
    },
    /// The rebuild failed: the service runs as it was.
    RebuildFailed {
        service: String,
        error: String,
    },
}

impl fmt::Display for WatchEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WatchEvent::Watching { rules, roots } => write!(
                f,
                "watching {} ({}); Ctrl-C to stop",
                plural(*rules, "rule", "rules"),
                plural(*roots, "directory", "directories")
            ),
            WatchEvent::Batch(b) => b.fmt(f),
            WatchEvent::StackApplied { services } => {
                write!(f, "stack file reloaded: {}", services.join(", "))
            }
            WatchEvent::StackInvalid(d) => write!(
                f,
                "stack file not applied, the running stack is unchanged:\n{d}"
            ),
            WatchEvent::ApplyFailed(e) => write!(f, "stack file not applied: {e}"),
            WatchEvent::Warning(w) => write!(f, "warning: {w}"),
            WatchEvent::Rebuilt { service } => write!(f, "{service}: rebuilt"),
            WatchEvent::RebuildFailed { service, error } => {
                write!(
                    f,
                    "{service}: rebuild failed, still running the previous image: {error}"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_reads_as_one_line() {
        let b = BatchReport {
            service: "web".into(),
            synced: 3,
            restarted: 1,
            containers: 1,
            took: Duration::from_millis(42),
            ..Default::default()
        };
        assert_eq!(b.to_string(), "web: synced 3 files, restarted (took 42 ms)");
        let b = BatchReport {
            service: "api".into(),
            synced: 1,
            removed: 2,
            exec_codes: vec![0],
            containers: 2,
            took: Duration::from_millis(7),
            ..Default::default()
        };
        assert_eq!(
            b.to_string(),
            "api: synced 1 file, removed 2 files, exec exited 0 (took 7 ms)"
        );
    }

    #[test]
    fn no_container_is_said_plainly() {
        let b = BatchReport {
            service: "web".into(),
            synced: 0,
            ..Default::default()
        };
        assert_eq!(
            b.to_string(),
            "web: no running container, nothing applied (took 0 ms)"
        );
    }
}
