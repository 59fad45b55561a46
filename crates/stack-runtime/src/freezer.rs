//! Freezing and thawing a container's cgroup: what `pause` and `unpause`
//! do to its processes. The kernel stops every task of a frozen cgroup
//! where it stands (no signal the container could catch or notice) and
//! lets them go on where they were when it is thawed.
//!
//! Which file does it depends on the host: on cgroup v2 `cgroup.freeze`
//! (the freeze is done once `cgroup.events` says `frozen 1`), on v1 the
//! `freezer` hierarchy's `freezer.state` (`FROZEN`, passing through
//! `FREEZING` while tasks are still being stopped). A hybrid host with a
//! v1 freezer uses it, as runc does there; one without uses the cgroup2
//! directory every container also has on such a host.
//!
//! The files are reached through [`CgroupFiles`], so the waiting and the
//! choice of files are tested against a script of what the kernel answers.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cgroup::Cgroup;
use crate::error::Error;

/// How long a freeze may take before it is given up (and undone). A task
/// in an uninterruptible sleep (a hung NFS read) cannot be frozen; the
/// kernel keeps the cgroup `FREEZING` then, and the pause must fail
/// rather than leave the container half stopped.
pub const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

/// The pause between two looks at a freeze under way.
const FREEZE_POLL: Duration = Duration::from_millis(1);

/// The two cgroupfs operations a freeze needs.
pub trait CgroupFiles {
    fn write(&mut self, path: &Path, value: &str) -> Result<(), Error>;
    /// The file's content; `None` when it cannot be read.
    fn read(&mut self, path: &Path) -> Option<String>;
}

/// The host's cgroupfs.
pub struct HostFiles;

impl CgroupFiles for HostFiles {
    fn write(&mut self, path: &Path, value: &str) -> Result<(), Error> {
        std::fs::write(path, value)
            .map_err(|e| Error::io(format!("write {value:?} to {}", path.display()), e))
    }

    fn read(&mut self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
}

/// Where a cgroup's freezer is, and which of the two interfaces it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freezer {
    /// The v1 `freezer` controller's directory.
    V1(PathBuf),
    /// A cgroup2 directory (`cgroup.freeze`, `cgroup.events`).
    V2(PathBuf),
}

impl Freezer {
    /// The freezer of `cgroup`, named for errors by `name`. A container
    /// whose freezer directory is missing (started before stack joined
    /// containers to the freezer) cannot be paused until it is restarted.
    pub fn of(cgroup: &Cgroup, name: &str) -> Result<Freezer, Error> {
        let v2 = if cgroup.unified { "" } else { "unified" };
        let found = match (cgroup.dir("freezer"), cgroup.dir(v2)) {
            (Some(dir), _) => Freezer::V1(dir.to_path_buf()),
            (None, Some(dir)) => Freezer::V2(dir.to_path_buf()),
            (None, None) => {
                return Err(Error::refused(
                    format!("pause of container {name}"),
                    "this host has neither the cgroup v1 freezer nor cgroup v2",
                ))
            }
        };
        if !found.dir().is_dir() {
            return Err(Error::refused(
                format!("pause of container {name}"),
                format!(
                    "its cgroup {} does not exist (a container started by an older stack \
                     has no freezer cgroup: restart it once to pause it)",
                    found.dir().display()
                ),
            ));
        }
        Ok(found)
    }

    fn dir(&self) -> &Path {
        match self {
            Freezer::V1(dir) | Freezer::V2(dir) => dir,
        }
    }

