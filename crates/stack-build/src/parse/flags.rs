//! The `--flags` of an instruction, checked against the ones it takes,
//! and the values Docker checks while parsing: `RUN --mount`,
//! `--network`, `--security`, and the durations of `HEALTHCHECK`.

use std::collections::BTreeMap;

use super::error::Problem;
use super::words::FlagWord;
use crate::model::{RunMount, MOUNT_KINDS};

/// How a flag takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Takes {
    /// `--link`, `--link=true|false`.
    Bool,
    /// `--from=x`, once.
    One,
    /// `--mount=x`, as many times as given.
    Many,
}

pub(super) const RUN: &[(&str, Takes)] = &[
    ("mount", Takes::Many),
    ("network", Takes::One),
    ("security", Takes::One),
];
pub(super) const COPY: &[(&str, Takes)] = &[
    ("from", Takes::One),
    ("chown", Takes::One),
    ("chmod", Takes::One),
    ("link", Takes::Bool),
    ("exclude", Takes::Many),
    ("parents", Takes::Bool),
];
/// Docker's `ADD` takes neither `--from` nor `--parents`.
pub(super) const ADD: &[(&str, Takes)] = &[
    ("chown", Takes::One),
    ("chmod", Takes::One),
    ("link", Takes::Bool),
    ("exclude", Takes::Many),
    ("checksum", Takes::One),
    ("keep-git-dir", Takes::Bool),
];
pub(super) const FROM: &[(&str, Takes)] = &[("platform", Takes::One)];
pub(super) const HEALTHCHECK: &[(&str, Takes)] = &[
    ("interval", Takes::One),
    ("timeout", Takes::One),
    ("start-period", Takes::One),
    ("start-interval", Takes::One),
    ("retries", Takes::One),
];

/// The flags given, by name; a `Bool` flag is `"true"` or `"false"`.
#[derive(Debug, Default)]
pub(super) struct Flags {
    values: BTreeMap<String, Vec<(String, std::ops::Range<usize>)>>,
}

impl Flags {
    pub(super) fn one(&self, name: &str) -> Option<String> {
        self.values
            .get(name)
            .and_then(|v| v.last())
            .map(|(s, _)| s.clone())
    }

    /// The value with where its flag is, for errors about the value.
    pub(super) fn one_at(&self, name: &str) -> Option<(String, std::ops::Range<usize>)> {
        self.values.get(name).and_then(|v| v.last()).cloned()
    }

    pub(super) fn many(&self, name: &str) -> Vec<(String, std::ops::Range<usize>)> {
        self.values.get(name).cloned().unwrap_or_default()
    }

    pub(super) fn yes(&self, name: &str) -> bool {
        self.one(name).as_deref() == Some("true")
    }
}

/// Checks `words` against what `instruction` takes.
pub(super) fn check(
    instruction: &str,
    allowed: &[(&str, Takes)],
    words: &[FlagWord],
) -> Result<Flags, Problem> {
    let mut flags = Flags::default();
    for w in words {
        let body = w.text.strip_prefix("--").unwrap_or(&w.text);
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let Some(&(_, takes)) = allowed.iter().find(|(n, _)| *n == name) else {
            let mut p = Problem::new(format!("unknown flag --{name} for {instruction}"))
                .at(w.at.clone())
                .label("this flag");
            if !allowed.is_empty() {
                let names: Vec<String> = allowed.iter().map(|(n, _)| format!("--{n}")).collect();
                p = p.help(format!("{instruction} takes {}", names.join(", ")));
            }
            return Err(p);
        };
        let seen = flags.values.contains_key(name);
        if seen && takes != Takes::Many {
            return Err(
                Problem::new(format!("duplicate flag --{name} for {instruction}")).at(w.at.clone()),
            );
        }
        let value = match (takes, value) {
            (Takes::Bool, None) => "true".to_string(),
            (Takes::Bool, Some(v)) if v.eq_ignore_ascii_case("true") => "true".into(),
            (Takes::Bool, Some(v)) if v.eq_ignore_ascii_case("false") => "false".into(),
            (Takes::Bool, Some(v)) => {
                return Err(Problem::new(format!(
                    "flag --{name} of {instruction} takes true or false, not {v:?}"
                ))
                .at(w.at.clone()))
            }
            (_, None) => {
                return Err(Problem::new(format!(
                    "flag --{name} of {instruction} needs a value (--{name}=...)"
                ))
                .at(w.at.clone()))
            }
            (_, Some(v)) => v.to_string(),
        };
        flags
            .values
            .entry(name.to_string())
            .or_default()
            .push((value, w.at.clone()));
    }
    Ok(flags)
}

