//! inotify through notify, reduced to what the dev loop needs: which paths
//! changed, and when events were lost.
//!
//! Directories are watched, never single files: an editor's atomic save
//! (write a temporary file, rename it over) replaces the file's inode and
//! a watch on the old inode would go silent. A rule on a single file
//! watches its parent directory, and routing filters by name.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, Flag};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use super::error::WatchError;

/// What one notify message means for us.
#[derive(Debug, PartialEq)]
pub enum Signal {
    /// These paths were created, written, removed, renamed or chmod'ed.
    Changed(Vec<PathBuf>),
    /// Events were lost (the kernel queue overflowed): compare these trees
    /// whole, or every watched tree when empty.
    Rescan(Vec<PathBuf>),
    /// Nothing of interest (reads, opens).
    Noise,
}

/// Classifies one event: reads and opens are noise, a `Rescan` flag (the
/// kernel's IN_Q_OVERFLOW) asks for a full comparison.
pub fn classify(event: &Event) -> Signal {
    if event.flag() == Some(Flag::Rescan) {
        return Signal::Rescan(event.paths.clone());
    }
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
            Signal::Changed(event.paths.clone())
        }
        EventKind::Access(_) => Signal::Noise,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Any => {
            Signal::Changed(event.paths.clone())
        }
        EventKind::Other => Signal::Noise,
    }
}

/// Whether a watch error is the kernel's "too many watches" (ENOSPC).
pub fn is_watch_limit(err: &notify::Error) -> bool {
    match &err.kind {
        notify::ErrorKind::MaxFilesWatch => true,
        notify::ErrorKind::Io(io) => io.raw_os_error() == Some(nix::libc::ENOSPC),
        _ => false,
    }
}

/// One inotify instance for the whole project (instances are limited to
/// 128 per user; watches are the cheap part).
pub struct FileWatcher {
    inner: RecommendedWatcher,
    events: Receiver<notify::Result<Event>>,
    /// Roots watched, for a full rescan.
    pub roots: Vec<PathBuf>,
    /// The recursively watched ones among them.
    pub trees: Vec<PathBuf>,
}

impl FileWatcher {
    /// Watches `trees` recursively and `dirs` alone, skipping what is
    /// already covered by a recursive tree (watching a path twice would
    /// replace its recursive watch with a shallow one).
    pub fn new(trees: &[PathBuf], dirs: &[PathBuf]) -> Result<FileWatcher, WatchError> {
        let (tx, events) = std::sync::mpsc::channel();
        let mut inner = notify::recommended_watcher(move |res| {
            let _ = tx.send(res);
        })
        .map_err(|source| WatchError::Watch {
            path: PathBuf::from("inotify"),
            source,
        })?;
        let (trees, dirs) = plan_watches(trees, dirs);
        for (path, mode) in trees
            .iter()
            .map(|p| (p, RecursiveMode::Recursive))
            .chain(dirs.iter().map(|p| (p, RecursiveMode::NonRecursive)))
        {
            inner.watch(path, mode).map_err(|source| {
                if is_watch_limit(&source) {
                    WatchError::WatchLimit { path: path.clone() }
                } else {
                    WatchError::Watch {
                        path: path.clone(),
                        source,
                    }
                }
            })?;
        }
        let mut roots = trees.clone();
        roots.extend(dirs);
        Ok(FileWatcher {
            inner,
            events,
            roots,
            trees,
        })
    }

    /// The next notify message, waiting at most `timeout`; `Ok(None)` when
    /// nothing came.
    pub fn next(&self, timeout: Duration) -> Result<Option<notify::Result<Event>>, WatchError> {
        match self.events.recv_timeout(timeout) {
            Ok(msg) => Ok(Some(msg)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(WatchError::WatcherGone),
        }
    }

    /// A message already waiting, without blocking.
    pub fn try_next(&self) -> Option<notify::Result<Event>> {
        self.events.try_recv().ok()
    }

    /// Keeps the watcher alive (notify stops on drop).
    pub fn inner(&self) -> &RecommendedWatcher {
        &self.inner
    }
}

/// Which paths get which watch: trees (deduplicated, nested ones dropped,
/// missing ones dropped) and shallow dirs not inside any tree.
pub fn plan_watches(trees: &[PathBuf], dirs: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut tree_set: BTreeSet<PathBuf> = BTreeSet::new();
    let mut shallow: BTreeSet<PathBuf> = BTreeSet::new();
    for t in trees {
        if t.is_dir() {
            tree_set.insert(t.clone());
        } else if let Some(parent) = t.parent() {
            // A single file (or one not there yet): its directory.
            shallow.insert(parent.to_path_buf());
        }
    }
    shallow.extend(dirs.iter().cloned());
    let covered =
        |p: &Path, set: &BTreeSet<PathBuf>| set.iter().any(|t| p.starts_with(t) && p != t);
    let trees: Vec<PathBuf> = tree_set
        .iter()
        .filter(|t| !covered(t, &tree_set))
        .cloned()
        .collect();
    let dirs = shallow
        .into_iter()
        .filter(|d| d.is_dir() && !trees.iter().any(|t| d.starts_with(t)))
        .collect();
    (trees, dirs)
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, ModifyKind, RenameMode};

    use super::*;

    fn event(kind: EventKind, path: &str) -> Event {
        Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn writes_creates_removes_and_renames_are_changes() {
        for kind in [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            EventKind::Remove(notify::event::RemoveKind::Any),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
        ] {
            assert_eq!(
                classify(&event(kind, "/p/a")),
                Signal::Changed(vec![PathBuf::from("/p/a")])
            );
        }
    }

    #[test]
    fn opens_and_reads_are_noise() {
        assert_eq!(
            classify(&event(
                EventKind::Access(AccessKind::Open(AccessMode::Any)),
                "/p/a"
            )),
            Signal::Noise
        );
    }

    #[test]
    fn an_overflow_asks_for_a_rescan() {
        let e = Event::new(EventKind::Other).set_flag(Flag::Rescan);
        assert_eq!(classify(&e), Signal::Rescan(vec![]));
    }

    #[test]
    fn the_watch_limit_is_recognised() {
        assert!(is_watch_limit(&notify::Error::new(
            notify::ErrorKind::MaxFilesWatch
        )));
        assert!(is_watch_limit(&notify::Error::io(
            std::io::Error::from_raw_os_error(nix::libc::ENOSPC)
        )));
        assert!(!is_watch_limit(&notify::Error::generic("other")));
    }

    #[test]
    fn nested_and_covered_watches_are_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path();
        for d in ["src/lib", "other"] {
            std::fs::create_dir_all(p.join(d)).expect("dirs");
        }
        std::fs::write(p.join("package.json"), "{}").expect("file");
        let (trees, dirs) = plan_watches(
            &[p.join("src"), p.join("src/lib"), p.join("package.json")],
            &[p.join("src"), p.join("other"), p.to_path_buf()],
        );
        assert_eq!(trees, vec![p.join("src")]);
        assert_eq!(dirs, vec![p.to_path_buf(), p.join("other")]);
    }
}
