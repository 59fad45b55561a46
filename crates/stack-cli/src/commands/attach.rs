//! Attached `stack up`: the merged logs until the containers exit, Ctrl-C
//! (stop them gracefully; a second Ctrl-C kills), or an abort condition
//! (`--abort-on-container-exit`, `--abort-on-container-failure`,
//! `--exit-code-from`).
//!
//! The session reads logs and states and stops containers through a
//! [`Session`]: this host's files and processes, or the daemon's API.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{SigSet, Signal};
use stack_engine::containers::ContainerRecord;
use stack_engine::labels;
use stack_runtime::state::{State, Status};

use super::logs::{LocalLogs, LogSource, Multiplexer, Style};

/// How attached `up` ends.
#[derive(Debug, Clone, Default)]
pub struct AttachOptions {
    pub abort_on_exit: bool,
    pub abort_on_failure: bool,
    pub exit_code_from: Option<String>,
    pub stop_timeout: Option<Duration>,
    pub prefix: bool,
    pub timestamps: bool,
    /// `--no-color`: plain prefixes even on a terminal.
    pub no_color: bool,
}

const POLL: Duration = Duration::from_millis(50);

/// One attached container as seen now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub name: String,
    pub service: String,
    pub status: Status,
    pub exit_code: Option<i32>,
}

/// The logs, states and controls of the attached containers.
pub trait Session: LogSource {
    /// The containers, in the order of the log members.
    fn replicas(&self) -> Vec<Replica>;
    /// Stops every container in the background, all at once.
    fn stop_all(&self, timeout: Option<Duration>);
    fn kill_all(&self);
    /// Why the session lost sight of the containers, if it did (the daemon
    /// went away): attached `up` then fails with this.
    fn lost(&self) -> Option<String> {
        None
    }
}

/// The containers of this host, driven directly.
pub struct LocalSession {
    records: Vec<ContainerRecord>,
    logs: LocalLogs,
}

impl LocalSession {
    pub fn new(records: Vec<ContainerRecord>) -> LocalSession {
        LocalSession {
            logs: LocalLogs::new(&records),
            records,
        }
    }
}

impl LogSource for LocalSession {
    fn existing(&mut self) -> miette::Result<Vec<Vec<stack_runtime::logs::LogLine>>> {
        self.logs.existing()
    }
    fn read_new(&mut self) -> Vec<(usize, stack_runtime::logs::LogLine)> {
        self.logs.read_new()
    }
    fn more(&self) -> bool {
        self.logs.more()
    }
}

impl Session for LocalSession {
    fn replicas(&self) -> Vec<Replica> {
        self.records
            .iter()
            .map(|r| {
                let state = State::load(&r.dir).unwrap_or_else(|_| State::created());
                Replica {
                    name: r.spec.name.clone(),
                    service: labels::membership(&r.spec.labels)
                        .map(|m| m.service.to_string())
                        .unwrap_or_default(),
                    status: state.effective_status(),
                    exit_code: state.exit_code,
                }
            })
            .collect()
    }

    fn stop_all(&self, timeout: Option<Duration>) {
        for r in &self.records {
            let dir = r.dir.clone();
            let grace = timeout.unwrap_or(Duration::from_secs(r.spec.stop_timeout));
            std::thread::spawn(move || {
                let _ = stack_runtime::control::stop(&dir, grace);
            });
        }
    }

    fn kill_all(&self) {
        for r in &self.records {
            let _ = stack_runtime::control::kill(&r.dir, Signal::SIGKILL);
        }
    }
}

pub fn attach(
    members: &[super::logs::Member],
    session: &mut dyn Session,
    opts: &AttachOptions,
) -> miette::Result<ExitCode> {
    let interrupts = watch_interrupts();
    let style = Style::new(
        opts.prefix,
        opts.timestamps,
        !opts.no_color && std::io::IsTerminal::is_terminal(&std::io::stdout()),
    );
    let mux = Multiplexer::new(members, style);
    if let Ok(existing) = session.existing() {
        mux.print_existing(existing, None, None);
    }
    let mut stopping = false;
    let mut killed = false;
    let mut exit_code: Option<i32> = None;
    loop {
        let batch_empty = {
            let batch = session.read_new();
            let empty = batch.is_empty();
            mux.print_batch(batch);
            empty
        };
        let replicas = session.replicas();
        let any_running = replicas.iter().any(|r| r.status == Status::Running);
        let seen = interrupts.load(Ordering::SeqCst);
        if seen >= 1 && !stopping {
            eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
            stopping = true;
            session.stop_all(opts.stop_timeout);
        }
        if seen >= 2 && !killed {
            killed = true;
            session.kill_all();
        }
        if !stopping {
            if let Some((replica, code)) = abort_trigger(&replicas, opts) {
                eprintln!(
                    "{} exited with code {code}; aborting (stopping every container)",
                    replica.name
                );
                exit_code = Some(code);
                stopping = true;
                session.stop_all(opts.stop_timeout);
            }
        }
        if !any_running && batch_empty && !session.more() {
            break;
        }
        if batch_empty {
            std::thread::sleep(POLL);
        }
    }
    let batch = session.read_new();
    mux.print_batch(batch);
    if let Some(reason) = session.lost() {
        miette::bail!("{reason}");
    }
    if let Some(service) = &opts.exit_code_from {
        let code = session
            .replicas()
            .iter()
            .filter(|r| &r.service == service)
            .find_map(|r| r.exit_code)
            .unwrap_or(0);
        return Ok(exit(code));
    }
    if seen_interrupt(&interrupts) && exit_code.is_none() {
        return Ok(ExitCode::SUCCESS);
    }
    Ok(exit(exit_code.unwrap_or(0)))
}

fn seen_interrupt(counter: &AtomicUsize) -> bool {
    counter.load(Ordering::SeqCst) > 0
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(code.clamp(0, 255) as u8)
}

/// The container whose exit ends the session, and its code.
fn abort_trigger<'a>(replicas: &'a [Replica], opts: &AttachOptions) -> Option<(&'a Replica, i32)> {
    if !opts.abort_on_exit && !opts.abort_on_failure {
        return None;
    }
    replicas.iter().find_map(|r| {
        if r.status != Status::Exited {
            return None;
        }
        let code = r.exit_code.unwrap_or(-1);
        let counts = opts.abort_on_exit || code != 0;
        counts.then_some((r, code))
    })
}

/// Counts SIGINT/SIGTERM on a thread of its own (the signals are blocked
/// everywhere else, so they never kill this process mid-stop).
fn watch_interrupts() -> Arc<AtomicUsize> {
    let counter = Arc::new(AtomicUsize::new(0));
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    if set.thread_block().is_err() {
        return counter;
    }
    let seen = counter.clone();
    std::thread::spawn(move || {
        while set.wait().is_ok() {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    counter
}
