//! `stack network create|ls|inspect|rm|prune`: networks made on their own,
//! which `stack run --network NAME` joins and stack files use as
//! `external: true`.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use miette::IntoDiagnostic;
use stack_engine::containers::network::admin::{self, CreateOptions, NetworkInfo};
use stack_engine::containers::Containers;
use stack_engine::paths::HostPaths;

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
        /// Accepted for compatibility; prune never asks.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(host: &HostArgs, args: NetworkArgs) -> miette::Result<ExitCode> {
    let paths = HostPaths::resolve(host.state_root.clone(), None, host.config_file.clone());
    let store = Containers::new(&paths);
    match args.verb {
        Verb::Create {
            subnet,
            gateway,
            internal,
            labels,
            name,
        } => {
            let options = create_options(name, subnet, gateway, internal, &labels)?;
            let made = admin::create(&store, &options).into_diagnostic()?;
            println!("{}", made.id);
        }
        Verb::Ls { quiet, format } => {
            let all = admin::list(&store).into_diagnostic()?;
            print_list(&all, quiet, format.as_deref())?;
        }
        Verb::Inspect { names } => {
            let mut docs = Vec::new();
            let mut missing = Vec::new();
            for name in &names {
                match admin::inspect(&store, name) {
                    Ok(info) => docs.push(inspect_doc(&info)),
                    Err(err) => missing.push(err.to_string()),
                }
            }
            println!("{}", serde_json::to_string_pretty(&docs).into_diagnostic()?);
            if !missing.is_empty() {
                miette::bail!("{}", missing.join("\n"));
            }
        }
        Verb::Rm { names } => {
            let mut failed = Vec::new();
            for name in &names {
                match admin::remove(&store, name) {
                    Ok(()) => println!("{name}"),
                    Err(err) => failed.push(format!("{name}: {err}")),
                }
            }
            if !failed.is_empty() {
                miette::bail!("{}", failed.join("\n"));
            }
        }
        Verb::Prune { force: _ } => {
            let removed = admin::prune(&store).into_diagnostic()?;
            if !removed.is_empty() {
                println!("Deleted Networks:");
                for name in removed {
                    println!("{name}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks `network create`'s values; each error names the one at fault.
fn create_options(
    name: String,
    subnet: Option<String>,
    gateway: Option<String>,
    internal: bool,
    labels: &[String],
) -> miette::Result<CreateOptions> {
    if name.is_empty()
        || name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        miette::bail!("invalid network name {name:?}: letters, digits, '_', '-' and '.' only");
    }
    let subnet = subnet
        .map(|s| {
            s.parse()
                .map_err(|_| miette::miette!("--subnet {s:?} is not an IPv4 CIDR"))
        })
        .transpose()?;
    let gateway = gateway
        .map(|g| {
            g.parse()
                .map_err(|_| miette::miette!("--gateway {g:?} is not an IPv4 address"))
        })
        .transpose()?;
    let mut parsed = BTreeMap::new();
    for label in labels {
        let (k, v) = label.split_once('=').unwrap_or((label.as_str(), ""));
        if k.is_empty() {
            miette::bail!("--label {label:?}: expected KEY=VALUE");
        }
        parsed.insert(k.to_string(), v.to_string());
    }
    Ok(CreateOptions {
        name,
        subnet,
        gateway,
        internal,
        labels: parsed,
    })
}

fn print_list(all: &[NetworkInfo], quiet: bool, format: Option<&str>) -> miette::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Some("json") => {
            for n in all {
                let doc = serde_json::json!({
                    "ID": &n.id[..12], "Name": n.name, "Driver": n.driver, "Scope": "local",
                    "Internal": n.internal, "Subnet": n.subnet.to_string(),
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
                    &n.id[..12],
                    n.name,
                    n.driver,
                    n.subnet.to_string(),
                    n.internal
                );
            }
        }
    }
    Ok(())
}

/// Docker's shape of `network inspect`.
fn inspect_doc(n: &NetworkInfo) -> serde_json::Value {
    let containers: serde_json::Map<String, serde_json::Value> = n
        .containers
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                serde_json::json!({
                    "Name": c.name,
                    "IPv4Address": format!("{}/{}", c.endpoint.address, c.endpoint.prefix_len),
                    "Interface": c.endpoint.container_ifname,
                    "HostInterface": c.endpoint.host_veth,
                    "Aliases": c.endpoint.names,
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
        "IPAM": {"Driver": "default", "Config": [{"Subnet": n.subnet.to_string(), "Gateway": n.gateway.to_string()}]},
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
    fn create_values_are_checked() {
        let ok = create_options(
            "front".into(),
            Some("10.99.0.0/24".into()),
            Some("10.99.0.1".into()),
            true,
            &["team=web".into()],
        )
        .expect("good values");
        assert_eq!(ok.labels.get("team").map(String::as_str), Some("web"));
        assert!(ok.internal);
        let err = create_options("x".into(), Some("10.99.0.0".into()), None, false, &[])
            .expect_err("no prefix");
        assert!(err.to_string().contains("10.99.0.0"), "{err}");
        assert!(create_options("x".into(), None, Some("gw".into()), false, &[]).is_err());
        assert!(create_options("a/b".into(), None, None, false, &[]).is_err());
        assert!(create_options("x".into(), None, None, false, &["=v".into()]).is_err());
    }
}
