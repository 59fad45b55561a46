//! The Dockerfile parser (`docker/dockerfile:1` syntax): text in, the
//! [`Dockerfile`] model out, or the first problem with its line and
//! column. Variables are left as written: see [`crate::expand`].

mod error;
mod flags;
mod heredoc;
mod instruction;
mod reader;
mod words;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;

use std::ops::Range;
use std::sync::Arc;

pub use error::ParseError;

use crate::model::{Dockerfile, Heredoc, Instruction, InstructionKind, Span, Stage};
use error::{line_column, to_u32, Problem};
use instruction::{build, takes_heredocs, Built, Line};
use reader::Reader;

/// Reads a Dockerfile. Fails on the first problem: an unknown
/// instruction or flag, missing arguments, an unterminated heredoc, an
/// instruction before the first `FROM` (only `ARG` may come before it),
/// no `FROM` at all, or a `# syntax=` naming another frontend.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let source: Arc<str> = Arc::from(text);
    let mut reader = Reader::new(text);
    let mut df = Dockerfile {
        syntax: None,
        escape: '\\',
        global_args: Vec::new(),
        stages: Vec::new(),
    };
    let mut syntax_checked = false;
    let mut any = false;
    loop {
        let logical = reader
            .next_logical()
            .map_err(|(p, at)| ParseError::at(&source, at, p))?;
        if !syntax_checked {
            syntax_checked = true;
            check_syntax(&reader, &source)?;
            df.syntax = reader.syntax.as_ref().map(|d| d.value.clone());
            df.escape = reader.escape;
        }
        let Some(logical) = logical else { break };
        any = true;
        let fail = |p: Problem| {
            let at = match &p.at {
                Some(r) => logical.range(r.clone()),
                None => logical.start..logical.end,
            };
            ParseError::at(&source, at, p)
        };
        let escape = reader.escape;
        let split = words::split_command(&logical.text, 0, escape);
        let mut end = logical.end;
        let mut heredocs = Vec::new();
        if logical.text.contains("<<") && takes_heredocs(&logical.text, &split, escape) {
            for marker in heredoc::markers(&logical.text) {
                let Some((content, stop)) = reader.heredoc(&marker.name, marker.strip_tabs) else {
                    let at = marker_at(&logical.text, &marker.name);
                    let p = Problem::new(format!("unterminated heredoc {}", marker.name))
                        .label("opened here")
                        .help(format!("end it with a line holding only {}", marker.name));
                    return Err(fail(match at {
                        Some(at) => p.at(at),
                        None => p,
                    }));
                };
                end = stop;
                let content = if marker.strip_tabs {
                    content
                        .split_inclusive('\n')
                        .map(|l| l.trim_start_matches('\t'))
                        .collect()
                } else {
                    content
                };
                heredocs.push(Heredoc {
                    name: marker.name,
                    content,
                    strip_tabs: marker.strip_tabs,
                    quoted: marker.quoted,
                });
            }
        }
        let keyword = split.keyword.to_ascii_uppercase();
        let keyword_at = split.keyword_at.clone();
        let line = Line {
            text: &logical.text,
            escape,
            split,
            heredocs,
        };
        let built = build(&line).map_err(fail)?;
        let span = span(&source, logical.start..end);
        let written = logical.text.trim().to_string();
        let kind = match built {
            Built::From {
                base,
                name,
                platform,
            } => {
                if let Some(n) = &name {
                    if df.stages.iter().any(|s| s.name.as_ref() == Some(n)) {
                        return Err(fail(Problem::new(format!("duplicate stage name {n:?}"))));
                    }
                }
                df.stages.push(Stage {
                    index: df.stages.len(),
                    name,
                    base,
                    platform,
                    span,
                    instructions: Vec::new(),
                });
                continue;
            }
            Built::Kind(kind) => kind,
            Built::Onbuild(kind, at) => {
                let inner_range = logical.range(at.clone());
                let inner = Instruction {
                    kind,
                    span: span_of(&source, inner_range),
                    source: logical.text[at].trim().to_string(),
                };
                InstructionKind::Onbuild(Box::new(inner))
            }
        };
        match (df.stages.last_mut(), kind) {
            (Some(stage), kind) => stage.instructions.push(Instruction {
                kind,
                span,
                source: written,
            }),
            (None, InstructionKind::Arg(args)) => df.global_args.extend(args),
            (None, _) => {
                return Err(fail(
                    Problem::new(format!(
                        "{keyword} before the first FROM: only ARG may come before it"
                    ))
                    .at(keyword_at)
                    .label("no stage yet"),
                ))
            }
        }
    }
    if df.stages.is_empty() {
        let end = text.len();
        let message = if any {
            "no FROM instruction: a Dockerfile needs at least one stage"
        } else {
            "file with no instructions"
        };
        return Err(ParseError::at(&source, end..end, Problem::new(message)));
    }
    Ok(df)
}

/// The span of an instruction from its first character to `range.end`.
fn span(source: &str, range: Range<usize>) -> Span {
    span_of(source, range)
}

fn span_of(source: &str, range: Range<usize>) -> Span {
    let (line, column) = line_column(source, range.start);
    Span {
        line,
        column,
        offset: to_u32(range.start),
        len: to_u32(range.end.saturating_sub(range.start)),
    }
}

/// Where `<<[-]["']name` is in the line, for an unterminated heredoc.
fn marker_at(text: &str, name: &str) -> Option<Range<usize>> {
    text.match_indices("<<").find_map(|(i, _)| {
        let after = &text[i + 2..];
        let rest = after.strip_prefix('-').unwrap_or(after).trim_start();
        let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
        rest.starts_with(name)
            .then(|| i..(text.len() - rest.len() + name.len()))
    })
}

/// Only Docker's own frontend is built in: `docker/dockerfile` with no
/// tag or a `1`-series tag (`1`, `1.7`, `1-labs`), an optional
/// `docker.io/` prefix and an optional digest.
fn check_syntax(reader: &Reader<'_>, source: &Arc<str>) -> Result<(), ParseError> {
    let Some(d) = &reader.syntax else {
        return Ok(());
    };
    let image = d.value.split_whitespace().next().unwrap_or_default();
    if supported_syntax(image) {
        return Ok(());
    }
    let p = Problem::new(format!(
        "unsupported syntax {image}: only the built-in docker/dockerfile:1 frontend is available"
    ))
    .label("this frontend")
    .help("remove the line, or name docker/dockerfile:1");
    Err(ParseError::at(source, d.at.clone(), p))
}

fn supported_syntax(image: &str) -> bool {
    let image = image.split('@').next().unwrap_or_default();
    let image = image.strip_prefix("docker.io/").unwrap_or(image);
    let (name, tag) = match image.split_once(':') {
        Some((n, t)) => (n, Some(t)),
        None => (image, None),
    };
    name == "docker/dockerfile"
        && tag.is_none_or(|t| {
            t == "1" || t.starts_with("1.") || t.starts_with("1-") || t == "latest" || t == "labs"
        })
}
