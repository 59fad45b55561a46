//! Positioned YAML tree -> typed model. Every type error, unknown key and
//! bad string is recorded with its position and conversion goes on, so one
//! run reports all independent errors of a file.

mod nested;
mod ports;
mod resources;
mod service;
mod volumes;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::checks::HostChecks;
use crate::diag::{Diagnostic, Sources, Span};
use crate::model::Duration;
use crate::yaml::{Mapping, Node, ScalarKind, Value};

pub use ports::parse_port;
pub use resources::{file_objects, networks, volumes as top_volumes};
pub use service::service;
pub use volumes::parse_volume;

/// Conversion state: where to report, and whether unknown keys are errors.
pub struct Ctx<'a> {
    pub sources: &'a Sources,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    /// Unknown keys warn instead of failing.
    pub compatibility: bool,
    /// The caller's host rules ([`crate::LoadOptions::checks`]).
    pub checks: Option<Arc<dyn HostChecks>>,
    /// [`crate::LoadOptions::no_normalize`]: resource names are not derived.
    pub no_normalize: bool,
}

impl<'a> Ctx<'a> {
    pub fn new(sources: &'a Sources, compatibility: bool) -> Ctx<'a> {
        Ctx {
            sources,
            errors: Vec::new(),
            warnings: Vec::new(),
            compatibility,
            checks: None,
            no_normalize: false,
        }
    }

    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        let d = self.sources.error(span, message);
        self.errors.push(d);
    }

    pub fn error_with(&mut self, span: Span, message: impl Into<String>, label: &str) {
        let d = self.sources.error(span, message).with_label(label);
        self.errors.push(d);
    }

    /// `expected X, found Y` at the node.
    pub fn expected(&mut self, node: &Node, what: &str, context: &str) {
        let found = node.kind_name();
        self.error_with(
            node.span,
            format!("{context}: expected {what}, found {found}"),
            &format!("expected {what}"),
        );
    }

    /// An unknown key: an error, or a warning in compatibility mode.
    pub fn unknown_key(&mut self, span: Span, key: &str, context: &str, known: &[&str]) {
        let mut d = self
            .sources
            .error(span, format!("unknown key `{key}` in {context}"))
            .with_label("not a known key");
        if let Some(best) = closest(key, known) {
            d = d.with_help(format!("did you mean `{best}`?"));
        }
        if self.compatibility {
            self.warnings.push(d.into_warning());
        } else {
            self.errors.push(d);
        }
    }

    /// A value stack refuses but Compose accepts: an error naming the
    /// mistake, or in compatibility mode a warning, and the caller does what
    /// Compose does. Returns whether the caller may go on.
    pub fn stricter_than_compose(&mut self, span: Span, message: String, label: &str) -> bool {
        let d = self.sources.error(span, message).with_label(label);
        if self.compatibility {
            self.warnings.push(
                d.with_help("accepted as Compose accepts it (--compatibility)")
                    .into_warning(),
            );
            true
        } else {
            self.errors
                .push(d.with_help("--compatibility accepts it as Compose does, with a warning"));
            false
        }
    }

