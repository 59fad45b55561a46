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
use stack_engine::containers::{ContainerRecord, LogFollower, LogLine, Status};
use stack_engine::labels;

use super::logs::{LogSource, Multiplexer, Style};

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
    /// Only log lines written at or after this time (RFC 3339): the start
    /// of this `up`, so a container left running shows only new output.
    pub since: Option<String>,
    /// The stack's start waves (services by dependency order): stopping
    /// goes through them in reverse, dependants first.
    pub waves: Vec<Vec<String>>,
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
    /// One stop per container (its service, and the call that stops it
    /// within `timeout` or its own grace period), for [`stop_in_order`].
    fn stoppers(&self, timeout: Option<Duration>) -> Vec<Stopper>;
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
    logs: LogFollower,
}

impl LocalSession {
    pub fn new(records: Vec<ContainerRecord>) -> LocalSession {
        LocalSession {
            logs: LogFollower::new(&records),
            records,
        }
    }
}

impl LogSource for LocalSession {
    fn existing(&mut self) -> miette::Result<Vec<Vec<LogLine>>> {
        LogSource::existing(&mut self.logs)
    }
    fn read_new(&mut self) -> Vec<(usize, LogLine)> {
        LogSource::read_new(&mut self.logs)
    }
    fn more(&self) -> bool {
        LogSource::more(&self.logs)
    }
}

impl Session for LocalSession {
    fn replicas(&self) -> Vec<Replica> {
        self.records
            .iter()
            .map(|r| {
                let state = r.current_state();
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

    fn stoppers(&self, timeout: Option<Duration>) -> Vec<Stopper> {
        self.records
            .iter()
            .map(|r| {
                let record = r.clone();
                let grace = timeout.unwrap_or(Duration::from_secs(r.spec.stop_timeout));
                let service = labels::membership(&r.spec.labels)
                    .map(|m| m.service.to_string())
                    .unwrap_or_default();
                let stop: Box<dyn FnOnce() + Send> = Box::new(move || {
                    let _ = record.stop(grace);
                });
                (service, stop)
            })
            .collect()
    }

    fn kill_all(&self) {
        for r in &self.records {
            let _ = r.signal(Signal::SIGKILL);
        }
    }
}

/// A container's service and the call that stops it.
pub type Stopper = (String, Box<dyn FnOnce() + Send>);

/// Stops the containers in the background in reverse dependency order, as
/// Compose does: the services of the last wave first (those of one wave at
/// once), then the wave before; containers of services in no wave first.
pub fn stop_in_order(stoppers: Vec<Stopper>, waves: &[Vec<String>]) -> std::thread::JoinHandle<()> {
    let rank = |service: &str| {
        waves
            .iter()
            .position(|w| w.iter().any(|s| s == service))
            .map_or(0, |i| waves.len() - i)
    };
    let mut by_rank: std::collections::BTreeMap<usize, Vec<Box<dyn FnOnce() + Send>>> =
        std::collections::BTreeMap::new();
    for (service, stop) in stoppers {
        by_rank.entry(rank(&service)).or_default().push(stop);
    }
    std::thread::spawn(move || {
        for (_, wave) in by_rank {
            std::thread::scope(|s| {
                for stop in wave {
                    s.spawn(stop);
                }
            });
        }
    })
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
    let names: Vec<String> = session.replicas().into_iter().map(|r| r.name).collect();
    println!("Attaching to {}", names.join(", "));
    if let Ok(existing) = session.existing() {
        mux.print_existing(existing, None, opts.since.as_deref());
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
            // In the background: the loop goes on printing their last words.
            drop(stop_in_order(
                session.stoppers(opts.stop_timeout),
                &opts.waves,
            ));
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
                drop(stop_in_order(
                    session.stoppers(opts.stop_timeout),
                    &opts.waves,
                ));
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn stops_go_in_reverse_dependency_order() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let stopper = |service: &str| -> Stopper {
            let order = order.clone();
            let name = service.to_string();
            (
                service.to_string(),
                Box::new(move || order.lock().expect("lock").push(name)),
            )
        };
        let waves = vec![vec!["db".to_string()], vec!["app".to_string()]];
        let stoppers = vec![stopper("db"), stopper("app"), stopper("stray")];
        stop_in_order(stoppers, &waves).join().expect("joined");
        assert_eq!(*order.lock().expect("lock"), ["stray", "app", "db"]);
    }
}
