//! `stack logs` and the merged log stream of attached `stack up`: the logs
//! of several containers as one stream, each line prefixed with its
//! service and replica (`web-1  | `), lines in timestamp order.
//!
//! Following polls the log files (each container's monitor writes them) and
//! sorts each batch of new lines by their timestamps before printing, so
//! lines of different containers come out in the order they were written.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use miette::IntoDiagnostic;
use stack_engine::containers::{ContainerRecord, Containers};
use stack_engine::labels;
use stack_engine::paths::HostPaths;
use stack_runtime::logs::LogLine;

use super::project;
use crate::global::{HostArgs, ProjectArgs};

/// How often a followed log is read again.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

/// Arguments of `stack logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep printing new lines (`-f` is the stack-file flag).
    #[arg(long)]
    follow: bool,
    /// Lines to show from the end of each container's log, or `all`.
    #[arg(long, value_name = "N")]
    tail: Option<String>,
    /// Only lines since a time (RFC 3339) or a duration ago (`10m`, `1h30m`).
    #[arg(long)]
    since: Option<String>,
    /// Show each line's timestamp.
    #[arg(short = 't', long)]
    timestamps: bool,
    /// Print lines without the service prefix.
    #[arg(long)]
    no_log_prefix: bool,
    /// Only these services.
    services: Vec<String>,
}

/// How lines are shown.
#[derive(Debug, Clone, Default)]
pub struct Style {
    pub prefix: bool,
    pub timestamps: bool,
    pub color: bool,
}

pub fn run(
    host: &HostArgs,
    project_args: &ProjectArgs,
    args: LogsArgs,
) -> miette::Result<ExitCode> {
    let name = project::name(project_args)?;
    let paths = HostPaths::resolve(host.state_root.clone(), None, host.config_file.clone());
    let records = project_containers(&Containers::new(&paths), &name, &args.services);
    let tail = match args.tail.as_deref() {
        None | Some("all") => None,
        Some(n) => Some(
            n.parse::<usize>()
                .map_err(|_| miette::miette!("--tail {n:?}: expected a number or `all`"))?,
        ),
    };
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let style = Style {
        prefix: !args.no_log_prefix,
        timestamps: args.timestamps,
        color: std::io::stdout().is_terminal(),
    };
    let mut mux = Multiplexer::new(&records, style);
    mux.print_existing(tail, since.as_deref())
        .into_diagnostic()?;
    if args.follow {
        let dirs: Vec<_> = records.iter().map(|r| r.dir.clone()).collect();
        mux.follow(|| dirs.iter().any(running), || false);
    }
    Ok(ExitCode::SUCCESS)
}

fn running(dir: &stack_runtime::spec::ContainerDir) -> bool {
    stack_runtime::state::State::load(dir)
        .map(|s| s.effective_status() == stack_runtime::state::Status::Running)
        .unwrap_or(false)
}

/// A project's replica containers (not one-offs), by service and number;
/// only `services` when some are named.
pub fn project_containers(
    containers: &Containers,
    project: &str,
    services: &[String],
) -> Vec<ContainerRecord> {
    let mut out: Vec<ContainerRecord> = containers
        .of_project(project)
        .into_iter()
        .filter(|r| {
            labels::membership(&r.spec.labels)
                .is_some_and(|m| services.is_empty() || services.iter().any(|s| s == m.service))
        })
        .collect();
    out.sort_by_key(|r| {
        let m = labels::membership(&r.spec.labels);
        (
            m.as_ref().map(|m| m.service.to_string()),
            m.and_then(|m| m.number),
        )
    });
    out
}

/// `web-1`: the short label of a project container.
pub fn short_label(record: &ContainerRecord) -> String {
    match labels::membership(&record.spec.labels) {
        Some(m) => match m.number {
            Some(n) => format!("{}-{n}", m.service),
            None => m.service.to_string(),
        },
        None => record.spec.name.clone(),
    }
}

/// `10m`, `1h30m`, `45s` -> an RFC 3339 time that long ago; an RFC 3339
/// time as is. Log times are RFC 3339 UTC, so they compare as text.
fn parse_since(text: &str) -> miette::Result<String> {
    if text.contains('T') {
        return Ok(text.to_string());
    }
    let ago = stack_spec::Duration::parse(text)
        .map_err(|e| miette::miette!("--since {text:?}: {e}"))?
        .0;
    let then = std::time::SystemTime::now()
        .checked_sub(ago)
        .unwrap_or(std::time::UNIX_EPOCH);
    Ok(stack_runtime::timefmt::format(then))
}

