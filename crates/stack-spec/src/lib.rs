//! The stack file: discovery, YAML parsing, interpolation, merging, `extends`,
//! `include`, profiles, normalization into the typed [`Project`] model,
//! validation with source-located diagnostics, and the dependency graph.
//!
//! Data flows one way: `stack.yaml --load--> Project`. Nothing here touches
//! the kernel, the network or the state root.

pub mod model;

pub use model::*;
mod graph;
mod hash;

pub use graph::{CycleError, DependencyGraph};
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

pub use discover::{is_valid_project_name, normalize_project_name, DEFAULT_FILES};
pub use load::load;
pub mod output;
