//! The monitor's whole-life loop: start the container's process, watch it
//! (output, healthcheck, exit), and when it exits let the restart policy
//! decide whether to start it again, after its backoff delay, in the same
//! rootfs and network namespace. The decisions come from the tested state
//! machines in [`crate::supervise`]; this file only carries them out and
//! records each step in `state.json` and the host event log.
//!
//! A manual stop is a marker file ([`STOP_REQUESTED`]) that `stop`/`kill`
//! write before they signal: the monitor reads it when the process exits
//! (and before each restart) and then never restarts, whatever the policy.
//! It records `manual_stop` in `state.json`, so a later engine start can
//! tell `always` (comes back) from `unless-stopped` (stays stopped).
//!
//! Beyond Docker (which never restarts an unhealthy container, moby#28400):
//! with `RestartSpec::when_unhealthy`, a container whose healthcheck turns
//! it unhealthy is killed and restarted through the same backoff.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::process::{clean_up_run, prepare, run_removal_hook, start_process};
use super::EventSink;
use crate::error::Error;
use crate::event_log::{self, EventRecord};
use crate::events::Event;
use crate::logs::LogWriter;
use crate::spec::{ContainerDir, ContainerSpec, HealthcheckSpec};
use crate::state::{Health, Probe, State, Status};
use crate::supervise::{
    Clock, HealthMonitor, HealthStatus, HealthTest, Healthcheck, ProbeReport, RestartDecision,
    RestartPolicy, RestartTracker, SystemClock,
};
use crate::watch::{ProbeListener, Running};

/// File in the container directory that says the next exit was asked for.
pub const STOP_REQUESTED: &str = "stop-requested";

/// While waiting to restart, how often the stop marker is looked at.
const RESTART_WAIT_SLICE: Duration = Duration::from_millis(100);

/// Path of the manual-stop marker of a container.
pub fn stop_marker(dir: &ContainerDir) -> PathBuf {
    dir.path().join(STOP_REQUESTED)
}

fn stop_requested(dir: &ContainerDir) -> bool {
    stop_marker(dir).exists()
}

/// The healthcheck of the spec as the health machine takes it; `None` when
/// there is none (or its test is `NONE` or malformed).
pub fn healthcheck_of(spec: &HealthcheckSpec) -> Option<Healthcheck> {
    let test = HealthTest::from_list(&spec.test).ok()?;
    let mut check = Healthcheck::new(test);
    let ms = Duration::from_millis;
    if spec.interval_ms > 0 {
        check.interval = ms(spec.interval_ms);
    }
    if spec.timeout_ms > 0 {
        check.timeout = ms(spec.timeout_ms);
    }
    if spec.retries > 0 {
        check.retries = spec.retries;
    }
    check.start_period = ms(spec.start_period_ms);
    if spec.start_interval_ms > 0 {
        check.start_interval = ms(spec.start_interval_ms);
    }
    check.test.argv().map(|_| check)
}

