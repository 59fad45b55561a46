//! The stack file: discovery, YAML parsing, interpolation, merging, `extends`,
//! `include`, profiles, normalization into the typed [`Project`] model,
//! validation with source-located diagnostics, and the dependency graph.
//!
//! Data flows one way: `stack.yaml --load--> Project`. Nothing here touches
//! the kernel, the network or the state root.
