//! `stack events`: the host's lifecycle events, as Docker prints them or as
//! JSON lines; through the daemon when one answers.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use stack_daemon::api::Event;
use stack_daemon::events::EventQuery;

use crate::global::HostArgs;

/// Arguments of `stack events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Show events from this RFC 3339 UTC time on (default: only new ones).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Print what is logged and exit instead of waiting for new events.
    #[arg(long)]
    no_follow: bool,
    /// Only events of this type (container, image, network, volume).
    #[arg(long = "type", value_name = "TYPE")]
    kind: Option<String>,
    /// `text` (Docker's line) or `json` (one object per line).
    #[arg(long, default_value = "text")]
    format: String,
}

/// Docker's line: `TIME TYPE ACTION ID (k=v, ...)`.
fn text_line(e: &Event) -> String {
    let attributes: Vec<String> = e
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
        attributes.join(", ")
    )
}

pub fn run(host: &HostArgs, args: &EventsArgs) -> miette::Result<ExitCode> {
    if !matches!(args.format.as_str(), "text" | "json") {
        miette::bail!("unknown --format {:?}: use text or json", args.format);
    }
    let query = EventQuery {
        follow: !args.no_follow,
        since: args.since.clone(),
        kind: args.kind.clone(),
    };
    let json = args.format == "json";
    let via = crate::switch::choose(host)?;
    via.events(&query, |e| {
        let line = if json {
            serde_json::to_string(e).unwrap_or_default()
        } else {
            text_line(e)
        };
        let mut out = std::io::stdout().lock();
        // A closed stdout (`| head`) ends the stream.
        writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_line_reads_like_docker() {
        let e = stack_daemon::api::Event::now("container", "stop", "abc", "web-1")
            .with("name", "web-1")
            .with("exitCode", "0");
        let line = super::text_line(&e);
        assert!(
            line.ends_with(" container stop abc (exitCode=0, name=web-1)"),
            "{line}"
        );
    }
}
