//! What can stop `stack watch` from starting or going on.

use std::path::PathBuf;

use super::rules::RuleError;

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(
        "cannot watch {path}: the limit of inotify watches is reached; raise it with \
         `sysctl fs.inotify.max_user_watches=524288` (or ignore large directories in the rule)"
    )]
    WatchLimit { path: PathBuf },
    #[error("cannot watch {path}: {source}")]
    Watch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
    #[error("the file watcher stopped")]
    WatcherGone,
    /// The stack file did not load: its diagnostics, rendered (file, line,
    /// column) as the loader does for the terminal.
    #[error("{0}")]
    Load(String),
    #[error("applying the stack: {0}")]
    Apply(#[source] crate::apply::ApplyError),
}
