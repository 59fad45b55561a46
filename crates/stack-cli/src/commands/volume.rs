//! `stack volume create|ls|inspect|rm|prune`: named volumes, as
//! `docker volume` has them. Through the daemon when one answers
//! (`switch`); both paths print the same and exit the same way.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use stack_api::objects::{VolumeCreateRequest, VolumeSummary};

use super::images::human_size;
use super::network::parse_labels;
use crate::global::HostArgs;

#[derive(Debug, Args)]
pub struct VolumeArgs {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Create a volume (a random name when none is given).
    Create {
        /// Volume driver: only `local`.
        #[arg(short = 'd', long)]
        driver: Option<String>,
        /// Label KEY=VALUE; repeatable.
        #[arg(long = "label")]
        labels: Vec<String>,
        name: Option<String>,
    },
    /// List volumes.
    #[command(alias = "list")]
    Ls {
        /// Only names.
        #[arg(short = 'q', long)]
        quiet: bool,
        /// `json`: one JSON document per volume.
        #[arg(long)]
        format: Option<String>,
        /// `label=KEY[=VALUE]`, `name=PART` or `dangling=true|false`;
        /// repeatable (long form only: -f names stack files).
        #[arg(long = "filter")]
        filters: Vec<String>,
    },
    /// Show volumes as JSON.
    Inspect {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove volumes and their files (refused while a container, running
    /// or not, mounts one).
    #[command(alias = "remove")]
    Rm {
        /// A missing volume is not an error (a used one still is; long
        /// form only: -f names stack files).
        #[arg(long)]
        force: bool,
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove volumes no container uses: anonymous ones, or all with `--all`.
    Prune {
        /// Also named volumes.
        #[arg(short = 'a', long)]
        all: bool,
        /// Accepted for compatibility; prune never asks (long form only).
        #[arg(long)]
        force: bool,
    },
}

pub fn run(host: &HostArgs, args: VolumeArgs) -> miette::Result<ExitCode> {
    let via = crate::switch::choose(host)?;
    match args.verb {
        Verb::Create {
            driver,
            labels,
            name,
        } => {
            let request = VolumeCreateRequest {
                name,
                driver,
                labels: parse_labels(&labels)?,
            };
            println!("{}", via.api().create_volume(&request)?.name);
        }
        Verb::Ls {
            quiet,
            format,
            filters,
        } => {
            let all = via.api().list_volumes(&filter_map(&filters)?)?;
            print_list(&all, quiet, format.as_deref())?;
        }
        Verb::Inspect { names } => {
            super::inspect_each::print(&names, |n| via.api().inspect_volume(n), inspect_doc)?;
        }
        Verb::Rm { force, names } => {
            let mut failed = Vec::new();
            for name in &names {
                match via.api().remove_volume(name, force) {
                    Ok(()) => println!("{name}"),
                    Err(err) => failed.push(err.to_string()),
                }
            }
            if !failed.is_empty() {
                miette::bail!("{}", failed.join("\n"));
            }
        }
        Verb::Prune { all, force: _ } => {
            let report = via.api().prune_volumes(all)?;
            if !report.volumes.is_empty() {
                println!("Deleted Volumes:");
                for name in &report.volumes {
                    println!("{name}");
                }
                println!();
            }
            println!("Total reclaimed space: {}", human_size(report.bytes));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--filter KEY=VALUE` words as Docker's filter map (checked by the
/// engine, so both paths refuse the same words).
fn filter_map(words: &[String]) -> miette::Result<BTreeMap<String, Vec<String>>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for word in words {
        let Some((key, value)) = word.split_once('=') else {
            miette::bail!("--filter {word:?}: expected KEY=VALUE");
        };
        map.entry(key.to_string())
            .or_default()
            .push(value.to_string());
    }
    Ok(map)
}

fn print_list(all: &[VolumeSummary], quiet: bool, format: Option<&str>) -> miette::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Some("json") => {
            for v in all {
                let labels: Vec<String> =
                    v.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let doc = serde_json::json!({
                    "Availability": "N/A", "Driver": v.driver, "Group": "N/A",
                    "Labels": labels.join(","), "Links": "N/A", "Mountpoint": v.mountpoint,
                    "Name": v.name, "Scope": v.scope, "Size": "N/A", "Status": "N/A",
                });
                let _ = writeln!(out, "{doc}");
            }
        }
        Some(other) => miette::bail!("--format {other:?}: only `json` is known"),
        None if quiet => {
            for v in all {
                let _ = writeln!(out, "{}", v.name);
            }
        }
        None => {
            let _ = writeln!(out, "{:<10}VOLUME NAME", "DRIVER");
            for v in all {
                let _ = writeln!(out, "{:<10}{}", v.driver, v.name);
            }
        }
    }
    Ok(())
}

/// Docker's shape of `volume inspect`.
fn inspect_doc(v: &VolumeSummary) -> serde_json::Value {
    serde_json::json!({
        "CreatedAt": v.created_at,
        "Driver": v.driver,
        "Labels": v.labels,
        "Mountpoint": v.mountpoint,
        "Name": v.name,
        "Options": {},
        "Scope": v.scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_words_become_dockers_map() {
        let map = filter_map(&["label=a=b".into(), "label=c".into(), "dangling=true".into()])
            .expect("map");
        assert_eq!(map["label"], ["a=b", "c"]);
        assert_eq!(map["dangling"], ["true"]);
        assert!(filter_map(&["dangling".into()]).is_err());
    }

    #[test]
    fn volume_verbs_have_no_clashing_flags() {
        use clap::CommandFactory;
        crate::commands::Cli::command().debug_assert();
    }
}
