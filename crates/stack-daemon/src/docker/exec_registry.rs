//! The exec instances of Docker's API (`POST /containers/{id}/exec`
//! makes one, `POST /exec/{id}/start` runs it), kept in the daemon's
//! memory: created, running, then finished with an exit code the client
//! reads from `GET /exec/{id}/json`. Finished ones, and ones never
//! started, are dropped after a while.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::exec_stream::wire::ExecHooks;
use stack_api::exec_stream::frame::Frame;
use stack_api::exec_stream::ExecStreamRequest;

/// How long a finished exec stays inspectable.
const KEEP_FINISHED: Duration = Duration::from_secs(300);
/// How long an exec that was never started is kept.
const KEEP_UNSTARTED: Duration = Duration::from_secs(3600);

/// What was asked at creation.
#[derive(Debug, Clone)]
pub struct ExecSpec {
    /// The container as the client named it, and its name.
    pub container: String,
    pub container_name: String,
    pub request: ExecStreamRequest,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
}

/// Where an exec is in its life.
#[derive(Debug, Default)]
pub struct ExecState {
    pub started: bool,
    pub running: bool,
    pub exit_code: Option<i32>,
    pub pid: i32,
    control: Option<mpsc::UnboundedSender<Frame>>,
    /// A size asked for before the pty's session began.
    pending_size: Option<(u16, u16)>,
    finished_at: Option<Instant>,
}

/// One exec instance.
#[derive(Debug)]
pub struct Exec {
    pub id: String,
    pub spec: ExecSpec,
    created: Instant,
    state: Mutex<ExecState>,
}

impl Exec {
    pub fn state(&self) -> MutexGuard<'_, ExecState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks it started; false if it already was.
    pub fn claim(&self) -> bool {
        let mut state = self.state();
        !std::mem::replace(&mut state.started, true)
    }

    /// Resizes its pty (now if running, else when it starts); false when
    /// it has ended.
    pub fn resize(&self, rows: u16, cols: u16) -> bool {
        let mut state = self.state();
        if state.finished_at.is_some() {
            return false;
        }
        match &state.control {
            Some(control) => {
                let _ = control.send(Frame::Resize { rows, cols });
            }
            None => state.pending_size = Some((rows, cols)),
        }
        true
    }
}

/// The hooks a session calls on its exec.
pub struct Hooks(pub Arc<Exec>);

impl ExecHooks for Hooks {
    fn started(&self, pid: i32, control: mpsc::UnboundedSender<Frame>) {
        let mut state = self.0.state();
        state.running = true;
        state.pid = pid;
        if let Some((rows, cols)) = state.pending_size.take() {
            let _ = control.send(Frame::Resize { rows, cols });
        }
        state.control = Some(control);
    }

    fn exited(&self, code: i32) {
        let mut state = self.0.state();
        if state.finished_at.is_none() {
            state.running = false;
            state.exit_code = Some(code);
            state.control = None;
            state.finished_at = Some(Instant::now());
        }
    }
}

/// Every exec instance of the daemon.
#[derive(Debug, Default)]
pub struct ExecRegistry {
    execs: Mutex<HashMap<String, Arc<Exec>>>,
}

impl ExecRegistry {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Exec>>> {
        self.execs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a new exec and answers it (with its id).
    pub fn add(&self, spec: ExecSpec) -> std::io::Result<Arc<Exec>> {
        let exec = Arc::new(Exec {
            id: random_id()?,
            spec,
            created: Instant::now(),
            state: Mutex::new(ExecState::default()),
        });
        let mut map = self.map();
        let now = Instant::now();
        map.retain(|_, e| !expired(e, now));
        map.insert(exec.id.clone(), exec.clone());
        Ok(exec)
    }

    /// The exec `id` (the full id, or a unique prefix of it).
    pub fn get(&self, id: &str) -> Option<Arc<Exec>> {
        let map = self.map();
        if let Some(e) = map.get(id) {
            return Some(e.clone());
        }
        if id.is_empty() {
            return None;
        }
        let mut found = map.values().filter(|e| e.id.starts_with(id));
        match (found.next(), found.next()) {
            (Some(e), None) => Some(e.clone()),
            _ => None,
        }
    }
}

fn expired(exec: &Exec, now: Instant) -> bool {
    let state = exec.state();
    match state.finished_at {
        Some(at) => now.duration_since(at) > KEEP_FINISHED,
        None => !state.started && now.duration_since(exec.created) > KEEP_UNSTARTED,
    }
}

/// 64 random hex digits, as Docker's ids.
fn random_id() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ExecSpec {
        ExecSpec {
            container: "web".into(),
            container_name: "web".into(),
            request: ExecStreamRequest {
                cmd: vec!["true".into()],
                env: Vec::new(),
                user: None,
                workdir: None,
                tty: false,
                stdin: false,
                rows: None,
                cols: None,
            },
            attach_stdout: true,
            attach_stderr: true,
        }
    }

    #[test]
    fn execs_are_found_by_id_or_prefix_and_start_once() {
        let registry = ExecRegistry::default();
        let exec = registry.add(spec()).expect("add");
        assert_eq!(exec.id.len(), 64);
        assert!(exec.id.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(registry.get(&exec.id[..12]).is_some());
        assert!(registry.get("zz").is_none());
        assert!(exec.claim());
        assert!(!exec.claim());
    }

    #[test]
    fn the_exit_code_is_kept_and_a_size_waits_for_the_start() {
        let registry = ExecRegistry::default();
        let exec = registry.add(spec()).expect("add");
        assert!(exec.resize(30, 100));
        let hooks = Hooks(exec.clone());
        let (tx, mut rx) = mpsc::unbounded_channel();
        hooks.started(42, tx);
        assert!(matches!(
            rx.try_recv(),
            Ok(Frame::Resize {
                rows: 30,
                cols: 100
            })
        ));
        assert!(exec.state().running);
        hooks.exited(3);
        let state = exec.state();
        assert_eq!(
            (state.running, state.exit_code, state.pid),
            (false, Some(3), 42)
        );
        drop(state);
        assert!(!exec.resize(1, 1));
    }
}
