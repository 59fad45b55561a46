//! What `apply` and `down` report while they work, so the CLI can show
//! progress and tests can check the sequence.

use std::fmt;

/// One step of `apply` or `down`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The object was sent with server-side apply.
    Applied { object: String },
    /// The object belonged to the project but is no longer rendered.
    Pruned { object: String },
    /// The object was deleted by `down`.
    Deleted { object: String },
    /// A rollout is not done yet; `detail` says how far it is.
    Waiting { object: String, detail: String },
    /// A rollout finished.
    Ready { object: String },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Applied { object } => write!(f, "{object} applied"),
            Event::Pruned { object } => write!(f, "{object} pruned (no longer in the stack)"),
            Event::Deleted { object } => write!(f, "{object} deleted"),
            Event::Waiting { object, detail } => write!(f, "{object}: {detail}"),
            Event::Ready { object } => write!(f, "{object} ready"),
        }
    }
}

/// Receives events as they happen.
pub trait Progress {
    fn event(&mut self, event: Event);
}

/// Progress that goes nowhere.
#[derive(Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn event(&mut self, _event: Event) {}
}

impl Progress for Vec<Event> {
    fn event(&mut self, event: Event) {
        self.push(event);
    }
}
