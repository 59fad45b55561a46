//! The resolver's own host process: `stack __stack-dns <state root> <run dir>`,
//! started on demand by whoever connects a container, and gone when the
//! last network goes. It is exec'd (never forked from a threaded process),
//! forks once more while still single-threaded so it is nobody's child,
//! and serves with [`stack_net::dns::service::serve`], which the daemon can
//! host in-process instead.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use stack_net::dns::service::{self, ResolverFiles, Stopped};
use stack_net::dns::DnsRegistry;

use crate::containers::ContainerError;

/// argv[1] of the resolver process.
pub const RESOLVER_MODE: &str = "__stack-dns";

fn failed(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ContainerError {
    let context = what.into();
    move |source| ContainerError::Io { context, source }
}

/// Holds `<run>/dns/lock` while checking for, starting or stopping the
/// resolver, so two commands never start two.
fn lock(files: &ResolverFiles) -> Result<Flock<std::fs::File>, ContainerError> {
    std::fs::create_dir_all(&files.dir)
        .map_err(failed(format!("create {}", files.dir.display())))?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(files.lock())
        .map_err(failed(format!("open {}", files.lock().display())))?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| failed("lock the resolver files")(errno.into()))
}

/// The port of the running resolver, starting it when none runs.
pub fn ensure(state_root: &Path, run_dir: &Path) -> Result<u16, ContainerError> {
    let files = ResolverFiles::new(run_dir);
    let _held = lock(&files)?;
    if let (Some(_), Some(port)) = (files.read_pid(), files.read_port()) {
        return Ok(port);
    }
    let exe = std::env::current_exe().map_err(failed("locate the stack binary"))?;
    let mut child = Command::new(exe)
        .arg(RESOLVER_MODE)
        .arg(state_root)
        .arg(run_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(failed("start the DNS resolver"))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    // The first process exits as soon as it has forked the server.
    let _ = child.wait();
    line.trim().parse::<u16>().map_err(|_| {
        ContainerError::Invalid(format!("the DNS resolver did not start: {}", line.trim()))
    })
}

/// Tells the resolver that the records changed (it also notices within
/// half a second on its own).
pub fn notify(run_dir: &Path) {
    if let Some(pid) = ResolverFiles::new(run_dir).read_pid() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGHUP,
        );
    }
}

/// Stops the resolver and waits until its process is gone.
pub fn stop(run_dir: &Path) -> Result<(), ContainerError> {
    let files = ResolverFiles::new(run_dir);
    let _held = lock(&files)?;
    let Some(pid) = files.read_pid() else {
        return Ok(());
    };
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    while files.read_pid() == Some(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    if files.read_pid() == Some(pid) {
        return Err(ContainerError::Invalid(format!(
            "the DNS resolver (pid {pid}) did not stop"
        )));
    }
    files.clear_pid();
    Ok(())
}

/// Entry of the hidden mode. Returns the exit status.
pub fn main(state_root: &Path, run_dir: &Path) -> i32 {
    // Still single-threaded: fork so the server is nobody's child, and the
    // command that started it can reap this first process at once.
    // SAFETY: no other thread exists yet in this freshly exec'd process.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { .. }) => return 0,
        Ok(nix::unistd::ForkResult::Child) => {}
        Err(err) => {
            println!("fork: {err}");
            return 1;
        }
    }
    let _ = nix::unistd::setsid();
    match serve_here(state_root, run_dir) {
        Ok(()) => 0,
        Err(err) => {
            println!("{err}");
            1
        }
    }
}

fn serve_here(state_root: &Path, run_dir: &Path) -> Result<(), ContainerError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(failed("start the resolver's runtime"))?;
    runtime.block_on(async {
        let files = ResolverFiles::new(run_dir);
        let upstreams = std::fs::read_to_string("/etc/resolv.conf")
            .map(|t| stack_net::dns::upstreams_from_resolv_conf(&t))
            .unwrap_or_default();
        let registry = DnsRegistry::new();
        let server = service::bind(files.read_port(), registry.clone(), upstreams).await?;
        let port = server.local_addr().port();
        files.write(std::process::id(), port)?;
        announce(port);
        let mut hangup = signal(tokio::signal::unix::SignalKind::hangup())?;
        let mut terminate = signal(tokio::signal::unix::SignalKind::terminate())?;
        let reload = std::sync::Arc::new(tokio::sync::Notify::new());
        let notifier = reload.clone();
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                notifier.notify_one();
            }
        });
        let stop = async move {
            let _ = terminate.recv().await;
        };
        tokio::pin!(stop);
        loop {
            let served = service::serve(state_root, registry.clone(), &reload, &mut stop).await?;
            if served == Stopped::Asked {
                break;
            }
            // No network left: exit, unless one appeared meanwhile.
            let _held = lock(&files)?;
            let store = stack_net::store::Store::open(state_root)?;
            if service::load_registry(&store, &registry)? == 0 {
                files.clear_pid();
                return Ok(());
            }
        }
        files.clear_pid();
        drop(server);
        Ok(())
    })
}

fn signal(
    kind: tokio::signal::unix::SignalKind,
) -> Result<tokio::signal::unix::Signal, ContainerError> {
    tokio::signal::unix::signal(kind).map_err(failed("install a signal handler"))
}

/// Prints the port for the starter, then lets go of its pipe.
fn announce(port: u16) {
    println!("{port}");
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdout(&null);
    }
}
