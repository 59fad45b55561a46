//! `.env` files as Compose reads them: `KEY=VALUE` lines, optional `export `
//! prefix, `#` comments (inline only after whitespace), single quotes
//! literal, double quotes with `\n \r \t \\ \"` escapes, quoted values may
//! span lines, unquoted and double-quoted values interpolated, `KEY` alone
//! inherits from the environment.

use crate::interpolate::{expand, InterpolationError};

/// A parse error with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DotenvError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("line {line}: {source}")]
    Interpolation {
        line: usize,
        source: InterpolationError,
    },
}

/// Parses `text`; `lookup` answers variables not defined earlier in the file.
pub fn parse(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, DotenvError> {
    let mut vars: Vec<(String, String)> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let line = lines[i].trim_start();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let (key, raw) = match line.split_once('=') {
            Some((k, v)) => (k.trim_end(), Some(v.trim_start())),
            None => (line.trim_end(), None),
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(DotenvError::Syntax {
                line: line_no,
                message: format!("invalid variable name {key:?}"),
            });
        }
        let Some(raw) = raw else {
            if let Some(v) = lookup(key) {
                vars.push((key.to_string(), v));
            }
            continue;
        };
        let scope = |k: &str| {
            vars.iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .or_else(|| lookup(k))
        };
        let value = if let Some(body) = raw.strip_prefix('\'') {
            let (content, used) = quoted(body, '\'', &lines, &mut i, line_no)?;
            check_trailing(used, line_no)?;
            content
        } else if let Some(body) = raw.strip_prefix('"') {
            let (content, used) = quoted(body, '"', &lines, &mut i, line_no)?;
            check_trailing(used, line_no)?;
            let unescaped = unescape(&content);
            expand(&unescaped, &scope, &mut |_| {}).map_err(|source| {
                DotenvError::Interpolation {
                    line: line_no,
                    source,
                }
            })?
        } else {
            let value = strip_inline_comment(raw).trim_end();
            expand(value, &scope, &mut |_| {}).map_err(|source| DotenvError::Interpolation {
                line: line_no,
                source,
            })?
        };
        vars.push((key.to_string(), value));
    }
    Ok(vars)
}

/// Reads a quoted value that may continue on the following lines. Returns
/// the raw content and what follows the closing quote.
fn quoted<'a>(
    first: &'a str,
    quote: char,
    lines: &[&'a str],
    next: &mut usize,
    line_no: usize,
) -> Result<(String, &'a str), DotenvError> {
    let mut content = String::new();
    let mut current = first;
    loop {
        if let Some(end) = closing_quote(current, quote) {
            content.push_str(&current[..end]);
            return Ok((content, &current[end + 1..]));
        }
        content.push_str(current);
        match lines.get(*next) {
            Some(line) => {
                content.push('\n');
                current = line;
                *next += 1;
            }
            None => {
                return Err(DotenvError::Syntax {
                    line: line_no,
                    message: format!("unterminated quoted value (missing {quote})"),
                })
            }
        }
    }
}

fn closing_quote(s: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if quote == '"' && c == '\\' && !escaped {
            escaped = true;
            continue;
        }
        if c == quote && !escaped {
            return Some(i);
        }
        escaped = false;
    }
    None
}

fn check_trailing(rest: &str, line: usize) -> Result<(), DotenvError> {
    let rest = rest.trim();
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err(DotenvError::Syntax {
            line,
            message: format!("unexpected text after the closing quote: {rest:?}"),
        })
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('$') => out.push_str("$$"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// An unquoted value ends at a `#` that follows whitespace.
fn strip_inline_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &value[..i];
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(text: &str) -> Vec<(String, String)> {
        let lookup = |k: &str| (k == "HOST_VAR").then(|| "from-host".to_string());
        parse(text, &lookup).expect("valid .env")
    }

    fn get(vars: &[(String, String)], k: &str) -> Option<String> {
        vars.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    }

    #[test]
    fn basics_comments_and_export() {
        let v = env("# comment\n\nA=1\nexport B = two\nC=x # note\nD=x#not-a-comment\nE=\n");
        assert_eq!(get(&v, "A").as_deref(), Some("1"));
        assert_eq!(get(&v, "B").as_deref(), Some("two"));
        assert_eq!(get(&v, "C").as_deref(), Some("x"));
        assert_eq!(get(&v, "D").as_deref(), Some("x#not-a-comment"));
        assert_eq!(get(&v, "E").as_deref(), Some(""));
    }

    #[test]
    fn quotes() {
        let v = env("S='a $A \\n # b'\nD=\"x\\ty # z\"\nM=\"line1\nline2\"\nA=1\n");
        assert_eq!(get(&v, "S").as_deref(), Some("a $A \\n # b"));
        assert_eq!(get(&v, "D").as_deref(), Some("x\ty # z"));
        assert_eq!(get(&v, "M").as_deref(), Some("line1\nline2"));
    }

    #[test]
    fn interpolation_uses_earlier_lines_then_environment() {
        let v = env("A=1\nB=${A}-$HOST_VAR\nC=\"${MISSING:-d}\"\nHOST_VAR\nNOT_THERE\n");
        assert_eq!(get(&v, "B").as_deref(), Some("1-from-host"));
        assert_eq!(get(&v, "C").as_deref(), Some("d"));
        assert_eq!(get(&v, "HOST_VAR").as_deref(), Some("from-host"));
        assert_eq!(get(&v, "NOT_THERE"), None);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("A=1\nB='open\n", &|_| None).expect_err("unterminated");
        assert_eq!(
            e.to_string(),
            "line 2: unterminated quoted value (missing ')"
        );
        assert!(parse("BAD KEY=1\n", &|_| None).is_err());
    }
}
