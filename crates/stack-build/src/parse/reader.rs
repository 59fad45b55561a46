//! From text to instruction lines, as Docker reads a Dockerfile: parser
//! directives at the very top, comments, line continuations with the
//! escape character (comment and blank lines inside a continuation are
//! skipped), and the bodies of heredocs, read raw after their line.

use std::ops::Range;

use super::error::Problem;

/// A directive's value and where the line is (byte range in the file).
#[derive(Debug, Clone)]
pub(super) struct Directive {
    pub value: String,
    pub at: Range<usize>,
}

/// One instruction with its continuation lines joined.
#[derive(Debug, Clone)]
pub(super) struct Logical {
    pub text: String,
    /// (index in `text`, byte offset in the file) of each joined piece.
    pieces: Vec<(usize, usize)>,
    /// Byte offset of the instruction's first character and of the end of
    /// its last line (without the newline).
    pub start: usize,
    pub end: usize,
}

impl Logical {
    /// The file offset of index `i` of the joined text.
    pub(super) fn offset(&self, i: usize) -> usize {
        let piece = self
            .pieces
            .iter()
            .rev()
            .find(|(at, _)| *at <= i)
            .copied()
            .unwrap_or((0, self.start));
        piece.1 + (i - piece.0)
    }

    /// The file range of a range of the joined text.
    pub(super) fn range(&self, r: Range<usize>) -> Range<usize> {
        let start = self.offset(r.start);
        let end = if r.end > r.start {
            self.offset(r.end - 1) + 1
        } else {
            start
        };
        start..end.max(start)
    }

    fn push(&mut self, piece: &str, offset: usize) {
        self.pieces.push((self.text.len(), offset));
        self.text.push_str(piece);
    }
}

/// Reads a Dockerfile line by line.
pub(super) struct Reader<'a> {
    text: &'a str,
    pos: usize,
    pub escape: char,
    directives_done: bool,
    pub syntax: Option<Directive>,
    seen: Vec<String>,
}

/// `# key=value` with a known key: `syntax`, `escape`, `check`.
const DIRECTIVES: [&str; 3] = ["syntax", "escape", "check"];

impl<'a> Reader<'a> {
    pub(super) fn new(text: &'a str) -> Reader<'a> {
        let pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Reader {
            text,
            pos,
            escape: '\\',
            directives_done: false,
            syntax: None,
            seen: Vec::new(),
        }
    }

    /// The next physical line: its offset and its text without `\r\n`.
    fn physical(&mut self) -> Option<(usize, &'a str, &'a str)> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        let rest = &self.text[start..];
        let len = rest.find('\n').map_or(rest.len(), |i| i + 1);
        self.pos += len;
        let raw = &rest[..len];
        Some((start, raw.trim_end_matches(['\r', '\n']), raw))
    }

    /// Parser directives: only at the top, before any other line; the
    /// first line that is not one (a comment, a blank line, an
    /// instruction, an unknown key) ends them.
    fn directive(&mut self, line: &str, at: Range<usize>) -> Result<(), (Problem, Range<usize>)> {
        if self.directives_done {
            return Ok(());
        }
        let Some((key, value)) = line.strip_prefix('#').and_then(split_directive) else {
            self.directives_done = true;
            return Ok(());
        };
        let key = key.to_ascii_lowercase();
        if !DIRECTIVES.contains(&key.as_str()) {
            self.directives_done = true;
            return Ok(());
        }
        if self.seen.contains(&key) {
            let p = Problem::new(format!("only one {key} parser directive can be used"));
            return Err((p, at));
        }
        self.seen.push(key.clone());
        match key.as_str() {
            "escape" => match value {
                "\\" => self.escape = '\\',
                "`" => self.escape = '`',
                other => {
                    let p = Problem::new(format!(
                        "invalid escape token '{other}' does not match ` or \\"
                    ));
                    return Err((p, at));
                }
            },
            "syntax" => {
                self.syntax = Some(Directive {
                    value: value.to_string(),
                    at,
                })
            }
            _ => {}
        }
        Ok(())
    }

    /// The next instruction line, continuations joined; `None` at the end.
    pub(super) fn next_logical(&mut self) -> Result<Option<Logical>, (Problem, Range<usize>)> {
        loop {
            let Some((start, line, _)) = self.physical() else {
                return Ok(None);
            };
            let lead = line.len() - line.trim_start().len();
            let content = &line[lead..];
            self.directive(content, start..start + line.len())?;
            let content = if content.starts_with('#') {
                ""
            } else {
                content
            };
            let (piece, mut more) = self.continuation(content);
            if !more && piece.is_empty() {
                continue;
            }
            let mut logical = Logical {
                text: String::new(),
                pieces: Vec::new(),
                start: start + lead,
                end: start + line.len(),
            };
            logical.push(piece, start + lead);
            while more {
                let Some((start, line, _)) = self.physical() else {
                    break;
                };
                let trimmed = line.trim_start();
                if trimmed.starts_with('#') || trimmed.is_empty() {
                    continue;
                }
                let (piece, again) = self.continuation(line);
                logical.push(piece, start);
                logical.end = start + line.len();
                more = again;
            }
            return Ok(Some(logical));
        }
    }

    /// The line without its continuation mark, and whether it had one:
    /// the escape character, then only blanks, not itself escaped.
    fn continuation<'l>(&self, line: &'l str) -> (&'l str, bool) {
        let body = line.trim_end_matches([' ', '\t']);
        let Some(before) = body.strip_suffix(self.escape) else {
            return (line, false);
        };
        if before.ends_with(self.escape) {
            return (line, false);
        }
        (before, true)
    }

    /// The body of a heredoc: raw lines up to the one that is exactly
    /// `name` (after leading tabs when `strip_tabs`). `None` when the file
    /// ends first. Also gives where the terminator line ends.
    pub(super) fn heredoc(&mut self, name: &str, strip_tabs: bool) -> Option<(String, usize)> {
        let mut content = String::new();
        while let Some((start, line, raw)) = self.physical() {
            let candidate = if strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if candidate == name {
                return Some((content, start + line.len()));
            }
            content.push_str(raw);
        }
        None
    }
}

/// `key = value` after the `#` of a directive line.
fn split_directive(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    let key_len = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(text.len(), |(i, _)| i);
    if key_len == 0 {
        return None;
    }
    let (key, rest) = text.split_at(key_len);
    let value = rest.trim_start().strip_prefix('=')?.trim();
    (!value.is_empty()).then_some((key, value))
}
