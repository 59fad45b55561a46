//! Splitting an instruction line into its keyword, its leading
//! `--flags` and its arguments, and the word rules of the instructions
//! that take words (`ENV`, `LABEL`, `ARG`), as Docker splits them.

use std::ops::Range;

use super::error::Problem;

/// Docker's blanks between words (not `\n`: lines are already joined).
pub(super) fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\u{b}' | '\u{c}')
}

/// A `--name[=value]` word before the arguments, quotes and escapes
/// already removed.
#[derive(Debug, Clone)]
pub(super) struct FlagWord {
    pub text: String,
    /// Where it is in the line.
    pub at: Range<usize>,
}

/// An instruction line taken apart; all ranges index the line.
#[derive(Debug, Clone)]
pub(super) struct Split<'a> {
    pub keyword: &'a str,
    pub keyword_at: Range<usize>,
    pub flags: Vec<FlagWord>,
    /// The arguments, trimmed.
    pub args: &'a str,
    pub args_at: usize,
}

/// Splits `line[start..]`: keyword, flags, arguments. `escape` is the
/// file's escape character (flag values may use it).
pub(super) fn split_command(line: &str, start: usize, escape: char) -> Split<'_> {
    let kw_start = start + leading_blanks(&line[start..]);
    let kw_len = line[kw_start..]
        .find(is_blank)
        .unwrap_or(line.len() - kw_start);
    let kw_end = kw_start + kw_len;
    let after = kw_end + leading_blanks(&line[kw_end..]);
    let (flags, rest) = extract_flags(line, after, escape);
    let rest_start = rest + leading_blanks(&line[rest..]);
    let args = line[rest_start..].trim_end_matches(is_blank);
    Split {
        keyword: &line[kw_start..kw_end],
        keyword_at: kw_start..kw_end,
        flags,
        args,
        args_at: rest_start,
    }
}

fn leading_blanks(s: &str) -> usize {
    s.len() - s.trim_start_matches(is_blank).len()
}

/// The `--` words at the start of `line[from..]` (up to the first word
/// not starting with `--`, or a lone `--`), and where the rest begins.
fn extract_flags(line: &str, from: usize, escape: char) -> (Vec<FlagWord>, usize) {
    let mut flags = Vec::new();
    let mut pos = from;
    loop {
        pos += leading_blanks(&line[pos..]);
        if !line[pos..].starts_with("--") {
            return (flags, pos);
        }
        let start = pos;
        let mut word = String::new();
        let mut quote: Option<char> = None;
        let mut chars = line[pos..].char_indices().peekable();
        let mut end = line.len();
        while let Some((i, c)) = chars.next() {
            match quote {
                None if is_blank(c) => {
                    end = pos + i;
                    break;
                }
                None if c == '\'' || c == '"' => quote = Some(c),
                Some(q) if c == q => quote = None,
                _ if c == escape => {
                    if let Some((_, n)) = chars.next() {
                        word.push(n);
                    }
                }
                _ => word.push(c),
            }
        }
        pos = end;
        if word == "--" {
            return (flags, pos);
        }
        flags.push(FlagWord {
            text: word,
            at: start..end,
        });
    }
}

/// The words of `ENV`, `LABEL` and `ARG`: split at blanks outside quotes,
/// with quotes and escapes kept (expansion removes them later), each with
/// where it starts in `text` (offset by `base`).
pub(super) fn quoted_words(text: &str, base: usize, escape: char) -> Vec<(String, Range<usize>)> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let Some(s) = start else {
            if !c.is_whitespace() {
                start = Some(i);
                // Reprocess this character as part of a word.
                word_char(c, &mut word, &mut quote, &mut chars, escape);
            }
            continue;
        };
        if quote.is_none() && c.is_whitespace() {
            words.push((std::mem::take(&mut word), base + s..base + i));
            start = None;
            continue;
        }
        word_char(c, &mut word, &mut quote, &mut chars, escape);
    }
    if let Some(s) = start {
        words.push((word, base + s..base + text.len()));
    }
    words
}

fn word_char(
    c: char,
    word: &mut String,
    quote: &mut Option<char>,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    escape: char,
) {
    match *quote {
        None if c == '\'' || c == '"' => *quote = Some(c),
        Some(q) if c == q => *quote = None,
        _ => {}
    }
    // An escape keeps itself and the character after it (inside single
    // quotes it is an ordinary character).
    if c == escape && *quote != Some('\'') {
        if let Some((_, n)) = chars.next() {
            word.push(c);
            word.push(n);
        }
        return;
    }
    word.push(c);
}

/// Words separated by blanks, nothing else special (`FROM`, `EXPOSE`,
/// the shell form of `VOLUME`, `COPY` and `ADD`), with their places.
pub(super) fn blank_words(text: &str, base: usize) -> Vec<(&str, Range<usize>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    for piece in text.split(is_blank) {
        if !piece.is_empty() {
            out.push((piece, base + pos..base + pos + piece.len()));
        }
        pos += piece.len() + 1;
    }
    out
}

/// The JSON form: `Ok(Some(words))` when `text` is a JSON array of
/// strings, `Ok(None)` when it is not JSON at all (so the shell form
/// applies), an error for a JSON array holding anything but strings.
pub(super) fn json_array(text: &str) -> Result<Option<Vec<String>>, Problem> {
    let text = text.trim_start();
    if !text.starts_with('[') {
        return Ok(None);
    }
    let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(text) else {
        return Ok(None);
    };
    values
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Ok(s),
            _ => Err(Problem::new(
                "when using JSON array syntax, arrays must be comprised of strings only",
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
