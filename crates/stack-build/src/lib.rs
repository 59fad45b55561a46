//! The Dockerfile frontend of `stack`'s builder: a Dockerfile read into
//! [`model::Dockerfile`] (stages of instructions, each with its place in
//! the file), the variable expansion Docker applies to each instruction,
//! and the `.dockerignore` matcher. Nothing here touches the filesystem
//! beyond reading the files it is given: the engine executes the model.

pub mod dockerignore;
pub mod expand;
pub mod model;
pub mod parse;
pub mod stages;

pub use dockerignore::{IgnoreError, IgnoreMatcher};
pub use expand::{expand_word, ExpandError};
pub use parse::{parse, ParseError};
pub use stages::StageError;
