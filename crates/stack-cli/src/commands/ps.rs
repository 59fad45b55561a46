//! `stack ps`: a project's containers with their state, health, exit code
//! and published ports. Works without the stack file (`-p NAME`).

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use miette::IntoDiagnostic;
use stack_engine::containers::{ContainerRecord, Containers};
use stack_engine::labels;
use stack_engine::paths::HostPaths;
use stack_engine::store::Store;
use stack_runtime::state::Status;

use super::logs::project_containers;
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

/// One line of `ps`.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Row {
    #[serde(rename = "ID")]
    id: String,
    name: String,
    service: String,
    image: String,
    command: String,
    state: String,
    health: String,
    exit_code: Option<i32>,
    status: String,
    publishers: Vec<String>,
}

pub fn run(host: &HostArgs, project_args: &ProjectArgs, args: PsArgs) -> miette::Result<ExitCode> {
    let file = project::load(project_args, &[]).ok();
    let name = match &file {
        Some(p) if project_args.project_name.is_none() => p.name.clone(),
        _ => project::name(project_args)?,
    };
    let paths = HostPaths::resolve(host.state_root.clone(), None, host.config_file.clone());
    let store = Store::open(&paths.state_root).into_diagnostic()?;
    let records = project_containers(&Containers::new(&paths), &name, &args.service);
    let rows: Vec<Row> = records
        .iter()
        .filter(|r| args.all || r.state.effective_status() == Status::Running)
        .map(|r| row(r, &store, file.as_ref()))
        .collect();
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

fn row(r: &ContainerRecord, store: &Store, file: Option<&stack_spec::Project>) -> Row {
    let service = labels::membership(&r.spec.labels)
        .map(|m| m.service.to_string())
        .unwrap_or_default();
    let stored = store
        .read(|reader| reader.container(&r.spec.id))
        .ok()
        .flatten();
    let health = stack_engine::apply::health_of(r)
        .or_else(|| stored.as_ref().and_then(|s| s.health))
        .map(|h| h.as_str().to_string())
        .unwrap_or_default();
    let status = r.state.effective_status();
    let state = match status {
        Status::Created => "created",
        Status::Running => "running",
        Status::Restarting => "restarting",
        Status::Exited => "exited",
    };
    let exit_code = matches!(status, Status::Exited | Status::Restarting)
        .then_some(r.state.exit_code)
        .flatten();
    let mut text = match (status, exit_code) {
        (Status::Exited, Some(code)) => format!("exited ({code})"),
        (Status::Restarting, Some(code)) => format!("restarting ({code})"),
        _ => state.to_string(),
    };
    if !health.is_empty() && status == Status::Running {
        text.push_str(&format!(" ({health})"));
    }
    let publishers = file
        .and_then(|p| p.services.get(&service))
        .map(|s| s.ports.iter().map(stack_engine::apply::port_text).collect())
        .unwrap_or_default();
    Row {
        id: r.spec.id[..12.min(r.spec.id.len())].to_string(),
        name: r.spec.name.clone(),
        service,
        image: stored.map(|s| s.image_ref).unwrap_or_default(),
        command: r.spec.process.args.join(" "),
        state: state.into(),
        health,
        exit_code,
        status: text,
        publishers,
    }
}

fn table(out: &mut impl Write, rows: &[Row]) {
    let w = |f: &dyn Fn(&Row) -> usize, min: usize| rows.iter().map(f).max().unwrap_or(0).max(min);
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
