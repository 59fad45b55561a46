//! `stack image build` (as `docker build`) and `stack build [SERVICE...]`
//! (the `build:` sections of a stack file, as `docker compose build`).
//! Progress is printed as BuildKit's plain lines.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::Args;
use miette::IntoDiagnostic;
use stack_engine::build::{
    BuildEvent, BuildProgress, BuildRequest, CancellationToken, DockerfileSource,
};
use stack_engine::facade::Engine;

use crate::global::{HostArgs, ProjectArgs};

/// How progress is shown: BuildKit's plain lines, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressKind {
    Plain,
    Quiet,
}

impl ProgressKind {
    /// From the global `--progress` and the verb's `-q`.
    fn of(host: &HostArgs, quiet: bool) -> ProgressKind {
        if quiet || host.progress == crate::progress::ProgressMode::Quiet {
            ProgressKind::Quiet
        } else {
            ProgressKind::Plain
        }
    }
}

/// Arguments of `stack image build`.
#[derive(Debug, Args)]
pub struct ImageBuildArgs {
    /// The build context: a directory.
    #[arg(value_name = "CONTEXT")]
    pub context: PathBuf,
    /// Name (and tag) of the image; repeatable.
    #[arg(short, long = "tag", value_name = "NAME[:TAG]")]
    pub tags: Vec<String>,
    /// A build argument; repeatable.
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// The stage to build (default: the last).
    #[arg(long)]
    pub target: Option<String>,
    /// Run every step, whatever the cache holds.
    #[arg(long)]
    pub no_cache: bool,
    /// Fetch base images even when present.
    #[arg(long)]
    pub pull: bool,
    /// A label for the image; repeatable.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Network of `RUN` steps: default, none or host.
    #[arg(long)]
    pub network: Option<String>,
    /// Print only the image id.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Arguments of `stack build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Services to build (default: every service with `build:`).
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
    /// A build argument for every service; repeatable.
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    #[arg(long)]
    pub no_cache: bool,
    #[arg(long)]
    pub pull: bool,
    /// Print only the image ids.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `KEY=VALUE` pairs.
fn pairs(list: &[String], flag: &str) -> miette::Result<BTreeMap<String, String>> {
    list.iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            // `--build-arg NAME` passes this environment's value, as Docker.
            None if flag == "--build-arg" && !p.is_empty() => std::env::var(p)
                .map(|v| (p.clone(), v))
                .map_err(|_| miette::miette!("{flag} {p}: not set in this environment")),
            _ => Err(miette::miette!("{flag} {p:?}: expected KEY=VALUE")),
        })
        .collect()
}

