//! `stack ps`: a project's containers with their state, health, exit code
//! and published ports. Works without the stack file (`-p NAME`).

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use miette::IntoDiagnostic;
use stack_api::projects::PsRow;

use super::project;
use crate::global::{HostArgs, ProjectArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
}

/// Arguments of `stack ps`.
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Also stopped containers.
    #[arg(short = 'a', long)]
    all: bool,
    /// Only container ids.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Only service names.
    #[arg(long)]
    services: bool,
    /// table (default) or json (one object per line).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Only these services.
    service: Vec<String>,
}

pub fn run(host: &HostArgs, project_args: &ProjectArgs, args: PsArgs) -> miette::Result<ExitCode> {
    let file = project::load(project_args, &[]).ok();
    let name = match &file {
        Some(p) if project_args.project_name.is_none() => p.name.clone(),
        _ => project::name(project_args)?,
    };
    let rows = crate::switch::choose(host)?
        .api()
        .project_ps(&name, args.all, &args.service)?;
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for r in &rows {
            let _ = writeln!(out, "{}", r.id);
        }
    } else if args.services {
        let mut names: Vec<&str> = rows.iter().map(|r| r.service.as_str()).collect();
        names.dedup();
        for n in names {
            let _ = writeln!(out, "{n}");
        }
    } else if args.format == Format::Json {
        for r in &rows {
            let _ = writeln!(out, "{}", serde_json::to_string(r).into_diagnostic()?);
        }
    } else {
        table(&mut out, &rows);
    }
    Ok(ExitCode::SUCCESS)
}

fn table(out: &mut impl Write, rows: &[PsRow]) {
    let w =
        |f: &dyn Fn(&PsRow) -> usize, min: usize| rows.iter().map(f).max().unwrap_or(0).max(min);
    let name_w = w(&|r| r.name.len(), 4);
    let image_w = w(&|r| r.image.len(), 5);
    let service_w = w(&|r| r.service.len(), 7);
    let status_w = w(&|r| r.status.len(), 6);
    let _ = writeln!(
        out,
        "{:<name_w$}  {:<image_w$}  {:<service_w$}  {:<status_w$}  PORTS",
        "NAME", "IMAGE", "SERVICE", "STATUS"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<name_w$}  {:<image_w$}  {:<service_w$}  {:<status_w$}  {}",
            r.name,
            r.image,
            r.service,
            r.status,
            r.publishers.join(", ")
        );
    }
}
