//! `stack config`: validate the stack file and print it in normal form: the
//! document `docker compose config` prints for the same file (YAML byte for
//! byte, JSON equal as data), so the two can be diffed and read back.

use std::io::Read;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use miette::IntoDiagnostic;
use stack_engine::spec::{output, Project};

use crate::global::ProjectArgs;

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum Format {
    #[default]
    Yaml,
    Json,
}

/// Arguments of `stack config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    format: Format,
    /// Only validate; print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
    /// Print the service names, one per line.
    #[arg(long = "services", id = "list_services")]
    services: bool,
    /// Print the volume names, one per line.
    #[arg(long = "volumes", id = "list_volumes")]
    volumes: bool,
    /// Print the network names, one per line.
    #[arg(long = "networks", id = "list_networks")]
    networks: bool,
    /// Print the profile names, one per line.
    #[arg(long = "profiles", id = "list_profiles")]
    profiles: bool,
    /// Print the image of each service, one per line.
    #[arg(long = "images", id = "list_images")]
    images: bool,
    /// Print `SERVICE HASH` for the named services (`*` for all).
    #[arg(long, value_name = "SERVICE|*")]
    hash: Option<String>,
    /// Write the output to a file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// Compose's `--no-interpolate`: recognised and refused (see
    /// [`Unsupported`]).
    #[arg(long, hide = true)]
    no_interpolate: bool,
    /// Print the project without Compose's normalization (no default
    /// network, resource names, default `dockerfile`, implicit
    /// `depends_on`, cleaned mount targets).
    #[arg(long)]
    no_normalize: bool,
    /// Compose's `--resolve-image-digests`: recognised and refused.
    #[arg(long, hide = true)]
    resolve_image_digests: bool,
    /// Services to target (enables their profiles).
    services_named: Vec<String>,
}

/// Flags of `docker compose config` that stack knows but cannot print the
/// way Compose does. They are refused by name instead of being accepted and
/// ignored, since a document that only looks like Compose's would be worse
/// than an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    #[error(
        "`stack config --no-interpolate` is not supported: for it Compose prints its untyped \
         intermediate model (keys sorted, values as written, `${{VAR}}` and `$` left as they \
         are), a different document from the normal form, which stack does not reproduce yet"
    )]
    NoInterpolate,
    #[error(
        "`stack config --resolve-image-digests` is not supported: it needs a registry lookup of \
         every image, which `stack config` does not do; `stack pull` fetches the images"
    )]
    ResolveImageDigests,
}

impl ConfigArgs {
    /// The first Compose flag given that stack refuses, in Compose's order.
    fn unsupported(&self) -> Option<Unsupported> {
        [
            (self.no_interpolate, Unsupported::NoInterpolate),
            (self.resolve_image_digests, Unsupported::ResolveImageDigests),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

pub fn run(project_args: &ProjectArgs, args: ConfigArgs) -> miette::Result<ExitCode> {
    if let Some(flag) = args.unsupported() {
        return Err(miette::miette!("{flag}"));
    }
    let mut opts = super::project::load_options(project_args, &args.services_named);
    opts.no_normalize = args.no_normalize;
    if opts.files.iter().any(|f| f.as_os_str() == "-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| miette::miette!("cannot read the stack file from standard input: {e}"))?;
        opts.stdin = Some(text);
    }
    let project = stack_engine::spec::load(&opts)?;
    for warning in &project.warnings {
        eprintln!("warning: {warning}");
    }
    if args.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    let text = render(&project, &args)?;
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn render(project: &Project, args: &ConfigArgs) -> miette::Result<String> {
    let lines = |items: Vec<String>| items.into_iter().map(|l| l + "\n").collect::<String>();
    if args.services {
        return Ok(lines(project.services.keys().cloned().collect()));
    }
    // Like Compose, only the networks and volumes the services use.
    if args.volumes {
        return Ok(lines(output::volume_names(project)));
    }
    if args.networks {
        return Ok(lines(output::network_names(project)));
    }
    if args.profiles {
        return Ok(lines(project.all_profiles()));
    }
    if args.images {
        return Ok(lines(
            project
                .services
                .iter()
                .map(|(name, s)| {
                    s.image
                        .clone()
                        .unwrap_or_else(|| format!("{}-{name}", project.name))
                })
                .collect(),
        ));
    }
    if let Some(selection) = &args.hash {
        let wanted: Vec<&str> = selection.split(',').map(str::trim).collect();
        // The planner's hash, so that what is printed is what `up` compares
        // with the label on the container.
        let desired = stack_engine::plan::desired_from_spec(project).into_diagnostic()?;
        let mut out = Vec::new();
        for (name, hash) in stack_engine::plan::service_hashes(&desired) {
            if wanted.contains(&"*") || wanted.contains(&name.as_str()) {
                out.push(format!("{name} {hash}"));
            }
        }
        for w in &wanted {
            if *w != "*" && !project.services.contains_key(*w) {
                return Err(miette::miette!("no such service: {w}"));
            }
        }
        return Ok(lines(out));
    }
    Ok(match args.format {
        Format::Yaml => output::to_yaml(project),
        Format::Json => output::to_json(project),
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: ConfigArgs,
    }

    fn unsupported(argv: &[&str]) -> Option<Unsupported> {
        let argv = std::iter::once("config").chain(argv.iter().copied());
        Cli::try_parse_from(argv)
            .expect("parses")
            .args
            .unsupported()
    }

    #[test]
    fn compose_flags_stack_cannot_match_are_refused_by_name() {
        assert_eq!(unsupported(&[]), None);
        assert_eq!(unsupported(&["--format", "json", "web"]), None);
        assert_eq!(
            unsupported(&["--no-interpolate"]),
            Some(Unsupported::NoInterpolate)
        );
        assert_eq!(unsupported(&["--no-normalize", "--format", "json"]), None);
        assert_eq!(
            unsupported(&["--resolve-image-digests"]),
            Some(Unsupported::ResolveImageDigests)
        );
        // Several: the first in the order of the issue.
        assert_eq!(
            unsupported(&["--resolve-image-digests", "--no-interpolate"]),
            Some(Unsupported::NoInterpolate)
        );
        for flag in [Unsupported::NoInterpolate, Unsupported::ResolveImageDigests] {
            let text = flag.to_string();
            assert!(text.contains("is not supported"), "{text}");
            assert!(text.starts_with("`stack config --"), "{text}");
        }
    }
}
