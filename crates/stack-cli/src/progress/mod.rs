//! The one progress display of every verb that changes things (`up`,
//! `down`, `start`, `stop`, `restart`, `kill`, `rm`, `pull`), in Compose's
//! words, order and layout (recorded in `tests/fixtures/compose-*.txt`).
//!
//! `--progress` chooses as Compose's flag does: `plain` prints each step as
//! a line when it happens (` Container demo-web-1  Stopped`; logs, CI,
//! pipes); `tty` keeps one line per object under a `[+] Running 2/3`
//! header and redraws them in place (` ✔ Container demo-web-1  Started`),
//! with a live byte count per layer being pulled; `quiet` prints nothing;
//! `auto` (the default) is `tty` when stderr is a terminal and `plain`
//! otherwise. Everything goes to stderr, so stdout stays the verb's answer.

mod pull;

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use stack_api::projects::ProjectEvent;

pub use pull::PullDisplay;

/// `--progress`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    #[default]
    Auto,
    Tty,
    Plain,
    Quiet,
}

/// Where an object's step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Still going (`Waiting`, `Downloading`).
    Working,
    Done,
    Failed,
}

/// One object's line: kind, name, the state word, and what follows it (a
/// reason, a byte count, an error).
#[derive(Debug, Clone)]
struct Line {
    kind: String,
    name: String,
    state: String,
    mark: Mark,
    detail: String,
    /// When the object was first reported; `tty` shows the time since.
    began: Instant,
    took: Option<Duration>,
}

impl Line {
    /// `plain`: ` Container demo-web-1  Stopped`.
    fn plain(&self) -> String {
        let mut text = format!(" {} {}  {}", self.kind, self.name, self.state);
        if !self.detail.is_empty() {
            text.push(' ');
            text.push_str(&self.detail);
        }
        text
    }

    /// `tty`: ` ✔ Container demo-web-1  Removed 0.3s`, the object padded to
    /// `width` so the states line up, in Compose's colors.
    fn tty(&self, width: usize) -> String {
        let (icon, color) = match self.mark {
            Mark::Working => ("⠿", "33"),
            Mark::Done => ("✔", "32"),
            Mark::Failed => ("✘", "31"),
        };
        let object = format!("{} {}", self.kind, self.name);
        let mut text = format!(
            " \x1b[{color}m{icon}\x1b[0m {object:<width$}  \x1b[{color}m{}\x1b[0m",
            self.state
        );
        if !self.detail.is_empty() {
            text.push(' ');
            text.push_str(&self.detail);
        }
        let took = self.took.unwrap_or_else(|| self.began.elapsed());
        text.push_str(&format!("\x1b[34m{:.1}s \x1b[0m", took.as_secs_f64()));
        text
    }
}

/// The display. Safe to share between threads (the steps of one wave
/// report at once).
pub struct Printer {
    mode: ProgressMode,
    /// `tty`: the header's verb (`[+] Running 3/3`).
    title: String,
    /// Every object's line so far, in the order first seen, and how many
    /// lines `tty` has on the screen.
    board: Mutex<(Vec<Line>, usize)>,
}

