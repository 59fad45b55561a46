//! YAML with positions.
//!
//! `serde_yaml` drops line and column once a value is deserialized, and
//! every diagnostic here must point at the file, line and column at fault.
//! So the loader builds its own tree from the event stream of `yaml-rust2`
//! (a pure-Rust YAML 1.2 parser that reports a marker for every event): each
//! [`Node`] keeps its [`Span`](crate::diag::Span), its `!reset`/`!override`
//! tag, and the raw text of scalars, so later stages (interpolation, merge,
//! typing) can report errors where the user wrote the value.

mod node;
mod parse;

pub use node::{Key, Mapping, Node, NodeTag, Scalar, ScalarKind, Value};
pub use parse::parse;
