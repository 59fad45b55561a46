//! Following a project's containers from the terminal: their merged logs
//! and the attached session of `stack up` (Ctrl-C, `--abort-on-container-exit`).
//! Shared by the verbs in `commands/` and by `switch/`, which runs them
//! here or through the daemon; neither of those imports the other.

pub mod attach;
pub mod logs;