/// Supervises the container for its whole life; returns when it has
/// exited for good (or the first start failed).
pub(crate) fn run(
    spec: &ContainerSpec,
    dir: &ContainerDir,
    events: &mut EventSink,
) -> Result<(), Error> {
    // Held while this monitor lives: a copy into the stopped container
    // (which mounts its root filesystem too) finishes first.
    let _rootfs = crate::files::RootfsLock::hold(dir)?;
    prepare(spec, dir)?;
    // Stdin stays open between attaches unless it closes after the first.
    let _stdin_keeper = if spec.process.stdin && !spec.process.stdin_once {
        crate::input::open_keeper(dir)?
    } else {
        None
    };
    let clock = SystemClock::new();
    let journal = Journal::new(spec, dir);
    // A user start clears an earlier manual stop (and a pause marker a
    // killed monitor may have left).
    let _ = std::fs::remove_file(stop_marker(dir));
    let _ = std::fs::remove_file(crate::state::pause_marker(dir));
    let policy = if spec.auto_remove {
        RestartPolicy::No
    } else {
        spec.restart.policy
    };
    let mut tracker = RestartTracker::new(policy, spec.restart.when_unhealthy);
    let check = spec.healthcheck.as_ref().and_then(healthcheck_of);
    let mut state = State::load(dir)?;
    state.restart_count = 0;
    state.manual_stop = false;
    state.error = None;
    let mut log = LogWriter::open(&dir.log(), spec.log_max_bytes)?;
    let mut first = true;
    // The spec as `update` may change it while the container lives: its
    // limits and restart policy are read again at each exit.
    let mut current = spec.clone();
    let (code, oom_killed) = loop {
        let process = match start_process(&current, dir) {
            Ok(p) => p,
            Err(err) if first => return Err(err),
            Err(err) => {
                state.status = Status::Exited;
                state.error = Some(err.to_string());
                state.save(dir)?;
                break (state.exit_code.unwrap_or(255), state.oom_killed);
            }
        };
        let now = clock.now();
        tracker.started(now);
        let mut health = check.clone().and_then(|c| HealthMonitor::new(c, now));
        record_start(&mut state, process.pid.as_raw(), health.is_some());
        state.save(dir)?;
        journal.append("start", &[]);
        if first {
            events.send(&Event::Started {
                pid: process.pid.as_raw(),
            });
        }
        let pidfd = match crate::probe::pidfd_open(process.pid.as_raw()) {
            Ok(fd) => fd,
            Err(err) => {
                let _ = nix::sys::signal::kill(process.pid, Signal::SIGKILL);
                let _ = nix::sys::wait::waitpid(process.pid, None);
                let _ = clean_up_run(spec, dir, &process.cgroup);
                return Err(err);
            }
        };
        // A stop that raced with this start: it must not survive it.
        if stop_requested(dir) {
            let _ = nix::sys::signal::kill(process.pid, Signal::SIGKILL);
        }
        let running = Running {
            pid: process.pid,
            pidfd,
            outputs: process.sources,
            pty_master: process.pty_master,
            input: tty_input(spec, dir),
            dir,
        };
        let mut listener = HealthRecorder {
            state: &mut state,
            dir,
            journal: &journal,
            tracker: &mut tracker,
        };
        let code =
            crate::watch::until_exit(running, health.as_mut(), &clock, &mut log, &mut listener);
        let (oom_killed, cleanup) = clean_up_run(spec, dir, &process.cgroup);
        // The frozen cgroup is gone with the run: so is the pause.
        let _ = std::fs::remove_file(crate::state::pause_marker(dir));
        if oom_killed {
            journal.append("oom", &[]);
        }
        journal.append("die", &[("exitCode", code.to_string())]);
        let manual = stop_requested(dir);
        if manual {
            tracker.stopped_by_user();
        }
        if let Ok(updated) = ContainerSpec::load(dir) {
            current.resources = updated.resources;
            if !spec.auto_remove {
                tracker.set_policy(updated.restart.policy);
            }
        }
        let decision = tracker.exited(code, clock.now());
        state.exit_code = Some(code);
        state.oom_killed = oom_killed;
        state.finished_at = Some(crate::timefmt::now());
        state.manual_stop = manual;
        state.restart_count = tracker.restart_count();
        state.error = cleanup.err().map(|e| e.to_string());
        let RestartDecision::RestartAfter { delay, .. } = decision else {
            state.status = Status::Exited;
            break (code, oom_killed);
        };
        state.status = Status::Restarting;
        state.save(dir)?;
        if !wait_to_restart(dir, delay, &clock) {
            state.status = Status::Exited;
            state.manual_stop = true;
            break (code, oom_killed);
        }
        journal.append("restart", &[]);
        first = false;
    };
    if spec.auto_remove {
        run_removal_hook(spec);
        // The record disappears at once (one rename); the files are deleted
        // after the launcher has its exit code, since every unlink of a file
        // with data can cost milliseconds on some disks.
        let trash = crate::fsutil::move_to_trash(dir.path())?;
        events.send(&Event::Exited { code, oom_killed });
        return crate::fsutil::remove_tree(&trash);
    }
    state.save(dir)?;
    events.send(&Event::Exited { code, oom_killed });
    Ok(())
}

fn record_start(state: &mut State, pid: i32, has_health: bool) {
    let me = std::process::id() as i32;
    state.status = Status::Running;
    state.pid = Some(pid);
    state.pid_start = crate::state::start_time(pid);
    state.monitor_pid = Some(me);
    state.monitor_start = crate::state::start_time(me);
    state.started_at = Some(crate::timefmt::now());
    state.health = has_health.then(|| Health {
        status: HealthStatus::Starting,
        failing_streak: 0,
        log: Vec::new(),
    });
}

/// Sleeps `delay` in short slices; false if a stop was asked for meanwhile.
/// What the monitor forwards to the pty of a container with a terminal
/// and an open stdin: its FIFO, or the monitor's own stdin. The process
/// already runs: a failure here leaves it without input, not unwatched.
fn tty_input(spec: &ContainerSpec, dir: &ContainerDir) -> Option<std::os::fd::OwnedFd> {
    if !(spec.process.stdin && spec.process.tty) {
        return None;
    }
    match crate::input::open_read(dir, false) {
        Ok(Some(fifo)) => Some(fifo),
        Ok(None) => super::process::dup_stdin().ok(),
        Err(_) => None,
    }
}

fn wait_to_restart(dir: &ContainerDir, delay: Duration, clock: &dyn Clock) -> bool {
    let until = clock.now() + delay;
    loop {
        if stop_requested(dir) {
            return false;
        }
        let now = clock.now();
        if now >= until {
            return true;
        }
        clock.sleep((until - now).min(RESTART_WAIT_SLICE));
    }
}

