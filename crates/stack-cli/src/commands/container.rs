//! `stack container ls|inspect|logs|exec|stop|kill|pause|unpause|update|rm` for containers
//! started with `stack run`.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use miette::IntoDiagnostic;
use stack_api::system::ContainerFilter;
use stack_api::system::ContainerSummary;

use crate::global::HostArgs;

#[derive(Debug, Args)]
pub struct ContainerArgs {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// List containers (running ones; -a for all).
    #[command(alias = "ps")]
    Ls {
        #[arg(short = 'a', long)]
        all: bool,
        /// Only ids.
        #[arg(short = 'q', long)]
        quiet: bool,
    },
    /// Show a container's record as JSON.
    Inspect { containers: Vec<String> },
    /// Show a container's output.
    Logs {
        /// Keep printing new output (long form only: -f names stack files).
        #[arg(long)]
        follow: bool,
        container: String,
    },
    /// Run a command in a running container.
    #[command(trailing_var_arg = true)]
    Exec {
        #[arg(short = 'e', long = "env")]
        env: Vec<String>,
        #[arg(short = 'u', long)]
        user: Option<String>,
        #[arg(short = 'w', long)]
        workdir: Option<String>,
        /// Keep stdin attached (without: the command reads /dev/null).
        #[arg(short = 'i', long)]
        interactive: bool,
        /// Give the command a terminal (through the daemon, a pty in the
        /// container; in process, this terminal).
        #[arg(short = 't', long)]
        tty: bool,
        container: String,
        #[arg(allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// Start stopped containers (detached).
    Start { containers: Vec<String> },
    /// Stop containers: the stop signal, then SIGKILL after the grace time.
    Stop {
        /// Seconds to wait before killing (default: the container's).
        #[arg(short = 't', long = "time")]
        time: Option<u64>,
        containers: Vec<String>,
    },
    /// Send a signal (default KILL).
    Kill {
        #[arg(short = 's', long = "signal", default_value = "KILL")]
        signal: String,
        containers: Vec<String>,
    },
    /// Freeze every process of running containers where it stands.
    Pause {
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Let paused containers run again.
    Unpause {
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Change the resource limits and restart policy of containers: at
    /// once when they run, and for their later starts.
    Update(UpdateArgs),
    /// Remove containers.
    Rm {
        /// Kill a running container first (long form only: -f names stack files).
        #[arg(long)]
        force: bool,
        containers: Vec<String>,
    },
}

/// `stack container update`'s options, Docker's names; one left out
/// keeps its value.
#[derive(Debug, Args)]
struct UpdateArgs {
    /// Memory limit (`64m`, `1g`, bytes).
    #[arg(short = 'm', long)]
    memory: Option<String>,
    /// Memory and swap together (`-1`: swap without limit).
    #[arg(long, allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// CPUs (quota over a 100 ms period).
    #[arg(long)]
    cpus: Option<f64>,
    /// Relative CPU weight.
    #[arg(short = 'c', long)]
    cpu_shares: Option<u64>,
    /// Process limit (0 or -1: none).
    #[arg(long, allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    /// Restart policy: no, always, on-failure[:N], unless-stopped.
    #[arg(long)]
    restart: Option<String>,
    #[arg(required = true)]
    containers: Vec<String>,
}

impl UpdateArgs {
    fn request(&self) -> miette::Result<stack_api::system::ContainerUpdate> {
        let size = |flag: &str, text: &str| {
            stack_engine::containers::parse_size(text)
                .map_err(|e| miette::miette!("--{flag} {text}: {e}"))
        };
        let memory_swap = match self.memory_swap.as_deref() {
            None => None,
            Some("-1") => Some(-1),
            Some(text) => Some(i64::try_from(size("memory-swap", text)?).into_diagnostic()?),
        };
        let update = stack_api::system::ContainerUpdate {
            memory: self
                .memory
                .as_deref()
                .map(|m| size("memory", m))
                .transpose()?,
            memory_swap,
            cpus: self.cpus,
            cpu_shares: self.cpu_shares,
            pids_limit: self.pids_limit,
            restart: self.restart.clone(),
        };
        if update == stack_api::system::ContainerUpdate::default() {
            return Err(miette::miette!(
                "nothing to update: give --memory, --memory-swap, --cpus, --cpu-shares, --pids-limit or --restart"
            ));
        }
        Ok(update)
    }
}

/// Docker's STATUS column: `Up 3 seconds (healthy)`,
/// `Restarting (1) 2 seconds ago`, `Exited (0) 5 minutes ago`.
fn status_text(c: &ContainerSummary) -> String {
    stack_engine::facade::status_text::docker_status(
        &stack_engine::facade::status_text::StatusFacts {
            status: &c.status,
            exit_code: c.exit_code,
            oom_killed: c.oom_killed,
            health: c.health.as_deref(),
            started_at: c.started_at.as_deref(),
            finished_at: c.finished_at.as_deref(),
        },
    )
}

/// Every verb goes through the daemon when one answers (`crate::switch`),
/// else runs here; the output is the same.
pub fn run(host: &HostArgs, args: ContainerArgs) -> miette::Result<ExitCode> {
    let via = crate::switch::choose(host)?;
    match args.verb {
        Verb::Ls { all, quiet } => {
            let filter = ContainerFilter {
                all,
                ..Default::default()
            };
            let mut out = std::io::stdout().lock();
            if !quiet {
                let _ = writeln!(
                    out,
                    "{:<12}  {:<24}  {:<28}  {:<24}  COMMAND",
                    "CONTAINER ID", "NAME", "STATUS", "PORTS"
                );
            }
            for c in via.api().list_containers(&filter)? {
                let short = &c.id[..12.min(c.id.len())];
                if quiet {
                    let _ = writeln!(out, "{short}");
                } else {
                    let _ = writeln!(
                        out,
                        "{:<12}  {:<24}  {:<28}  {:<24}  {}",
                        short,
                        c.name,
                        status_text(&c),
                        c.ports,
                        c.command.join(" ")
                    );
                }
            }
            // Containers whose record cannot be read are shown, never
            // hidden, each with the file at fault and the way out.
            let paths = host.paths();
            for d in stack_engine::containers::Containers::new(&paths).damaged() {
                if !quiet {
                    let short: String = d.id.chars().take(12).collect();
                    let _ = writeln!(out, "{short:<12}  {:<24}  damaged", d.name());
                }
                eprintln!("warning: {}", d.describe());
            }
        }
        Verb::Inspect { containers } => {
            let mut docs = Vec::new();
            for key in &containers {
                docs.push(via.api().inspect_container(key)?);
            }
            println!("{}", serde_json::to_string_pretty(&docs).into_diagnostic()?);
        }
        Verb::Logs { follow, container } => {
            via.api().container_logs(&container, follow, &mut |line| {
                if line.stream == "stderr" {
                    let _ = std::io::stderr().write_all(line.log.as_bytes());
                } else {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(line.log.as_bytes());
                    let _ = out.flush();
                }
                true
            })?;
        }
        Verb::Start { containers } => {
            for key in &containers {
                via.api().start_container(key)?;
                println!("{key}");
            }
        }
        Verb::Stop { time, containers } => {
            for key in &containers {
                via.api().stop_container(key, time)?;
                println!("{key}");
            }
        }
        Verb::Kill { signal, containers } => {
            for key in &containers {
                via.api().kill_container(key, &signal)?;
                println!("{key}");
            }
        }
        Verb::Pause { containers } => {
            for key in &containers {
                via.api().pause_container(key)?;
                println!("{key}");
            }
        }
        Verb::Unpause { containers } => {
            for key in &containers {
                via.api().unpause_container(key)?;
                println!("{key}");
            }
        }
        Verb::Update(args) => {
            let update = args.request()?;
            for key in &args.containers {
                via.api().update_container(key, &update)?;
                println!("{key}");
            }
        }
        Verb::Rm { force, containers } => {
            for key in &containers {
                via.api().remove_container(key, force)?;
                println!("{key}");
            }
        }
        Verb::Exec {
            env,
            user,
            workdir,
            interactive,
            tty,
            container,
            command,
        } => {
            let req = crate::switch::exec::request(command, env, user, workdir, tty, interactive);
            let code = via.exec(&container, &req)?;
            return Ok(ExitCode::from(code.clamp(0, 255) as u8));
        }
    }
    Ok(ExitCode::SUCCESS)
}
