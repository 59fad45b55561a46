//! The stack file as a watched input: edits reach the applier (recorded
//! here: the applier trait is the contract), broken edits do not, and
//! `.env` counts as part of the stack file. No containers are involved.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stack_engine::containers::Containers;
use stack_engine::paths::HostPaths;
use stack_engine::watch::{self, StackApplier, Timing, WatchEvent, WatchOptions};
use stack_spec::{LoadOptions, Project};

/// Remembers the services of every project it is asked to apply.
#[derive(Clone, Default)]
struct Recorder {
    applied: Arc<Mutex<Vec<Vec<String>>>>,
}

impl StackApplier for Recorder {
    fn apply(&self, project: &Project) -> Result<(), stack_engine::apply::ApplyError> {
        let services = project
            .services
            .iter()
            .map(|(name, s)| format!("{name}={}", s.image.clone().unwrap_or_default()))
            .collect();
        self.applied.lock().expect("recorder").push(services);
        Ok(())
    }

    fn rebuild(&self, _: &Project, service: &str) -> Result<(), stack_engine::apply::ApplyError> {
        self.applied
            .lock()
            .expect("recorder")
            .push(vec![format!("rebuild {service}")]);
        Ok(())
    }
}

struct Running {
    stop: Arc<AtomicBool>,
    events: Receiver<WatchEvent>,
    thread: Option<std::thread::JoinHandle<Result<(), watch::WatchError>>>,
}

impl Running {
    fn start(dir: &Path, applier: Recorder, up: bool) -> Running {
        let load = LoadOptions {
            files: vec![dir.join("stack.yaml")],
            working_dir: dir.to_path_buf(),
            ..Default::default()
        };
        let paths = HostPaths {
            state_root: dir.join("state"),
            run_dir: dir.join("run"),
            config_file: dir.join("config.toml"),
        };
        let containers = Containers::new(&paths);
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, events) = channel();
        let flag = Arc::clone(&stop);
        let opts = WatchOptions {
            services: vec![],
            timing: Timing::default(),
            up,
        };
        let thread = std::thread::spawn(move || {
            let mut send = |e: WatchEvent| {
                let _ = tx.send(e);
            };
            watch::run(&load, &containers, &applier, &opts, &flag, &mut send)
        });
        let running = Running {
            stop,
            events,
            thread: Some(thread),
        };
        running.expect(|e| matches!(e, WatchEvent::Watching { .. }));
        running
    }

    /// The next event matching `pred` (others skipped), within 5 s.
    fn expect(&self, pred: impl Fn(&WatchEvent) -> bool) -> WatchEvent {
        let end = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let left = end.saturating_duration_since(std::time::Instant::now());
            match self.events.recv_timeout(left) {
                Ok(e) if pred(&e) => return e,
                Ok(_) => {}
                Err(_) => panic!("expected event did not come"),
            }
        }
    }

    fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join()
                .expect("watch thread")
                .expect("watch ended cleanly");
        }
    }
}

const STACK: &str = "services:\n  web:\n    image: busybox:${TAG:-1}\n  api:\n    image: busybox\n";

#[test]
fn an_edit_adding_and_removing_services_reaches_the_applier() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("stack.yaml"), STACK).expect("stack file");
    let recorder = Recorder::default();
    let run = Running::start(dir.path(), recorder.clone(), false);
    assert!(
        recorder.applied.lock().expect("r").is_empty(),
        "--no-up applies nothing at start"
    );

    let edited = "services:\n  web:\n    image: busybox:${TAG:-1}\n  cache:\n    image: redis\n";
    std::fs::write(dir.path().join("stack.yaml"), edited).expect("edit");
    run.expect(|e| matches!(e, WatchEvent::StackApplied { .. }));
    assert_eq!(
        *recorder.applied.lock().expect("r"),
        vec![vec!["cache=redis".to_string(), "web=busybox:1".to_string()]]
    );
    run.finish();
}

#[test]
fn a_broken_edit_is_reported_and_not_applied() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("stack.yaml"), STACK).expect("stack file");
    let recorder = Recorder::default();
    let run = Running::start(dir.path(), recorder.clone(), true);
    assert_eq!(
        recorder.applied.lock().expect("r").len(),
        1,
        "up applies once at start"
    );

    std::fs::write(
        dir.path().join("stack.yaml"),
        "services:\n  web:\n    image: [unclosed\n",
    )
    .expect("broken edit");
    let WatchEvent::StackInvalid(diagnostic) =
        run.expect(|e| matches!(e, WatchEvent::StackInvalid(_)))
    else {
        unreachable!()
    };
    assert!(diagnostic.contains("stack.yaml"), "{diagnostic}");
    assert_eq!(
        recorder.applied.lock().expect("r").len(),
        1,
        "nothing applied"
    );

    // Fixed again: applied.
    std::fs::write(dir.path().join("stack.yaml"), STACK).expect("fix");
    run.expect(|e| matches!(e, WatchEvent::StackApplied { .. }));
    assert_eq!(recorder.applied.lock().expect("r").len(), 2);
    run.finish();
}

#[test]
fn a_dotenv_change_reloads_the_stack() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("stack.yaml"), STACK).expect("stack file");
    let recorder = Recorder::default();
    let run = Running::start(dir.path(), recorder.clone(), false);
    // Atomic save of a file that did not exist at start.
    std::fs::write(dir.path().join(".env.tmp"), "TAG=2\n").expect("write");
    std::fs::rename(dir.path().join(".env.tmp"), dir.path().join(".env")).expect("rename");
    run.expect(|e| matches!(e, WatchEvent::StackApplied { .. }));
    assert_eq!(
        recorder.applied.lock().expect("r").last().cloned(),
        Some(vec!["api=busybox".to_string(), "web=busybox:2".to_string()])
    );
    run.finish();
}

#[test]
fn a_rebuild_rule_without_a_build_section_stops_watch_from_starting() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("stack.yaml"),
        "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n        - path: .\n          action: rebuild\n",
    )
    .expect("stack file");
    let load = LoadOptions {
        files: vec![dir.path().join("stack.yaml")],
        working_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    let paths = HostPaths {
        state_root: dir.path().join("state"),
        run_dir: dir.path().join("run"),
        config_file: dir.path().join("config.toml"),
    };
    let opts = WatchOptions {
        services: vec![],
        timing: Timing::default(),
        up: false,
    };
    let err = watch::run(
        &load,
        &Containers::new(&paths),
        &Recorder::default(),
        &opts,
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .expect_err("rebuild refused");
    assert!(
        err.to_string()
            .contains("rebuild needs the service to have a build section"),
        "{err}"
    );
}