/// Writes each probe into `state.json`, logs health transitions, and asks
/// for a kill when the opt-in restart of an unhealthy container applies.
struct HealthRecorder<'a> {
    state: &'a mut State,
    dir: &'a ContainerDir,
    journal: &'a Journal,
    tracker: &'a mut RestartTracker,
}

impl ProbeListener for HealthRecorder<'_> {
    fn probed(&mut self, report: &ProbeReport, monitor: &HealthMonitor) -> bool {
        let origin = WallOrigin::now(report.ended);
        self.state.health = Some(Health {
            status: monitor.status(),
            failing_streak: monitor.failing_streak(),
            log: monitor.history().map(|p| origin.probe(p)).collect(),
        });
        // The event goes first so that whoever reads the new status from
        // `state.json` also finds the transition in the journal.
        if let Some(status) = report.transition {
            self.journal
                .append(&format!("health_status: {}", status.as_str()), &[]);
        }
        let _ = self.state.save(self.dir);
        let Some(status) = report.transition else {
            return false;
        };
        status == HealthStatus::Unhealthy
            && self.tracker.became_unhealthy() == RestartDecision::KillForRestart
    }
}

/// Maps the monitor's clock readings to wall times for `state.json`.
struct WallOrigin {
    /// Wall time when the clock read `at`.
    wall: std::time::SystemTime,
    at: Duration,
}

impl WallOrigin {
    fn now(at: Duration) -> WallOrigin {
        WallOrigin {
            wall: std::time::SystemTime::now(),
            at,
        }
    }

    fn format(&self, d: Duration) -> String {
        let wall = if d >= self.at {
            self.wall + (d - self.at)
        } else {
            self.wall - (self.at - d)
        };
        crate::timefmt::format(wall)
    }

    fn probe(&self, p: &ProbeReport) -> Probe {
        Probe {
            start: self.format(p.started),
            end: self.format(p.ended),
            exit_code: p.exit_code,
            outcome: p.outcome,
            output: p.output.clone(),
        }
    }
}

/// Appends this container's lifecycle events to the host event log.
struct Journal {
    state_root: Option<PathBuf>,
    id: String,
    name: String,
    labels: Vec<(String, String)>,
}

impl Journal {
    fn new(spec: &ContainerSpec, dir: &ContainerDir) -> Journal {
        // The container directory is `<state root>/containers/<id>`.
        let state_root = dir
            .path()
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        Journal {
            state_root,
            id: spec.id.clone(),
            name: spec.name.clone(),
            labels: spec
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// Appends one event; a lost line never stops supervision.
    fn append(&self, action: &str, extra: &[(&str, String)]) {
        let Some(root) = &self.state_root else {
            return;
        };
        let mut record = EventRecord::now("container", action, &self.id, &self.name)
            .with("name", self.name.clone());
        for (k, v) in &self.labels {
            record = record.with(k, v.clone());
        }
        for (k, v) in extra {
            record = record.with(k, v.clone());
        }
        let _ = event_log::append(root, &record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(test: &[&str]) -> HealthcheckSpec {
        HealthcheckSpec {
            test: test.iter().map(|s| s.to_string()).collect(),
            interval_ms: 1000,
            timeout_ms: 0,
            retries: 2,
            start_period_ms: 500,
            start_interval_ms: 0,
        }
    }

    #[test]
    fn spec_healthcheck_keeps_set_values_and_fills_docker_defaults() {
        let check = healthcheck_of(&spec(&["CMD-SHELL", "true"])).expect("a check");
        assert_eq!(check.interval, Duration::from_secs(1));
        assert_eq!(check.timeout, Duration::from_secs(30));
        assert_eq!(check.retries, 2);
        assert_eq!(check.start_period, Duration::from_millis(500));
        assert_eq!(check.start_interval, Duration::from_secs(5));
        assert_eq!(
            check.test.argv(),
            Some(vec!["/bin/sh".into(), "-c".into(), "true".into()])
        );
    }

    #[test]
    fn none_or_malformed_test_means_no_healthcheck() {
        assert!(healthcheck_of(&spec(&["NONE"])).is_none());
        assert!(healthcheck_of(&spec(&["CMD"])).is_none());
        assert!(healthcheck_of(&spec(&[])).is_none());
    }

    #[test]
    fn wall_times_follow_the_monotonic_clock() {
        let origin = WallOrigin {
            wall: std::time::UNIX_EPOCH + Duration::from_secs(100),
            at: Duration::from_secs(10),
        };
        let earlier = origin.format(Duration::from_secs(9));
        let later = origin.format(Duration::from_secs(11));
        assert!(earlier < later, "{earlier} < {later}");
    }
}
