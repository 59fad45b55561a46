//! Relative paths in a stack file are relative to the directory they are
//! resolved against (the project directory, or an included/extended file's
//! own directory). They are made absolute on the tree, per file, before
//! merging, so that later stages never have to know where a value came from.

use std::path::{Component, Path, PathBuf};

use crate::yaml::{Node, ScalarKind, Value};

/// Makes the paths of one file's tree absolute against `base`; `home`
/// expands a leading `~`.
pub fn absolutize(root: &mut Node, base: &Path, home: Option<&str>) {
    let Some(m) = root.as_map_mut() else { return };
    if let Some(services) = m.get_mut("services").and_then(Node::as_map_mut) {
        for (_, service) in services.entries.iter_mut() {
            if let Some(s) = service.as_map_mut() {
                service_paths(s, base, home);
            }
        }
    }
    for kind in ["secrets", "configs"] {
        if let Some(objects) = m.get_mut(kind).and_then(Node::as_map_mut) {
            for (_, o) in objects.entries.iter_mut() {
                if let Some(file) = o.as_map_mut().and_then(|om| om.get_mut("file")) {
                    rewrite(file, base, home);
                }
            }
        }
    }
}

fn service_paths(s: &mut crate::yaml::Mapping, base: &Path, home: Option<&str>) {
    if let Some(build) = s.get_mut("build") {
        match build.as_map_mut() {
            Some(b) => {
                if let Some(ctx) = b.get_mut("context") {
                    rewrite_unless_url(ctx, base, home);
                }
            }
            None => rewrite_unless_url(build, base, home),
        }
    }
    if let Some(env_file) = s.get_mut("env_file") {
        for_each_item(env_file, |item| match item.as_map_mut() {
            Some(m) => {
                if let Some(p) = m.get_mut("path") {
                    rewrite(p, base, home)
                }
            }
            None => rewrite(item, base, home),
        });
    }
    if let Some(extends) = s.get_mut("extends").and_then(Node::as_map_mut) {
        if let Some(file) = extends.get_mut("file") {
            rewrite(file, base, home);
        }
    }
    if let Some(volumes) = s.get_mut("volumes") {
        for_each_item(volumes, |item| volume_path(item, base, home));
    }
    if let Some(develop) = s.get_mut("develop").and_then(Node::as_map_mut) {
        if let Some(watch) = develop.get_mut("watch") {
            for_each_item(watch, |rule| {
                if let Some(p) = rule.as_map_mut().and_then(|r| r.get_mut("path")) {
                    rewrite(p, base, home);
                }
            });
        }
    }
}

fn for_each_item(node: &mut Node, mut f: impl FnMut(&mut Node)) {
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(f),
        _ => f(node),
    }
}

fn volume_path(item: &mut Node, base: &Path, home: Option<&str>) {
    if let Some(m) = item.as_map_mut() {
        let is_bind = m.get("type").and_then(Node::as_text) == Some("bind");
        if is_bind {
            if let Some(src) = m.get_mut("source") {
                rewrite(src, base, home);
            }
        }
        return;
    }
    let Value::Scalar(s) = &mut item.value else {
        return;
    };
    if s.kind != ScalarKind::Str || !s.text.starts_with(['.', '~']) {
        return;
    }
    if let Some((source, rest)) = s.text.split_once(':') {
        let resolved = resolve(source, base, home);
        s.text = format!("{resolved}:{rest}");
    }
}

fn rewrite_unless_url(node: &mut Node, base: &Path, home: Option<&str>) {
    if let Some(text) = node.as_text() {
        if text.contains("://") || text.starts_with("git@") {
            return;
        }
    }
    rewrite(node, base, home);
}

fn rewrite(node: &mut Node, base: &Path, home: Option<&str>) {
    if let Value::Scalar(s) = &mut node.value {
        if s.kind == ScalarKind::Str || !s.text.is_empty() {
            s.text = resolve(&s.text, base, home);
            s.kind = ScalarKind::Str;
        }
    }
}

/// `~/x` -> `$HOME/x`, relative -> `base/x`, then `.` and `..` folded.
/// An absolute path is left as written, as Compose leaves it.
pub fn resolve(path: &str, base: &Path, home: Option<&str>) -> String {
    if path.starts_with('/') {
        return path.to_string();
    }
    let expanded: PathBuf = match (path.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(format!("{home}{rest}"))
        }
        _ => PathBuf::from(path),
    };
    let joined = if expanded.is_absolute() {
        expanded
    } else {
        base.join(expanded)
    };
    clean(&joined).display().to_string()
}

/// Folds `.` and `..` without touching the file system.
pub fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Go's `path.Clean`: the shortest equivalent path (`/a//b/./c/` is `/a/b/c`).
pub fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_home_and_dots() {
        let base = Path::new("/p/app");
        assert_eq!(resolve("./data", base, None), "/p/app/data");
        assert_eq!(resolve("../x/./y", base, None), "/p/x/y");
        assert_eq!(resolve("~/cfg", base, Some("/home/u")), "/home/u/cfg");
        assert_eq!(resolve("/abs", base, None), "/abs");
        assert_eq!(resolve("/a//b/./", base, None), "/a//b/./");
    }
}
