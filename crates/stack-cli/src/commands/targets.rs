//! What a project verb acts on: the project (named by `-p`, the
//! environment, or the stack file), its containers found by their labels,
//! and the dependency waves when the stack file is there. The file is
//! optional, so `stop`, `rm`, `events`… work on a project whose file is
//! gone, as Compose's do.

use std::collections::BTreeSet;
use std::path::Path;

use miette::IntoDiagnostic;
use stack_engine::containers::Containers;
use stack_engine::project::select::{self, Selection};

use crate::global::{HostArgs, ProjectArgs};

use super::project;

/// The project a verb works on, before its containers are picked.
pub struct ProjectContext {
    pub store: Containers,
    pub name: String,
    /// Services the stack file declares (empty without a file).
    pub declared: BTreeSet<String>,
    /// Start waves from the stack file (empty without a file).
    pub waves: Vec<Vec<String>>,
}

/// The project and its selected containers.
pub struct Targets {
    pub context: ProjectContext,
    pub selection: Selection,
}

/// Whether the command line or the environment names a project: `-p`,
/// `STACK_PROJECT_NAME`/`COMPOSE_PROJECT_NAME`, or a stack file.
pub fn project_given(args: &ProjectArgs) -> bool {
    args.project_name.is_some()
        || ["STACK_PROJECT_NAME", "COMPOSE_PROJECT_NAME"]
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|n| !n.is_empty()))
        || stack_file_present(args)
}

/// Whether a stack file is named or would be found from here.
fn stack_file_present(args: &ProjectArgs) -> bool {
    if !args.files.is_empty() {
        return true;
    }
    let start = match &args.project_directory {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().unwrap_or_else(|_| Path::new(".").to_path_buf()),
    };
    start.ancestors().any(|dir| {
        stack_engine::spec::DEFAULT_FILES
            .iter()
            .any(|name| dir.join(name).is_file())
    })
}

/// Resolves the project from the global flags, loading the stack file
/// when there is one (a broken file is an error, not ignored).
pub fn context(
    host: &HostArgs,
    args: &ProjectArgs,
    services: &[String],
) -> miette::Result<ProjectContext> {
    let paths = host.paths();
    let store = Containers::new(&paths);
    if !stack_file_present(args) {
        return Ok(ProjectContext {
            store,
            name: project::name(args)?,
            declared: BTreeSet::new(),
            waves: Vec::new(),
        });
    }
    let loaded = project::load(args, services)?;
    let graph = loaded.graph().map_err(|cycles| {
        miette::miette!(
            "{}",
            cycles
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let declared = loaded
        .services
        .keys()
        .chain(loaded.disabled_services.keys())
        .cloned()
        .collect();
    Ok(ProjectContext {
        store,
        name: loaded.name.clone(),
        declared,
        waves: graph.waves().to_vec(),
    })
}

/// The project's containers for `services` (all when empty).
pub fn targets(
    host: &HostArgs,
    args: &ProjectArgs,
    services: &[String],
) -> miette::Result<Targets> {
    let context = context(host, args, services)?;
    let selection = select::select(
        context.store.list(),
        &context.name,
        services,
        &context.declared,
    )
    .into_diagnostic()?;
    Ok(Targets { context, selection })
}
