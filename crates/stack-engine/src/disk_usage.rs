//! How much disk a directory tree takes, for what prunes report.

use std::path::Path;

/// Bytes of the regular files below `dir` (links not followed; what
/// cannot be read counts nothing).
pub fn bytes_below(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}
