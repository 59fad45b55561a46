use std::collections::VecDeque;
use std::sync::Arc;

use super::*;
use crate::supervise::ManualClock;

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Answers probes from a script; each answer takes `took` of clock time.
struct ScriptedExec {
    clock: Arc<ManualClock>,
    script: VecDeque<(Duration, ExecResult)>,
    calls: Vec<(Vec<String>, Duration)>,
}

impl ScriptedExec {
    fn new(clock: Arc<ManualClock>, script: Vec<(Duration, ExecResult)>) -> Self {
        ScriptedExec {
            clock,
            script: script.into(),
            calls: Vec::new(),
        }
    }
}

impl Exec for ScriptedExec {
    fn exec(&mut self, argv: &[String], timeout: Duration) -> ExecResult {
        self.calls.push((argv.to_vec(), timeout));
        let (took, result) = self.script.pop_front().expect("script has an answer");
        self.clock.advance(took);
        result
    }
}

fn pass() -> (Duration, ExecResult) {
    (
        Duration::from_millis(10),
        ExecResult::Exited {
            code: 0,
            output: "ok".into(),
        },
    )
}
fn fail() -> (Duration, ExecResult) {
    (
        Duration::from_millis(10),
        ExecResult::Exited {
            code: 1,
            output: "refused".into(),
        },
    )
}

/// Runs each due probe until the script is used up; returns the statuses
/// after each probe.
fn run(
    monitor: &mut HealthMonitor,
    exec: &mut ScriptedExec,
    clock: &ManualClock,
) -> Vec<HealthStatus> {
    let mut seen = Vec::new();
    while !exec.script.is_empty() {
        clock.set(monitor.next_probe_at());
        assert!(monitor.due(clock.now()));
        monitor.probe(exec, clock);
        seen.push(monitor.status());
    }
    seen
}

fn cmd_check() -> Healthcheck {
    Healthcheck {
        interval: s(2),
        timeout: s(1),
        retries: 3,
        ..Healthcheck::new(HealthTest::Cmd(vec!["redis-cli".into(), "ping".into()]))
    }
}

#[test]
fn test_forms_parse_and_give_the_right_argv() {
    let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        HealthTest::from_list(&list(&["NONE"])),
        Ok(HealthTest::None)
    );
    assert_eq!(HealthTest::None.argv(), None);
    let cmd = HealthTest::from_list(&list(&["CMD", "redis-cli", "ping"])).expect("cmd");
    assert_eq!(cmd.argv(), Some(list(&["redis-cli", "ping"])));
    let shell = HealthTest::from_list(&list(&["CMD-SHELL", "wget -q -O- localhost || exit 1"]))
        .expect("shell");
    assert_eq!(
        shell.argv(),
        Some(list(&["/bin/sh", "-c", "wget -q -O- localhost || exit 1"]))
    );
    assert_eq!(HealthTest::from_list(&[]), Err(HealthTestError::Empty));
    assert!(matches!(
        HealthTest::from_list(&list(&["CMD"])),
        Err(HealthTestError::Arity { .. })
    ));
    assert!(matches!(
        HealthTest::from_list(&list(&["CMD-SHELL", "a", "b"])),
        Err(HealthTestError::Arity { .. })
    ));
    let err = HealthTest::from_list(&list(&["RUN", "x"])).expect_err("unknown");
    assert!(err.to_string().contains("RUN"), "{err}");
}

#[test]
fn none_means_no_monitor() {
    assert!(HealthMonitor::new(Healthcheck::new(HealthTest::None), s(0)).is_none());
}

#[test]
fn docker_defaults() {
    let h = Healthcheck::new(HealthTest::CmdShell("true".into()));
    assert_eq!((h.interval, h.timeout, h.retries), (s(30), s(30), 3));
    assert_eq!((h.start_period, h.start_interval), (s(0), s(5)));
}

#[test]
fn first_probe_after_one_interval_and_a_pass_makes_it_healthy() {
    let clock = Arc::new(ManualClock::new());
    clock.set(s(100));
    let mut m = HealthMonitor::new(cmd_check(), clock.now()).expect("monitor");
    assert_eq!(m.status(), HealthStatus::Starting);
    assert_eq!(m.next_probe_at(), s(102));
    assert!(!m.due(s(101)));
    let mut exec = ScriptedExec::new(clock.clone(), vec![pass()]);
    clock.set(s(102));
    let report = m.probe(&mut exec, &*clock);
    assert_eq!(report.transition, Some(HealthStatus::Healthy));
    assert_eq!(report.exit_code, Some(0));
    assert_eq!(
        exec.calls,
        vec![(vec!["redis-cli".to_string(), "ping".to_string()], s(1))]
    );
    assert_eq!(m.next_probe_at(), s(102) + Duration::from_millis(10) + s(2));
}

#[test]
fn retries_failures_in_a_row_make_it_unhealthy_and_a_pass_recovers() {
    let clock = Arc::new(ManualClock::new());
    let mut m = HealthMonitor::new(cmd_check(), clock.now()).expect("monitor");
    let mut exec = ScriptedExec::new(
        clock.clone(),
        vec![
            pass(),
            fail(),
            fail(),
            pass(),
            fail(),
            fail(),
            fail(),
            pass(),
        ],
    );
    use HealthStatus::*;
    assert_eq!(
        run(&mut m, &mut exec, &clock),
        vec![Healthy, Healthy, Healthy, Healthy, Healthy, Healthy, Unhealthy, Healthy]
    );
}

