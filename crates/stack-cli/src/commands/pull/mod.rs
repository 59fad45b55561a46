//! `stack pull`: in a project, `pull [SERVICE...]` fetches the images of
//! the stack file's services as Compose does (see [`services`]);
//! `pull IMAGE...` fetches images by reference as Docker does. Each image
//! says which source served it.
//!
//! Images are pulled one at a time, through the daemon when one answers or
//! in this process, with the same output both ways. Not in parallel: two
//! pulls that share a layer would race on that blob's partial download in
//! the image store.

pub(crate) mod services;

use clap::{Args, ValueEnum};
use miette::IntoDiagnostic;
use stack_engine::images::{Images, Platform, Reference};

use crate::global::{HostArgs, ProjectArgs};
use crate::progress::{Printer, ProgressMode, PullDisplay};
use crate::switch::Via;

/// Arguments of `stack pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// Services of the stack file (all when none), or images to pull
    /// (`busybox:1`, `host:5000/x@sha256:...`).
    #[arg(value_name = "SERVICE|IMAGE")]
    pub names: Vec<String>,
    /// Platform for multi-arch images (`linux/arm64/v8`); default: this host's.
    #[arg(long)]
    pub platform: Option<String>,
    /// No progress and no notes: print only the digest of each image pulled.
    #[arg(short, long)]
    pub quiet: bool,
    /// Pull what can be pulled; an image that fails is reported and skipped.
    #[arg(long)]
    pub ignore_pull_failures: bool,
    /// `always` pulls every image; `missing` only those not here yet.
    /// Default: each service's `pull_policy` (images named as IMAGE: always).
    #[arg(long, value_enum)]
    pub policy: Option<Policy>,
    /// Also pull the images of the services the named ones depend on.
    #[arg(long)]
    pub include_deps: bool,
}

/// Compose's `pull --policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Policy {
    Always,
    Missing,
}

pub fn run(host: &HostArgs, project: &ProjectArgs, args: &PullArgs) -> miette::Result<()> {
    let plan = services::plan(project, args)?;
    let via = crate::switch::choose(host)?;
    let present = if plan.pulls.iter().any(|p| p.only_if_missing) {
        via.api()
            .list_images()?
            .into_iter()
            .map(|i| i.reference)
            .collect()
    } else {
        std::collections::BTreeSet::new()
    };
    // `-q` prints digests only, as `--progress quiet` would.
    let mode = if args.quiet {
        ProgressMode::Quiet
    } else {
        host.progress
    };
    let printer = Printer::new(mode, "Pulling");
    let display = PullDisplay::new(&printer);
    let puller = match via {
        Via::Daemon(client) => Puller::Daemon(client),
        Via::InProcess(_) => {
            Puller::Local(Box::new(platform(super::images::open_images(host)?, args)?))
        }
    };
    for note in &plan.notes {
        if !args.quiet {
            eprintln!("{note}");
        }
    }
    for pull in &plan.pulls {
        if pull.only_if_missing && present.contains(&pull.reference.to_string()) {
            if !args.quiet {
                eprintln!("{}: image {} is already here", pull.who, pull.image);
            }
            continue;
        }
        if let Err(err) = puller.pull(&pull.reference, args, &display) {
            if !args.ignore_pull_failures {
                return Err(err.wrap_err(format!("pulling {}", pull.what())));
            }
            eprintln!("warning: pulling {} failed, ignored: {err}", pull.what());
        }
    }
    Ok(())
}

fn platform(images: Images, args: &PullArgs) -> miette::Result<Images> {
    Ok(match &args.platform {
        Some(p) => images.with_platform(
            Platform::parse(p)
                .ok_or_else(|| miette::miette!("--platform {p:?}: expected os/arch[/variant]"))?,
        ),
        None => images,
    })
}

/// Where images are pulled into.
enum Puller {
    Daemon(stack_api::client::Client),
    Local(Box<Images>),
}

impl Puller {
    fn pull(
        &self,
        reference: &Reference,
        args: &PullArgs,
        display: &PullDisplay<'_>,
    ) -> miette::Result<()> {
        match self {
            Puller::Daemon(client) => remote(client, reference, args, display),
            Puller::Local(images) => local(images, reference, args, display),
        }
    }
}

/// What a pulled image prints on stdout, the same on both paths.
fn pulled_line(
    reference: &str,
    source: &str,
    mirror: bool,
    manifest: &str,
    downloaded: usize,
    present: usize,
) -> String {
    let kind = if mirror { "mirror" } else { "registry" };
    format!(
        "{reference}: pulled from {source} ({kind}); digest {manifest}; {downloaded} layer(s) downloaded, {present} already present"
    )
}

/// Through the daemon; its progress events go to the same display as the
/// in-process pull's.
fn remote(
    client: &stack_api::client::Client,
    reference: &Reference,
    args: &PullArgs,
    display: &PullDisplay<'_>,
) -> miette::Result<()> {
    use stack_api::api::Api;
    use stack_api::system::PullEvent;
    let short = |digest: &str| {
        let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
        hex[..12.min(hex.len())].to_string()
    };
    let emit = |event: PullEvent| match event {
        PullEvent::LayerStarted { digest, size } => display.started(&short(&digest), size),
        PullEvent::Progress { digest, bytes } => display.received(&short(&digest), bytes),
        PullEvent::LayerDone { digest, note } => display.done(&short(&digest), &note),
        PullEvent::Message { line } => display.message(&line),
        PullEvent::Pulled {
            reference,
            source,
            source_is_mirror,
            manifest,
            layers_downloaded,
            layers_present,
            ..
        } => {
            if args.quiet {
                println!("{manifest}");
            } else {
                println!(
                    "{}",
                    pulled_line(
                        &reference,
                        &source,
                        source_is_mirror,
                        &manifest,
                        layers_downloaded,
                        layers_present
                    )
                );
            }
        }
        PullEvent::Error { .. } => {}
    };
    Ok(client.pull_image(&reference.to_string(), args.platform.as_deref(), &emit)?)
}

fn local(
    images: &Images,
    reference: &Reference,
    args: &PullArgs,
    display: &PullDisplay<'_>,
) -> miette::Result<()> {
    images
        .pull(std::slice::from_ref(reference), display, |outcome| {
            if args.quiet {
                println!("{}", outcome.manifest);
                return;
            }
            println!(
                "{}",
                pulled_line(
                    &outcome.reference.familiar(),
                    &outcome.source,
                    outcome.source_is_mirror,
                    &outcome.manifest.to_string(),
                    outcome.layers_downloaded,
                    outcome.layers_present,
                )
            );
        })
        .into_diagnostic()?;
    Ok(())
}
