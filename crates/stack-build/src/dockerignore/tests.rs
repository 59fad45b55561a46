//! `.dockerignore` rules.

use super::IgnoreMatcher;

fn matcher(text: &str) -> IgnoreMatcher {
    match IgnoreMatcher::parse(text) {
        Ok(m) => m,
        Err(e) => panic!("{text:?}: {e}"),
    }
}

#[test]
fn patterns_and_paths() {
    // (patterns, path, excluded)
    let table: &[(&str, &str, bool)] = &[
        ("node_modules", "node_modules", true),
        ("node_modules", "node_modules/x/y.js", true),
        ("node_modules", "src/node_modules", false),
        ("/node_modules", "node_modules/a", true),
        ("./build", "build/out.o", true),
        ("build/", "build/out.o", true),
        ("a//b/../c", "a/c", true),
        ("*.md", "README.md", true),
        ("*.md", "docs/README.md", false),
        ("*/*.md", "docs/README.md", true),
        ("**/*.md", "docs/deep/README.md", true),
        ("**/*.md", "README.md", true),
        ("docs/**", "docs/a/b", true),
        ("docs/**", "docs", false),
        ("docs/**", "docsx/a", false),
        ("**/tmp", "a/b/tmp/file", true),
        ("**/tmp", "tmp", true),
        ("**", "anything/at/all", true),
        ("a/**/b", "a/b", true),
        ("a/**/b", "a/x/y/b", true),
        ("a/**/b", "a/x/y/c", false),
        ("te?t", "test", true),
        ("te?t", "te/t", false),
        ("[a-c]at", "bat", true),
        ("[a-c]at", "rat", false),
        ("[^a-c]at", "rat", true),
        ("[^a-c]at", "cat", false),
        ("\\*star", "*star", true),
        ("\\*star", "xstar", false),
        ("# comment", "# comment", false),
        ("  spaced.txt  ", "spaced.txt", true),
        ("*", "x/y", true),
        ("*.log", "./app.log", true),
        ("x", ".", false),
    ];
    for &(patterns, path, want) in table {
        assert_eq!(
            matcher(patterns).matches(path),
            want,
            "{patterns:?} on {path:?}"
        );
    }
}

#[test]
fn last_match_wins_with_exceptions() {
    let m = matcher("# build output\n*.md\n!README.md\n\nbuild\n!build/keep\n");
    assert!(m.matches("CHANGELOG.md"));
    assert!(!m.matches("README.md"));
    assert!(m.matches("build/x"));
    assert!(!m.matches("build/keep"));
    assert!(!m.matches("build/keep/inner"));
    assert!(!m.matches("src/main.rs"));
    // An exception before the exclusion does nothing.
    let m = matcher("!README.md\n*.md\n");
    assert!(m.matches("README.md"));
    // An exclusion after an exception excludes again.
    let m = matcher("docs\n!docs/api\ndocs/api/internal\n");
    assert!(m.matches("docs/guide"));
    assert!(!m.matches("docs/api/index.html"));
    assert!(m.matches("docs/api/internal/x"));
}

#[test]
fn double_star_exceptions() {
    let m = matcher("**\n!**/*.go\n!go.mod\n");
    assert!(m.matches("README"));
    assert!(!m.matches("main.go"));
    assert!(!m.matches("cmd/app/main.go"));
    assert!(!m.matches("go.mod"));
    assert!(m.matches("cmd/app/data.json"));
}

#[test]
fn walking_into_excluded_directories() {
    let m = matcher("build\n!build/keep\nvendor\n");
    assert!(m.has_exceptions());
    assert!(m.may_contain_exceptions("build"));
    assert!(!m.may_contain_exceptions("vendor"));
    assert!(!m.may_contain_exceptions("buildx"));
    let m = matcher("*\n!src/**/*.rs\n");
    assert!(m.may_contain_exceptions("src"));
    assert!(m.may_contain_exceptions("src/a/b"));
    assert!(!m.may_contain_exceptions("target"));
    let m = matcher("node_modules\n!**/package.json\n");
    assert!(m.may_contain_exceptions("node_modules"));
    let m = matcher("a\n!a/*/keep\n");
    assert!(m.may_contain_exceptions("a"));
    assert!(m.may_contain_exceptions("a/x"));
    assert!(!m.may_contain_exceptions("a/x/y"));
    let m = matcher("tmp\n");
    assert!(!m.has_exceptions());
    assert!(!m.may_contain_exceptions("tmp"));
}

#[test]
fn bad_patterns() {
    let e = IgnoreMatcher::parse("ok\n!\n").expect_err("lone !");
    assert_eq!(e.line, 2);
    assert!(e.to_string().contains("illegal exclusion pattern"), "{e}");
    let e = IgnoreMatcher::parse("[abc\n").expect_err("open class");
    assert_eq!(e.line, 1);
    assert!(matcher("").is_empty());
}
