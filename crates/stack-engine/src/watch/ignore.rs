//! Which changed paths a watch rule cares about: `.dockerignore`-style
//! `ignore` patterns, the `include` allow-list, and the files every editor
//! and VCS churns that nobody wants synced (`.git/`, swap and backup files).
//!
//! `.dockerignore` semantics, as Docker's pattern matcher has them: patterns
//! are relative to the rule's path (a leading `/` changes nothing), `*` and
//! `?` stay within one path component, `**` spans any number of them, a
//! pattern that matches a directory also matches everything below it, `!`
//! re-includes, and the last matching pattern wins.

use std::path::{Component, Path};

use globset::{GlobBuilder, GlobMatcher};

/// Names that are never synced, wherever they appear: VCS metadata, IDE
/// state, and the temporary files editors write while saving (Vim's `4913`
/// probe, swap files and `~` backups; Emacs' `.#` locks; JetBrains'
/// safe-write copies).
const ALWAYS_IGNORED_DIRS: &[&str] = &[".git", ".hg", ".svn", ".idea"];
const ALWAYS_IGNORED_FILES: &[&str] = &[
    "4913",
    "*~",
    "*.swp",
    "*.swx",
    "*.swo",
    "*.swn",
    ".#*",
    "*___jb_old___",
    "*___jb_tmp___",
    ".stack-sync-*",
];

/// A bad pattern, named as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pattern {pattern:?}: {message}")]
pub struct PatternError {
    pub pattern: String,
    pub message: String,
}

/// One compiled list of `.dockerignore` lines.
#[derive(Debug, Clone, Default)]
pub struct PatternList {
    rules: Vec<(GlobMatcher, bool)>,
}

impl PatternList {
    /// Compiles `lines`; blank lines and `#` comments are skipped.
    pub fn new<S: AsRef<str>>(lines: &[S]) -> Result<PatternList, PatternError> {
        let mut rules = Vec::new();
        for line in lines {
            let line = line.as_ref().trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negated, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let cleaned = clean(pattern);
            if cleaned.is_empty() {
                continue;
            }
            let glob = GlobBuilder::new(&cleaned)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| PatternError {
                    pattern: line.to_string(),
                    message: e.kind().to_string(),
                })?;
            rules.push((glob.compile_matcher(), negated));
        }
        Ok(PatternList { rules })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether `relative` (or a directory above it) is matched, the last
    /// matching pattern deciding.
    pub fn matches(&self, relative: &Path) -> bool {
        let mut matched = false;
        for (glob, negated) in &self.rules {
            if glob.is_match(relative) || ancestors(relative).any(|a| glob.is_match(a)) {
                matched = !negated;
            }
        }
        matched
    }
}

/// Strips `./`, a leading `/` and trailing slashes, as Docker cleans patterns.
fn clean(pattern: &str) -> String {
    let mut parts = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// The proper ancestors of a relative path, innermost first, without "".
fn ancestors(relative: &Path) -> impl Iterator<Item = &Path> {
    relative
        .ancestors()
        .skip(1)
        .filter(|a| !a.as_os_str().is_empty())
}

/// Whether a path is one of the always-ignored names (checked on every
/// component, so `.git/objects/ab/cd` is ignored too).
pub fn always_ignored(relative: &Path) -> bool {
    let mut components = relative.components().peekable();
    while let Some(component) = components.next() {
        let Component::Normal(name) = component else {
            continue;
        };
        let name = name.to_string_lossy();
        if ALWAYS_IGNORED_DIRS.contains(&name.as_ref()) {
            return true;
        }
        if components.peek().is_none() && ALWAYS_IGNORED_FILES.iter().any(|p| glob_name(p, &name)) {
            return true;
        }
    }
    false
}

/// The tiny glob of the built-in list: one `*` at the start or the end.
fn glob_name(pattern: &str, name: &str) -> bool {
    if let Some(suffix) = pattern.strip_prefix('*') {
        name.ends_with(suffix)
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        name.starts_with(prefix)
    } else {
        name == pattern
    }
}

/// What one rule syncs: not always-ignored, not matched by `ignore`, and
/// matched by `include` when there is one.
#[derive(Debug, Clone, Default)]
pub struct PathFilter {
    pub ignore: PatternList,
    pub include: PatternList,
}

impl PathFilter {
    pub fn new<S: AsRef<str>>(ignore: &[S], include: &[S]) -> Result<PathFilter, PatternError> {
        Ok(PathFilter {
            ignore: PatternList::new(ignore)?,
            include: PatternList::new(include)?,
        })
    }

    /// Whether a file at `relative` (to the rule's path) is synced.
    pub fn wants_file(&self, relative: &Path) -> bool {
        !self.skips_dir(relative) && (self.include.is_empty() || self.include.matches(relative))
    }

    /// Whether a directory (and so everything below it) is left out; an
    /// include list never prunes directories, since files below may match.
    pub fn skips_dir(&self, relative: &Path) -> bool {
        always_ignored(relative) || self.ignore.matches(relative)
    }
}

#[cfg(test)]
#[path = "ignore_tests.rs"]
mod tests;
