//! The daemon's main loop: take the pid file and the socket, adopt the
//! host's containers, serve HTTP/1 connections (each checked against the
//! access policy), and shut down gracefully on SIGTERM or SIGINT.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use stack_engine::paths::HostPaths;
use tokio::signal::unix::{signal, SignalKind};

use crate::auth::{Peer, Policy};
use crate::error::{io, DaemonError};
use crate::routes::{self, AppState};
use stack_engine::facade::Engine;

/// How long shutdown waits for open connections (streams) to finish.
const DRAIN: Duration = Duration::from_secs(2);
/// How often the daemon looks at its containers.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// How to run the daemon.
#[derive(Debug, Clone)]
pub struct Options {
    pub paths: HostPaths,
    pub socket: PathBuf,
    /// A second socket serving the same APIs (`--docker-socket`, e.g.
    /// `/var/run/docker.sock` for tools that hard-code it).
    pub docker_socket: Option<PathBuf>,
    /// Stop every running container on shutdown (default: leave them).
    pub shutdown_stops: bool,
}

/// Runs the daemon until SIGTERM/SIGINT.
pub fn run(options: Options) -> Result<(), DaemonError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(128)
        .thread_name("stack-daemon")
        .enable_all()
        .build()
        .map_err(io("start the async runtime"))?;
    let result = runtime.block_on(serve(options));
    // Followers on blocking threads notice their closed stream within a
    // poll; don't wait on anything longer.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn serve(options: Options) -> Result<(), DaemonError> {
    let policy = Policy::from_host();
    let pid_path = options
        .socket
        .parent()
        .map(|d| d.join("stack.pid"))
        .ok_or_else(|| DaemonError::Invalid(format!("socket {}", options.socket.display())))?;
    if let Some(dir) = pid_path.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("create {}", dir.display())))?;
    }
    // A bad config file stops the daemon here, before it takes the socket.
    let config = stack_engine::config::Config::load(&options.paths.config_file)?;
    let header_timeout = Duration::from_secs(config.api_header_read_timeout);
    let pid_file = crate::socket::take_pid_file(&pid_path, &options.socket)?;
    let listener = crate::socket::bind(&options.socket, policy.stack_gid)?;
    let listener = tokio::net::UnixListener::from_std(listener).map_err(io("listen"))?;
    let second = match &options.docker_socket {
        Some(path) => {
            let bound = crate::socket::bind(path, policy.stack_gid)?;
            Some(tokio::net::UnixListener::from_std(bound).map_err(io("listen"))?)
        }
        None => None,
    };
    let host = Arc::new(Engine::new(options.paths.clone()));
    let stop_watching = Arc::new(AtomicBool::new(false));
    let watcher = spawn_watcher(host.clone(), stop_watching.clone()).await?;
    spawn_revival(host.clone());

    let app = crate::docker::app(AppState {
        engine: host.clone(),
        execs: Default::default(),
    });
    let forbidden = routes::forbidden_router();
    // Graceful shutdown by hand: hyper-util's `GracefulShutdown` does not
    // take connections that can be upgraded (attached exec). Each
    // connection task holds a clone of `alive`; the receiver sees the
    // channel close once they have all ended.
    let (shutdown, shutdown_seen) = tokio::sync::watch::channel(false);
    let (alive, mut all_ended) = tokio::sync::mpsc::channel::<()>(1);
    let mut sigterm = signal(SignalKind::terminate()).map_err(io("SIGTERM handler"))?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(io("SIGINT handler"))?;
    tracing::info!(socket = %options.socket.display(), docker_socket = ?options.docker_socket, pid = std::process::id(), "stack daemon listening");
    loop {
        tokio::select! {
            accepted = accept_either(&listener, second.as_ref()) => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(err) => {
                        tracing::warn!(%err, "accept");
                        continue;
                    }
                };
                let router = match peer_of(&stream) {
                    Some(peer) if policy.allows_live(&peer) => app.clone(),
                    peer => {
                        tracing::warn!(?peer, "refused a connection: not root nor in group `stack`");
                        forbidden.clone()
                    }
                };
                // The header timer runs only while a request head is
                // awaited (from the start, and after each answer on a
                // kept-alive connection): it closes peers that send
                // nothing or half a request, never a streaming answer
                // (logs -f, events, progress) nor an upgraded exec.
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(router))
                    .with_upgrades();
                let mut stop = shutdown_seen.clone();
                let alive = alive.clone();
                tokio::spawn(async move {
                    let _alive = alive;
                    tokio::pin!(connection);
                    let result = tokio::select! {
                        r = connection.as_mut() => r,
                        _ = stop.changed() => {
                            connection.as_mut().graceful_shutdown();
                            connection.await
                        }
                    };
                    if let Err(err) = result {
                        tracing::debug!(%err, "connection ended");
                    }
                });
            }
            _ = sigterm.recv() => { tracing::info!("SIGTERM: shutting down"); break; }
            _ = sigint.recv() => { tracing::info!("SIGINT: shutting down"); break; }
        }
    }
    drop(listener);
    drop(second);
    let _ = std::fs::remove_file(&options.socket);
    if let Some(path) = &options.docker_socket {
        let _ = std::fs::remove_file(path);
    }
    let _ = shutdown.send(true);
    drop(alive);
    if tokio::time::timeout(DRAIN, all_ended.recv()).await.is_err() {
        tracing::info!("closed the connections still streaming");
    }
    stop_watching.store(true, Ordering::Relaxed);
    let _ = watcher.await;
    if options.shutdown_stops {
        let host = host.clone();
        let _ = tokio::task::spawn_blocking(move || stop_all(&host)).await;
    } else {
        tracing::info!("containers keep running (their monitors stay)");
    }
    drop(pid_file);
    tracing::info!("stack daemon stopped");
    Ok(())
}

