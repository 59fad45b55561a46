//! `stack stats [SERVICE...]`: CPU, memory, network and block I/O and
//! process count of the project's running containers, refreshed every
//! second (or once with `--no-stream`), as a table or one JSON object per
//! container and line.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use miette::IntoDiagnostic;
use stack_engine::containers::ContainerRecord;
use stack_engine::containers::Status;
use stack_engine::project::stats::{row, sample, Sample, StatsRow};

use crate::global::{HostArgs, ProjectArgs};

use super::targets::targets;

/// Arguments of `stack stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print one reading and exit.
    #[arg(long)]
    no_stream: bool,
    /// `table` (default) or `json`.
    #[arg(long, default_value = "table")]
    format: String,
    services: Vec<String>,
}

/// Time between the two samples of a `--no-stream` reading (CPU percent
/// needs two).
const FIRST_INTERVAL: Duration = Duration::from_millis(500);
const REFRESH: Duration = Duration::from_secs(1);

pub fn run(host: &HostArgs, project: &ProjectArgs, args: StatsArgs) -> miette::Result<ExitCode> {
    let json = match args.format.as_str() {
        "json" => true,
        "table" => false,
        other => miette::bail!("--format {other:?}: use table or json"),
    };
    let t = targets(host, project, &args.services)?;
    let running: Vec<&ContainerRecord> = t
        .selection
        .all()
        .filter(|r| r.state.effective_status() == Status::Running)
        .collect();
    let mut before: Vec<Sample> = running.iter().map(|r| sample(r)).collect();
    let mut wait = FIRST_INTERVAL;
    loop {
        std::thread::sleep(wait);
        let now: Vec<Sample> = running.iter().map(|r| sample(r)).collect();
        let rows: Vec<StatsRow> = running
            .iter()
            .zip(before.iter().zip(&now))
            .map(|(r, (b, n))| row(r, b, n))
            .collect();
        let text = if json {
            json_lines(&rows)?
        } else {
            table(&rows)
        };
        let mut out = std::io::stdout().lock();
        if !args.no_stream && !json {
            // Clear the screen and go home, as docker stats redraws.
            let _ = out.write_all(b"\x1b[2J\x1b[H");
        }
        if out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            return Ok(ExitCode::SUCCESS);
        }
        if args.no_stream {
            return Ok(ExitCode::SUCCESS);
        }
        before = now;
        wait = REFRESH;
    }
}

fn json_lines(rows: &[StatsRow]) -> miette::Result<String> {
    let mut out = String::new();
    for row in rows {
        out.push_str(&serde_json::to_string(row).into_diagnostic()?);
        out.push('\n');
    }
    Ok(out)
}

const TITLES: [&str; 8] = [
    "CONTAINER ID",
    "NAME",
    "CPU %",
    "MEM USAGE / LIMIT",
    "MEM %",
    "NET I/O",
    "BLOCK I/O",
    "PIDS",
];

fn table(rows: &[StatsRow]) -> String {
    let cells: Vec<[&str; 8]> = rows
        .iter()
        .map(|r| {
            [
                r.id.as_str(),
                &r.name,
                &r.cpu,
                &r.mem_usage,
                &r.mem_perc,
                &r.net_io,
                &r.block_io,
                &r.pids,
            ]
        })
        .collect();
    let mut widths: Vec<usize> = TITLES.iter().map(|t| t.len()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&TITLES).chain(&cells) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("   ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_docker_titles_and_aligned_cells() {
        let r = StatsRow {
            id: "0123456789ab".into(),
            name: "shop-web-1".into(),
            cpu: "0.00%".into(),
            mem_usage: "1.5MiB / 64MiB".into(),
            mem_perc: "2.34%".into(),
            net_io: "0B / 0B".into(),
            block_io: "0B / 0B".into(),
            pids: "1".into(),
        };
        let text = table(&[r]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("CONTAINER ID   NAME         CPU %"));
        assert_eq!(lines[0].find("PIDS"), lines[1].rfind('1'));
        let json = json_lines(&[]).expect("json");
        assert!(json.is_empty());
    }
}
