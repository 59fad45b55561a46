//! `stack events`: lifecycle events from the host event log. Within a
//! project (a stack file here, `-p`, or `STACK_PROJECT_NAME`) it shows
//! that project's events, per service if named, as `docker compose
//! events`; elsewhere, or with `--all`, every event of the host as
//! `docker events`. Past events are shown from `--since` on; without it
//! only new ones, as Docker does.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Args;
use miette::IntoDiagnostic;
use stack_engine::labels;
use stack_engine::project::events::{follow, parse_time, unix_nanos, EventFilter};
use stack_engine::project::select::check_services;
use stack_runtime::event_log::EventRecord;

use crate::global::{HostArgs, ProjectArgs};

use super::targets::{context, project_given};

/// Arguments of `stack events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// One JSON object per line, as `docker compose events --json`.
    #[arg(long)]
    json: bool,
    /// `json`: one JSON object per line, as `docker events --format json`.
    #[arg(long)]
    format: Option<String>,
    /// `type=`, `event=`, `container=`, `label=KEY[=VALUE]`; repeatable.
    #[arg(long = "filter")]
    filters: Vec<String>,
    /// Show events from this time on (Unix time, RFC 3339, or a duration ago like 10m).
    #[arg(long)]
    since: Option<String>,
    /// Stop at this time.
    #[arg(long)]
    until: Option<String>,
    /// Every event of the host, whatever the project.
    #[arg(long)]
    all: bool,
    services: Vec<String>,
}

pub fn run(host: &HostArgs, project: &ProjectArgs, args: EventsArgs) -> miette::Result<ExitCode> {
    let docker_json = match args.format.as_deref() {
        None => false,
        Some("json") => true,
        Some(other) => miette::bail!("--format {other:?}: only json is supported"),
    };
    let now = SystemTime::now();
    let mut filter = EventFilter::default();
    for f in &args.filters {
        filter.add(f).into_diagnostic()?;
    }
    filter.since = args
        .since
        .as_deref()
        .map(|t| parse_time(t, now))
        .transpose()
        .into_diagnostic()?;
    filter.until = args
        .until
        .as_deref()
        .map(|t| parse_time(t, now))
        .transpose()
        .into_diagnostic()?;
    let project_mode = !args.all && (project_given(project) || !args.services.is_empty());
    let paths = host.paths();
    if project_mode {
        let ctx = context(host, project, &args.services)?;
        let present: BTreeSet<String> = ctx
            .store
            .of_project(&ctx.name)
            .iter()
            .filter_map(|r| labels::membership(&r.spec.labels).map(|m| m.service.to_string()))
            .collect();
        check_services(&args.services, &ctx.declared, &present).into_diagnostic()?;
        filter.project = Some(ctx.name);
        filter.services = args.services.clone();
    }
    let history = filter.since.is_some() || filter.until.is_some();
    let mut out = std::io::stdout();
    follow(
        &paths.state_root,
        &filter,
        history,
        |event| {
            let line = if docker_json {
                docker_json_line(event)
            } else if args.json {
                compose_json_line(event)
            } else {
                text_line(event)
            };
            writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
        },
        || true,
    )
    .into_diagnostic()?;
    Ok(ExitCode::SUCCESS)
}

/// `TIME TYPE ACTION ID (k=v, ...)`, as `docker events` prints.
fn text_line(e: &EventRecord) -> String {
    let attrs: Vec<String> = e
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{} {} {} {} ({})",
        e.time,
        e.kind,
        e.action,
        e.id,
        attrs.join(", ")
    )
}

/// `docker compose events --json`.
fn compose_json_line(e: &EventRecord) -> String {
    serde_json::json!({
        "time": e.time,
        "type": e.kind,
        "action": e.action,
        "id": e.id,
        "service": e.attributes.get(labels::SERVICE).cloned().unwrap_or_default(),
        "attributes": e.attributes,
    })
    .to_string()
}

/// `docker events --format json`.
fn docker_json_line(e: &EventRecord) -> String {
    let nanos = unix_nanos(&e.time).unwrap_or(0);
    let mut doc = serde_json::json!({
        "Type": e.kind,
        "Action": e.action,
        "Actor": {"ID": e.id, "Attributes": e.attributes},
        "scope": "local",
        "time": (nanos / 1_000_000_000) as u64,
        "timeNano": nanos as u64,
    });
    if e.kind == "container" {
        doc["status"] = e.action.clone().into();
        doc["id"] = e.id.clone().into();
        if let Some(image) = e.attributes.get("image") {
            doc["from"] = image.clone().into();
        }
    }
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EventRecord {
        let mut e = EventRecord::now("container", "stop", "abc", "shop-web-1")
            .with(labels::SERVICE, "web")
            .with("name", "shop-web-1");
        e.time = "2023-11-14T22:13:20.000000007Z".into();
        e
    }

    #[test]
    fn prints_docker_text_and_both_json_shapes() {
        let e = sample();
        assert_eq!(
            text_line(&e),
            "2023-11-14T22:13:20.000000007Z container stop abc (com.docker.compose.service=web, name=shop-web-1)"
        );
        let compose: serde_json::Value =
            serde_json::from_str(&compose_json_line(&e)).expect("json");
        assert_eq!(compose["service"], "web");
        assert_eq!(compose["action"], "stop");
        let docker: serde_json::Value = serde_json::from_str(&docker_json_line(&e)).expect("json");
        assert_eq!(docker["status"], "stop");
        assert_eq!(docker["Actor"]["Attributes"]["name"], "shop-web-1");
        assert_eq!(docker["timeNano"], 1_700_000_000_000_000_007u64);
        assert_eq!(docker["time"], 1_700_000_000u64);
    }
}
