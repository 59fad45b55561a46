//! What `stack pull NAMES...` pulls. With a stack file (named with `-f` or
//! in the current directory), as Compose: the images of the named
//! services (all enabled ones when none is named; profiles as `up` applies
//! them), their dependencies' with `--include-deps`, each service's
//! `pull_policy` unless `--policy` says otherwise; a service with `build:`
//! and no image is skipped with a note. A name that is no service and
//! reads as an image reference with a tag, digest or registry part
//! (`busybox:1`, `quay.io/x/y`) is pulled as that image, as Docker does; a
//! bare name that is no service is an error, since it is most likely a
//! mistyped service. Without a stack file every name is an image.

use std::collections::BTreeSet;

use stack_engine::images::Reference;
use stack_engine::spec::{Project, Service};

use super::{Policy, PullArgs};
use crate::global::ProjectArgs;

/// One image to pull, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    /// The reference as written.
    pub image: String,
    pub reference: Reference,
    /// `service web` or `image busybox:1`, for messages.
    pub who: String,
    /// Pull only when the image is not here yet.
    pub only_if_missing: bool,
    /// For a name given in a project that is no service: says so, for
    /// the error when it cannot be pulled as an image either.
    pub not_a_service: Option<String>,
}

impl Pull {
    /// `web's image busybox:1`, or `busybox:1` (and why it was taken
    /// for an image).
    pub fn what(&self) -> String {
        match (self.who.strip_prefix("service "), &self.not_a_service) {
            (Some(service), _) => format!("{service}'s image {}", self.image),
            (None, Some(why)) => format!("{} ({why})", self.image),
            (None, None) => self.image.clone(),
        }
    }
}

/// The images to pull, in order, and the notes on what is skipped.
#[derive(Debug, Default)]
pub struct PullPlan {
    pub pulls: Vec<Pull>,
    pub notes: Vec<String>,
}

impl PullPlan {
    fn add(&mut self, image: &str, who: String, only_if_missing: bool) -> miette::Result<()> {
        let reference = Reference::parse(image).map_err(|e| miette::miette!("{who}: {e}"))?;
        // One pull per image, however many services use it.
        if self.pulls.iter().any(|p| p.reference == reference) {
            return Ok(());
        }
        self.pulls.push(Pull {
            image: image.to_string(),
            reference,
            who,
            only_if_missing,
            not_a_service: None,
        });
        Ok(())
    }
}

/// Reads the command line (and the stack file, if any) into a plan.
pub fn plan(project_args: &ProjectArgs, args: &PullArgs) -> miette::Result<PullPlan> {
    let project = if crate::commands::project::has_stack_file(project_args) {
        let explicit = !project_args.files.is_empty();
        match crate::commands::project::load(project_args, &args.names) {
            Ok(project) => Some(project),
            // A stack file found here that does not load leaves named
            // images to Docker's meaning, as `stack run IMAGE` does.
            Err(_) if !explicit && !args.names.is_empty() => None,
            Err(err) => return Err(err),
        }
    } else {
        None
    };
    match project {
        Some(project) => services_plan(&project, args),
        None => images_plan(args),
    }
}

fn images_plan(args: &PullArgs) -> miette::Result<PullPlan> {
    if args.names.is_empty() {
        miette::bail!(
            "stack pull: no stack file here ({}) and no IMAGE named",
            stack_engine::spec::DEFAULT_FILES.join(", ")
        );
    }
    if args.include_deps {
        miette::bail!("stack pull: --include-deps needs a stack file; there is none here");
    }
    let mut plan = PullPlan::default();
    for image in &args.names {
        plan.add(
            image,
            format!("image {image}"),
            args.policy == Some(Policy::Missing),
        )?;
    }
    Ok(plan)
}

fn services_plan(project: &Project, args: &PullArgs) -> miette::Result<PullPlan> {
    let mut plan = PullPlan::default();
    let mut services: BTreeSet<String> = BTreeSet::new();
    let mut images = Vec::new();
    for name in &args.names {
        if project.services.contains_key(name) {
            services.insert(name.clone());
        } else {
            images.push(name.clone());
        }
    }
    if args.names.is_empty() {
        services = project.services.keys().cloned().collect();
    } else if args.include_deps {
        services = with_dependencies(project, services)?;
    }
    for name in &services {
        let Some(service) = project.services.get(name) else {
            continue;
        };
        add_service(&mut plan, name, service, args.policy)?;
    }
    let known: Vec<&str> = project.services.keys().map(String::as_str).collect();
    for image in images {
        // Checked before anything is pulled: a bad reference is most
        // likely a mistyped service.
        let not_a_service = || {
            format!(
                "{image} is no service of the stack file (its services: {})",
                known.join(", ")
            )
        };
        plan.add(
            &image,
            format!("image {image}"),
            args.policy == Some(Policy::Missing),
        )
        .map_err(|err| miette::miette!("stack pull: {}, and {err}", not_a_service()))?;
        if let Some(pull) = plan.pulls.last_mut().filter(|p| p.image == image) {
            pull.not_a_service = Some(not_a_service());
        }
    }
    Ok(plan)
}

/// The services and, transitively, those they depend on (`pull` and
/// `push` with `--include-deps`).
pub fn with_dependencies(
    project: &Project,
    named: BTreeSet<String>,
) -> miette::Result<BTreeSet<String>> {
    let graph = project.graph().map_err(|cycles| {
        miette::miette!(
            "--include-deps: {}",
            cycles
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let mut all = BTreeSet::new();
    let mut queue: Vec<String> = named.into_iter().collect();
    while let Some(name) = queue.pop() {
        if all.insert(name.clone()) {
            queue.extend(graph.dependencies(&name));
        }
    }
    Ok(all)
}

/// Compose's rules for one service: no image (built) or `pull_policy:
/// never`/`build` skip it; `missing`/`if_not_present` pull only an image
/// not here yet; anything else pulls. `--policy` replaces the service's.
fn add_service(
    plan: &mut PullPlan,
    name: &str,
    service: &Service,
    policy: Option<Policy>,
) -> miette::Result<()> {
    let Some(image) = service.image.as_deref() else {
        let why = if service.build.is_some() {
            "it is built from its build: section and names no image"
        } else {
            "it names no image"
        };
        plan.notes.push(format!("{name}: skipped, {why}"));
        return Ok(());
    };
    let only_if_missing = match policy {
        Some(Policy::Always) => false,
        Some(Policy::Missing) => true,
        None => match service.pull_policy.as_deref() {
            Some(p @ ("never" | "build")) => {
                plan.notes
                    .push(format!("{name}: skipped, its pull_policy is {p}"));
                return Ok(());
            }
            Some("missing" | "if_not_present") => true,
            _ => false,
        },
    };
    plan.add(image, format!("service {name}"), only_if_missing)
}
