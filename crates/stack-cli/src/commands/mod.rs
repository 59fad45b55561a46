//! One module per verb (or verb group). `dispatch` is the only place that
//! knows them all.

mod build;
mod builder;
mod config;
mod container;
mod cp;
mod daemon;
mod down;
mod events;
mod exec;
mod image;
mod images;
mod inspect_each;
mod kube;
mod lifecycle;
pub(crate) mod logs;
mod ls;
mod network;
mod port;
mod project;
mod ps;
mod pull;
mod push;
mod rmi;
mod run;
mod run_isolation_args;
mod run_service;
mod run_supervise_args;
mod stats;
mod system;
mod targets;
mod top;
mod up;
mod version;
mod volume;
pub mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use miette::IntoDiagnostic;

use crate::global::{HostArgs, ProjectArgs};

/// Every verb of the product.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and start the stack's containers, then supervise them.
    Up(Box<up::UpArgs>),
    /// Stop and remove the stack's containers and networks.
    Down(down::DownArgs),
    /// List the stack's containers.
    Ps(ps::PsArgs),
    /// Show the stack's logs.
    Logs(logs::LogsArgs),
    /// Build the images of the stack's services that have `build:`.
    Build(build::BuildArgs),
    /// List the projects of this host.
    Ls(ls::LsArgs),
    /// Run a command in a running service container.
    Exec(exec::ExecArgs),
    /// Run a command in a new container.
    Run(Box<run::RunArgs>),
    /// Start existing containers of the stack.
    Start(lifecycle::StartArgs),
    /// Stop running containers of the stack.
    Stop(lifecycle::StopArgs),
    /// Restart containers of the stack.
    Restart(lifecycle::RestartArgs),
    /// Send a signal to containers of the stack.
    Kill(lifecycle::KillArgs),
    /// Pause the running containers of the stack.
    Pause(lifecycle::PauseArgs),
    /// Unpause the paused containers of the stack.
    Unpause(lifecycle::PauseArgs),
    /// Remove stopped containers of the stack.
    Rm(lifecycle::RmArgs),
    /// Show the processes of the stack's containers.
    Top(top::TopArgs),
    /// Copy files between a container (or a service's) and this host.
    Cp(cp::CpArgs),
    /// Show resource usage of the stack's containers.
    Stats(stats::StatsArgs),
    /// Show the host port a container port is published on.
    Port(port::PortArgs),
    /// Stream the stack's events.
    Events(events::EventsArgs),
    /// Pull images.
    Pull(pull::PullArgs),
    /// Push the images of the stack's services that are built here.
    Push(push::PushArgs),
    /// List images.
    Images(images::ImagesArgs),
    /// Remove images.
    Rmi(rmi::RmiArgs),
    /// Manage images (inspect, prune, save, load, ls).
    Image(image::ImageArgs),
    /// Manage the build cache (`prune`).
    Builder(builder::BuilderArgs),
    /// Validate the stack file and print it in normal form.
    Config(config::ConfigArgs),
    /// Watch the stack file and the sources it syncs; apply changes at once.
    Watch(watch::WatchArgs),
    /// Run the long-lived engine with its REST API.
    Daemon(daemon::DaemonArgs),
    /// Show the version of stack and of the daemon in use.
    Version,
    /// Manage containers (ls, inspect, logs, exec, stop, kill, pause, rm).
    Container(container::ContainerArgs),
    /// Manage networks (create, ls, inspect, rm).
    Network(network::NetworkArgs),
    /// Manage volumes (create, ls, inspect, rm, prune).
    Volume(volume::VolumeArgs),
    /// Run the stack on Kubernetes (render, apply, down).
    Kube(kube::KubeArgs),
    /// Check the state database, the container records and the host
    /// against each other (`check`, `check --repair`).
    System(system::SystemArgs),
}

impl Command {
    /// Whether the verb works on a project (a stack file or `-p NAME`);
    /// the others refuse the project flags.
    pub fn takes_project(&self) -> bool {
        // `image build -f` names the Dockerfile, as `docker build -f`:
        // the command checks its project flags itself.
        if matches!(
            self,
            Command::Image(image::ImageArgs {
                command: image::ImageCommand::Build(_)
            })
        ) {
            return true;
        }
        !matches!(
            self,
            Command::Images(_)
                | Command::Rmi(_)
                | Command::Image(_)
                | Command::Builder(_)
                | Command::Daemon(_)
                | Command::Version
                | Command::Container(_)
                | Command::Network(_)
                | Command::Volume(_)
                | Command::Ls(_)
                | Command::System(_)
        )
    }
}

