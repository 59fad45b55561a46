//! The Dockerfile frontend of `stack`'s builder: a Dockerfile read into
//! [`model::Dockerfile`] (stages of instructions, each with its place in
//! the file), the variable expansion Docker applies to each instruction,
//! and the `.dockerignore` matcher. Nothing here touches the filesystem
//! beyond reading the files it is given: the engine executes the model.

pub mod model;
