//! The engine composes the other crates: it plans the desired state of a
//! stack against the observed state, applies the plan (images, networks,
//! containers), stores what it made, and supervises it.
//!
//! It also owns the host configuration file (`/etc/stack/config.toml`), since
//! it is the one place that hands each subsystem its settings.

pub mod apply;
pub mod build;
pub mod build_tmp;
pub mod config;
pub mod containers;
pub mod disk_usage;
pub mod error_class;
pub mod facade;
pub mod helper_modes;
/// The RFC 3339 times every log, event and record of the host is stamped
/// with (one format for all, so they compare as text).
pub use stack_runtime::timefmt;
/// The stack file model the engine plans from: a front end loads and
/// prints stacks through this, so it needs no other path to the loader.
pub use stack_spec as spec;
pub mod images;
pub mod labels;
pub mod paths;
pub mod plan;
pub mod private_dirs;
pub mod project;
pub mod project_lock;
pub mod spec_checks;
pub mod store;
pub mod supervise;
pub mod system_check;
pub mod volumes;
pub mod watch;
