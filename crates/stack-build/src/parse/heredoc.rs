//! Heredoc markers (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`) on `RUN`,
//! `COPY` and `ADD` lines, found as Docker finds them: the line is split
//! into shell words, and a word of the form `[n]<<[-]name` is a marker.

use crate::expand::Lexer;

/// One marker: the delimiter, `<<-`, and whether it was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Marker {
    pub name: String,
    pub strip_tabs: bool,
    pub quoted: bool,
}

fn unset(_: &str) -> Option<String> {
    None
}

/// Every marker of a line, in order.
pub(super) fn markers(line: &str) -> Vec<Marker> {
    let lexer = Lexer {
        raw_quotes: true,
        raw_escapes: true,
        skip_unset: true,
        ..Lexer::new('\\')
    };
    // A line the lexer cannot split (an open quote) has no heredoc.
    let words = lexer.words(line, &unset).unwrap_or_default();
    words.iter().filter_map(|w| marker(w)).collect()
}

/// The marker a single word is, if it is one.
pub(super) fn marker(word: &str) -> Option<Marker> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let (strip_tabs, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start_matches([' ', '\t', '\r', '\n', '\u{c}']);
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let plain = Lexer {
        skip_unset: true,
        ..Lexer::new('\\')
    };
    let words = plain.words(rest, &unset).ok()?;
    let [name] = words.as_slice() else {
        return None;
    };
    let raw = Lexer {
        raw_quotes: true,
        ..plain
    }
    .words(rest, &unset)
    .ok()?;
    let quotes = |s: &str| s.chars().filter(|c| *c == '\'' || *c == '"').count();
    let quoted = raw.first().map_or(0, |r| quotes(r)) != quotes(name);
    Some(Marker {
        name: name.clone(),
        strip_tabs,
        quoted,
    })
}
