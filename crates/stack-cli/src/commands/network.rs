//! `stack network create|ls|inspect|rm|prune`: networks made on their own,
//! which `stack run --network NAME` joins and stack files use as
//! `external: true`. Through the daemon when one answers (`switch`).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use stack_api::objects::{NetworkCreateRequest, NetworkSummary};

use crate::global::HostArgs;

#[derive(Debug, Args)]
pub struct NetworkArgs {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Create a network (a bridge with its own subnet).
    Create {
        /// Subnet in CIDR form (default: the next free one of the pools).
        #[arg(long)]
        subnet: Option<String>,
        /// Gateway address (default: the first address of the subnet).
        #[arg(long)]
        gateway: Option<String>,
        /// No route out, no published ports.
        #[arg(long)]
        internal: bool,
        /// Label KEY=VALUE; repeatable.
        #[arg(long = "label")]
        labels: Vec<String>,
        name: String,
    },
    /// List networks.
    #[command(alias = "list")]
    Ls {
        /// Only names.
        #[arg(short = 'q', long)]
        quiet: bool,
        /// `json`: one JSON document per network.
        #[arg(long)]
        format: Option<String>,
    },
    /// Show networks and their containers as JSON.
    Inspect {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove networks (refused while containers are attached).
    #[command(alias = "remove")]
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove every network without containers.
    Prune {
        /// Accepted for compatibility; prune never asks (long form only:
        /// -f names stack files).
        #[arg(long)]
        force: bool,
    },
}

pub fn run(host: &HostArgs, args: NetworkArgs) -> miette::Result<ExitCode> {
    let via = crate::switch::choose(host)?;
    match args.verb {
        Verb::Create {
            subnet,
            gateway,
            internal,
            labels,
            name,
        } => {
            let request = NetworkCreateRequest {
                name,
                subnet,
                gateway,
                internal,
                labels: parse_labels(&labels)?,
            };
            let made = via.api().create_network(&request)?;
            println!("{}", made.id);
        }
        Verb::Ls { quiet, format } => {
            let all = via.api().list_networks()?;
            print_list(&all, quiet, format.as_deref())?;
        }
        Verb::Inspect { names } => {
            super::inspect_each::print(&names, |n| via.api().inspect_network(n), inspect_doc)?;
        }
        Verb::Rm { names } => {
            let mut failed = Vec::new();
            for name in &names {
                match via.api().remove_network(name) {
                    Ok(()) => println!("{name}"),
                    Err(err) => failed.push(err.to_string()),
                }
            }
            if !failed.is_empty() {
                miette::bail!("{}", failed.join("\n"));
            }
        }
        Verb::Prune { force: _ } => {
            let removed = via.api().prune_networks()?;
            if !removed.networks.is_empty() {
                println!("Deleted Networks:");
                for name in removed.networks {
                    println!("{name}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--label KEY=VALUE` words (a bare `KEY` has an empty value, as Docker).
pub(super) fn parse_labels(labels: &[String]) -> miette::Result<BTreeMap<String, String>> {
    let mut parsed = BTreeMap::new();
    for label in labels {
        let (k, v) = label.split_once('=').unwrap_or((label.as_str(), ""));
        if k.is_empty() {
            miette::bail!("--label {label:?}: expected KEY=VALUE");
        }
        parsed.insert(k.to_string(), v.to_string());
    }
    Ok(parsed)
}

fn print_list(all: &[NetworkSummary], quiet: bool, format: Option<&str>) -> miette::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Some("json") => {
            for n in all {
                let doc = serde_json::json!({
                    "ID": n.id.get(..12).unwrap_or(&n.id), "Name": n.name, "Driver": n.driver, "Scope": "local",
                    "Internal": n.internal, "Subnet": n.subnet,
                    "Labels": n.labels, "CreatedAt": n.created,
                });
                let _ = writeln!(out, "{doc}");
            }
        }
        Some(other) => miette::bail!("--format {other:?}: only `json` is known"),
        None if quiet => {
            for n in all {
                let _ = writeln!(out, "{}", n.name);
            }
        }
        None => {
            let _ = writeln!(
                out,
                "{:<12}  {:<24}  {:<8}  {:<18}  INTERNAL",
                "NETWORK ID", "NAME", "DRIVER", "SUBNET"
            );
            for n in all {
                let _ = writeln!(
                    out,
                    "{:<12}  {:<24}  {:<8}  {:<18}  {}",
                    n.id.get(..12).unwrap_or(&n.id),
                    n.name,
                    n.driver,
                    n.subnet,
                    n.internal
                );
            }
        }
    }
    Ok(())
}

/// Docker's shape of `network inspect`.
fn inspect_doc(n: &NetworkSummary) -> serde_json::Value {
    let containers: serde_json::Map<String, serde_json::Value> = n
        .containers
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                serde_json::json!({
                    "Name": c.name,
                    "IPv4Address": c.ipv4_address,
                    "Interface": c.interface,
                    "HostInterface": c.host_interface,
                    "Aliases": c.aliases,
                }),
            )
        })
        .collect();
    serde_json::json!({
        "Name": n.name,
        "Id": n.id,
        "Created": n.created,
        "Scope": "local",
        "Driver": n.driver,
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Config": [{"Subnet": n.subnet, "Gateway": n.gateway}]},
        "Internal": n.internal,
        "Options": {"com.docker.network.bridge.name": n.bridge},
        "Labels": n.labels,
        "Containers": containers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_key_value_words() {
        let ok = parse_labels(&["team=web".into(), "flag".into(), "a=b=c".into()]).expect("ok");
        assert_eq!(ok.get("team").map(String::as_str), Some("web"));
        assert_eq!(ok.get("flag").map(String::as_str), Some(""));
        assert_eq!(ok.get("a").map(String::as_str), Some("b=c"));
        assert!(parse_labels(&["=v".into()]).is_err());
    }
}