/// Declarative multi-container stacks on a light built-in engine.
#[derive(Debug, Parser)]
#[command(name = "stack", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub host: HostArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Runs the chosen verb.
pub fn dispatch(cli: Cli) -> miette::Result<ExitCode> {
    let local_only = matches!(
        cli.command,
        Command::Config(_) | Command::Kube(_) | Command::Version
    );
    if !local_only {
        // Every verb that may open the state root checks who else can reach it.
        let paths = cli.host.paths();
        stack_engine::private_dirs::ensure(&paths).into_diagnostic()?;
    }
    match cli.command {
        Command::Run(args) => run::run(&cli.host, &cli.project, *args),
        Command::Container(args) => container::run(&cli.host, args),
        Command::Network(args) => network::run(&cli.host, args),
        Command::Pull(a) => pull::run(&cli.host, &cli.project, &a).map(|()| ExitCode::SUCCESS),
        Command::Push(a) => push::run(&cli.host, &cli.project, &a).map(|()| ExitCode::SUCCESS),
        Command::Image(image::ImageArgs {
            command: image::ImageCommand::Push { image, quiet },
        }) => push::push_one(&cli.host, &images::open_images(&cli.host)?, &image, quiet)
            .map(|()| ExitCode::SUCCESS),
        Command::Images(a) => {
            images::run(&crate::switch::choose(&cli.host)?, &a).map(|()| ExitCode::SUCCESS)
        }
        Command::Image(image::ImageArgs {
            command: image::ImageCommand::Build(a),
        }) => build::image_build(&cli.host, &cli.project, *a),
        Command::Image(image::ImageArgs {
            command: image::ImageCommand::Ls(a),
        }) => images::run(&crate::switch::choose(&cli.host)?, &a).map(|()| ExitCode::SUCCESS),
        Command::Rmi(a) => {
            rmi::run(&crate::switch::choose(&cli.host)?, &a).map(|()| ExitCode::SUCCESS)
        }
        Command::Daemon(a) => daemon::run(&cli.host, a),
        Command::Builder(a) => builder::run(&cli.host, &a).map(|()| ExitCode::SUCCESS),
        Command::Version => version::run(&cli.host),
        Command::Image(a) => {
            image::run(&images::open_images(&cli.host)?, &a).map(|()| ExitCode::SUCCESS)
        }
        Command::Config(args) => config::run(&cli.project, args),
        Command::Up(args) => up::run(&cli.host, &cli.project, *args),
        Command::Build(args) => build::build(&cli.host, &cli.project, args),
        Command::Down(args) => down::run(&cli.host, &cli.project, args),
        Command::Ps(args) => ps::run(&cli.host, &cli.project, args),
        Command::Logs(args) => logs::run(&cli.host, &cli.project, args),
        Command::Ls(args) => ls::run(&cli.host, args),
        Command::Exec(a) => exec::run(&cli.host, &cli.project, a),
        Command::Start(a) => lifecycle::start(&cli.host, &cli.project, a),
        Command::Stop(a) => lifecycle::stop(&cli.host, &cli.project, a),
        Command::Restart(a) => lifecycle::restart(&cli.host, &cli.project, a),
        Command::Kill(a) => lifecycle::kill(&cli.host, &cli.project, a),
        Command::Pause(a) => lifecycle::pause(&cli.host, &cli.project, a),
        Command::Unpause(a) => lifecycle::unpause(&cli.host, &cli.project, a),
        Command::Rm(a) => lifecycle::rm(&cli.host, &cli.project, a),
        Command::Top(a) => top::run(&cli.host, &cli.project, a),
        Command::Cp(a) => cp::run(&cli.host, &cli.project, a),
        Command::Stats(a) => stats::run(&cli.host, &cli.project, a),
        Command::Port(a) => port::run(&cli.host, &cli.project, a),
        Command::Events(a) => events::run(&cli.host, &cli.project, a),
        Command::Watch(args) => watch::run(&cli.host, &cli.project, args),
        Command::Volume(args) => volume::run(&cli.host, args),
        Command::Kube(args) => kube::run(&cli.project, args),
        Command::System(args) => system::run(&cli.host, args),
    }
}
