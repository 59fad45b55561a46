//! The merged log stream of `stack logs` and of attached `stack up`: the
//! logs of several containers as one stream, each line prefixed with its
//! service and replica (`web-1  | `), lines in timestamp order.
//!
//! Following polls the log files (each container's monitor writes them) and
//! sorts each batch of new lines by their timestamps before printing, so
//! lines of different containers come out in the order they were written.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use miette::IntoDiagnostic;
use stack_engine::containers::{ContainerRecord, Containers, LogFollower, LogLine};
use stack_engine::labels;

/// How often a followed log is read again.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

/// How lines are shown.
#[derive(Debug, Clone, Default)]
pub struct Style {
    pub prefix: bool,
    pub timestamps: bool,
    /// Colored prefixes: on a terminal, unless `--no-color`.
    pub color: bool,
}

impl Style {
    pub fn new(prefix: bool, timestamps: bool, color: bool) -> Style {
        Style {
            prefix,
            timestamps,
            color,
        }
    }
}

/// Where the lines of a project's logs come from: the log files here, or
/// the daemon's log streams.
pub trait LogSource {
    /// Each container's log as it is now (index = member).
    fn existing(&mut self) -> miette::Result<Vec<Vec<LogLine>>>;
    /// Lines that arrived since the last call (or since `existing`).
    fn read_new(&mut self) -> Vec<(usize, LogLine)>;
    /// Whether more lines may come (some container still runs).
    fn more(&self) -> bool;
}

/// The log files of containers of this host, read directly.
impl LogSource for LogFollower {
    fn existing(&mut self) -> miette::Result<Vec<Vec<LogLine>>> {
        LogFollower::existing(self).into_diagnostic()
    }

    fn read_new(&mut self) -> Vec<(usize, LogLine)> {
        LogFollower::read_new(self)
    }

    fn more(&self) -> bool {
        LogFollower::more(self)
    }
}

/// How a container shows in merged logs: `web-1`, and its service (one
/// color per service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub label: String,
    pub service: String,
}

/// Whether a container is replica `index` (any replica when none is asked
/// for): the filter of `logs --index`.
pub fn is_replica(labels: &BTreeMap<String, String>, index: Option<u32>) -> bool {
    index.is_none_or(|n| labels::membership(labels).and_then(|m| m.number) == Some(n))
}

impl Member {
    /// From a container's labels and name.
    pub fn of(labels: &BTreeMap<String, String>, name: &str) -> Member {
        let m = labels::membership(labels);
        Member {
            label: match &m {
                Some(m) => match m.number {
                    Some(n) => format!("{}-{n}", m.service),
                    None => m.service.to_string(),
                },
                None => name.to_string(),
            },
            service: m.map(|m| m.service.to_string()).unwrap_or_default(),
        }
    }
}

/// A project's containers, by service and number; only `services` when
/// some are named.
pub fn project_containers(
    containers: &Containers,
    project: &str,
    services: &[String],
) -> Vec<ContainerRecord> {
    stack_engine::facade::projects::project_containers(containers, project, services)
}

struct Source {
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
    pub fn new(members: &[Member], style: Style) -> Multiplexer {
        let mut services: BTreeMap<String, usize> = BTreeMap::new();
        let sources: Vec<Source> = members
            .iter()
            .map(|m| {
                let next = services.len();
                let color = *services.entry(m.service.clone()).or_insert(next);
                Source {
                    label: m.label.clone(),
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
    /// lines at or after `since`), merged by time.
    pub fn print_existing(
        &self,
        per_source: Vec<Vec<LogLine>>,
        tail: Option<usize>,
        since: Option<&str>,
    ) {
        let mut batch = Vec::new();
        for (index, mut lines) in per_source.into_iter().enumerate() {
            if let Some(since) = since {
                lines.retain(|l| l.time.as_str() >= since);
            }
            if let Some(n) = tail {
                let skip = lines.len().saturating_sub(n);
                lines.drain(..skip);
            }
            batch.extend(lines.into_iter().map(|l| (index, l)));
        }
        self.print_batch(batch);
    }

    /// Prints new lines until the source has no more (then drains what is
    /// left) or `stop_now` says stop at once.
    pub fn follow(&self, source: &mut dyn LogSource, stop_now: impl Fn() -> bool) {
        loop {
            if stop_now() {
                return;
            }
            let more = source.more();
            let batch = source.read_new();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> LogLine {
        LogLine {
            log: format!("{text}\n"),
            stream: "stdout".into(),
            time: "2026-01-01T00:00:00.000000000Z".into(),
        }
    }

    #[test]
    fn colored_prefixes_only_when_asked() {
        let members = [Member {
            label: "web-1".into(),
            service: "web".into(),
        }];
        let colored = Multiplexer::new(&members, Style::new(true, false, true));
        let text = colored.format(&colored.sources[0], &line("hi"));
        assert!(text.starts_with("\x1b[36mweb-1  |\x1b[0m hi"), "{text:?}");
        let plain = Multiplexer::new(&members, Style::new(true, false, false));
        assert_eq!(
            plain.format(&plain.sources[0], &line("hi")),
            "web-1  | hi\n"
        );
    }
}