/// The next connection on the main socket or the second one; both are
/// served alike.
async fn accept_either(
    main: &tokio::net::UnixListener,
    second: Option<&tokio::net::UnixListener>,
) -> std::io::Result<(tokio::net::UnixStream, tokio::net::unix::SocketAddr)> {
    match second {
        None => main.accept().await,
        Some(second) => tokio::select! {
            a = main.accept() => a,
            b = second.accept() => b,
        },
    }
}

fn peer_of(stream: &tokio::net::UnixStream) -> Option<Peer> {
    let cred = stream.peer_cred().ok()?;
    Some(Peer {
        uid: cred.uid(),
        gid: cred.gid(),
        pid: cred.pid(),
    })
}

/// Adopts the containers (first look), then keeps looking until told to stop.
async fn spawn_watcher(
    host: Arc<Engine>,
    stop: Arc<AtomicBool>,
) -> Result<tokio::task::JoinHandle<()>, DaemonError> {
    let mut watcher = tokio::task::spawn_blocking(move || crate::adopt::Watcher::adopt(host))
        .await
        .map_err(|e| DaemonError::Invalid(format!("adopt containers: {e}")))?;
    Ok(tokio::task::spawn_blocking(move || {
        while !stop.load(Ordering::Relaxed) {
            let mut waited = Duration::ZERO;
            while waited < WATCH_EVERY && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
                waited += Duration::from_millis(50);
            }
            watcher.tick();
        }
    }))
}

/// Starts again, in the background, what ended with no monitor watching
/// (see `boot`); the API answers meanwhile.
fn spawn_revival(host: Arc<Engine>) {
    tokio::task::spawn_blocking(move || {
        let started = stack_engine::facade::boot::revive(host.containers());
        if !started.is_empty() {
            tracing::info!(containers = ?started, "started again by their restart policies");
        }
    });
}

/// `--shutdown-stops`: stops every running container, all at once.
fn stop_all(host: &Engine) {
    let running = host.list_containers(&stack_api::system::ContainerFilter::default());
    std::thread::scope(|scope| {
        for c in &running {
            scope.spawn(move || match host.stop(&c.id, None) {
                Ok(_) => tracing::info!(container = %c.name, "stopped"),
                Err(err) => {
                    tracing::warn!(container = %c.name, %err, "stop failed")
                }
            });
        }
    });
}

/// Sets up tracing to stderr, or to `file` (appended) when given.
pub fn init_logging(level: &str, file: Option<&std::path::Path>) -> Result<(), DaemonError> {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .map_err(|e| DaemonError::Invalid(format!("--log-level {level:?}: {e}")))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = match file {
        Some(path) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(io(format!("open log file {}", path.display())))?;
            builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(f))
                .try_init()
        }
        None => builder.with_writer(std::io::stderr).try_init(),
    };
    result.map_err(|e| DaemonError::Invalid(format!("set up logging: {e}")))
}
