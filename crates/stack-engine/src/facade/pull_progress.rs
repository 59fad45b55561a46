//! Pull progress turned into API events. Byte counts are batched: the image
//! crate reports every received chunk, a client needs a few lines per layer.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::images::{Digest, Progress};

use stack_api::system::PullEvent;

/// Bytes received before a `progress` line is sent for a layer.
pub(crate) const PROGRESS_STEP: u64 = 1 << 20;

/// Forwards progress to a callback.
pub struct Forward<'a> {
    emit: &'a (dyn Fn(PullEvent) + Send + Sync),
    unsent: Mutex<HashMap<String, (u64, u64)>>,
}

impl<'a> Forward<'a> {
    pub fn new(emit: &'a (dyn Fn(PullEvent) + Send + Sync)) -> Self {
        Forward {
            emit,
            unsent: Mutex::new(HashMap::new()),
        }
    }
}

impl Progress for Forward<'_> {
    fn layer_started(&self, digest: &Digest, size: u64) {
        (self.emit)(PullEvent::LayerStarted {
            digest: digest.to_string(),
            size,
        });
    }

    fn advance(&self, digest: &Digest, bytes: u64) {
        let key = digest.to_string();
        let total = {
            let Ok(mut unsent) = self.unsent.lock() else {
                return;
            };
            let entry = unsent.entry(key.clone()).or_insert((0, 0));
            entry.0 += bytes;
            entry.1 += bytes;
            if entry.0 < PROGRESS_STEP {
                return;
            }
            entry.0 = 0;
            entry.1
        };
        (self.emit)(PullEvent::Progress {
            digest: key,
            bytes: total,
        });
    }

    fn layer_done(&self, digest: &Digest, note: &str) {
        (self.emit)(PullEvent::LayerDone {
            digest: digest.to_string(),
            note: note.to_string(),
        });
    }

    fn message(&self, line: &str) {
        (self.emit)(PullEvent::Message {
            line: line.to_string(),
        });
    }
}
