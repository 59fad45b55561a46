//! Whether a build still runs, told by the directory it holds under
//! `<state root>/build-tmp/` (see `build::leftovers`, which makes and
//! sweeps them). Apart from the builder so the image store can ask it
//! about a lease holder without depending on the builder.

use std::fs::File;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

/// The tree of build directories below the state root.
pub fn tmp_root(state_root: &Path) -> PathBuf {
    state_root.join("build-tmp")
}

/// Whether `name` is a directory under `build-tmp` that a live build
/// holds. Names with a `/` or a leading `.` are no build's.
pub fn is_live(state_root: &Path, name: &str) -> bool {
    if name.is_empty() || name.starts_with('.') || name.contains('/') {
        return false;
    }
    match File::open(tmp_root(state_root).join(name)) {
        Ok(dir) => matches!(
            Flock::lock(dir, FlockArg::LockExclusiveNonblock),
            Err((_, nix::errno::Errno::EWOULDBLOCK))
        ),
        Err(_) => false,
    }
}