struct Source {
    path: PathBuf,
    offset: u64,
    label: String,
    color: usize,
}

/// Several containers' logs as one stream.
pub struct Multiplexer {
    sources: Vec<Source>,
    width: usize,
    style: Style,
}

const COLORS: [&str; 6] = ["36", "33", "32", "35", "34", "31"];

impl Multiplexer {
    pub fn new(records: &[ContainerRecord], style: Style) -> Multiplexer {
        let mut services: BTreeMap<String, usize> = BTreeMap::new();
        let sources: Vec<Source> = records
            .iter()
            .map(|r| {
                let service = labels::membership(&r.spec.labels)
                    .map(|m| m.service.to_string())
                    .unwrap_or_default();
                let next = services.len();
                let color = *services.entry(service).or_insert(next);
                Source {
                    path: r.dir.log(),
                    offset: 0,
                    label: short_label(r),
                    color,
                }
            })
            .collect();
        let width = sources.iter().map(|s| s.label.len()).max().unwrap_or(0);
        Multiplexer {
            sources,
            width,
            style,
        }
    }

    /// Prints what the logs hold now (the last `tail` lines of each, only
    /// lines at or after `since`), merged by time; following starts after.
    pub fn print_existing(
        &mut self,
        tail: Option<usize>,
        since: Option<&str>,
    ) -> std::io::Result<()> {
        let mut batch = Vec::new();
        for (index, source) in self.sources.iter_mut().enumerate() {
            let mut lines = stack_runtime::logs::read_all(&source.path)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            if let Some(since) = since {
                lines.retain(|l| l.time.as_str() >= since);
            }
            if let Some(n) = tail {
                let skip = lines.len().saturating_sub(n);
                lines.drain(..skip);
            }
            batch.extend(lines.into_iter().map(|l| (index, l)));
            source.offset = stack_runtime::logs::current_len(&source.path);
        }
        self.print_batch(batch);
        Ok(())
    }

    /// Prints new lines until `keep_going` says stop (then drains what is
    /// left) or `stop_now` says stop at once.
    pub fn follow(&mut self, keep_going: impl Fn() -> bool, stop_now: impl Fn() -> bool) {
        loop {
            if stop_now() {
                return;
            }
            let more = keep_going();
            let batch = self.read_new();
            let empty = batch.is_empty();
            self.print_batch(batch);
            if empty {
                if !more {
                    return;
                }
                std::thread::sleep(FOLLOW_POLL);
            }
        }
    }

    /// Reads the lines written since the last read, from every source.
    pub fn read_new(&mut self) -> Vec<(usize, LogLine)> {
        let mut batch = Vec::new();
        for (index, source) in self.sources.iter_mut().enumerate() {
            let Ok(mut file) = std::fs::File::open(&source.path) else {
                continue;
            };
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            if len < source.offset {
                source.offset = 0; // rotated
            }
            if len == source.offset || file.seek(SeekFrom::Start(source.offset)).is_err() {
                continue;
            }
            let mut reader = BufReader::new(file);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if !line.ends_with('\n') {
                    break; // half-written; read it whole next time
                }
                source.offset += line.len() as u64;
                if let Ok(record) = serde_json::from_str::<LogLine>(line.trim_end()) {
                    batch.push((index, record));
                }
                line.clear();
            }
        }
        batch
    }

    pub fn print_batch(&self, mut batch: Vec<(usize, LogLine)>) {
        if batch.is_empty() {
            return;
        }
        batch.sort_by(|a, b| a.1.time.cmp(&b.1.time));
        let mut out = std::io::stdout().lock();
        for (index, line) in batch {
            let _ = out.write_all(self.format(&self.sources[index], &line).as_bytes());
        }
        let _ = out.flush();
    }

    fn format(&self, source: &Source, line: &LogLine) -> String {
        let mut text = String::new();
        if self.style.prefix {
            let label = format!("{:<w$}  |", source.label, w = self.width);
            if self.style.color {
                let code = COLORS[source.color % COLORS.len()];
                text.push_str(&format!("\x1b[{code}m{label}\x1b[0m "));
            } else {
                text.push_str(&label);
                text.push(' ');
            }
        }
        if self.style.timestamps {
            text.push_str(&line.time);
            text.push(' ');
        }
        text.push_str(&line.log);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }
}
