//! `stack top [SERVICE...]`: the processes of each running container of
//! the project, as `docker compose top` shows them.

use std::process::ExitCode;

use clap::Args;
use stack_engine::containers::Status;
use stack_engine::project::top::{processes, TITLES};

use crate::global::{HostArgs, ProjectArgs};

use super::targets::targets;

/// Arguments of `stack top`.
#[derive(Debug, Args)]
pub struct TopArgs {
    services: Vec<String>,
}

pub fn run(host: &HostArgs, project: &ProjectArgs, args: TopArgs) -> miette::Result<ExitCode> {
    let t = targets(host, project, &args.services)?;
    let mut first = true;
    for record in t.selection.all() {
        if record.state.effective_status() != Status::Running {
            continue;
        }
        let rows: Vec<[String; 8]> = processes(record).iter().map(|r| r.cells()).collect();
        if !first {
            println!();
        }
        first = false;
        println!("{}", record.spec.name);
        print!("{}", table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

/// Left-aligned columns separated by three spaces; the last one unpadded.
fn table(rows: &[[String; 8]]) -> String {
    let mut widths: Vec<usize> = TITLES.iter().map(|t| t.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}   ", width = widths[i]));
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(TITLES.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let row = |pid: &str, cmd: &str| {
            [
                "root".to_string(),
                pid.to_string(),
                "1".to_string(),
                "0".to_string(),
                "05:00".to_string(),
                "?".to_string(),
                "00:00:00".to_string(),
                cmd.to_string(),
            ]
        };
        let text = table(&[row("7", "sleep 100"), row("12345", "sh")]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let cmd_at = lines[0].find("CMD").expect("title");
        assert_eq!(lines[1].find("sleep 100"), Some(cmd_at));
        assert_eq!(lines[2].find("sh"), Some(cmd_at));
        assert!(lines[2].starts_with("root   12345"));
    }
}
