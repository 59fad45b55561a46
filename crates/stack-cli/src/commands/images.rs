//! `stack images`: the local images, as a table or JSON.

use clap::Args;
use miette::IntoDiagnostic;
use stack_api::system::ImageSummary;
use stack_engine::images::{Images, Reference};

/// Arguments of `stack images` / `stack image ls`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Output format: `table` or `json`.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Only image ids.
    #[arg(short, long)]
    pub quiet: bool,
}

/// One row, as `--format json` prints it.
#[derive(Debug, serde::Serialize)]
struct Row {
    repository: String,
    tag: String,
    id: String,
    created: String,
    size: u64,
    reference: String,
    digest: String,
}

fn row(image: &ImageSummary) -> Row {
    let (repository, tag) = match Reference::parse(&image.reference) {
        Ok(r) => (
            r.with_tag("x")
                .familiar()
                .trim_end_matches(":x")
                .to_string(),
            r.tag.clone().unwrap_or_else(|| "<none>".into()),
        ),
        Err(_) if image.reference.is_empty() => ("<none>".into(), "<none>".into()),
        Err(_) => (image.reference.clone(), "<none>".into()),
    };
    Row {
        repository,
        tag,
        id: image.id.clone(),
        created: image.created.clone().unwrap_or_default(),
        size: image.size,
        reference: image.reference.clone(),
        digest: image.manifest.clone(),
    }
}

/// Lists through the daemon when one answers, else from the local store.
pub fn run(via: &crate::switch::Via, args: &ImagesArgs) -> miette::Result<()> {
    let rows: Vec<Row> = via.api().list_images()?.iter().map(row).collect();
    if args.quiet {
        for r in &rows {
            println!("{}", short_id(&r.id));
        }
        return Ok(());
    }
    match args.format.as_str() {
        "json" => {
            println!("{}", serde_json::to_string_pretty(&rows).into_diagnostic()?);
        }
        "table" => {
            let width = rows
                .iter()
                .map(|r| r.repository.len())
                .max()
                .unwrap_or(10)
                .max(10);
            println!(
                "{:<width$}  {:<12}  {:<12}  {:<20}  SIZE",
                "REPOSITORY", "TAG", "IMAGE ID", "CREATED"
            );
            for r in &rows {
                println!(
                    "{:<width$}  {:<12}  {:<12}  {:<20}  {}",
                    r.repository,
                    r.tag,
                    short_id(&r.id),
                    r.created,
                    human_size(r.size)
                );
            }
        }
        other => miette::bail!("unknown --format {other:?}: use table or json"),
    }
    Ok(())
}

/// The 12 hex digits Docker shows of an id.
fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..12.min(hex.len())]
}

pub use crate::progress::human_size;

/// Opens the image store of this host with its config file.
pub fn open_images(host: &crate::global::HostArgs) -> miette::Result<Images> {
    let paths = host.paths();
    let config = stack_engine::config::Config::load(&paths.config_file)?;
    Images::open(&paths, &config).into_diagnostic()
}
