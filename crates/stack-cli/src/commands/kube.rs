//! `stack kube render|apply|down`: the same stack file on Kubernetes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use miette::{miette, IntoDiagnostic, WrapErr};
use stack_kube::cluster::{self, ApplyOptions, Cluster, ClusterOptions, DownOptions, Event};
use stack_kube::{names, BindMounts, RenderOptions, Rendered, ServiceType};

use crate::global::ProjectArgs;

/// `stack kube …`
#[derive(Debug, Args)]
pub struct KubeArgs {
    #[command(subcommand)]
    verb: KubeVerb,
}

#[derive(Debug, Subcommand)]
enum KubeVerb {
    /// Print the stack as Kubernetes manifests (YAML).
    Render(RenderArgs),
    /// Apply the stack to a cluster (server-side apply), prune what is no
    /// longer in it, and wait for the rollout.
    Apply(ApplyArgs),
    /// Delete the stack's objects from the cluster (volumes only with -v).
    Down(DownArgs),
}

/// How the stack file is translated.
#[derive(Debug, Args)]
struct MappingArgs {
    /// Refuse the stack when a key cannot be translated (default: warn).
    #[arg(long)]
    strict: bool,
    /// What bind mounts become; cluster nodes do not have your files.
    #[arg(long, value_enum, default_value_t = BindMountsArg::Refuse)]
    bind_mounts: BindMountsArg,
    /// Type of the Services of services that publish ports.
    #[arg(long, value_enum, default_value_t = ServiceTypeArg::ClusterIp)]
    service_type: ServiceTypeArg,
    /// Add initContainers that wait for each `depends_on` service to answer
    /// (Kubernetes does not order start-up).
    #[arg(long)]
    wait_for_dependencies: bool,
    /// Image of those initContainers (needs sh, nc and nslookup).
    #[arg(long, value_name = "IMAGE", default_value = "busybox:1.36")]
    init_image: String,
    /// Image of the initContainers that wait for a one-shot dependency (a
    /// Job) to complete (needs kubectl).
    #[arg(long, value_name = "IMAGE", default_value_t = RenderOptions::default().kubectl_image)]
    kubectl_image: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BindMountsArg {
    Refuse,
    HostPath,
    ConfigMap,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ServiceTypeArg {
    ClusterIp,
    NodePort,
    LoadBalancer,
}

/// Which cluster, as kubectl takes it.
#[derive(Debug, Args)]
struct ClusterArgs {
    /// Kubeconfig file (default: KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Namespace (default: the context's).
    #[arg(short = 'n', long, value_name = "NS")]
    namespace: Option<String>,
}

#[derive(Debug, Args)]
struct RenderArgs {
    #[command(flatten)]
    mapping: MappingArgs,
    /// `-` for standard output, else a directory for one file per object.
    #[arg(short = 'o', long, value_name = "DIR|-", default_value = "-")]
    output: String,
    /// Put every object in this namespace (default: none, kubectl's).
    #[arg(short = 'n', long, value_name = "NS")]
    namespace: Option<String>,
}

#[derive(Debug, Args)]
struct ApplyArgs {
    #[command(flatten)]
    mapping: MappingArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Keep the project's objects that are no longer in the stack file.
    #[arg(long)]
    no_prune: bool,
    /// Also prune PersistentVolumeClaims of removed volumes (data is lost).
    #[arg(long)]
    prune_volumes: bool,
    /// Return once applied, without waiting for the rollout.
    #[arg(long)]
    no_wait: bool,
    /// Longest wait for the rollout (`90s`, `5m`, or seconds).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    timeout: String,
}

#[derive(Debug, Args)]
struct DownArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Also delete PersistentVolumeClaims (their data is lost).
    #[arg(short = 'v', long)]
    volumes: bool,
}

/// Runs `stack kube …`.
pub fn run(project: &ProjectArgs, args: KubeArgs) -> miette::Result<ExitCode> {
    match args.verb {
        KubeVerb::Render(render) => run_render(project, render),
        KubeVerb::Apply(apply) => run_apply(project, apply),
        KubeVerb::Down(down) => run_down(project, down),
    }
}

fn run_render(project_args: &ProjectArgs, args: RenderArgs) -> miette::Result<ExitCode> {
    let project = load_project(project_args)?;
    let rendered = render(&project, &args.mapping, args.namespace)?;
    if args.output == "-" {
        let yaml = rendered.manifests.to_yaml_stream().into_diagnostic()?;
        print!("{yaml}");
    } else {
        let dir = PathBuf::from(&args.output);
        let files = rendered.manifests.write_dir(&dir).into_diagnostic()?;
        eprintln!("wrote {} manifests to {}", files.len(), dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_apply(project_args: &ProjectArgs, args: ApplyArgs) -> miette::Result<ExitCode> {
    let project = load_project(project_args)?;
    let timeout = parse_timeout(&args.timeout)?;
    let runtime = cluster::runtime().into_diagnostic()?;
    runtime.block_on(async {
        let cluster = Cluster::connect(&cluster_options(args.cluster))
            .await
            .into_diagnostic()?;
        let rendered = render(
            &project,
            &args.mapping,
            Some(cluster.namespace().to_string()),
        )?;
        eprintln!(
            "applying project {} to namespace {}",
            rendered.project,
            cluster.namespace()
        );
        let options = ApplyOptions {
            prune: !args.no_prune,
            prune_volumes: args.prune_volumes,
            wait: !args.no_wait,
            timeout,
            ..ApplyOptions::new(&rendered.project)
        };
        cluster::apply(&cluster, &rendered.manifests, &options, &mut Printer)
            .await
            .into_diagnostic()?;
        Ok(ExitCode::SUCCESS)
    })
}

fn run_down(project_args: &ProjectArgs, args: DownArgs) -> miette::Result<ExitCode> {
    // With -p the stack file is not needed: objects are found by label.
    let name = match &project_args.project_name {
        Some(name) => name.clone(),
        None => load_project(project_args)?.name,
    };
    let project = names::dns1123_label("project", &name).into_diagnostic()?;
    let runtime = cluster::runtime().into_diagnostic()?;
    runtime.block_on(async {
        let cluster = Cluster::connect(&cluster_options(args.cluster))
            .await
            .into_diagnostic()?;
        let options = DownOptions {
            project: project.clone(),
            volumes: args.volumes,
        };
        let deleted = cluster::down(&cluster, &options, &mut Printer)
            .await
            .into_diagnostic()?;
        if deleted.is_empty() {
            eprintln!(
                "nothing of project {project} in namespace {}",
                cluster.namespace()
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn render(
    project: &stack_engine::spec::Project,
    mapping: &MappingArgs,
    namespace: Option<String>,
) -> miette::Result<Rendered> {
    let options = RenderOptions {
        namespace,
        strict: mapping.strict,
        bind_mounts: match mapping.bind_mounts {
            BindMountsArg::Refuse => BindMounts::Refuse,
            BindMountsArg::HostPath => BindMounts::HostPath,
            BindMountsArg::ConfigMap => BindMounts::ConfigMap,
        },
        service_type: match mapping.service_type {
            ServiceTypeArg::ClusterIp => ServiceType::ClusterIp,
            ServiceTypeArg::NodePort => ServiceType::NodePort,
            ServiceTypeArg::LoadBalancer => ServiceType::LoadBalancer,
        },
        wait_for_dependencies: mapping.wait_for_dependencies,
        init_image: mapping.init_image.clone(),
        kubectl_image: mapping.kubectl_image.clone(),
    };
    let rendered = stack_kube::render(project, &options).into_diagnostic()?;
    for warning in &rendered.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(rendered)
}

fn cluster_options(args: ClusterArgs) -> ClusterOptions {
    ClusterOptions {
        kubeconfig: args.kubeconfig,
        context: args.context,
        namespace: args.namespace,
    }
}

/// `90s`, `5m`, `1m30s`, or a number of seconds.
fn parse_timeout(text: &str) -> miette::Result<Duration> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    stack_engine::spec::Duration::parse(text)
        .map(|d| d.0)
        .map_err(|problem| miette!("--timeout: {problem}"))
        .wrap_err("expected e.g. 90s, 5m or 300")
}

/// Prints apply/down progress on standard error, one line per step.
struct Printer;

impl cluster::Progress for Printer {
    fn event(&mut self, event: Event) {
        eprintln!("{event}");
    }
}

/// Loads the stack file(s) with the global flags, as every verb does.
fn load_project(args: &ProjectArgs) -> miette::Result<stack_engine::spec::Project> {
    let options = stack_engine::spec::LoadOptions {
        project_directory: args.project_directory.clone(),
        project_name: args.project_name.clone(),
        env_files: args.env_files.clone(),
        profiles: args.profiles.clone(),
        compatibility: args.compatibility,
        ..stack_engine::spec::LoadOptions::from_process(args.files.clone())
    };
    let project = stack_engine::spec::load(&options)?;
    for warning in &project.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(project)
}