    /// Freezes the cgroup and waits until every task is stopped; after
    /// `timeout` the freeze is undone and refused.
    pub fn freeze(&self, files: &mut dyn CgroupFiles, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        let done = match self {
            Freezer::V1(dir) => {
                let state = dir.join("freezer.state");
                // Each write of FROZEN makes the kernel try again the tasks
                // it could not stop yet (runc does the same).
                poll_until(deadline, || {
                    files.write(&state, "FROZEN")?;
                    Ok(files.read(&state).is_some_and(|s| s.trim() == "FROZEN"))
                })?
            }
            Freezer::V2(dir) => {
                files.write(&dir.join("cgroup.freeze"), "1")?;
                let events = dir.join("cgroup.events");
                poll_until(deadline, || {
                    Ok(files
                        .read(&events)
                        .is_some_and(|text| keyed(&text, "frozen") == Some("1")))
                })?
            }
        };
        if done {
            return Ok(());
        }
        let _ = self.thaw(files);
        Err(Error::invalid(
            format!("freeze of cgroup {}", self.dir().display()),
            format!(
                "its processes were not all stopped within {}s (one is in an \
                 uninterruptible sleep?); it was thawed again",
                timeout.as_secs()
            ),
        ))
    }

    /// Lets the cgroup's tasks run again. Thawing is immediate in both
    /// interfaces: the write returns once the tasks are woken.
    pub fn thaw(&self, files: &mut dyn CgroupFiles) -> Result<(), Error> {
        match self {
            Freezer::V1(dir) => files.write(&dir.join("freezer.state"), "THAWED"),
            Freezer::V2(dir) => files.write(&dir.join("cgroup.freeze"), "0"),
        }
    }

    /// Whether the cgroup is frozen (or being frozen) now.
    pub fn is_frozen(&self, files: &mut dyn CgroupFiles) -> bool {
        match self {
            Freezer::V1(dir) => files
                .read(&dir.join("freezer.state"))
                .is_some_and(|s| s.trim() != "THAWED"),
            Freezer::V2(dir) => files
                .read(&dir.join("cgroup.freeze"))
                .is_some_and(|s| s.trim() == "1"),
        }
    }
}

impl Cgroup {
    /// Thaws every freezer the cgroup has, whoever froze it: before a
    /// removal, where a frozen task would never finish dying.
    pub(crate) fn thaw_all(&self) {
        for (_, dir) in &self.dirs {
            for (file, value) in [("freezer.state", "THAWED"), ("cgroup.freeze", "0")] {
                let path = dir.join(file);
                if path.exists() {
                    let _ = HostFiles.write(&path, value);
                }
            }
        }
    }
}

/// Calls `look` until it says done or `deadline` passes; false then.
fn poll_until(
    deadline: Instant,
    mut look: impl FnMut() -> Result<bool, Error>,
) -> Result<bool, Error> {
    loop {
        if look()? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(FREEZE_POLL);
    }
}

