//! `stack push [SERVICE...]`: sends the images of the stack file's
//! services to their registries, as Compose does: a service is pushed when
//! it has both `build:` and `image:` (an image it only pulls is not the
//! project's to publish), the others are skipped with a note. One image
//! by name is `stack image push`.
//!
//! In this process, from the host's image store (the daemon's native API
//! has no push route; its Docker API does); images go one at a time, each
//! printing where it went.

use std::collections::BTreeSet;

use clap::Args;
use miette::IntoDiagnostic;
use stack_engine::images::{Images, PushOutcome};
use stack_engine::spec::Project;

use crate::global::{HostArgs, ProjectArgs};
use crate::progress::{Printer, ProgressMode, PullDisplay};

/// Arguments of `stack push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Services of the stack file (all when none).
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
    /// No progress: print only the digest of each image pushed.
    #[arg(short, long)]
    pub quiet: bool,
    /// Push what can be pushed; an image that fails is reported and skipped.
    #[arg(long)]
    pub ignore_push_failures: bool,
    /// Also push the images of the services the named ones depend on.
    #[arg(long)]
    pub include_deps: bool,
}

/// What `stack push` sends, and what it skips.
#[derive(Debug, Default)]
struct PushPlan {
    /// `(service, image)`, in service order.
    pushes: Vec<(String, String)>,
    /// Why each skipped service is skipped.
    notes: Vec<String>,
}

fn plan(project: &Project, args: &PushArgs) -> miette::Result<PushPlan> {
    let known: Vec<&str> = project.services.keys().map(String::as_str).collect();
    if let Some(unknown) = args
        .services
        .iter()
        .find(|s| !project.services.contains_key(*s))
    {
        miette::bail!(
            "stack push: {unknown} is no service of the stack file (its services: {}); \
             `stack image push IMAGE` pushes an image by name",
            known.join(", ")
        );
    }
    let mut selected: BTreeSet<String> = if args.services.is_empty() {
        project.services.keys().cloned().collect()
    } else {
        args.services.iter().cloned().collect()
    };
    if args.include_deps {
        selected = super::pull::services::with_dependencies(project, selected)?;
    }
    let mut plan = PushPlan::default();
    for name in &selected {
        let Some(service) = project.services.get(name) else {
            continue;
        };
        match (&service.build, &service.image) {
            (Some(_), Some(image)) => plan.pushes.push((name.clone(), image.clone())),
            (None, _) => plan
                .notes
                .push(format!("{name}: skipped, it is not built here (no build:)")),
            (Some(_), None) => plan.notes.push(format!(
                "{name}: skipped, it names no image: (its built image is {} on this host only)",
                stack_engine::build::image_name(project, service)
            )),
        }
    }
    Ok(plan)
}

pub fn run(host: &HostArgs, project_args: &ProjectArgs, args: &PushArgs) -> miette::Result<()> {
    let project = super::project::load(project_args, &args.services)?;
    let plan = plan(&project, args)?;
    if !args.quiet {
        for note in &plan.notes {
            eprintln!("{note}");
        }
    }
    let images = super::images::open_images(host)?;
    for (service, image) in &plan.pushes {
        if let Err(err) = push_one(host, &images, image, args.quiet) {
            if !args.ignore_push_failures {
                return Err(err.wrap_err(format!("pushing {service}'s image {image}")));
            }
            eprintln!("warning: pushing {service}'s image {image} failed, ignored: {err}");
        }
    }
    Ok(())
}

/// Pushes `image` with progress; prints its digest (`-q`) or where it went.
pub fn push_one(host: &HostArgs, images: &Images, image: &str, quiet: bool) -> miette::Result<()> {
    let mode = if quiet {
        ProgressMode::Quiet
    } else {
        host.progress
    };
    let printer = Printer::new(mode, "Pushing");
    let display = PullDisplay::for_push(&printer);
    let outcome = images
        .push(
            image,
            &display,
            &stack_engine::build::CancellationToken::new(),
        )
        .into_diagnostic()?;
    if quiet {
        println!("{}", outcome.manifest);
    } else {
        println!("{}", pushed_line(&outcome));
    }
    Ok(())
}

/// Docker's last line of a push, and what was sent.
fn pushed_line(outcome: &PushOutcome) -> String {
    format!(
        "{}: digest: {} size: {} ({} blob(s) sent, {} already there, {} mounted)",
        outcome.reference.tag.as_deref().unwrap_or("latest"),
        outcome.manifest,
        outcome.manifest_size,
        outcome.blobs_uploaded,
        outcome.blobs_present,
        outcome.blobs_mounted
    )
}
