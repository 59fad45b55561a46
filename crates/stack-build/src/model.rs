//! A Dockerfile as data. The parser fills it with the words as written
//! (variables not yet expanded: their values depend on the `ENV` and
//! `ARG` lines before them and on the build's arguments, which only the
//! executor knows while it walks a stage); [`Instruction::expand`] then
//! gives the instruction with variables replaced exactly where Docker
//! replaces them.

use std::collections::BTreeMap;

/// A place in the Dockerfile, for errors: 1-based line and column, and
/// the byte range of the whole instruction (continuation lines included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub offset: u32,
    pub len: u32,
}

/// A whole Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dockerfile {
    /// `# syntax=` when given (only the built-in frontend is accepted).
    pub syntax: Option<String>,
    /// `# escape=` (`\` unless set to `` ` ``).
    pub escape: char,
    /// `ARG` lines before the first `FROM`: usable in `FROM` lines, and in
    /// a stage only after the stage declares the name again.
    pub global_args: Vec<ArgDecl>,
    pub stages: Vec<Stage>,
}

/// One `FROM` and the instructions up to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Position in the file (what `COPY --from=0` names).
    pub index: usize,
    /// `AS name`, lower-cased as Docker compares stage names.
    pub name: Option<String>,
    /// The base as written: an image reference, an earlier stage's name,
    /// or `scratch` (expanded with the global args before use).
    pub base: String,
    /// `FROM --platform=...` as written.
    pub platform: Option<String>,
    pub span: Span,
    pub instructions: Vec<Instruction>,
}

/// One instruction of a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub kind: InstructionKind,
    /// Where it is, for errors.
    pub span: Span,
    /// The instruction as written, continuations joined (image history
    /// and build progress show it).
    pub source: String,
}

/// What an instruction does, with its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstructionKind {
    Run(Run),
    Copy(Copy),
    /// `ADD`: a `Copy` whose local tar archives are extracted and whose
    /// sources may be URLs.
    Add(Copy),
    /// `ENV k=v ...` (or the legacy `ENV k v`), in order.
    Env(Vec<(String, String)>),
    Arg(Vec<ArgDecl>),
    Workdir(String),
    User(String),
    /// `EXPOSE 80 53/udp`, as written.
    Expose(Vec<String>),
    Label(Vec<(String, String)>),
    Cmd(Command),
    Entrypoint(Command),
    /// `HEALTHCHECK NONE` is `None`.
    Healthcheck(Option<Healthcheck>),
    Shell(Vec<String>),
    StopSignal(String),
    Volume(Vec<String>),
    /// `ONBUILD <instruction>`: recorded in the image, run by images built
    /// `FROM` it.
    Onbuild(Box<Instruction>),
    /// `MAINTAINER` (deprecated): a label `maintainer`.
    Maintainer(String),
}

/// The command of `RUN`, `CMD`, `ENTRYPOINT` and `HEALTHCHECK CMD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// JSON form: run as given.
    Exec(Vec<String>),
    /// Shell form: run with the stage's `SHELL` (`/bin/sh -c`).
    Shell(String),
}

/// A heredoc (`<<EOF` ... `EOF`) attached to `RUN` or `COPY`/`ADD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The word after `<<` (`EOF` in `<<EOF`, `<<-EOF`, `<<"EOF"`).
    pub name: String,
    /// The lines between, joined with `\n` and ending with one.
    pub content: String,
    /// `<<-`: leading tabs are removed from each line (already done in
    /// `content`).
    pub strip_tabs: bool,
    /// The delimiter was quoted: no variable expansion inside.
    pub quoted: bool,
}

/// `RUN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub command: Command,
    /// Heredocs of the line (`RUN <<EOF` makes the first one the script).
    pub heredocs: Vec<Heredoc>,
    /// `--mount=...`, one per flag.
    pub mounts: Vec<RunMount>,
    /// `--network=default|none|host`.
    pub network: Option<String>,
    /// `--security=insecure|sandbox`.
    pub security: Option<String>,
}

/// The `type=` values of `RUN --mount` Docker knows.
pub const MOUNT_KINDS: [&str; 5] = ["bind", "cache", "tmpfs", "secret", "ssh"];

/// One `RUN --mount=type=...,k=v,...`: its type and its options as
/// written (the executor checks them and names any it does not know).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMount {
    /// `bind` (the default), `cache`, `tmpfs`, `secret`, `ssh`.
    pub kind: String,
    /// Every other field, keys lower-cased (`source`, `src`, `target`,
    /// `dst`, `from`, `id`, `sharing`, `mode`, ...). A field given without
    /// `=` (`ro`, `rw`, `readonly`, `readwrite`, `required`) is `"true"`.
    pub options: BTreeMap<String, String>,
}

/// `COPY` and `ADD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// Paths (or globs) in the context, or in the `from` stage/image; for
    /// `ADD`, also URLs. A heredoc source is named by its delimiter and
    /// found in `heredocs`.
    pub sources: Vec<String>,
    pub dest: String,
    pub heredocs: Vec<Heredoc>,
    /// `--from=stage|index|image`.
    pub from: Option<String>,
    /// `--chown=user[:group]`.
    pub chown: Option<String>,
    /// `--chmod=0755` (octal as written).
    pub chmod: Option<String>,
    pub link: bool,
    /// `--exclude=pattern`, repeatable.
    pub exclude: Vec<String>,
    /// `--parents`.
    pub parents: bool,
    /// `ADD --checksum=sha256:...`.
    pub checksum: Option<String>,
    /// `ADD --keep-git-dir`.
    pub keep_git_dir: bool,
}

/// `ARG name[=default]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: String,
    pub default: Option<String>,
}

/// `HEALTHCHECK [options] CMD ...`; durations as written (`30s`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthcheck {
    pub command: Command,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub start_period: Option<String>,
    pub start_interval: Option<String>,
    pub retries: Option<u32>,
}
