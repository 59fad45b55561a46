//! Variable substitution with Compose's exact rules: `$VAR`, `${VAR}`,
//! `${VAR:-default}` (unset or empty), `${VAR-default}` (unset),
//! `${VAR:?message}` / `${VAR?message}` (error), `${VAR:+alt}` / `${VAR+alt}`,
//! nesting inside the argument, `$$` for a literal `$`. A `$` not followed by
//! a name, `$` or `{` stays literal. An unset variable without a default
//! becomes empty, with a warning.

use crate::yaml::{Node, ScalarKind, Value};

/// Why a template could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolationError {
    #[error("invalid interpolation format {0:?}: you may need to escape `$` as `$$`")]
    Invalid(String),
    #[error("required variable {name} is missing a value: {message}")]
    Required { name: String, message: String },
}

/// Expands `template`; `lookup` answers a variable's value, `unset` is told
/// about variables that were used without a value and without a default.
pub fn expand(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut dyn FnMut(&str),
) -> Result<String, InterpolationError> {
    if !template.contains('$') {
        return Ok(template.to_string());
    }
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner_and_tail) = after.strip_prefix('{') {
            let close = matching_brace(inner_and_tail)
                .ok_or_else(|| InterpolationError::Invalid(template.to_string()))?;
            let inner = &inner_and_tail[..close];
            out.push_str(&braced(inner, template, lookup, unset)?);
            rest = &inner_and_tail[close + 1..];
        } else {
            let name_len = name_length(after);
            if name_len == 0 {
                out.push('$');
                rest = after;
            } else {
                let name = &after[..name_len];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => unset(name),
                }
                rest = &after[name_len..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Length of a variable name at the start of `s` (`[_a-zA-Z][_a-zA-Z0-9]*`).
fn name_length(s: &str) -> usize {
    let bytes = s.as_bytes();
    match bytes.first() {
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => {}
        _ => return 0,
    }
    bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count()
}

/// Index of the `}` closing a `${` whose content starts `s`, with nesting.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn braced(
    inner: &str,
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut dyn FnMut(&str),
) -> Result<String, InterpolationError> {
    let name_len = name_length(inner);
    if name_len == 0 {
        return Err(InterpolationError::Invalid(template.to_string()));
    }
    let name = &inner[..name_len];
    let op = &inner[name_len..];
    let value = lookup(name);
    let (colon, op) = match op.strip_prefix(':') {
        Some(rest) => (true, rest),
        None => (false, op),
    };
    if op.is_empty() {
        if colon {
            return Err(InterpolationError::Invalid(template.to_string()));
        }
        return Ok(value.unwrap_or_else(|| {
            unset(name);
            String::new()
        }));
    }
    let (kind, arg) = op.split_at(1);
    // "Set" for the colon forms means set and not empty.
    let set = match &value {
        Some(v) => !(colon && v.is_empty()),
        None => false,
    };
    match kind {
        "-" => match (set, value) {
            (true, Some(v)) => Ok(v),
            _ => expand(arg, lookup, unset),
        },
        "+" => {
            if set {
                expand(arg, lookup, unset)
            } else {
                Ok(String::new())
            }
        }
        "?" => match (set, value) {
            (true, Some(v)) => Ok(v),
            _ => Err(InterpolationError::Required {
                name: name.to_string(),
                message: expand(arg, lookup, unset)?,
            }),
        },
        _ => Err(InterpolationError::Invalid(template.to_string())),
    }
}

/// Interpolates every string value of a tree in place (keys are never
/// interpolated). Errors are collected with the node they came from.
pub fn interpolate_tree(
    node: &mut Node,
    lookup: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<(crate::diag::Span, InterpolationError)>,
    unset: &mut dyn FnMut(&str),
) {
    match &mut node.value {
        Value::Scalar(s) => {
            if s.kind == ScalarKind::Str && s.text.contains('$') {
                match expand(&s.text, lookup, unset) {
                    Ok(v) => s.text = v,
                    Err(e) => errors.push((node.span, e)),
                }
            }
        }
        Value::Seq(items) => {
            for item in items {
                interpolate_tree(item, lookup, errors, unset);
            }
        }
        Value::Map(m) => {
            for (_, v) in m.entries.iter_mut() {
                interpolate_tree(v, lookup, errors, unset);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &str) -> Result<String, InterpolationError> {
        let lookup = |k: &str| match k {
            "SET" => Some("value".to_string()),
            "EMPTY" => Some(String::new()),
            "B" => Some("b".to_string()),
            _ => None,
        };
        expand(t, &lookup, &mut |_| {})
    }

    #[test]
    fn plain_and_braced() {
        assert_eq!(run("$SET-${SET}").as_deref(), Ok("value-value"));
        assert_eq!(run("a$UNSET.b").as_deref(), Ok("a.b"));
        assert_eq!(run("$$SET costs $5").as_deref(), Ok("$SET costs $5"));
        assert_eq!(run("100$").as_deref(), Ok("100$"));
    }

    #[test]
    fn defaults_distinguish_unset_and_empty() {
        assert_eq!(run("${EMPTY:-d}").as_deref(), Ok("d"));
        assert_eq!(run("${EMPTY-d}").as_deref(), Ok(""));
        assert_eq!(run("${UNSET-d}").as_deref(), Ok("d"));
        assert_eq!(run("${SET:-d}").as_deref(), Ok("value"));
    }

    #[test]
    fn alternatives() {
        assert_eq!(run("${SET:+alt}").as_deref(), Ok("alt"));
        assert_eq!(run("${EMPTY:+alt}").as_deref(), Ok(""));
        assert_eq!(run("${EMPTY+alt}").as_deref(), Ok("alt"));
        assert_eq!(run("${UNSET+alt}").as_deref(), Ok(""));
    }

    #[test]
    fn nesting() {
        assert_eq!(run("${UNSET:-${B}x}").as_deref(), Ok("bx"));
        assert_eq!(run("${UNSET:-${NOPE:-${B}}}").as_deref(), Ok("b"));
        assert_eq!(run("${UNSET:-a}${B}").as_deref(), Ok("ab"));
    }

    #[test]
    fn required_variables_carry_the_message() {
        assert_eq!(
            run("${UNSET:?please set UNSET}"),
            Err(InterpolationError::Required {
                name: "UNSET".into(),
                message: "please set UNSET".into()
            })
        );
        assert!(run("${EMPTY:?x}").is_err());
        assert_eq!(run("${EMPTY?x}").as_deref(), Ok(""));
    }

    #[test]
    fn invalid_forms() {
        for t in ["${", "${}", "${ foo}", "${foo!}", "${foo:}", "x${SET"] {
            assert!(matches!(run(t), Err(InterpolationError::Invalid(_))), "{t}");
        }
    }

    #[test]
    fn unset_variables_are_reported() {
        let mut seen = Vec::new();
        let out = expand("$A ${B} ${C:-x}", &|_| None, &mut |n| {
            seen.push(n.to_string())
        });
        assert_eq!(out.as_deref(), Ok("  x"));
        assert_eq!(seen, vec!["A", "B"]);
    }
}
