//! The stack file: discovery, YAML parsing, interpolation, merging, `extends`,
//! `include`, profiles, normalization into the typed [`Project`] model,
//! validation with source-located diagnostics, and the dependency graph.
//!
//! Data flows one way: `stack.yaml --load--> Project`. Nothing here touches
//! the kernel, the network or the state root.
//!
//! # API (stable; later changes are additive)
//!
//! ```no_run
//! use stack_spec::{load, LoadOptions};
//! let opts = LoadOptions::from_process(vec!["compose.yaml".into()]);
//! match load(&opts) {
//!     Ok(project) => {
//!         for wave in project.graph().expect("cycles are rejected by load").waves() {
//!             println!("start together: {wave:?}");
//!         }
//!     }
//!     Err(diagnostics) => eprintln!("{}", diagnostics.render_plain()),
//! }
//! ```
//!
//! - [`load`] takes [`LoadOptions`] (files, project directory and name, env
//!   files, profiles, compatibility, and an explicit environment map) and
//!   returns a [`Project`] or [`Diagnostics`] holding every error found.
//! - [`Project`] has `name`, `services` (enabled by the active profiles),
//!   `disabled_services`, `networks`, `volumes`, `secrets`, `configs`,
//!   extensions and warnings; [`Service`] types every CORE and COMMON key.
//! - [`Project::graph`] gives start waves and reversed stop waves. The
//!   recreation hash is the planner's (stack-engine `plan::service_hashes`),
//!   computed from this model.
//! - [`output`] prints the normal form `stack config` shows.
//!
//! # Choices
//!
//! YAML is read with `yaml-rust2`'s event parser instead of `serde_yaml`:
//! every error must name file, line and column, and `serde_yaml` loses
//! positions once a value is deserialized. See [`yaml`] for the tree built
//! from those events. `serde_yaml` is still used to print YAML.

pub mod model;

pub use model::*;
mod graph;

pub use graph::{levels, CycleError, DependencyGraph, Levels};
pub mod diag;
pub mod yaml;

pub use diag::{Diagnostic, Diagnostics, Location};
mod options;

pub use options::LoadOptions;
mod convert;
mod discover;
pub mod dotenv;
mod extends;
pub mod interpolate;
mod load;
mod merge;
mod normalize;
mod paths;

pub mod checks;
pub mod names;

pub use checks::{CheckError, HostChecks};
pub use discover::{is_valid_project_name, normalize_project_name, DEFAULT_FILES};
pub use load::load;
pub mod output;
