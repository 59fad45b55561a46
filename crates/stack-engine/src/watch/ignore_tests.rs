use std::path::Path;

use super::*;

fn list(lines: &[&str]) -> PatternList {
    PatternList::new(lines).expect("valid patterns")
}

#[test]
fn a_directory_pattern_covers_everything_below() {
    let l = list(&["node_modules", "build/"]);
    assert!(l.matches(Path::new("node_modules")));
    assert!(l.matches(Path::new("node_modules/a/b.js")));
    assert!(l.matches(Path::new("build/out.o")));
    assert!(!l.matches(Path::new("src/node_modules_x.js")));
}

#[test]
fn single_star_stays_in_one_component_and_double_star_spans() {
    let l = list(&["*.log"]);
    assert!(l.matches(Path::new("a.log")));
    assert!(!l.matches(Path::new("sub/a.log")));
    let l = list(&["**/*.log"]);
    assert!(l.matches(Path::new("a.log")));
    assert!(l.matches(Path::new("sub/deep/a.log")));
}

#[test]
fn last_match_wins_and_bang_reincludes() {
    let l = list(&["*.md", "!README.md"]);
    assert!(l.matches(Path::new("NOTES.md")));
    assert!(!l.matches(Path::new("README.md")));
    let l = list(&["!README.md", "*.md"]);
    assert!(l.matches(Path::new("README.md")));
}

#[test]
fn leading_slash_dot_and_comments_are_cleaned() {
    let l = list(&["# a comment", "", "/tmp", "./cache/"]);
    assert!(l.matches(Path::new("tmp/x")));
    assert!(l.matches(Path::new("cache")));
    assert!(!l.matches(Path::new("src/tmp")));
}

#[test]
fn a_broken_pattern_is_named() {
    let err = PatternList::new(&["src/[a-"]).expect_err("unclosed class");
    assert_eq!(err.pattern, "src/[a-");
}

#[test]
fn vcs_and_editor_files_are_always_ignored() {
    for p in [
        ".git",
        ".git/objects/ab/cdef",
        "sub/.git/HEAD",
        ".idea/workspace.xml",
        "4913",
        "src/4913",
        "app.js~",
        ".app.js.swp",
        "src/.app.js.swx",
        ".#app.js",
        "app.js___jb_tmp___",
    ] {
        assert!(always_ignored(Path::new(p)), "{p} should be ignored");
    }
    for p in ["app.js", "src/git.rs", "swp", "a4913", "src/.gitignore"] {
        assert!(!always_ignored(Path::new(p)), "{p} should be kept");
    }
}

#[test]
fn filter_combines_ignore_include_and_builtins() {
    let f = PathFilter::new(&["vendor/"], &["*.js", "lib/**"]).expect("valid");
    assert!(f.wants_file(Path::new("app.js")));
    assert!(f.wants_file(Path::new("lib/a/b.txt")));
    assert!(!f.wants_file(Path::new("README.md")));
    assert!(!f.wants_file(Path::new("vendor/x.js")));
    assert!(!f.wants_file(Path::new(".app.js.swp")));
    assert!(f.skips_dir(Path::new("vendor")));
    assert!(!f.skips_dir(Path::new("lib")));
    let open = PathFilter::new::<&str>(&[], &[]).expect("valid");
    assert!(open.wants_file(Path::new("any/thing.txt")));
}