/// The value of `key` in `key value` lines (`cgroup.events`).
fn keyed<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then_some(v.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::Layout;
    use std::collections::{BTreeMap, VecDeque};

    /// A cgroupfs whose reads answer from a script per file (the last
    /// answer repeats), recording every write.
    #[derive(Default)]
    struct Script {
        answers: BTreeMap<PathBuf, VecDeque<String>>,
        writes: Vec<(PathBuf, String)>,
    }

    impl Script {
        fn answer(mut self, path: &Path, values: &[&str]) -> Self {
            self.answers.insert(
                path.to_path_buf(),
                values.iter().map(|v| v.to_string()).collect(),
            );
            self
        }
    }

    impl CgroupFiles for Script {
        fn write(&mut self, path: &Path, value: &str) -> Result<(), Error> {
            self.writes.push((path.to_path_buf(), value.to_string()));
            Ok(())
        }

        fn read(&mut self, path: &Path) -> Option<String> {
            let queue = self.answers.get_mut(path)?;
            if queue.len() > 1 {
                queue.pop_front()
            } else {
                queue.front().cloned()
            }
        }
    }

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("stack-freezer-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn v1_waits_through_freezing_and_writes_frozen_again() {
        let dir = PathBuf::from("/cg/freezer/stack/c1");
        let state = dir.join("freezer.state");
        let mut files = Script::default().answer(&state, &["FREEZING", "FREEZING", "FROZEN"]);
        Freezer::V1(dir.clone())
            .freeze(&mut files, Duration::from_secs(5))
            .expect("frozen");
        let writes: Vec<&str> = files.writes.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(writes, ["FROZEN", "FROZEN", "FROZEN"]);
        assert!(files.writes.iter().all(|(p, _)| p == &state));
    }

    #[test]
    fn v1_stuck_in_freezing_is_thawed_and_refused() {
        let dir = PathBuf::from("/cg/freezer/stack/c2");
        let state = dir.join("freezer.state");
        let mut files = Script::default().answer(&state, &["FREEZING"]);
        let err = Freezer::V1(dir)
            .freeze(&mut files, Duration::from_millis(20))
            .expect_err("never frozen");
        assert!(err.to_string().contains("thawed again"), "{err}");
        assert_eq!(files.writes.last().map(|(_, v)| v.as_str()), Some("THAWED"));
    }

    #[test]
    fn v2_writes_freeze_once_and_waits_for_the_event() {
        let dir = PathBuf::from("/cg/stack/c3");
        let events = dir.join("cgroup.events");
        let mut files = Script::default().answer(
            &events,
            &["populated 1\nfrozen 0\n", "populated 1\nfrozen 1\n"],
        );
        let freezer = Freezer::V2(dir.clone());
        freezer
            .freeze(&mut files, Duration::from_secs(5))
            .expect("frozen");
        assert_eq!(files.writes, [(dir.join("cgroup.freeze"), "1".to_string())]);
        freezer.thaw(&mut files).expect("thaw");
        assert_eq!(
            files.writes.last(),
            Some(&(dir.join("cgroup.freeze"), "0".to_string()))
        );
    }

    #[test]
    fn the_v1_freezer_wins_on_a_hybrid_host_and_cgroup2_serves_without_it() {
        let root = temp("choice");
        let with = Layout::Legacy {
            hierarchies: vec!["freezer".into(), "memory".into()],
            unified: true,
        };
        let cg = Cgroup::at(&root, &with, "stack/c4");
        for (_, dir) in &cg.dirs {
            std::fs::create_dir_all(dir).expect("fixture");
        }
        assert_eq!(
            Freezer::of(&cg, "c4").expect("freezer"),
            Freezer::V1(root.join("freezer/stack/c4"))
        );
        let without = Layout::Legacy {
            hierarchies: vec!["memory".into()],
            unified: true,
        };
        let cg = Cgroup::at(&root, &without, "stack/c4");
        assert_eq!(
            Freezer::of(&cg, "c4").expect("freezer"),
            Freezer::V2(root.join("unified/stack/c4"))
        );
        let neither = Layout::Legacy {
            hierarchies: vec!["memory".into()],
            unified: false,
        };
        let err =
            Freezer::of(&Cgroup::at(&root, &neither, "stack/c4"), "web-1").expect_err("no freezer");
        assert!(err.to_string().contains("web-1"), "{err}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_missing_freezer_directory_says_to_restart() {
        let root = temp("missing");
        let layout = Layout::Legacy {
            hierarchies: vec!["freezer".into()],
            unified: false,
        };
        let err = Freezer::of(&Cgroup::at(&root, &layout, "stack/c5"), "old-1")
            .expect_err("no directory");
        let text = err.to_string();
        assert!(
            text.contains("old-1") && text.contains("restart it"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn frozen_reads_both_interfaces() {
        let v1 = PathBuf::from("/cg/freezer/x");
        let v2 = PathBuf::from("/cg/x");
        let mut files = Script::default()
            .answer(&v1.join("freezer.state"), &["FREEZING\n"])
            .answer(&v2.join("cgroup.freeze"), &["0\n"]);
        assert!(Freezer::V1(v1).is_frozen(&mut files));
        assert!(!Freezer::V2(v2).is_frozen(&mut files));
    }
}