#[test]
fn a_probe_over_its_timeout_fails_even_if_it_exits_zero() {
    let clock = Arc::new(ManualClock::new());
    let check = Healthcheck {
        retries: 1,
        ..cmd_check()
    };
    let mut m = HealthMonitor::new(check, clock.now()).expect("monitor");
    let slow_pass = (
        Duration::from_millis(1500),
        ExecResult::Exited {
            code: 0,
            output: String::new(),
        },
    );
    let mut exec = ScriptedExec::new(
        clock.clone(),
        vec![
            slow_pass,
            (
                s(1),
                ExecResult::TimedOut {
                    output: String::new(),
                },
            ),
        ],
    );
    clock.set(m.next_probe_at());
    let r = m.probe(&mut exec, &*clock);
    assert_eq!(r.outcome, ProbeOutcome::TimedOut);
    assert_eq!(m.status(), HealthStatus::Unhealthy);
    assert!(r.output.contains("timeout"), "{}", r.output);
    clock.set(m.next_probe_at());
    assert_eq!(m.probe(&mut exec, &*clock).outcome, ProbeOutcome::TimedOut);
}

#[test]
fn exec_errors_count_as_failures() {
    let clock = Arc::new(ManualClock::new());
    let check = Healthcheck {
        retries: 2,
        ..cmd_check()
    };
    let mut m = HealthMonitor::new(check, clock.now()).expect("monitor");
    let err = || {
        (
            Duration::ZERO,
            ExecResult::Failed {
                message: "no such file: redis-cli".into(),
            },
        )
    };
    let mut exec = ScriptedExec::new(clock.clone(), vec![err(), err()]);
    let seen = run(&mut m, &mut exec, &clock);
    assert_eq!(seen, vec![HealthStatus::Starting, HealthStatus::Unhealthy]);
    let last = m.history().last().expect("history");
    assert_eq!(last.outcome, ProbeOutcome::Error);
    assert!(last.output.contains("redis-cli"));
}

#[test]
fn start_period_ignores_failures_and_probes_at_start_interval() {
    let clock = Arc::new(ManualClock::new());
    let check = Healthcheck {
        interval: s(30),
        retries: 1,
        start_period: s(10),
        start_interval: Duration::from_millis(500),
        ..cmd_check()
    };
    let mut m = HealthMonitor::new(check, clock.now()).expect("monitor");
    assert_eq!(m.next_probe_at(), Duration::from_millis(500));
    let mut exec = ScriptedExec::new(clock.clone(), vec![fail(), fail(), fail(), pass(), fail()]);
    let mut at = Vec::new();
    let mut statuses = Vec::new();
    while !exec.script.is_empty() {
        clock.set(m.next_probe_at());
        at.push(clock.now().as_millis());
        m.probe(&mut exec, &*clock);
        statuses.push(m.status());
    }
    // Failures in the start period do not count (retries is 1), probes come
    // every 500 ms; after the first pass the interval is 30 s and a single
    // failure, even inside the start period, counts.
    use HealthStatus::*;
    assert_eq!(
        statuses,
        vec![Starting, Starting, Starting, Healthy, Unhealthy]
    );
    assert_eq!(at, vec![500, 1010, 1520, 2030, 32040]);
}

#[test]
fn failures_after_the_start_period_count() {
    let clock = Arc::new(ManualClock::new());
    let check = Healthcheck {
        interval: s(5),
        retries: 2,
        start_period: s(3),
        start_interval: s(1),
        ..cmd_check()
    };
    let mut m = HealthMonitor::new(check, clock.now()).expect("monitor");
    let mut exec = ScriptedExec::new(clock.clone(), vec![fail(), fail(), fail(), fail()]);
    use HealthStatus::*;
    // Probes at 1 s and ~2 s are in grace; ~3 s is past it (then 5 s apart).
    assert_eq!(
        run(&mut m, &mut exec, &clock),
        vec![Starting, Starting, Starting, Unhealthy]
    );
    assert_eq!(m.failing_streak(), 2);
}

#[test]
fn history_keeps_the_last_five_and_cuts_long_output() {
    let clock = Arc::new(ManualClock::new());
    let mut m = HealthMonitor::new(cmd_check(), clock.now()).expect("monitor");
    let big = "é".repeat(5000);
    for i in 0..7 {
        let output = if i == 6 {
            big.clone()
        } else {
            format!("probe {i}")
        };
        m.record(ExecResult::Exited { code: 0, output }, s(i), s(i));
    }
    let outputs: Vec<_> = m.history().map(|r| r.output.len()).collect();
    assert_eq!(outputs.len(), HISTORY_KEPT);
    assert_eq!(
        m.history().next().map(|r| r.output.as_str()),
        Some("probe 2")
    );
    assert!(*outputs.last().expect("last") <= 4096);
}

#[test]
fn a_skipped_probe_changes_nothing_but_the_next_time() {
    let clock = Arc::new(ManualClock::new());
    let mut m = HealthMonitor::new(cmd_check(), clock.now()).expect("monitor");
    let mut exec = ScriptedExec::new(clock.clone(), vec![fail(), fail()]);
    assert_eq!(run(&mut m, &mut exec, &clock), [HealthStatus::Starting; 2]);
    // Paused for many intervals: each due probe is skipped.
    for _ in 0..10 {
        clock.set(m.next_probe_at());
        assert!(m.due(clock.now()));
        m.skip(clock.now());
        assert_eq!(m.next_probe_at(), clock.now() + s(2));
    }
    assert_eq!(
        (m.status(), m.failing_streak()),
        (HealthStatus::Starting, 2)
    );
    assert_eq!(m.history().count(), 2);
    // One more failure after the pause is the third in a row.
    let mut exec = ScriptedExec::new(clock.clone(), vec![fail()]);
    assert_eq!(run(&mut m, &mut exec, &clock), [HealthStatus::Unhealthy]);
}
