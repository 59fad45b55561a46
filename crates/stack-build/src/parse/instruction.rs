//! One instruction line, taken apart into the model: the arguments each
//! instruction takes, in the forms Docker accepts, with its checks and
//! error messages.

use std::ops::Range;

use super::error::Problem;
use super::flags::{self, Takes};
use super::heredoc;
use super::words::{blank_words, json_array, quoted_words, Split};
use crate::expand::Lexer;
use crate::model::{ArgDecl, Command, Copy, Healthcheck, Heredoc, InstructionKind, Run};

/// An instruction line ready to build: the joined text, the file's escape
/// character, the line taken apart, and the heredoc bodies read after it.
pub(super) struct Line<'a> {
    pub text: &'a str,
    pub escape: char,
    pub split: Split<'a>,
    pub heredocs: Vec<Heredoc>,
}

/// What a line is.
#[derive(Debug)]
pub(super) enum Built {
    /// `FROM [--platform=p] base [AS name]`: starts a stage.
    From {
        base: String,
        name: Option<String>,
        platform: Option<String>,
    },
    Kind(InstructionKind),
    /// `ONBUILD <inner>`: the inner instruction and where it is in the line.
    Onbuild(InstructionKind, Range<usize>),
}

/// Every instruction Docker knows, for suggestions.
const KNOWN: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Whether the line's instruction (or the one `ONBUILD` carries) reads
/// heredocs: `RUN`, `COPY`, `ADD` in shell form.
pub(super) fn takes_heredocs(text: &str, split: &Split<'_>, escape: char) -> bool {
    let kw = split.keyword.to_ascii_uppercase();
    if kw == "ONBUILD" {
        let inner = super::words::split_command(text, split.args_at, escape);
        return !inner.keyword.eq_ignore_ascii_case("ONBUILD")
            && takes_heredocs(text, &inner, escape);
    }
    matches!(kw.as_str(), "RUN" | "COPY" | "ADD") && !matches!(json_array(split.args), Ok(Some(_)))
}

