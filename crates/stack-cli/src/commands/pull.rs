//! `stack pull IMAGE...`: fetch images, saying which source served each.

use clap::Args;
use miette::IntoDiagnostic;
use stack_engine::images::{Images, Platform, Reference};

use crate::progress::{Printer, ProgressMode, PullDisplay};

/// Arguments of `stack pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// Images to pull (`busybox`, `redis:7`, `host:5000/x@sha256:...`).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Platform for multi-arch images (`linux/arm64/v8`); default: this host's.
    #[arg(long)]
    pub platform: Option<String>,
    /// Print only the digest of each pulled image.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Pulls through the daemon when one answers, else in this process.
pub fn run(host: &crate::global::HostArgs, args: &PullArgs) -> miette::Result<()> {
    // `-q` prints digests only, as `--progress quiet` would.
    let mode = if args.quiet {
        ProgressMode::Quiet
    } else {
        host.progress
    };
    let printer = Printer::new(mode, "Pulling");
    let display = PullDisplay::new(&printer);
    match crate::switch::choose(host)? {
        crate::switch::Via::Daemon(client) => remote(&client, args, &display),
        crate::switch::Via::InProcess(_) => {
            local(super::images::open_images(host)?, args, &display)
        }
    }
}

/// Each image in turn through the daemon; its progress events go to the
/// same display as the in-process pull's.
fn remote(
    client: &stack_daemon::client::Client,
    args: &PullArgs,
    display: &PullDisplay<'_>,
) -> miette::Result<()> {
    use stack_daemon::api::{PullEvent, PullRequest};
    let short = |digest: &str| {
        let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
        hex[..12.min(hex.len())].to_string()
    };
    for image in &args.images {
        Reference::parse(image).into_diagnostic()?;
        let request = PullRequest {
            reference: image.clone(),
            platform: args.platform.clone(),
        };
        crate::switch::Via::pull_remote(client, &request, |event| match event {
            PullEvent::LayerStarted { digest, size } => display.started(&short(digest), *size),
            PullEvent::Progress { digest, bytes } => display.received(&short(digest), *bytes),
            PullEvent::LayerDone { digest, note } => display.done(&short(digest), note),
            PullEvent::Message { line } => display.message(line),
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
                    let kind = if *source_is_mirror {
                        "mirror"
                    } else {
                        "registry"
                    };
                    println!(
                        "{reference}: pulled from {source} ({kind}); digest {manifest}; {layers_downloaded} layer(s) downloaded, {layers_present} already present"
                    );
                }
            }
            _ => {}
        })?;
    }
    Ok(())
}

fn local(images: Images, args: &PullArgs, display: &PullDisplay<'_>) -> miette::Result<()> {
    let images = match &args.platform {
        Some(p) => images.with_platform(
            Platform::parse(p)
                .ok_or_else(|| miette::miette!("--platform {p:?}: expected os/arch[/variant]"))?,
        ),
        None => images,
    };
    let references = args
        .images
        .iter()
        .map(|s| Reference::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .into_diagnostic()?;
    let quiet = args.quiet;
    images
        .pull(&references, display, |outcome| {
            if quiet {
                println!("{}", outcome.manifest);
                return;
            }
            let kind = if outcome.source_is_mirror {
                "mirror"
            } else {
                "registry"
            };
            println!(
                "{}: pulled from {} ({kind}); digest {}; {} layer(s) downloaded, {} already present",
                outcome.reference.familiar(),
                outcome.source,
                outcome.manifest,
                outcome.layers_downloaded,
                outcome.layers_present,
            );
        })
        .into_diagnostic()?;
    Ok(())
}