    pub fn map<'n>(&mut self, node: &'n Node, context: &str) -> Option<&'n Mapping> {
        match &node.value {
            Value::Map(m) => Some(m),
            _ => {
                self.expected(node, "a mapping", context);
                None
            }
        }
    }

    /// A scalar as text (numbers and booleans as written); null is `None`.
    pub fn string(&mut self, node: &Node, context: &str) -> Option<String> {
        match &node.value {
            Value::Scalar(s) if s.kind == ScalarKind::Null => None,
            Value::Scalar(s) => Some(s.text.clone()),
            _ => {
                self.expected(node, "a string", context);
                None
            }
        }
    }

    pub fn bool(&mut self, node: &Node, context: &str) -> Option<bool> {
        match node.as_scalar().map(|s| (s.kind, s.text.as_str())) {
            Some((ScalarKind::Bool(b), _)) => Some(b),
            Some((ScalarKind::Str, "true" | "True" | "TRUE")) => Some(true),
            Some((ScalarKind::Str, "false" | "False" | "FALSE")) => Some(false),
            Some((ScalarKind::Null, _)) => None,
            _ => {
                self.expected(node, "true or false", context);
                None
            }
        }
    }

    pub fn int(&mut self, node: &Node, context: &str) -> Option<i64> {
        match node.as_scalar() {
            Some(s) if s.kind == ScalarKind::Null => None,
            Some(s) => match s.kind {
                ScalarKind::Int(i) => Some(i),
                _ => match s.text.trim().parse::<i64>() {
                    Ok(i) => Some(i),
                    Err(_) => {
                        self.expected(node, "an integer", context);
                        None
                    }
                },
            },
            None => {
                self.expected(node, "an integer", context);
                None
            }
        }
    }

    pub fn uint<T: TryFrom<i64>>(&mut self, node: &Node, context: &str) -> Option<T> {
        let i = self.int(node, context)?;
        match T::try_from(i) {
            Ok(v) => Some(v),
            Err(_) => {
                self.error(node.span, format!("{context}: {i} is out of range"));
                None
            }
        }
    }

    pub fn float(&mut self, node: &Node, context: &str) -> Option<f64> {
        match node.as_scalar() {
            Some(s) if s.kind == ScalarKind::Null => None,
            Some(s) => match s.kind {
                ScalarKind::Int(i) => Some(i as f64),
                ScalarKind::Float(f) => Some(f),
                _ => match s.text.trim().parse::<f64>() {
                    Ok(f) if f.is_finite() => Some(f),
                    _ => {
                        self.expected(node, "a number", context);
                        None
                    }
                },
            },
            None => {
                self.expected(node, "a number", context);
                None
            }
        }
    }

    /// A list of strings; a single string counts as a one-item list.
    pub fn string_list(&mut self, node: &Node, context: &str) -> Vec<String> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .filter_map(|item| self.string(item, context))
                .collect(),
            Value::Scalar(s) if s.kind == ScalarKind::Null => Vec::new(),
            Value::Scalar(_) => self.string(node, context).into_iter().collect(),
            Value::Map(_) => {
                self.expected(node, "a list of strings", context);
                Vec::new()
            }
        }
    }

    /// A map of strings, or a list of `KEY=VALUE` (`KEY` alone is `None`).
    pub fn key_values(&mut self, node: &Node, context: &str) -> BTreeMap<String, Option<String>> {
        let mut out = BTreeMap::new();
        match &node.value {
            Value::Map(m) => {
                for (k, v) in m.iter() {
                    let value = match &v.value {
                        Value::Scalar(s) if s.kind == ScalarKind::Null => None,
                        _ => self.string(v, context),
                    };
                    out.insert(k.name.clone(), value);
                }
            }
            Value::Seq(items) => {
                for item in items {
                    if let Some(text) = self.string(item, context) {
                        match text.split_once('=') {
                            Some((k, v)) => out.insert(k.to_string(), Some(v.to_string())),
                            None => out.insert(text, None),
                        };
                    }
                }
            }
            Value::Scalar(s) if s.kind == ScalarKind::Null => {}
            Value::Scalar(_) => self.expected(node, "a mapping or a list of KEY=VALUE", context),
        }
        out
    }

    /// Like [`Ctx::key_values`], a key without value mapping to "".
    pub fn string_map(&mut self, node: &Node, context: &str) -> BTreeMap<String, String> {
        self.key_values(node, context)
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect()
    }
}

/// Closest known key within a small edit distance, for "did you mean".
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A command string whose quote is never closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellSplitError {
    #[error("unterminated single quote in {0:?}")]
    SingleQuote(String),
    #[error("unterminated double quote in {0:?}")]
    DoubleQuote(String),
}

/// Splits a command string like a POSIX shell would (quotes, backslashes),
/// without running one.
pub fn shell_split(text: &str) -> Result<Vec<String>, ShellSplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err(ShellSplitError::SingleQuote(text.to_string())),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => word.push(ch),
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err(ShellSplitError::DoubleQuote(text.to_string())),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err(ShellSplitError::DoubleQuote(text.to_string())),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(ch) = chars.next() {
                    word.push(ch);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// A list, or nothing for null (an error naming `context` otherwise).
pub(super) fn seq<'n>(ctx: &mut Ctx, node: &'n Node, context: &str) -> &'n [Node] {
    match &node.value {
        Value::Seq(items) => items,
        Value::Scalar(s) if s.kind == ScalarKind::Null => &[],
        _ => {
            ctx.expected(node, "a list", context);
            &[]
        }
    }
}

/// A command as a list or as one string split like a shell.
pub(super) fn command(ctx: &mut Ctx, node: &Node, context: &str) -> Option<Vec<String>> {
    match &node.value {
        Value::Seq(_) => Some(ctx.string_list(node, context)),
        _ => {
            let text = ctx.string(node, context)?;
            match shell_split(&text) {
                Ok(words) => Some(words),
                Err(e) => {
                    ctx.error(node.span, format!("{context}: {e}"));
                    None
                }
            }
        }
    }
}

/// A Compose duration (`1m30s`).
pub(super) fn duration(ctx: &mut Ctx, node: &Node, context: &str) -> Option<Duration> {
    let text = ctx.string(node, context)?;
    match Duration::parse(&text) {
        Ok(d) => Some(d),
        Err(e) => {
            ctx.error_with(node.span, format!("{context}: {e}"), "bad duration");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_split_handles_quotes() {
        assert_eq!(
            shell_split(r#"sh -c 'echo "hi there"' a\ b "x\"y""#).expect("valid"),
            vec!["sh", "-c", "echo \"hi there\"", "a b", "x\"y"]
        );
        assert!(shell_split("echo 'open").is_err());
        assert_eq!(shell_split("  ").expect("valid"), Vec::<String>::new());
    }

    #[test]
    fn suggestions() {
        assert_eq!(closest("imag", &["image", "ports"]), Some("image"));
        assert_eq!(closest("zzzzzz", &["image", "ports"]), None);
    }
}