/// `RUN --mount=type=cache,target=/x,...`: comma-separated fields (CSV:
/// a field may be double-quoted), `type` taken out (default `bind`).
pub(super) fn parse_mount(value: &str) -> Result<RunMount, String> {
    let mut kind = "bind".to_string();
    let mut options = BTreeMap::new();
    for field in csv_fields(value)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), v.to_string()),
            None => {
                let key = field.to_ascii_lowercase();
                if !matches!(
                    key.as_str(),
                    "ro" | "readonly" | "rw" | "readwrite" | "required"
                ) {
                    return Err(format!("invalid field '{field}' must be a key=value pair"));
                }
                (key, "true".to_string())
            }
        };
        match key.as_str() {
            "type" => {
                kind = value.to_ascii_lowercase();
                if !value.contains('$') && !MOUNT_KINDS.contains(&kind.as_str()) {
                    return Err(format!(
                        "unsupported mount type {value:?} (one of {})",
                        MOUNT_KINDS.join(", ")
                    ));
                }
            }
            "from" if value.find('$').is_some_and(|i| i + 1 != value.len()) => {
                return Err(
                    "'from' doesn't support variable expansion, define alias stage instead".into(),
                )
            }
            _ => {
                options.insert(key, value);
            }
        }
    }
    Ok(RunMount { kind, options })
}

/// The fields of one CSV record: `,` separates, `"..."` quotes (`""`
/// inside is one `"`).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => {
                        return Err(format!(
                            "failed to parse csv mounts: unterminated quote in {line:?}"
                        ))
                    }
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => {}
                Some(c) => {
                    return Err(format!(
                    "failed to parse csv mounts: unexpected {c:?} after a quoted field in {line:?}"
                ))
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some('"') => {
                        return Err(format!(
                            "failed to parse csv mounts: bare \" in field of {line:?}"
                        ))
                    }
                    Some(c) => field.push(c),
                }
            }
        }
        fields.push(field);
    }
}

/// `RUN --network=`: what Docker accepts.
pub(super) fn check_network(value: &str) -> Result<(), String> {
    match value {
        "default" | "none" | "host" => Ok(()),
        other => Err(format!(
            "unsupported network mode {other:?} (one of default, none, host)"
        )),
    }
}

/// `RUN --security=`: what Docker accepts.
pub(super) fn check_security(value: &str) -> Result<(), String> {
    match value {
        "insecure" | "sandbox" => Ok(()),
        other => Err(format!(
            "unsupported security mode {other:?} (one of insecure, sandbox)"
        )),
    }
}

/// A Go duration (`30s`, `1m30s`, `1.5h`, `0`) of at least a millisecond
/// unless zero, as `HEALTHCHECK` options are.
pub(super) fn check_duration(flag: &str, value: &str) -> Result<(), String> {
    let nanos = go_duration_nanos(value).ok_or_else(|| {
        format!("invalid duration {value:?} for --{flag} (like 30s, 1m30s, 500ms)")
    })?;
    if nanos != 0.0 && nanos < 1e6 {
        return Err(format!("--{flag} cannot be less than 1ms"));
    }
    Ok(())
}

fn go_duration_nanos(text: &str) -> Option<f64> {
    let s = text.strip_prefix(['+', '-']).unwrap_or(text);
    if s == "0" {
        return Some(0.0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    Some(if text.starts_with('-') { -total } else { total })
}
