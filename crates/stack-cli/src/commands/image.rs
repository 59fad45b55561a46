//! `stack image build|inspect|prune|push|tag|save|load|ls`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use miette::IntoDiagnostic;
use stack_engine::images::{archive, Images};

use super::images::{human_size, ImagesArgs};

/// Arguments of `stack image`.
#[derive(Debug, Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    pub command: ImageCommand,
}

/// The `image` subcommands.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build an image from a Dockerfile (as `docker build`).
    Build(Box<super::build::ImageBuildArgs>),
    /// Show images' manifest, config and snapshot directories as JSON.
    Inspect {
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<String>,
    },
    /// Remove content no image uses; with --all, also images no container uses.
    Prune {
        #[arg(short, long)]
        all: bool,
        /// Accepted for Docker compatibility (`-f` too); prune never asks.
        #[arg(long)]
        force: bool,
    },
    /// Push an image to the registry its name says (as `docker push`).
    Push {
        /// `NAME[:TAG]`: the tag the manifest is put under (`latest` when none).
        #[arg(value_name = "IMAGE")]
        image: String,
        /// No progress: print only the pushed manifest's digest.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Give an image another name (as `docker tag`).
    Tag {
        /// The image: a name or an id prefix.
        #[arg(value_name = "SOURCE")]
        source: String,
        /// The new name, `NAME[:TAG]`.
        #[arg(value_name = "TARGET")]
        target: String,
    },
    /// Write images to an OCI archive.
    Save {
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<String>,
    },
    /// Load images from an OCI archive.
    Load {
        #[arg(short, long, value_name = "FILE")]
        input: PathBuf,
    },
    /// List images (same as `stack images`).
    Ls(ImagesArgs),
}

pub fn run(images: &Images, args: &ImageArgs) -> miette::Result<()> {
    match &args.command {
        ImageCommand::Inspect { images: names } => {
            let mut out = Vec::new();
            for name in names {
                let image = images.store().find(name).into_diagnostic()?;
                let rootfs = images.store().rootfs(name).into_diagnostic()?;
                out.push(serde_json::json!({
                    "Id": image.id.to_string(),
                    "Reference": image.reference,
                    "ManifestDigest": image.manifest.to_string(),
                    "Created": image.config.created,
                    "Architecture": image.config.architecture,
                    "Os": image.config.os,
                    "Size": image.size,
                    "Config": image.config.config,
                    "RootFS": { "Type": "layers", "Layers": image.config.rootfs.diff_ids },
                    "LowerDirs": rootfs.lower_dirs,
                    "UsedBy": images.store().users_of(&image.manifest).into_diagnostic()?,
                }));
            }
            println!("{}", serde_json::to_string_pretty(&out).into_diagnostic()?);
        }
        ImageCommand::Prune { all, force: _ } => {
            let report = images.prune(*all).into_diagnostic()?;
            for name in &report.images {
                // An unnamed image is reported by its manifest digest.
                if name.starts_with("sha256:") {
                    println!("Deleted: {name}");
                } else {
                    println!("Untagged: {name}");
                }
            }
            println!(
                "Removed {} blob(s), {} snapshot(s) and {} partial download(s); reclaimed {}",
                report.blobs,
                report.snapshots,
                report.partials,
                human_size(report.bytes)
            );
        }
        ImageCommand::Tag { source, target } => {
            images.tag(source, target).into_diagnostic()?;
        }
        ImageCommand::Save {
            output,
            images: names,
        } => {
            let saved = archive::save(images.store(), names, output).into_diagnostic()?;
            for name in saved {
                println!("Saved: {name}");
            }
        }
        ImageCommand::Load { input } => {
            let loaded = archive::load(images.store(), input, &images.settings().platform)
                .into_diagnostic()?;
            for name in loaded {
                println!("Loaded image: {name}");
            }
        }
        // Dispatched before the store is opened (they may go through the
        // daemon, or open it themselves).
        ImageCommand::Ls(_) | ImageCommand::Build(_) | ImageCommand::Push { .. } => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn image_verbs_have_no_clashing_flags() {
        use clap::CommandFactory;
        crate::commands::Cli::command().debug_assert();
    }
}
