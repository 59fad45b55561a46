//! `stack container ls|inspect|logs|exec|stop|kill|rm` for containers
//! started with `stack run`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use miette::IntoDiagnostic;
use stack_engine::containers::{network, ContainerRecord, Containers};
use stack_engine::paths::HostPaths;
use stack_runtime::exec::ExecRequest;
use stack_runtime::state::Status;

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
        #[arg(short = 'i', long)]
        interactive: bool,
        container: String,
        #[arg(allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// Start stopped containers again (same network namespace and addresses).
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
    /// Remove containers.
    Rm {
        /// Kill a running container first (long form only: -f names stack files).
        #[arg(long)]
        force: bool,
        containers: Vec<String>,
    },
}

/// Docker's STATUS column: `Up 3 seconds (healthy)`,
/// `Restarting (1) 2 seconds ago`, `Exited (0) 5 minutes ago`.
fn status_text(r: &ContainerRecord) -> String {
    let st = &r.state;
    let since = |at: &Option<String>| {
        at.as_deref()
            .and_then(super::container_status::age)
            .map(super::container_status::human_duration)
    };
    match st.effective_status() {
        Status::Created => "Created".into(),
        Status::Running => {
            let up = since(&st.started_at).unwrap_or_else(|| "Less than a second".into());
            match st.health.as_ref().map(|h| h.status.as_str()) {
                Some(health) => format!("Up {up} ({health})"),
                None => format!("Up {up}"),
            }
        }
        Status::Restarting => {
            let code = st.exit_code.unwrap_or(0);
            match since(&st.finished_at) {
                Some(ago) => format!("Restarting ({code}) {ago} ago"),
                None => format!("Restarting ({code})"),
            }
        }
        Status::Exited => {
            let code = match (st.exit_code, st.oom_killed) {
                (Some(code), true) => format!(" ({code}, oom-killed)"),
                (Some(code), false) => format!(" ({code})"),
                (None, _) => String::new(),
            };
            match since(&st.finished_at) {
                Some(ago) => format!("Exited{code} {ago} ago"),
                None => format!("Exited{code}"),
            }
        }
    }
}

pub fn run(host: &HostArgs, args: ContainerArgs) -> miette::Result<ExitCode> {
    let paths = HostPaths::resolve(host.state_root.clone(), None, host.config_file.clone());
    let store = Containers::new(&paths);
    let find = |key: &str| store.find(key).into_diagnostic();
    match args.verb {
        Verb::Ls { all, quiet } => {
            let mut out = std::io::stdout().lock();
            if !quiet {
                let _ = writeln!(
                    out,
                    "{:<12}  {:<24}  {:<28}  {:<24}  COMMAND",
                    "CONTAINER ID", "NAME", "STATUS", "PORTS"
                );
            }
            for r in store.list() {
                if !all && !r.state.is_active() {
                    continue;
                }
                if quiet {
                    let _ = writeln!(out, "{}", &r.spec.id[..12]);
                } else {
                    let _ = writeln!(
                        out,
                        "{:<12}  {:<24}  {:<28}  {:<24}  {}",
                        &r.spec.id[..12],
                        r.spec.name,
                        status_text(&r),
                        network::view::ports_text(&network::view::published_ports(&r)),
                        r.spec.process.args.join(" ")
                    );
                }
            }
        }
        Verb::Inspect { containers } => {
            let mut docs = Vec::new();
            for key in &containers {
                let r = find(key)?;
                let usage = if r.state.effective_status() == Status::Running {
                    cgroup_usage(&r)
                } else {
                    None
                };
                docs.push(serde_json::json!({
                    "Id": r.spec.id, "Name": r.spec.name,
                    "State": super::container_status::state_json(&r.state),
                    "RestartCount": r.state.restart_count,
                    "Config": r.spec, "Usage": usage, "LogPath": r.dir.log(),
                    "NetworkSettings": network::view::describe(&store.state_root, &r),
                }));
            }
            println!("{}", serde_json::to_string_pretty(&docs).into_diagnostic()?);
        }
        Verb::Logs { follow, container } => {
            let r = find(&container)?;
            let path = r.dir.log();
            let emit = |line: &stack_runtime::logs::LogLine| {
                if line.stream == "stderr" {
                    let _ = std::io::stderr().write_all(line.log.as_bytes());
                } else {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(line.log.as_bytes());
                    let _ = out.flush();
                }
            };
            for line in stack_runtime::logs::read_all(&path).into_diagnostic()? {
                emit(&line);
            }
            if follow {
                let dir = r.dir.clone();
                let running = move || {
                    stack_runtime::state::State::load(&dir)
                        .map(|s| s.effective_status() == Status::Running)
                        .unwrap_or(false)
                };
                stack_runtime::logs::follow(
                    &path,
                    stack_runtime::logs::current_len(&path),
                    emit,
                    running,
                )
                .into_diagnostic()?;
            }
        }
        Verb::Exec {
            env,
            user,
            workdir,
            interactive: _,
            container,
            command,
        } => {
            let r = find(&container)?;
            let exe = std::env::current_exe().into_diagnostic()?;
            let req = ExecRequest {
                args: command,
                env,
                user: user.unwrap_or_default(),
                cwd: workdir.unwrap_or_default(),
            };
            let code = stack_runtime::exec::exec(&exe, &r.dir, &req).into_diagnostic()?;
            return Ok(ExitCode::from(code.clamp(0, 255) as u8));
        }
        Verb::Start { containers } => {
            for key in &containers {
                let r = find(key)?;
                if r.state.effective_status() == Status::Running {
                    println!("{key}");
                    continue;
                }
                store
                    .start(&r, stack_runtime::launch::Attach::Detached)
                    .into_diagnostic()?;
                println!("{key}");
            }
        }
        Verb::Stop { time, containers } => {
            for key in &containers {
                let r = find(key)?;
                let grace = Duration::from_secs(time.unwrap_or(r.spec.stop_timeout));
                stack_runtime::control::stop(&r.dir, grace).into_diagnostic()?;
                println!("{key}");
            }
        }
        Verb::Kill { signal, containers } => {
            let signal = super::run::parse_signal(&signal)?;
            for key in &containers {
                let r = find(key)?;
                stack_runtime::control::kill(&r.dir, signal).into_diagnostic()?;
                println!("{key}");
            }
        }
        Verb::Rm { force, containers } => {
            for key in &containers {
                let r = find(key)?;
                store.remove(&r, force).into_diagnostic()?;
                println!("{key}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cgroup_usage(r: &ContainerRecord) -> Option<stack_runtime::cgroup::Usage> {
    let root = std::path::Path::new(stack_runtime::cgroup::CGROUP_ROOT);
    let layout = stack_runtime::cgroup::Layout::detect(root).ok()?;
    Some(stack_runtime::cgroup::Cgroup::at(root, &layout, &r.spec.cgroup_path).usage())
}
