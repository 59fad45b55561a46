//! Paths as `docker cp` names them, and what Docker's clients are told
//! of them: the name an archive gives the path, symlinks followed to the
//! absolute path they lead to inside the container, Go's file mode bits.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{self as rfs, FileType, OFlags, Stat};
use stack_api::docker::containers::ContainerPathStat;
use stack_confine::ConfinedRoot;

/// Symlinks followed while resolving one path, as the kernel's limit.
const MAX_LINK_HOPS: u32 = 40;

/// A path as `docker cp` names it.
pub(super) struct Wanted {
    pub components: Vec<OsString>,
    /// The last element is followed when it is a symlink: the path ends
    /// with `/` or `/.`, or is the root.
    pub follow_last: bool,
    /// The name it has in the archive and the stat: the last component,
    /// `.` for `dir/.`, `/` for the root.
    pub name: String,
}

impl Wanted {
    pub fn parse(path: &str) -> Wanted {
        let components = stack_confine::components(Path::new(path));
        let dot = path == "." || path.ends_with("/.");
        let follow_last = components.is_empty() || dot || path.ends_with('/');
        let name = if dot {
            ".".to_string()
        } else {
            match components.last() {
                Some(last) => last.to_string_lossy().into_owned(),
                None => "/".to_string(),
            }
        };
        Wanted {
            components,
            follow_last,
            name,
        }
    }

    /// The parent's components and the last one (not the root: callers
    /// split only a path that does not follow its last element).
    pub fn split(&self) -> (&[OsString], &OsStr) {
        match self.components.split_last() {
            Some((last, parent)) => (parent, last),
            None => (&[], OsStr::new(".")),
        }
    }
}

/// The absolute path inside the container that `components` lead to,
/// every symlink followed inside the root (what `docker cp -L` copies).
pub(super) fn follow_links(root: &ConfinedRoot, components: &[OsString]) -> String {
    let mut resolved: Vec<OsString> = Vec::new();
    let mut pending: Vec<OsString> = components.iter().rev().cloned().collect();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let Ok(dir) = root.resolve(&resolved, OFlags::PATH | OFlags::DIRECTORY) else {
            resolved.push(part);
            continue;
        };
        match rfs::readlinkat(&dir, part.as_os_str(), Vec::new()) {
            Ok(target) if hops < MAX_LINK_HOPS => {
                hops += 1;
                let target = target.as_bytes();
                if target.starts_with(b"/") {
                    resolved.clear();
                }
                for piece in target.split(|b| *b == b'/').rev() {
                    if !piece.is_empty() && piece != b"." {
                        pending.push(OsStr::from_bytes(piece).to_os_string());
                    }
                }
            }
            _ => resolved.push(part),
        }
    }
    let mut out = String::new();
    for part in &resolved {
        out.push('/');
        out.push_str(&part.to_string_lossy());
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Docker's stat of a path.
pub(super) fn stat_of(name: &str, stat: &Stat, link_target: &str) -> ContainerPathStat {
    let mtime = std::time::UNIX_EPOCH
        + std::time::Duration::new(
            u64::try_from(stat.st_mtime).unwrap_or(0),
            u32::try_from(stat.st_mtime_nsec).unwrap_or(0),
        );
    ContainerPathStat {
        name: name.to_string(),
        size: stat.st_size,
        mode: go_file_mode(stat.st_mode),
        mtime: stack_runtime::timefmt::format(mtime),
        link_target: link_target.to_string(),
    }
}

/// `st_mode` in Go's `os.FileMode` bits, which Docker's clients decode.
fn go_file_mode(st_mode: u32) -> u32 {
    const DIR: u32 = 1 << 31;
    const SYMLINK: u32 = 1 << 27;
    const DEVICE: u32 = 1 << 26;
    const NAMED_PIPE: u32 = 1 << 25;
    const SOCKET: u32 = 1 << 24;
    const SETUID: u32 = 1 << 23;
    const SETGID: u32 = 1 << 22;
    const CHAR_DEVICE: u32 = 1 << 21;
    const STICKY: u32 = 1 << 20;
    let mut mode = st_mode & 0o777;
    mode |= match FileType::from_raw_mode(st_mode) {
        FileType::Directory => DIR,
        FileType::Symlink => SYMLINK,
        FileType::BlockDevice => DEVICE,
        FileType::CharacterDevice => DEVICE | CHAR_DEVICE,
        FileType::Fifo => NAMED_PIPE,
        FileType::Socket => SOCKET,
        _ => 0,
    };
    for (bit, go) in [(0o4000, SETUID), (0o2000, SETGID), (0o1000, STICKY)] {
        if st_mode & bit != 0 {
            mode |= go;
        }
    }
    mode
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_modes_are_go_file_modes() {
        assert_eq!(go_file_mode(0o100644), 0o644);
        assert_eq!(go_file_mode(0o040755), (1 << 31) | 0o755);
        assert_eq!(go_file_mode(0o120777), (1 << 27) | 0o777);
        assert_eq!(go_file_mode(0o104755), (1 << 23) | 0o755);
        assert_eq!(go_file_mode(0o041777), (1 << 31) | (1 << 20) | 0o777);
        assert_eq!(go_file_mode(0o020666), (1 << 26) | (1 << 21) | 0o666);
    }

    #[test]
    fn paths_name_what_docker_cp_names() {
        let cases = [
            ("/etc/hosts", false, "hosts"),
            ("etc/", true, "etc"),
            ("/etc/.", true, "."),
            ("/", true, "/"),
            ("/a/../b", false, "b"),
        ];
        for (path, follow, name) in cases {
            let wanted = Wanted::parse(path);
            assert_eq!(
                (wanted.follow_last, wanted.name.as_str()),
                (follow, name),
                "{path}"
            );
        }
    }

    #[test]
    fn links_are_followed_inside_the_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path();
        std::fs::create_dir_all(base.join("real/sub")).expect("mkdir");
        std::os::unix::fs::symlink("/real", base.join("abs")).expect("link");
        std::os::unix::fs::symlink("../../..", base.join("real/up")).expect("link");
        std::os::unix::fs::symlink("sub", base.join("real/rel")).expect("link");
        let root = ConfinedRoot::open(base).expect("root");
        let follow = |p: &str| follow_links(&root, &stack_confine::components(Path::new(p)));
        assert_eq!(follow("/abs"), "/real");
        assert_eq!(follow("/abs/rel"), "/real/sub");
        assert_eq!(
            follow("/real/up"),
            "/",
            "`..` stops at the container's root"
        );
        assert_eq!(follow("/missing/x"), "/missing/x");
    }
}
