//! Variable expansion as Docker does it, instruction by instruction.
//!
//! Docker expands `$VAR` in the instructions whose arguments the builder
//! itself reads (`ADD`, `COPY`, `ENV`, `EXPOSE`, `FROM`, `LABEL`,
//! `STOPSIGNAL`, `USER`, `VOLUME`, `WORKDIR`, `ARG` defaults, the
//! `--chown`/`--chmod`/`--checksum` flags and the `RUN --mount` options),
//! and leaves the commands of `RUN`, `CMD`, `ENTRYPOINT` and `HEALTHCHECK`
//! to the shell that runs them. `ONBUILD` triggers are expanded when they
//! fire, in the image built `FROM` this one, so they are kept as written.

mod lexer;
mod pattern;
#[cfg(test)]
mod tests;

pub(crate) use lexer::{Lexer, Lookup};

use crate::model::{ArgDecl, Copy, Heredoc, Instruction, InstructionKind, Run, RunMount};

/// A word that could not be expanded: a quote left open, a `${` without
/// its `}`, an unknown operator, or a `${VAR:?message}` whose variable is
/// unset or empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to process {input:?}: {problem}")]
pub struct ExpandError {
    /// The word as written.
    pub input: String,
    pub problem: String,
}

/// One word expanded as Docker expands a `FROM` base or platform (and
/// every other single word): quotes removed, `escape` applied, unset
/// variables empty.
pub fn expand_word(
    word: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<String, ExpandError> {
    Lexer::new(escape)
        .word(word, lookup)
        .map_err(|problem| ExpandError {
            input: word.to_string(),
            problem,
        })
}

/// A word expanded into the words it splits into (`EXPOSE $PORTS`).
fn expand_words(word: &str, lookup: Lookup<'_>, escape: char) -> Result<Vec<String>, ExpandError> {
    Lexer::new(escape)
        .words(word, lookup)
        .map_err(|problem| ExpandError {
            input: word.to_string(),
            problem,
        })
}

/// A heredoc body: variables and `\` escapes are processed, quotes are
/// plain text. A quoted delimiter (`<<"EOF"`) keeps the body as written.
fn expand_heredoc(doc: &Heredoc, lookup: Lookup<'_>) -> Result<Heredoc, ExpandError> {
    if doc.quoted {
        return Ok(doc.clone());
    }
    let lexer = Lexer {
        skip_quotes: true,
        ..Lexer::new('\\')
    };
    let content = lexer
        .word(&doc.content, lookup)
        .map_err(|problem| ExpandError {
            input: doc.content.clone(),
            problem,
        })?;
    Ok(Heredoc {
        content,
        ..doc.clone()
    })
}

impl Instruction {
    /// The instruction with its variables replaced where Docker replaces
    /// them, for a Dockerfile whose escape character is `\` (the default;
    /// see [`Instruction::expand_with_escape`] for `# escape=```).
    /// `lookup` answers the stage's `ENV` and `ARG` values at this point;
    /// `None` is unset (expanded as empty).
    pub fn expand(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Instruction, ExpandError> {
        self.expand_with_escape(lookup, '\\')
    }

    /// [`Instruction::expand`] with the Dockerfile's escape character
    /// ([`crate::model::Dockerfile::escape`]): it is also the character
    /// that keeps a `$` literal.
    pub fn expand_with_escape(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
        escape: char,
    ) -> Result<Instruction, ExpandError> {
        let word = |w: &str| expand_word(w, lookup, escape);
        let pairs = |kv: &[(String, String)]| -> Result<Vec<(String, String)>, ExpandError> {
            kv.iter().map(|(k, v)| Ok((word(k)?, word(v)?))).collect()
        };
        let kind = match &self.kind {
            InstructionKind::Run(run) => InstructionKind::Run(expand_run(run, lookup, escape)?),
            InstructionKind::Copy(copy) => {
                InstructionKind::Copy(expand_copy(copy, lookup, escape)?)
            }
            InstructionKind::Add(copy) => InstructionKind::Add(expand_copy(copy, lookup, escape)?),
            InstructionKind::Env(kv) => InstructionKind::Env(pairs(kv)?),
            InstructionKind::Label(kv) => InstructionKind::Label(pairs(kv)?),
            InstructionKind::Arg(args) => InstructionKind::Arg(
                args.iter()
                    .map(|a| {
                        Ok(ArgDecl {
                            name: a.name.clone(),
                            default: a.default.as_deref().map(word).transpose()?,
                        })
                    })
                    .collect::<Result<_, ExpandError>>()?,
            ),
            InstructionKind::Workdir(w) => InstructionKind::Workdir(word(w)?),
            InstructionKind::User(u) => InstructionKind::User(word(u)?),
            InstructionKind::StopSignal(s) => InstructionKind::StopSignal(word(s)?),
            InstructionKind::Volume(v) => {
                InstructionKind::Volume(v.iter().map(|p| word(p)).collect::<Result<_, _>>()?)
            }
            InstructionKind::Expose(ports) => {
                let mut out = Vec::new();
                for p in ports {
                    out.extend(expand_words(p, lookup, escape)?);
                }
                InstructionKind::Expose(out)
            }
            other @ (InstructionKind::Cmd(_)
            | InstructionKind::Entrypoint(_)
            | InstructionKind::Healthcheck(_)
            | InstructionKind::Shell(_)
            | InstructionKind::Onbuild(_)
            | InstructionKind::Maintainer(_)) => other.clone(),
        };
        Ok(Instruction {
            kind,
            span: self.span,
            source: self.source.clone(),
        })
    }
}

/// `RUN`: only the `--mount` options; the command is the shell's.
fn expand_run(run: &Run, lookup: Lookup<'_>, escape: char) -> Result<Run, ExpandError> {
    let mounts = run
        .mounts
        .iter()
        .map(|m| {
            let options = m
                .options
                .iter()
                .map(|(k, v)| Ok((k.clone(), expand_word(v, lookup, escape)?)))
                .collect::<Result<_, ExpandError>>()?;
            let kind = expand_word(&m.kind, lookup, escape)?.to_ascii_lowercase();
            if !crate::model::MOUNT_KINDS.contains(&kind.as_str()) {
                return Err(ExpandError {
                    input: m.kind.clone(),
                    problem: format!("unsupported mount type {kind:?}"),
                });
            }
            Ok(RunMount { kind, options })
        })
        .collect::<Result<_, ExpandError>>()?;
    Ok(Run {
        mounts,
        ..run.clone()
    })
}

/// `COPY`/`ADD`: sources (not the heredoc ones), destination, `--chown`,
/// `--chmod`, `--checksum`, and unquoted heredoc bodies. `--from` never
/// holds a variable (the parser refuses one, as Docker does).
fn expand_copy(copy: &Copy, lookup: Lookup<'_>, escape: char) -> Result<Copy, ExpandError> {
    let word = |w: &str| expand_word(w, lookup, escape);
    let opt = |w: &Option<String>| w.as_deref().map(word).transpose();
    let is_heredoc = |s: &str| copy.heredocs.iter().any(|h| h.name == s);
    Ok(Copy {
        sources: copy
            .sources
            .iter()
            .map(|s| {
                if is_heredoc(s) {
                    Ok(s.clone())
                } else {
                    word(s)
                }
            })
            .collect::<Result<_, _>>()?,
        dest: word(&copy.dest)?,
        heredocs: copy
            .heredocs
            .iter()
            .map(|h| expand_heredoc(h, lookup))
            .collect::<Result<_, _>>()?,
        chown: opt(&copy.chown)?,
        chmod: opt(&copy.chmod)?,
        checksum: opt(&copy.checksum)?,
        ..copy.clone()
    })
}
