//! The stack file as a watched input: which files make the project, and
//! what to do when one changes (reload; a broken edit is reported and
//! changes nothing; a good one goes to the applier).

use std::collections::BTreeSet;
use std::path::PathBuf;

use stack_spec::{Diagnostics, LoadOptions, Project};

use crate::apply::ApplyError;

/// Brings the running stack to a newly loaded project: starts new
/// services, recreates changed ones, stops removed ones, leaves the rest.
/// The engine's apply implements it; `stack watch` only decides when.
pub trait StackApplier {
    /// Applies `project`; the error is shown and the loop goes on.
    fn apply(&self, project: &Project) -> Result<(), ApplyError>;
    /// Builds `service`'s image again and recreates its containers if the
    /// image changed (`develop.watch` `action: rebuild`).
    fn rebuild(&self, project: &Project, service: &str) -> Result<(), ApplyError>;
}

/// Every file whose change can change the project: the stack files, the
/// `.env` (or the `--env-file`s given instead) and each service's
/// `env_file`s.
pub fn inputs(project: &Project, load: &LoadOptions) -> BTreeSet<PathBuf> {
    let mut files: BTreeSet<PathBuf> = project.config_files.iter().cloned().collect();
    if load.env_files.is_empty() {
        files.insert(project.working_dir.join(".env"));
    } else {
        files.extend(load.env_files.iter().map(|f| load.working_dir.join(f)));
    }
    for service in project.services.values() {
        for env_file in &service.env_file {
            files.insert(project.working_dir.join(&env_file.path));
        }
    }
    files
}

/// Loads the project again; a failure is the loader's diagnostics (file,
/// line, column), to render for the user.
pub fn reload(load: &LoadOptions) -> Result<Project, Diagnostics> {
    stack_spec::load(load)
}
