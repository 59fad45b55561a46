//! Messages from the monitor to the `stack` process that launched it, one
//! JSON object per line on an inherited pipe. The launcher may be gone (a
//! detached run, or a killed daemon); the monitor then just stops writing.

use serde::{Deserialize, Serialize};

/// Descriptor number the monitor finds its event pipe on.
pub const EVENT_FD: i32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Event {
    /// The process is running (host pid).
    Started { pid: i32 },
    /// Setup failed; nothing is running and nothing is left but the record.
    Error { message: String },
    /// The container exited; `code` is 128+signal when it was killed.
    Exited { code: i32, oom_killed: bool },
}

impl Event {
    pub fn to_line(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec());
        line.push(b'\n');
        line
    }
}
