//! Where stack keeps things on the host (DESIGN.md, "Host conventions").

use std::path::PathBuf;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_values_win() {
        let p = HostPaths::resolve(Some("/a".into()), Some("/b".into()), Some("/c.toml".into()));
        assert_eq!(p.state_root, PathBuf::from("/a"));
        assert_eq!(p.run_dir, PathBuf::from("/b"));
        assert_eq!(p.config_file, PathBuf::from("/c.toml"));
        assert_eq!(p.daemon_socket(), PathBuf::from("/b/stack.sock"));
    }
}