/// The model of one line.
pub(super) fn build(line: &Line<'_>) -> Result<Built, Problem> {
    let split = &line.split;
    let kw = split.keyword.to_ascii_uppercase();
    let at_kw = |p: Problem| p.at(split.keyword_at.clone());
    let none = || flags::check(&kw, &[], &split.flags);
    let args = split.args;
    let kind = match kw.as_str() {
        "FROM" => return from(line),
        "ONBUILD" => return onbuild(line),
        "RUN" => InstructionKind::Run(run(line)?),
        "COPY" => InstructionKind::Copy(copy(line, "COPY", flags::COPY)?),
        "ADD" => InstructionKind::Add(copy(line, "ADD", flags::ADD)?),
        "ENV" => {
            none()?;
            InstructionKind::Env(pairs(line, "ENV")?)
        }
        "LABEL" => {
            none()?;
            InstructionKind::Label(pairs(line, "LABEL")?)
        }
        "ARG" => {
            none()?;
            InstructionKind::Arg(arg(line)?)
        }
        "CMD" => {
            none()?;
            InstructionKind::Cmd(
                json_or_shell(args)?.unwrap_or_else(|| Command::Shell(String::new())),
            )
        }
        "ENTRYPOINT" => {
            none()?;
            InstructionKind::Entrypoint(json_or_shell(args)?.unwrap_or(Command::Exec(Vec::new())))
        }
        "SHELL" => {
            none()?;
            match json_array(args)? {
                Some(words) if !words.is_empty() => InstructionKind::Shell(words),
                Some(_) => return Err(at_kw(Problem::new("SHELL requires at least one argument"))),
                None => {
                    return Err(
                        Problem::new("SHELL requires the arguments to be in JSON form")
                            .help(r#"for example SHELL ["/bin/bash", "-c"]"#),
                    )
                }
            }
        }
        "WORKDIR" => InstructionKind::Workdir(one(line, &kw)?),
        "USER" => InstructionKind::User(one(line, &kw)?),
        "STOPSIGNAL" => InstructionKind::StopSignal(one(line, &kw)?),
        "MAINTAINER" => InstructionKind::Maintainer(one(line, &kw)?),
        "EXPOSE" => {
            none()?;
            let ports: Vec<String> = blank_words(args, 0)
                .into_iter()
                .map(|(w, _)| w.to_string())
                .collect();
            if ports.is_empty() {
                return Err(at_kw(Problem::new("EXPOSE requires at least one argument")));
            }
            InstructionKind::Expose(ports)
        }
        "VOLUME" => {
            none()?;
            InstructionKind::Volume(
                volume(args)?
                    .ok_or_else(|| at_kw(Problem::new("VOLUME requires at least one argument")))?,
            )
        }
        "HEALTHCHECK" => InstructionKind::Healthcheck(healthcheck(line)?),
        _ => return Err(unknown(split)),
    };
    Ok(Built::Kind(kind))
}

fn unknown(split: &Split<'_>) -> Problem {
    let word = split.keyword;
    let upper = word.to_ascii_uppercase();
    let mut p = Problem::new(format!("unknown instruction {word}"))
        .at(split.keyword_at.clone())
        .label("not an instruction");
    if let Some(near) = KNOWN.iter().find(|k| distance(k, &upper) <= 2) {
        p = p.help(format!("did you mean {near}?"));
    }
    p
}

/// Edit distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Valid stage names, as Docker checks them (after lower-casing).
fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

fn from(line: &Line<'_>) -> Result<Built, Problem> {
    let split = &line.split;
    let words = blank_words(split.args, split.args_at);
    let name = match words.as_slice() {
        [_] => None,
        [_, (kw, _), (name, at)] if kw.eq_ignore_ascii_case("as") => {
            let lower = name.to_ascii_lowercase();
            if !valid_stage_name(&lower) {
                return Err(Problem::new(format!(
                    "invalid name for build stage: {name:?}, name can't start with a number or contain symbols"
                ))
                .at(at.clone()));
            }
            Some(lower)
        }
        _ => {
            return Err(Problem::new(
                "FROM requires either one or three arguments (FROM image [AS name])",
            )
            .at(split.keyword_at.clone()))
        }
    };
    let flags = flags::check("FROM", flags::FROM, &split.flags)?;
    let base = words
        .first()
        .map(|(w, _)| w.to_string())
        .unwrap_or_default();
    Ok(Built::From {
        base,
        name,
        platform: flags.one("platform"),
    })
}

fn onbuild(line: &Line<'_>) -> Result<Built, Problem> {
    let split = &line.split;
    flags::check("ONBUILD", &[], &split.flags)?;
    if split.args.is_empty() {
        return Err(
            Problem::new("ONBUILD requires at least one argument").at(split.keyword_at.clone())
        );
    }
    let inner_split = super::words::split_command(line.text, split.args_at, line.escape);
    let inner_kw = inner_split.keyword.to_ascii_uppercase();
    match inner_kw.as_str() {
        "ONBUILD" => {
            return Err(
                Problem::new("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
                    .at(inner_split.keyword_at.clone()),
            )
        }
        "FROM" | "MAINTAINER" => {
            return Err(
                Problem::new(format!("{inner_kw} isn't allowed as an ONBUILD trigger"))
                    .at(inner_split.keyword_at.clone()),
            )
        }
        _ => {}
    }
    let at = inner_split.keyword_at.start..line.text.trim_end().len();
    let inner = Line {
        text: line.text,
        escape: line.escape,
        split: inner_split,
        heredocs: line.heredocs.clone(),
    };
    match build(&inner)? {
        Built::Kind(kind) => Ok(Built::Onbuild(kind, at)),
        Built::From { .. } | Built::Onbuild(..) => Err(Problem::new("invalid ONBUILD trigger")),
    }
}

/// JSON form when the text is a JSON array of strings, else the shell
/// form; `None` when there is nothing.
fn json_or_shell(args: &str) -> Result<Option<Command>, Problem> {
    if args.is_empty() {
        return Ok(None);
    }
    Ok(Some(match json_array(args)? {
        Some(words) => Command::Exec(words),
        None => Command::Shell(args.to_string()),
    }))
}

fn run(line: &Line<'_>) -> Result<Run, Problem> {
    let split = &line.split;
    let flags = flags::check("RUN", flags::RUN, &split.flags)?;
    let mut mounts = Vec::new();
    for (value, at) in flags.many("mount") {
        mounts.push(flags::parse_mount(&value).map_err(|e| Problem::new(e).at(at))?);
    }
    let checked =
        |name: &str, check: fn(&str) -> Result<(), String>| -> Result<Option<String>, Problem> {
            match flags.one_at(name) {
                Some((v, at)) => check(&v)
                    .map(|()| Some(v))
                    .map_err(|e| Problem::new(e).at(at)),
                None => Ok(None),
            }
        };
    let network = checked("network", flags::check_network)?;
    let security = checked("security", flags::check_security)?;
    let command = json_or_shell(split.args)?.ok_or_else(|| {
        Problem::new("RUN requires at least one argument").at(split.keyword_at.clone())
    })?;
    let heredocs = match command {
        Command::Exec(_) => Vec::new(),
        Command::Shell(_) => line.heredocs.clone(),
    };
    Ok(Run {
        command,
        heredocs,
        mounts,
        network,
        security,
    })
}

fn copy(line: &Line<'_>, kw: &str, allowed: &[(&str, Takes)]) -> Result<Copy, Problem> {
    let split = &line.split;
    let flags = flags::check(kw, allowed, &split.flags)?;
    let (words, json) = match json_array(split.args)? {
        Some(words) => (words, true),
        None => (
            blank_words(split.args, 0)
                .into_iter()
                .map(|(w, _)| w.to_string())
                .collect(),
            false,
        ),
    };
    let Some((dest, sources)) = words.split_last().filter(|(_, s)| !s.is_empty()) else {
        return Err(Problem::new(format!(
            "{kw} requires at least two arguments: one or more sources and a destination"
        ))
        .at(split.keyword_at.clone()));
    };
    let marker = |w: &str| if json { None } else { heredoc::marker(w) };
    if marker(dest).is_some() {
        return Err(Problem::new(format!(
            "{kw} cannot accept a heredoc as a destination"
        )));
    }
    let mut heredocs = Vec::new();
    let mut names = Vec::new();
    for source in sources {
        match marker(source) {
            Some(m) => {
                if let Some(doc) = line.heredocs.iter().find(|h| h.name == m.name) {
                    heredocs.push(doc.clone());
                }
                names.push(m.name);
            }
            None => names.push(source.clone()),
        }
    }
    if let Some((from, at)) = flags.one_at("from") {
        let unset = |_: &str| None;
        if Lexer::new(line.escape).word(&from, &unset).ok().as_deref() != Some(from.as_str()) {
            return Err(Problem::new(
                "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround",
            )
            .at(at));
        }
    }
    Ok(Copy {
        sources: names,
        dest: dest.clone(),
        heredocs,
        from: flags.one("from"),
        chown: flags.one("chown"),
        chmod: flags.one("chmod"),
        link: flags.yes("link"),
        exclude: flags.many("exclude").into_iter().map(|(v, _)| v).collect(),
        parents: flags.yes("parents"),
        checksum: flags.one("checksum"),
        keep_git_dir: flags.yes("keep-git-dir"),
    })
}

/// `ENV`/`LABEL`: `k=v ...`, or the legacy `k v with spaces` (one pair,
/// the value the rest of the line). Quotes stay until expansion.
fn pairs(line: &Line<'_>, kw: &str) -> Result<Vec<(String, String)>, Problem> {
    let split = &line.split;
    let words = quoted_words(split.args, split.args_at, line.escape);
    let Some((first, _)) = words.first() else {
        return Err(Problem::new(format!("{kw} requires at least one argument"))
            .at(split.keyword_at.clone()));
    };
    if !first.contains('=') {
        let Some((key, value)) = split.args.split_once(super::words::is_blank) else {
            return Err(
                Problem::new(format!("{kw} must have two arguments (name=value)"))
                    .at(split.keyword_at.clone()),
            );
        };
        let value = value.trim_start_matches(super::words::is_blank);
        return Ok(vec![(key.to_string(), value.to_string())]);
    }
    let mut out = Vec::new();
    for (word, at) in words {
        let Some((key, value)) = word.split_once('=') else {
            return Err(Problem::new(format!(
                "syntax error - can't find = in {word:?}. Must be of the form: name=value"
            ))
            .at(at));
        };
        if key.is_empty() {
            return Err(Problem::new(format!("{kw} names can not be blank")).at(at));
        }
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

fn arg(line: &Line<'_>) -> Result<Vec<ArgDecl>, Problem> {
    let split = &line.split;
    let words = quoted_words(split.args, split.args_at, line.escape);
    if words.is_empty() {
        return Err(Problem::new("ARG requires at least one argument").at(split.keyword_at.clone()));
    }
    words
        .into_iter()
        .map(|(word, at)| match word.split_once('=') {
            Some(("", _)) => Err(Problem::new("ARG names can not be blank").at(at)),
            Some((name, default)) => Ok(ArgDecl {
                name: name.to_string(),
                default: Some(default.to_string()),
            }),
            None => Ok(ArgDecl {
                name: word,
                default: None,
            }),
        })
        .collect()
}

/// `WORKDIR`, `USER`, `STOPSIGNAL`, `MAINTAINER`: the rest of the line is
/// the one argument.
fn one(line: &Line<'_>, kw: &str) -> Result<String, Problem> {
    let split = &line.split;
    flags::check(kw, &[], &split.flags)?;
    if split.args.is_empty() {
        return Err(Problem::new(format!("{kw} requires exactly one argument"))
            .at(split.keyword_at.clone()));
    }
    Ok(split.args.to_string())
}

fn volume(args: &str) -> Result<Option<Vec<String>>, Problem> {
    let words = match json_array(args)? {
        Some(words) => words,
        None => blank_words(args, 0)
            .into_iter()
            .map(|(w, _)| w.to_string())
            .collect(),
    };
    if words.is_empty() {
        return Ok(None);
    }
    words
        .into_iter()
        .map(|w| {
            let w = w.trim().to_string();
            if w.is_empty() {
                Err(Problem::new("VOLUME specified can not be an empty string"))
            } else {
                Ok(w)
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn healthcheck(line: &Line<'_>) -> Result<Option<Healthcheck>, Problem> {
    let split = &line.split;
    let args = split.args;
    let typ_len = args.find(char::is_whitespace).unwrap_or(args.len());
    let (typ, rest) = args.split_at(typ_len);
    let rest = rest.trim_start();
    if typ.is_empty() {
        return Err(
            Problem::new("HEALTHCHECK requires at least one argument").at(split.keyword_at.clone())
        );
    }
    let typ_at = split.args_at..split.args_at + typ_len;
    if typ.eq_ignore_ascii_case("NONE") {
        if !rest.is_empty() {
            return Err(Problem::new("HEALTHCHECK NONE takes no arguments"));
        }
        return Ok(None);
    }
    let flags = flags::check("HEALTHCHECK", flags::HEALTHCHECK, &split.flags)?;
    if !typ.eq_ignore_ascii_case("CMD") {
        return Err(Problem::new(format!(
            "unknown type {typ:?} in HEALTHCHECK (try CMD or NONE)"
        ))
        .at(typ_at));
    }
    let command = match json_or_shell(rest)? {
        Some(Command::Exec(words)) if words.is_empty() => None,
        other => other,
    }
    .ok_or_else(|| Problem::new("missing command after HEALTHCHECK CMD").at(typ_at))?;
    for name in ["interval", "timeout", "start-period", "start-interval"] {
        if let Some((value, at)) = flags.one_at(name) {
            flags::check_duration(name, &value).map_err(|e| Problem::new(e).at(at))?;
        }
    }
    let retries = match flags.one_at("retries") {
        None => None,
        Some((value, at)) => Some(value.parse::<u32>().map_err(|_| {
            Problem::new(format!(
                "--retries must be a number of at least 0, not {value:?}"
            ))
            .at(at)
        })?),
    };
    Ok(Some(Healthcheck {
        command,
        interval: flags.one("interval"),
        timeout: flags.one("timeout"),
        start_period: flags.one("start-period"),
        start_interval: flags.one("start-interval"),
        retries,
    }))
}
