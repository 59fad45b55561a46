//! `stack pull IMAGE...`: fetch images, saying which source served each.

use clap::Args;
use miette::IntoDiagnostic;
use stack_engine::images::{progress, Images, Platform, Reference};

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

pub fn run(images: Images, args: &PullArgs) -> miette::Result<()> {
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
    let reporter: Box<dyn progress::Progress> = if args.quiet {
        Box::new(progress::Quiet)
    } else {
        progress::for_stderr()
    };
    let quiet = args.quiet;
    images
        .pull(&references, reporter.as_ref(), |outcome| {
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
