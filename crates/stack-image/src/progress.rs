//! Pull progress: bars per layer on a terminal (indicatif), one plain line
//! per event otherwise, so logs and CI output stay readable.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::digest::Digest;

/// Receives pull events. Implementations must be cheap: `advance` is
/// called for every chunk received.
pub trait Progress: Send + Sync {
    fn layer_started(&self, digest: &Digest, size: u64);
    fn advance(&self, digest: &Digest, bytes: u64);
    fn layer_done(&self, digest: &Digest, note: &str);
    /// A one-line message (warnings about skipped mirrors, the source used).
    fn message(&self, line: &str);
}

/// Picks bars on a terminal and plain lines otherwise.
pub fn for_stderr() -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(Bars::new())
    } else {
        Box::new(Lines)
    }
}

/// Reports nothing but messages (tests, library use).
pub struct Quiet;

impl Progress for Quiet {
    fn layer_started(&self, _: &Digest, _: u64) {}
    fn advance(&self, _: &Digest, _: u64) {}
    fn layer_done(&self, _: &Digest, _: &str) {}
    fn message(&self, _: &str) {}
}

/// One line per layer event on stderr.
pub struct Lines;

impl Progress for Lines {
    fn layer_started(&self, digest: &Digest, size: u64) {
        eprintln!("{}: downloading ({size} bytes)", digest.short());
    }
    fn advance(&self, _: &Digest, _: u64) {}
    fn layer_done(&self, digest: &Digest, note: &str) {
        eprintln!("{}: {note}", digest.short());
    }
    fn message(&self, line: &str) {
        eprintln!("{line}");
    }
}

/// A bar per layer.
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<Digest, ProgressBar>>,
}

impl Bars {
    fn new() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn bar(&self, digest: &Digest) -> Option<ProgressBar> {
        self.bars.lock().ok()?.get(digest).cloned()
    }
}

impl Progress for Bars {
    fn layer_started(&self, digest: &Digest, size: u64) {
        let bar = self.multi.add(ProgressBar::new(size));
        let style = ProgressStyle::with_template("{prefix} {bar:30} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(digest.short().to_string());
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(digest.clone(), bar);
        }
    }
    fn advance(&self, digest: &Digest, bytes: u64) {
        if let Some(bar) = self.bar(digest) {
            bar.inc(bytes);
        }
    }
    fn layer_done(&self, digest: &Digest, note: &str) {
        match self.bar(digest) {
            Some(bar) => bar.finish_with_message(note.to_string()),
            None => {
                let _ = self.multi.println(format!("{}: {note}", digest.short()));
            }
        }
    }
    fn message(&self, line: &str) {
        let _ = self.multi.println(line);
    }
}