pub fn image_build(
    host: &HostArgs,
    project: &ProjectArgs,
    args: ImageBuildArgs,
) -> miette::Result<ExitCode> {
    // `-f` is the Dockerfile here; every other project flag means nothing.
    let file = match project.files.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        _ => miette::bail!("`stack image build` takes one -f (the Dockerfile)"),
    };
    let others = ProjectArgs {
        files: Vec::new(),
        ..project.clone()
    };
    crate::global::refuse_project_flags("image build", &others)?;
    let request = BuildRequest {
        context: args.context.clone(),
        dockerfile: match &file {
            Some(f) if f.as_os_str() == "-" => {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                    .into_diagnostic()?;
                DockerfileSource::Inline(text)
            }
            Some(f) => DockerfileSource::Path(std::path::absolute(f).into_diagnostic()?),
            None => DockerfileSource::default(),
        },
        build_args: pairs(&args.build_args, "--build-arg")?,
        target: args.target.clone(),
        tags: args.tags.clone(),
        labels: pairs(&args.labels, "--label")?,
        no_cache: args.no_cache,
        pull: args.pull,
        network: args.network.clone(),
        source_date_epoch: source_date_epoch()?,
    };
    let engine = Engine::new(host.paths());
    let kind = ProgressKind::of(host, args.quiet);
    let printer = PlainProgress::new(kind);
    let built = engine
        .build_image(&request, &printer, &CancellationToken::new())
        .map_err(|e| miette::miette!("{e}"))?;
    if kind == ProgressKind::Quiet {
        println!("{}", built.id);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn build(host: &HostArgs, project: &ProjectArgs, args: BuildArgs) -> miette::Result<ExitCode> {
    let stack = super::project::load(project, &args.services)?;
    let overrides = pairs(&args.build_args, "--build-arg")?;
    let requests = stack_engine::build::requests_for(&stack, &args.services, &overrides)
        .map_err(|e| miette::miette!("{e}"))?;
    if requests.is_empty() {
        eprintln!("no service of {} has a build section", stack.name);
        return Ok(ExitCode::SUCCESS);
    }
    let engine = Engine::new(host.paths());
    let kind = ProgressKind::of(host, args.quiet);
    let epoch = source_date_epoch()?;
    for (service, mut request) in requests {
        request.source_date_epoch = epoch;
        request.no_cache |= args.no_cache;
        request.pull |= args.pull;
        if kind != ProgressKind::Quiet {
            eprintln!("Building {service}");
        }
        let printer = PlainProgress::new(kind);
        let built = engine
            .build_image(&request, &printer, &CancellationToken::new())
            .map_err(|e| miette::miette!("service {service}: {e}"))?;
        if kind == ProgressKind::Quiet {
            println!("{}", built.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds `service`'s image when it has `build:` and the image is not
/// here yet (`stack run SERVICE`, as Compose's `run` does).
pub fn ensure_built(
    host: &HostArgs,
    project: &stack_engine::spec::Project,
    service: &str,
) -> miette::Result<()> {
    let Some(definition) = project.services.get(service) else {
        return Ok(());
    };
    if definition.build.is_none() {
        return Ok(());
    }
    let image = stack_engine::build::image_name(project, definition);
    let images = super::images::open_images(host)?;
    if images.store().find(&image).is_ok() {
        return Ok(());
    }
    let requests =
        stack_engine::build::requests_for(project, &[service.to_string()], &BTreeMap::new())
            .map_err(|e| miette::miette!("{e}"))?;
    let engine = Engine::new(host.paths());
    let printer = PlainProgress::new(ProgressKind::Plain);
    for (_, mut request) in requests {
        request.source_date_epoch = source_date_epoch()?;
        engine
            .build_image(&request, &printer, &CancellationToken::new())
            .map_err(|e| miette::miette!("service {service}: {e}"))?;
    }
    Ok(())
}

/// `SOURCE_DATE_EPOCH` of this environment, as BuildKit reads it.
fn source_date_epoch() -> miette::Result<Option<u64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.is_empty() => v
            .parse()
            .map(Some)
            .map_err(|_| miette::miette!("SOURCE_DATE_EPOCH={v:?}: expected seconds since 1970")),
        _ => Ok(None),
    }
}

/// BuildKit's plain progress: `#N [stage k/n] INSTRUCTION`, the step's
/// output with its time, then `#N CACHED` or `#N DONE 0.3s`.
struct PlainProgress {
    quiet: bool,
    /// The step shown now, when it began, and whether it came from the
    /// cache (then its DONE line is not printed).
    state: Mutex<(usize, std::time::Instant, bool)>,
}

impl PlainProgress {
    fn new(kind: ProgressKind) -> Self {
        PlainProgress {
            quiet: kind == ProgressKind::Quiet,
            state: Mutex::new((0, std::time::Instant::now(), false)),
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

impl BuildProgress for PlainProgress {
    fn event(&self, event: BuildEvent) {
        if self.quiet {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        match event {
            BuildEvent::Step {
                stage,
                number,
                total,
                text,
            } => {
                *state = (number, std::time::Instant::now(), false);
                eprintln!("#{number} [{stage} {number}/{total}] {text}");
            }
            BuildEvent::Cached => {
                state.2 = true;
                eprintln!("#{} CACHED", state.0);
            }
            BuildEvent::Output(line) => {
                eprintln!("#{} {:.3} {line}", state.0, state.1.elapsed().as_secs_f64())
            }
            BuildEvent::Done(took) if !state.2 => {
                eprintln!("#{} DONE {}", state.0, seconds(took))
            }
            BuildEvent::Done(_) => {}
            BuildEvent::Built { id, tags } => {
                eprintln!("writing image {id} done");
                for tag in tags {
                    eprintln!("naming to {tag} done");
                }
            }
        }
    }
}
