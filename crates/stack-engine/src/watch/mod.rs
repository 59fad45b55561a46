//! `stack watch`: the dev loop. Files change on the host; the running
//! containers follow within a fraction of a second.
//!
//! - [`rules`] compiles `develop.watch` (path, target, ignore, include,
//!   initial_sync, action) per service, refusing what cannot work up front;
//! - [`watcher`] turns inotify (through notify) into changed paths, walking
//!   new directories and asking for a rescan when events were lost;
//! - [`coalesce`] makes one batch per burst;
//! - [`sync`] writes into the container through `/proc/<pid>/root`, safely;
//! - [`actions`] restarts or execs after a batch;
//! - [`stackfile`] reloads the stack file and hands good edits to an applier;
//! - [`session`] ties them together and [`report`] says what happened.

pub mod actions;
pub mod coalesce;
pub mod error;
pub mod ignore;
pub mod report;
pub mod rules;
pub mod session;
pub mod stackfile;
pub mod sync;
pub mod watcher;

pub use coalesce::Timing;
pub use error::WatchError;
pub use report::{BatchReport, WatchEvent};
pub use session::{run, WatchOptions};
pub use stackfile::StackApplier;
