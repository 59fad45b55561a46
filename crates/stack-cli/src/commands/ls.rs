//! `stack ls`: the projects of this host, as `docker compose ls` lists
//! them: NAME, STATUS (`running(3)`, or with `-a` every state counted,
//! `exited(1), running(2)`) and CONFIG FILES; `--format json`, `-q`.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use miette::IntoDiagnostic;
use serde::Serialize;
use stack_api::projects::ProjectSummary;

use crate::global::HostArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
}

/// Arguments of `stack ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Show all projects, also those with no running container.
    #[arg(short = 'a', long)]
    all: bool,
    /// Only display project names.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// table (default) or json.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// One line of the list, in the field names of Compose's JSON.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
struct Row {
    name: String,
    status: String,
    config_files: String,
}

pub fn run(host: &HostArgs, args: LsArgs) -> miette::Result<ExitCode> {
    let projects = crate::switch::choose(host)?.api().list_projects()?;
    let rows = rows(projects, args.all);
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for r in &rows {
            let _ = writeln!(out, "{}", r.name);
        }
    } else if args.format == Format::Json {
        let _ = writeln!(out, "{}", serde_json::to_string(&rows).into_diagnostic()?);
    } else {
        let _ = write!(out, "{}", table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

/// The listed projects: without `all`, those with a running container, and
/// only their running containers counted (Compose lists running
/// containers only unless `-a`); never a project with no container left.
fn rows(projects: Vec<ProjectSummary>, all: bool) -> Vec<Row> {
    projects
        .into_iter()
        .filter_map(|p| {
            let counts: Vec<String> = p
                .containers
                .iter()
                .filter(|(state, _)| all || state.as_str() == "running")
                .map(|(state, n)| format!("{state}({n})"))
                .collect();
            if counts.is_empty() {
                return None;
            }
            Some(Row {
                name: p.name,
                status: counts.join(", "),
                config_files: p.config_files.join(","),
            })
        })
        .collect()
}

/// Compose's table: columns at least 20 wide, three spaces apart.
fn table(rows: &[Row]) -> String {
    let width = |f: &dyn Fn(&Row) -> usize, title: &str| {
        (rows.iter().map(f).max().unwrap_or(0).max(title.len()) + 3).max(20)
    };
    let name_w = width(&|r| r.name.len(), "NAME");
    let status_w = width(&|r| r.status.len(), "STATUS");
    let mut text = format!("{:<name_w$}{:<status_w$}CONFIG FILES\n", "NAME", "STATUS");
    for r in rows {
        text.push_str(&format!(
            "{:<name_w$}{:<status_w$}{}\n",
            r.name, r.status, r.config_files
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn project(name: &str, states: &[(&str, usize)]) -> ProjectSummary {
        ProjectSummary {
            name: name.into(),
            containers: states
                .iter()
                .map(|(s, n)| (s.to_string(), *n))
                .collect::<BTreeMap<_, _>>(),
            config_files: vec![format!("/srv/{name}/compose.yaml")],
        }
    }

    #[test]
    fn running_projects_unless_all() {
        let projects = || {
            vec![
                project("shop", &[("exited", 1), ("running", 2)]),
                project("old", &[("exited", 3)]),
                project("gone", &[]),
            ]
        };
        let running = rows(projects(), false);
        assert_eq!(running.len(), 1);
        assert_eq!(running[0].status, "running(2)");
        let all = rows(projects(), true);
        assert_eq!(all[0].status, "exited(1), running(2)");
        assert_eq!(all[1].status, "exited(3)");
        assert_eq!(all.len(), 2, "a project with no containers is not listed");
    }

    /// `docker compose ls` as Compose v2.40.3 prints it: the recorded
    /// output in `tests/fixtures/compose-ls.txt` says where it came from.
    #[test]
    fn the_table_is_laid_out_as_composes() {
        let recorded = include_str!("../../tests/fixtures/compose-ls.txt");
        let expected: String = recorded
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let rows = vec![Row {
            name: "demo".into(),
            status: "running(2)".into(),
            config_files: "/tmp/demo/compose.yaml".into(),
        }];
        assert_eq!(table(&rows), expected);
        let json = serde_json::to_string(&rows).expect("json");
        assert_eq!(
            json,
            r#"[{"Name":"demo","Status":"running(2)","ConfigFiles":"/tmp/demo/compose.yaml"}]"#
        );
    }
}
