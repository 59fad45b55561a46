//! Pull and push progress on the [`Printer`](super::Printer).

use std::collections::HashMap;
use std::sync::Mutex;

use super::{human_size, Mark, Printer, ProgressMode};

/// Pull progress on the printer: a line per layer, `Downloading` with its
/// size in human units, a live byte count on a terminal, then the note the
/// puller gives (`Pull complete`, `Already exists`). The in-process puller
/// calls it as its `Progress`; the daemon's pull events are fed to the
/// same methods, so both paths print alike.
pub struct PullDisplay<'a> {
    printer: &'a Printer,
    transfer: Transfer,
    /// Per layer: bytes received, size, bytes at the last redraw.
    layers: Mutex<HashMap<String, (u64, u64, u64)>>,
}

/// Which way the layers go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transfer {
    Pull,
    Push,
}

impl Transfer {
    /// The state of a layer on its way.
    fn working(self) -> &'static str {
        match self {
            Transfer::Pull => "Downloading",
            Transfer::Push => "Pushing",
        }
    }
}

/// Redraw a layer's count after this many more bytes (or a fiftieth of it).
const REDRAW_STEP: u64 = 256 * 1024;

impl<'a> PullDisplay<'a> {
    pub fn new(printer: &'a Printer) -> Self {
        PullDisplay {
            printer,
            transfer: Transfer::Pull,
            layers: Mutex::new(HashMap::new()),
        }
    }

    /// The same display for a push: layers are `Pushing`, and end in the
    /// pusher's note (`Pushed`, `Layer already exists`, `Mounted from
    /// REPO`), Docker's words already.
    pub fn for_push(printer: &'a Printer) -> Self {
        PullDisplay {
            transfer: Transfer::Push,
            ..PullDisplay::new(printer)
        }
    }

    /// `id` is the layer's short digest.
    pub fn started(&self, id: &str, size: u64) {
        if let Ok(mut layers) = self.layers.lock() {
            layers.insert(id.to_string(), (0, size, 0));
        }
        self.printer.step(
            "Layer",
            id,
            self.transfer.working(),
            Mark::Working,
            &human_size(size),
        );
    }

    /// `total` bytes of the layer are in.
    pub fn received(&self, id: &str, total: u64) {
        if self.printer.mode != ProgressMode::Tty {
            return;
        }
        let size = {
            let Ok(mut layers) = self.layers.lock() else {
                return;
            };
            let Some(entry) = layers.get_mut(id) else {
                return;
            };
            entry.0 = total;
            if total - entry.2.min(total) < REDRAW_STEP.min(entry.1 / 50).max(1) {
                return;
            }
            entry.2 = total;
            entry.1
        };
        let detail = format!("{}/{}", human_size(total), human_size(size));
        self.printer
            .step("Layer", id, self.transfer.working(), Mark::Working, &detail);
    }

    /// `note` is the puller's (`downloaded, verified, unpacked`,
    /// `already present`); the state is Compose's word for it.
    pub fn done(&self, id: &str, note: &str) {
        let state = if self.transfer == Transfer::Push {
            note
        } else if note.starts_with("already") {
            "Already exists"
        } else {
            "Pull complete"
        };
        self.printer.step("Layer", id, state, Mark::Done, "");
    }

    pub fn message(&self, line: &str) {
        self.printer.note(line);
    }
}

impl stack_engine::images::Progress for PullDisplay<'_> {
    fn layer_started(&self, digest: &stack_engine::images::Digest, size: u64) {
        self.started(digest.short(), size);
    }
    fn advance(&self, digest: &stack_engine::images::Digest, bytes: u64) {
        let id = digest.short();
        let total = self
            .layers
            .lock()
            .ok()
            .and_then(|l| l.get(id).map(|e| e.0))
            .unwrap_or(0);
        self.received(id, total + bytes);
    }
    fn layer_done(&self, digest: &stack_engine::images::Digest, note: &str) {
        self.done(digest.short(), note);
    }
    fn message(&self, line: &str) {
        PullDisplay::message(self, line);
    }
}