impl Printer {
    /// `auto` resolved against stderr; `title` heads the `tty` board
    /// (Compose's: `Running` for `up` and `down`, `Stopping`, ...).
    pub fn new(mode: ProgressMode, title: &str) -> Printer {
        let mode = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Tty,
            ProgressMode::Auto => ProgressMode::Plain,
            other => other,
        };
        Printer {
            mode,
            title: title.to_string(),
            board: Mutex::new((Vec::new(), 0)),
        }
    }

    /// Reports that `kind name` (`Container`, `demo-web-1`) is now `state`.
    pub fn step(&self, kind: &str, name: &str, state: &str, mark: Mark, detail: &str) {
        if let Some(text) = self.step_text(kind, name, state, mark, detail) {
            write_err(&text);
        }
    }

    /// What [`Printer::step`] writes.
    fn step_text(
        &self,
        kind: &str,
        name: &str,
        state: &str,
        mark: Mark,
        detail: &str,
    ) -> Option<String> {
        {
            let Ok(mut board) = self.board.lock() else {
                return None;
            };
            let (lines, shown) = &mut *board;
            let at = match lines.iter().position(|l| l.kind == kind && l.name == name) {
                Some(at) => at,
                None => {
                    lines.push(Line {
                        kind: kind.to_string(),
                        name: name.to_string(),
                        state: String::new(),
                        mark,
                        detail: String::new(),
                        began: Instant::now(),
                        took: None,
                    });
                    lines.len() - 1
                }
            };
            let line = &mut lines[at];
            line.state = state.to_string();
            line.mark = mark;
            line.detail = detail.to_string();
            line.took = match mark {
                Mark::Working => None,
                _ => Some(line.took.unwrap_or_else(|| line.began.elapsed())),
            };
            match self.mode {
                ProgressMode::Quiet => None,
                ProgressMode::Plain | ProgressMode::Auto => Some(format!("{}\n", line.plain())),
                ProgressMode::Tty => {
                    let text = format!("{}{}", up(*shown), self.board_text(lines));
                    *shown = lines.len() + 1;
                    Some(text)
                }
            }
        }
    }

    /// A line about no object in particular (a warning): above the board.
    pub fn note(&self, text: &str) {
        if let Some(out) = self.note_text(text) {
            write_err(&out);
        }
    }

    fn note_text(&self, text: &str) -> Option<String> {
        let Ok(mut board) = self.board.lock() else {
            return None;
        };
        let (lines, shown) = &mut *board;
        match self.mode {
            ProgressMode::Quiet => None,
            ProgressMode::Tty if !lines.is_empty() => {
                let out = format!("{}\x1b[2K{text}\n{}", up(*shown), self.board_text(lines));
                *shown = lines.len() + 1;
                Some(out)
            }
            _ => Some(format!("{text}\n")),
        }
    }

    /// One progress event of `up` or `down` (the same events whichever
    /// path did the work).
    pub fn project_event(&self, event: &ProjectEvent) {
        if let Some(text) = self.event_text(event) {
            write_err(&text);
        }
    }

    fn event_text(&self, event: &ProjectEvent) -> Option<String> {
        match event {
            ProjectEvent::Adopted { name } => self.note_text(&format!(
                "adopted {name} (found by its labels, missing from the store)"
            )),
            ProjectEvent::Warning { message } => self.note_text(&format!("warning: {message}")),
            ProjectEvent::Done {
                kind,
                name,
                state,
                reason,
                ..
            } => {
                let why = reason
                    .as_ref()
                    .map(|r| format!("({r})"))
                    .unwrap_or_default();
                self.step_text(kind, name, state, Mark::Done, &why)
            }
            ProjectEvent::ActionFailed {
                kind, name, error, ..
            } => self.step_text(kind, name, "Error", Mark::Failed, error),
            ProjectEvent::Observed {
                kind,
                name,
                state,
                waiting,
            } => {
                let mark = if *waiting { Mark::Working } else { Mark::Done };
                self.step_text(kind, name, state, mark, "")
            }
            ProjectEvent::Finished | ProjectEvent::Failed { .. } => None,
        }
    }

    /// The `[+] Running 2/3` header and every line, each erasing what was
    /// on the screen there.
    fn board_text(&self, lines: &[Line]) -> String {
        let done = lines.iter().filter(|l| l.mark == Mark::Done).count();
        let width = lines
            .iter()
            .map(|l| l.kind.chars().count() + 1 + l.name.chars().count())
            .max()
            .unwrap_or(0);
        let mut text = format!("\x1b[2K[+] {} {done}/{}\n", self.title, lines.len());
        for line in lines {
            text.push_str(&format!("\x1b[2K{}\n", line.tty(width)));
        }
        text
    }
}

fn write_err(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// Moves the cursor back up over the `n` lines drawn last.
fn up(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("\x1b[{n}A")
    }
}

/// Sizes as Docker prints them: decimal units, three significant digits
/// (`12.3MB`, `512B`, `1.05GB`).
pub fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = match value {
        v if v < 10.0 => 2,
        v if v < 100.0 => 1,
        _ => 0,
    };
    let number = format!("{value:.decimals$}");
    let number = if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        &number
    };
    format!("{number}{}", units[unit])
}

#[cfg(test)]
mod tests;
