//! What a build reports as it goes, one event per step, so the CLI can
//! print BuildKit's plain lines and the Docker API its JSON stream.

use std::time::Duration;

/// One thing that happened in a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildEvent {
    /// A step starts: `[stage 2/5] RUN make` (`stage` is the stage's name
    /// or index).
    Step {
        stage: String,
        number: usize,
        total: usize,
        text: String,
    },
    /// The step's result came from the cache.
    Cached,
    /// A line the step's command printed.
    Output(String),
    /// The step finished, in this time.
    Done(Duration),
    /// The image is written.
    Built { id: String, tags: Vec<String> },
}

/// Receives a build's events.
pub trait BuildProgress {
    fn event(&self, event: BuildEvent);
}

/// One plain line per step and per output line on stderr, prefixed with
/// the service: how `up` shows the builds it runs.
pub struct Lines {
    service: String,
}

impl Lines {
    pub fn new(service: &str) -> Self {
        Lines {
            service: service.to_string(),
        }
    }
}

impl BuildProgress for Lines {
    fn event(&self, event: BuildEvent) {
        let service = &self.service;
        match event {
            BuildEvent::Step {
                stage,
                number,
                total,
                text,
            } => eprintln!("{service} [{stage} {number}/{total}] {text}"),
            BuildEvent::Cached => eprintln!("{service} CACHED"),
            BuildEvent::Output(line) => eprintln!("{service} | {line}"),
            BuildEvent::Done(_) => {}
            BuildEvent::Built { id, .. } => eprintln!("{service} built {id}"),
        }
    }
}

/// Prints nothing (`--progress quiet`, tests).
pub struct Quiet;

impl BuildProgress for Quiet {
    fn event(&self, _: BuildEvent) {}
}
