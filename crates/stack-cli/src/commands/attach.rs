//! Attached `stack up`: the merged logs until the containers exit, Ctrl-C
//! (stop them gracefully; a second Ctrl-C kills), or an abort condition
//! (`--abort-on-container-exit`, `--abort-on-container-failure`,
//! `--exit-code-from`).

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{SigSet, Signal};
use stack_engine::apply::Host;
use stack_engine::containers::ContainerRecord;
use stack_engine::labels;
use stack_runtime::state::{State, Status};

use super::logs::{project_containers, Multiplexer, Style};

/// How attached `up` ends.
#[derive(Debug, Clone, Default)]
pub struct AttachOptions {
    pub abort_on_exit: bool,
    pub abort_on_failure: bool,
    pub exit_code_from: Option<String>,
    pub stop_timeout: Option<Duration>,
    pub prefix: bool,
    pub timestamps: bool,
}

const POLL: Duration = Duration::from_millis(50);

pub fn attach(
    engine: &Host,
    project: &str,
    services: &[String],
    opts: &AttachOptions,
) -> miette::Result<ExitCode> {
    let records = project_containers(&engine.containers, project, services);
    let interrupts = watch_interrupts();
    let style = Style {
        prefix: opts.prefix,
        timestamps: opts.timestamps,
        color: std::io::IsTerminal::is_terminal(&std::io::stdout()),
    };
    let mut mux = Multiplexer::new(&records, style);
    let _ = mux.print_existing(None, None);
    let mut stopping = false;
    let mut killed = false;
    let mut exit_code: Option<i32> = None;
    loop {
        let batch_empty = {
            let batch = mux.read_new();
            let empty = batch.is_empty();
            mux_print(&mux, batch);
            empty
        };
        let states: Vec<(&ContainerRecord, State)> = records
            .iter()
            .map(|r| (r, State::load(&r.dir).unwrap_or_else(|_| State::created())))
            .collect();
        let any_running = states
            .iter()
            .any(|(_, s)| s.effective_status() == Status::Running);
        let seen = interrupts.load(Ordering::SeqCst);
        if seen >= 1 && !stopping {
            eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
            stopping = true;
            stop_all(&records, opts.stop_timeout);
        }
        if seen >= 2 && !killed {
            killed = true;
            for r in &records {
                let _ = stack_runtime::control::kill(&r.dir, Signal::SIGKILL);
            }
        }
        if !stopping {
            if let Some((record, code)) = abort_trigger(&states, opts) {
                eprintln!(
                    "{} exited with code {code}; aborting (stopping every container)",
                    record.spec.name
                );
                exit_code = Some(code);
                stopping = true;
                stop_all(&records, opts.stop_timeout);
            }
        }
        if !any_running && batch_empty {
            break;
        }
        if batch_empty {
            std::thread::sleep(POLL);
        }
    }
    let batch = mux.read_new();
    mux_print(&mux, batch);
    if let Some(service) = &opts.exit_code_from {
        let code = records
            .iter()
            .filter(|r| is_service(r, service))
            .filter_map(|r| State::load(&r.dir).ok()?.exit_code)
            .next()
            .unwrap_or(0);
        return Ok(exit(code));
    }
    if seen_interrupt(&interrupts) && exit_code.is_none() {
        return Ok(ExitCode::SUCCESS);
    }
    Ok(exit(exit_code.unwrap_or(0)))
}

fn mux_print(mux: &Multiplexer, batch: Vec<(usize, stack_runtime::logs::LogLine)>) {
    mux.print_batch(batch);
}

fn seen_interrupt(counter: &AtomicUsize) -> bool {
    counter.load(Ordering::SeqCst) > 0
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn is_service(record: &ContainerRecord, service: &str) -> bool {
    labels::membership(&record.spec.labels).is_some_and(|m| m.service == service)
}

/// The container whose exit ends the session, and its code.
fn abort_trigger<'a>(
    states: &[(&'a ContainerRecord, State)],
    opts: &AttachOptions,
) -> Option<(&'a ContainerRecord, i32)> {
    if !opts.abort_on_exit && !opts.abort_on_failure {
        return None;
    }
    states.iter().find_map(|(r, s)| {
        if s.effective_status() != Status::Exited {
            return None;
        }
        let code = s.exit_code.unwrap_or(-1);
        let counts = opts.abort_on_exit || code != 0;
        counts.then_some((*r, code))
    })
}

/// Stops every container in the background, all at once.
fn stop_all(records: &[ContainerRecord], timeout: Option<Duration>) {
    for r in records {
        let dir = r.dir.clone();
        let grace = timeout.unwrap_or(Duration::from_secs(r.spec.stop_timeout));
        std::thread::spawn(move || {
            let _ = stack_runtime::control::stop(&dir, grace);
        });
    }
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
