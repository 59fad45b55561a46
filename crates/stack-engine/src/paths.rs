//! Where stack keeps things on the host (DESIGN.md, "Host conventions").

use std::path::{Component, Path, PathBuf};

/// Default state root: images, snapshots, containers, volumes, the store.
pub const DEFAULT_STATE_ROOT: &str = "/var/lib/stack";
/// Default runtime directory: sockets, netns files, pid files.
pub const DEFAULT_RUN_DIR: &str = "/run/stack";
/// Default configuration file.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/stack/config.toml";

/// The host locations one invocation of stack works with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    pub state_root: PathBuf,
    pub run_dir: PathBuf,
    pub config_file: PathBuf,
}

impl HostPaths {
    /// Resolves each location from an explicit value (a command-line flag),
    /// then its environment variable, then the default.
    pub fn resolve(
        state_root: Option<PathBuf>,
        run_dir: Option<PathBuf>,
        config_file: Option<PathBuf>,
    ) -> Self {
        fn pick(explicit: Option<PathBuf>, var: &str, default: &str) -> PathBuf {
            explicit
                .or_else(|| {
                    std::env::var_os(var)
                        .filter(|v| !v.is_empty())
                        .map(PathBuf::from)
                })
                .unwrap_or_else(|| PathBuf::from(default))
        }
        HostPaths {
            state_root: pick(state_root, "STACK_ROOT", DEFAULT_STATE_ROOT),
            run_dir: pick(run_dir, "STACK_RUN", DEFAULT_RUN_DIR),
            config_file: pick(config_file, "STACK_CONFIG", DEFAULT_CONFIG_FILE),
        }
    }

    /// The daemon's socket inside the runtime directory.
    pub fn daemon_socket(&self) -> PathBuf {
        self.run_dir.join("stack.sock")
    }
}

/// A name that is not one plain path component.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} cannot name an entry of {}: it must be one plain path component", .dir.display())]
pub struct UnsafeName {
    pub dir: PathBuf,
    pub name: String,
}

/// `dir/name`, for a `name` that came from outside (a stack file, the
/// command line, the API, a record on disk): refused unless it is exactly
/// one normal component, so the path stays directly under `dir` (no `/`,
/// `.`, `..`, empty or NUL). Every path under the state root or the
/// runtime directory built from a name goes through here.
pub fn child(dir: &Path, name: &str) -> Result<PathBuf, UnsafeName> {
    let mut components = Path::new(name).components();
    let one_normal = matches!(components.next(), Some(Component::Normal(c)) if c == name)
        && components.next().is_none();
    if one_normal && !name.contains('\0') {
        Ok(dir.join(name))
    } else {
        Err(UnsafeName {
            dir: dir.to_path_buf(),
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_paths_stay_under_their_directory() {
        let dir = Path::new("/var/lib/stack/volumes");
        assert_eq!(child(dir, "data").expect("plain"), dir.join("data"));
        assert_eq!(child(dir, "a..b").expect("dots inside"), dir.join("a..b"));
        for bad in ["", ".", "..", "../x", "a/b", "/etc", "x/", "./x", "a\0b"] {
            let err = child(dir, bad).expect_err(bad);
            assert!(
                err.to_string().contains("one plain path component"),
                "{err}"
            );
        }
    }

    #[test]
    fn explicit_values_win() {
        let p = HostPaths::resolve(Some("/a".into()), Some("/b".into()), Some("/c.toml".into()));
        assert_eq!(p.state_root, PathBuf::from("/a"));
        assert_eq!(p.run_dir, PathBuf::from("/b"));
        assert_eq!(p.config_file, PathBuf::from("/c.toml"));
        assert_eq!(p.daemon_socket(), PathBuf::from("/b/stack.sock"));
    }
}
