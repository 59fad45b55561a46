//! The shape rules `lint` checks besides rustfmt and clippy: no source file
//! over [`MAX_LINES`], and no import circle between the files of a crate.
//!
//! An import circle is a cycle in the graph "file A names an item of file
//! B" (`crate::x::…`, `super::…`, `self::…`), where a module file stands for
//! its module. A file naming its own ancestor (a child using its parent's
//! types through `super::`) is not an edge: that is how a module and its
//! parts are meant to relate. Comment lines and unit-test modules are left
//! out. This is a text scan, not name resolution: `use` through a re-export
//! counts as an edge to the re-exporting module, which is what a reader
//! sees too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a source file may be: past it, a file is doing several
/// things and a reader cannot hold it.
pub const MAX_LINES: usize = 600;

/// Checks every crate under `crates/`; the problems found, one per line.
pub fn check(workspace: &Path) -> Result<(), String> {
    let mut problems = Vec::new();
    let crates = workspace.join("crates");
    let entries = std::fs::read_dir(&crates).map_err(|e| format!("{}: {e}", crates.display()))?;
    let mut crate_dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    crate_dirs.sort();
    for dir in &crate_dirs {
        let files = rust_files(dir);
        for file in &files {
            let lines = std::fs::read_to_string(file)
                .map(|t| t.lines().count())
                .unwrap_or(0);
            if lines > MAX_LINES {
                problems.push(format!(
                    "{}: {lines} lines (at most {MAX_LINES})",
                    relative(workspace, file)
                ));
            }
        }
        let src = dir.join("src");
        for circle in circles(&src) {
            problems.push(format!(
                "{}: import circle between {}",
                relative(workspace, &src),
                circle.join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("structure:\n  {}", problems.join("\n  ")))
    }
}

fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

type Module = Vec<String>;

/// `src/a/b.rs` is `a::b`; `src/a/mod.rs` is `a`; `lib.rs`/`main.rs` the root.
fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Module = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main") {
        parts.clear();
    } else if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// Files that only hold unit tests of their parent (`*_tests.rs`, `tests.rs`).
fn is_test_file(file: &Path) -> bool {
    file.file_stem()
        .map(|s| s.to_string_lossy())
        .is_some_and(|s| s == "tests" || s.ends_with("_tests"))
}

/// The text a reader sees as code: comment lines dropped, and everything
/// from the unit-test module on.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod tests"))
        {
            break;
        }
        if !trimmed.starts_with("//") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The paths named in `code` that start with `crate`, `super` or `self`,
/// as their segments (`crate::a::B` is `["crate", "a", "B"]`).
fn named_paths(code: &str) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let at_word_start = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        if at_word_start {
            let rest = &bytes[i..];
            if let Some(head) = ["crate::", "super::", "self::"]
                .iter()
                .find(|h| rest.starts_with(h.as_bytes()))
            {
                let mut segments = vec![head.trim_end_matches(':').to_string()];
                let mut j = i + head.len();
                loop {
                    let start = j;
                    while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_')
                    {
                        j += 1;
                    }
                    if start == j {
                        break;
                    }
                    segments.push(code[start..j].to_string());
                    if bytes[j..].starts_with(b"::") {
                        j += 2;
                    } else {
                        break;
                    }
                }
                out.push(segments);
                i = j.max(i + 1);
                continue;
            }
        }
        i += 1;
    }
    out
}

/// The module a path names, given the module it is written in.
fn target_of(from: &Module, path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    let mut base: Module = match path.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("self") => from.clone(),
        Some("super") => {
            let mut m = from.clone();
            m.pop();
            m
        }
        _ => return None,
    };
    let mut rest = &path[1..];
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    let mut full = base;
    full.extend(rest.iter().cloned());
    (0..=full.len())
        .rev()
        .map(|n| full[..n].to_vec())
        .find(|m| modules.contains(m))
}

/// The cycles of the file graph of one crate, each as its sorted module
/// names.
fn circles(src: &Path) -> Vec<Vec<String>> {
    let files: BTreeMap<Module, PathBuf> = rust_files(src)
        .into_iter()
        .filter(|f| !is_test_file(f))
        .map(|f| (module_of(src, &f), f))
        .collect();
    let modules: BTreeSet<Module> = files.keys().cloned().collect();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, file) in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let targets = edges.entry(module.clone()).or_default();
        for path in named_paths(&code_of(&text)) {
            if let Some(target) = target_of(module, &path, &modules) {
                let is_ancestor = module.starts_with(&target);
                if !is_ancestor {
                    targets.insert(target);
                }
            }
        }
    }
    strongly_connected(&edges)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut names: Vec<String> = c
                .iter()
                .map(|m| {
                    if m.is_empty() {
                        "crate".into()
                    } else {
                        m.join("::")
                    }
                })
                .collect();
            names.sort();
            names
        })
        .collect()
}

/// Tarjan's algorithm, iteratively over an ordered graph.
fn strongly_connected(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        out: Vec<Vec<Module>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a Module) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            let edges = self.edges;
            for w in edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                self.out.push(component);
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn paths_are_read_from_code_not_comments_or_tests() {
        let code = code_of(
            "use crate::a::B; // 5 µs\n// crate::c::D\nfn f() { super::e::g(); }\n#[cfg(test)]\nmod tests { use crate::z; }\n",
        );
        let found = named_paths(&code);
        assert_eq!(
            found,
            vec![
                vec!["crate".to_string(), "a".into(), "B".into()],
                vec!["super".to_string(), "e".into(), "g".into()],
            ]
        );
    }

    #[test]
    fn a_circle_between_siblings_is_found_and_a_child_using_its_parent_is_not() {
        let tmp = std::env::temp_dir().join(format!("xtask-structure-{}", std::process::id()));
        let src = tmp.join("src");
        write(&src, "lib.rs", "mod a;\nmod b;\nmod p;\n");
        write(&src, "a.rs", "use crate::b::X;\n");
        write(&src, "b.rs", "pub struct X;\nuse super::a;\n");
        write(
            &src,
            "p/mod.rs",
            "mod c;\npub use c::Y;\npub struct Z;\nfn f() { self::c::g() }\n",
        );
        write(&src, "p/c.rs", "use super::Z;\npub struct Y;\n");
        let found = circles(&src);
        let _ = std::fs::remove_dir_all(&tmp);
        assert_eq!(found, vec![vec!["a".to_string(), "b".to_string()]]);
    }
}
