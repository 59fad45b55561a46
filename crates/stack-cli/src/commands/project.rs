//! Loading the project a verb works on, from the global `-f`/`-p`/`--profile`
//! flags, the same way for every project verb (`up`, `down`, `ps`, `stop`…).

use stack_engine::spec::{LoadOptions, Project};

use crate::global::ProjectArgs;

/// Load options from the global flags, for `services` named on the
/// command line (their profiles are enabled).
pub fn load_options(args: &ProjectArgs, services: &[String]) -> LoadOptions {
    let mut opts = LoadOptions::from_process(args.files.clone());
    opts.project_directory = args.project_directory.clone();
    opts.project_name = args.project_name.clone();
    opts.env_files = args.env_files.clone();
    opts.profiles = args.profiles.clone();
    opts.compatibility = args.compatibility;
    opts.target_services = services.to_vec();
    opts.checks = Some(stack_engine::spec_checks::spec_checks());
    opts
}

/// Whether a stack file is named with `-f` or lies in the current
/// directory: verbs with a Docker meaning too (`run`, `pull`) keep it
/// when there is none.
pub fn has_stack_file(args: &ProjectArgs) -> bool {
    if !args.files.is_empty() {
        return true;
    }
    std::env::current_dir().is_ok_and(|dir| {
        stack_engine::spec::DEFAULT_FILES
            .iter()
            .any(|file| dir.join(file).is_file())
    })
}

/// Loads and validates the stack file; warnings go to stderr, errors come
/// back as one diagnostic naming file, line and column.
pub fn load(args: &ProjectArgs, services: &[String]) -> miette::Result<Project> {
    let project = stack_engine::spec::load(&load_options(args, services))?;
    for warning in &project.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(project)
}

/// The project name alone, for verbs that also work without the stack
/// file (`down -p NAME`, `ps -p NAME`, `stop`…): `-p`, then
/// `STACK_PROJECT_NAME`/`COMPOSE_PROJECT_NAME`, then the file's `name:` or
/// its directory (which needs the file).
pub fn name(args: &ProjectArgs) -> miette::Result<String> {
    if let Some(name) = &args.project_name {
        return Ok(name.clone());
    }
    for var in ["STACK_PROJECT_NAME", "COMPOSE_PROJECT_NAME"] {
        if let Ok(name) = std::env::var(var) {
            if !name.is_empty() {
                return Ok(name);
            }
        }
    }
    Ok(load(args, &[])?.name)
}
