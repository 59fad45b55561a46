//! `.dockerignore`: which paths of the build context the builder leaves
//! out, with Docker's rules. Lines are patterns (comments `#` at the very
//! start of a line and blank lines skipped; leading `/` and `./` dropped;
//! paths cleaned); `!` makes an exception; the last pattern that matches
//! a path decides; and a pattern matching a directory matches everything
//! under it.

mod glob;

#[cfg(test)]
mod tests;

use glob::Glob;

/// A `.dockerignore` pattern Docker would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(".dockerignore line {line}: {problem}")]
pub struct IgnoreError {
    pub line: usize,
    pub problem: String,
}

#[derive(Debug, Clone)]
struct Pattern {
    glob: Glob,
    exception: bool,
}

/// The compiled patterns of one `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct IgnoreMatcher {
    patterns: Vec<Pattern>,
}

impl IgnoreMatcher {
    /// Reads `.dockerignore` text.
    pub fn parse(text: &str) -> Result<IgnoreMatcher, IgnoreError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut patterns = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            if raw.starts_with('#') {
                continue;
            }
            let pattern = raw.trim();
            if pattern.is_empty() {
                continue;
            }
            let (exception, body) = match pattern.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, pattern),
            };
            if exception && body.is_empty() {
                return Err(IgnoreError {
                    line,
                    problem: "illegal exclusion pattern: \"!\"".into(),
                });
            }
            let cleaned = clean(body);
            let cleaned = match cleaned.strip_prefix('/') {
                Some(rest) if !rest.is_empty() => rest.to_string(),
                _ => cleaned,
            };
            let glob = Glob::new(&cleaned).map_err(|problem| IgnoreError { line, problem })?;
            patterns.push(Pattern { glob, exception });
        }
        Ok(IgnoreMatcher { patterns })
    }

    /// No patterns: nothing is excluded.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether any `!` exception exists (without one, an excluded
    /// directory can be skipped whole).
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out.
    pub fn matches(&self, path: &str) -> bool {
        let path = clean(path);
        let path = path.trim_start_matches('/');
        if path.is_empty() || path == "." {
            return false;
        }
        let parents: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
        let mut excluded = false;
        for p in &self.patterns {
            // Only an exception can change an excluded path, and only an
            // exclusion an included one.
            if p.exception != excluded {
                continue;
            }
            if p.glob.matches(path) || parents.iter().any(|d| p.glob.matches(d)) {
                excluded = !p.exception;
            }
        }
        excluded
    }

    /// Whether a walk must still look inside the excluded directory `dir`
    /// because an exception could bring back something below it. Errs on
    /// the side of looking.
    pub fn may_contain_exceptions(&self, dir: &str) -> bool {
        let dir = clean(dir);
        let dir = dir.trim_start_matches('/');
        self.patterns
            .iter()
            .filter(|p| p.exception)
            .any(|p| dir.is_empty() || dir == "." || p.glob.may_match_below(dir))
    }
}

/// A path made plain as Go's `filepath.Clean` makes it: no `.`, no
/// empty components, `..` folded, no trailing `/`.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}
