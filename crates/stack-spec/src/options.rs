//! What to load and with which environment.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::checks::HostChecks;

/// Inputs of [`crate::load`]. The environment is explicit so that loading is
/// a pure function of its inputs (tests never depend on the process).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Stack files in merge order (`-f`); empty means discover them from
    /// `working_dir` upwards. `-` reads `stdin`.
    pub files: Vec<PathBuf>,
    /// Where discovery starts and relative `files` are resolved (the
    /// caller's current directory).
    pub working_dir: PathBuf,
    /// `--project-directory`: base of relative paths and of `.env`
    /// (default: the first file's directory).
    pub project_directory: Option<PathBuf>,
    /// `-p`; wins over `STACK_PROJECT_NAME`/`COMPOSE_PROJECT_NAME`, `name:`
    /// and the directory name.
    pub project_name: Option<String>,
    /// `--env-file`, repeatable; replaces the default `<project dir>/.env`.
    pub env_files: Vec<PathBuf>,
    /// `--profile`, repeatable; added to `STACK_PROFILES`/`COMPOSE_PROFILES`.
    pub profiles: Vec<String>,
    /// Services named on the command line: their profiles are enabled.
    pub target_services: Vec<String>,
    /// Unknown keys are warnings instead of errors.
    pub compatibility: bool,
    /// Compose's `--no-normalize`: no default network, no implicit
    /// `depends_on`, no derived resource names; the project is for printing
    /// only (see [`crate::Project::skip_normalization`]).
    pub no_normalize: bool,
    /// The process environment (wins over `.env` for interpolation).
    pub environment: BTreeMap<String, String>,
    /// Content of the file named `-`.
    pub stdin: Option<String>,
    /// The host's rules for what a stack file declares (the engine's
    /// `spec_checks()`); without them only the loader's own rules apply.
    pub checks: Option<Arc<dyn HostChecks>>,
}

impl LoadOptions {
    /// Options for `files` with the current process's directory and
    /// environment.
    pub fn from_process(files: Vec<PathBuf>) -> LoadOptions {
        LoadOptions {
            files,
            working_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            environment: std::env::vars().collect(),
            ..LoadOptions::default()
        }
    }
}
