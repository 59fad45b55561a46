//! One attached exec on an upgraded connection: the exec helper runs with
//! pipes or a pty; its output goes to the client as frames, the client's
//! frames become its input, resizes and signals; the last frame is its
//! exit code. A client that leaves closes the command's input (stdin EOF,
//! or SIGHUP through the pty's hangup); what still runs after a short
//! grace is killed, and the helper is always waited for.

use std::io;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use super::pty::{self, Master, Pty};
use super::reap;
use super::wire::{self, Input, Wire};
use stack_api::exec_stream::frame::{self, Frame, CHUNK};
use stack_engine::facade::exec::{ExecCommand, CANNOT_FIND};

/// Exit status when the command cannot be started, or does not exist.
const CANNOT_RUN: i32 = 126;

/// How long a command whose client left may keep running before it is
/// killed.
pub const DISCONNECT_GRACE: Duration = Duration::from_secs(2);
/// How long output is still read after the command exited (a background
/// child holding the stream open must not hold the exit frame forever).
const DRAIN: Duration = Duration::from_secs(2);
/// How long the daemon waits for the client to close after the exit frame.
const LINGER: Duration = Duration::from_secs(1);
/// How often a silent session checks that its client is still there (an
/// empty stdout frame: writing it fails once the client is gone). Reading
/// cannot tell while the command's stdin is full and the client's input
/// waits behind it.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// A prepared attached exec: the helper command, its pty when the client
/// asked for a tty, and whether the client's input is forwarded.
#[derive(Debug)]
pub struct Attached {
    /// The command, or that it does not exist (nothing is started then:
    /// the client gets the error and 127, as from the exec helper).
    pub command: ExecCommand,
    pub pty: Option<Pty>,
    /// The command itself takes the pty as its controlling terminal in a
    /// new session (`runc exec -t`, which relays it to the pty it makes in
    /// the container, SIGWINCH and SIGHUP included). The exec helper does
    /// that in the container instead.
    pub controlling_tty: bool,
    pub stdin: bool,
}

/// Where the command's output is read from.
enum Source {
    Stdout(ChildStdout),
    Stderr(ChildStderr),
    Pty(Arc<Master>),
}

impl Source {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Stdout(s) => s.read(buf).await,
            Source::Stderr(s) => s.read(buf).await,
            Source::Pty(m) => m.read(buf).await,
        }
    }
}

async fn read_from(source: &mut Option<Source>, buf: &mut [u8]) -> io::Result<usize> {
    match source {
        Some(s) => s.read(buf).await,
        None => std::future::pending().await,
    }
}

/// Where the command's input goes.
enum Sink {
    Pipe(ChildStdin),
    Pty(Arc<Master>),
}

struct Running {
    child: Child,
    helper: i32,
    /// Kills what still runs if the session is dropped before the command
    /// is reaped (the daemon shutting down with sessions open).
    guard: KillOnDrop,
    stdout: Option<Source>,
    stderr: Option<Source>,
    sink: Option<Sink>,
    master: Option<Arc<Master>>,
}

fn spawn(
    command: std::process::Command,
    pty: Option<Pty>,
    controlling_tty: bool,
    stdin: bool,
) -> io::Result<Running> {
    let mut command = tokio::process::Command::from(command);
    // Its own process group (or session, below): a signal meant for the
    // daemon's group (a Ctrl-C where it runs) does not end the sessions.
    if !controlling_tty {
        command.process_group(0);
    }
    let master = match pty {
        Some(pty) => {
            command
                .stdin(Stdio::from(pty.slave.try_clone()?))
                .stdout(Stdio::from(pty.slave.try_clone()?))
                .stderr(Stdio::from(pty.slave));
            if controlling_tty {
                // SAFETY: setsid and ioctl are async-signal-safe; this runs
                // in the forked child after stdio is in place.
                unsafe {
                    command.pre_exec(|| {
                        if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
                            return Err(io::Error::last_os_error());
                        }
                        Ok(())
                    });
                }
            }
            Some(Arc::new(Master::new(pty.master)?))
        }
        None => {
            let stdin = if stdin { Stdio::piped() } else { Stdio::null() };
            command
                .stdin(stdin)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            None
        }
    };
    let mut child = command.spawn()?;
    // The command holds the only slave descriptors now: the master reads
    // EOF once they are all closed.
    drop(command);
    let helper = match child.id() {
        Some(pid) => pid as i32,
        None => return Err(io::Error::other("the exec helper was gone at once")),
    };
    let guard = KillOnDrop(Some(helper));
    Ok(match master {
        Some(m) => Running {
            child,
            helper,
            guard,
            stdout: Some(Source::Pty(m.clone())),
            stderr: None,
            sink: stdin.then(|| Sink::Pty(m.clone())),
            master: Some(m),
        },
        None => Running {
            helper,
            guard,
            stdout: child.stdout.take().map(Source::Stdout),
            stderr: child.stderr.take().map(Source::Stderr),
            sink: child.stdin.take().map(Sink::Pipe),
            master: None,
            child,
        },
    })
}

/// The helper of a session that has not been reaped yet.
struct KillOnDrop(Option<i32>);

impl KillOnDrop {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(helper) = self.0 {
            tracing::info!(
                helper,
                "attached exec: session dropped; killing what still runs"
            );
            reap::kill_descendants(helper);
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(helper),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Runs `attached` over `io` (the native protocol) until the command has
/// ended and is reaped.
pub async fn run<IO>(io: IO, attached: Attached)
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    run_on(io, attached, Wire::Native).await
}

/// Runs `attached` over `io` speaking `wire`.
pub async fn run_on<IO>(io: IO, attached: Attached, wire: Wire)
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (reader, writer) = tokio::io::split(io);
    let tty = attached.pty.is_some();
    let command = match attached.command {
        ExecCommand::Ready(command) => command,
        ExecCommand::NotFound(err) => {
            let error = format!("stack exec: {err}");
            return end_unstarted(reader, writer, &wire, tty, &error, CANNOT_FIND).await;
        }
    };
    match spawn(
        command,
        attached.pty,
        attached.controlling_tty,
        attached.stdin,
    ) {
        Ok(running) => pump(reader, writer, running, wire).await,
        Err(err) => {
            tracing::warn!(%err, "attached exec: start the exec helper");
            let error = format!("stack exec: start the exec helper: {err}");
            end_unstarted(reader, writer, &wire, tty, &error, CANNOT_RUN).await;
        }
    }
}

/// Ends a session whose command never started: the error (on the tty's one
/// stream, or stderr), the exit frame, then what the client still sends is
/// read until it closes.
async fn end_unstarted(
    mut reader: impl AsyncRead + Unpin,
    mut writer: impl AsyncWrite + Unpin,
    wire: &Wire,
    tty: bool,
    error: &str,
    code: i32,
) {
    let frame = if tty {
        Frame::Stdout(format!("{error}\r\n").into_bytes())
    } else {
        Frame::Stderr(format!("{error}\n").into_bytes())
    };
    let _ = send(&mut writer, wire, &frame).await;
    wire.exited(code);
    let _ = send(&mut writer, wire, &Frame::Exit(code)).await;
    let _ = writer.shutdown().await;
    let _ = tokio::time::timeout(LINGER, async {
        if wire.is_docker() {
            let mut sink = tokio::io::sink();
            let _ = tokio::io::copy(&mut reader, &mut sink).await;
        } else {
            while let Ok(Some(_)) = frame::read_async(&mut reader).await {}
        }
    })
    .await;
}

async fn send(w: &mut (impl AsyncWrite + Unpin), wire: &Wire, frame: &Frame) -> io::Result<()> {
    let bytes = wire.encode(frame);
    if bytes.is_empty() && wire.is_docker() {
        return Ok(());
    }
    w.write_all(&bytes).await?;
    w.flush().await
}

/// Reads the client's frames: stdin in order into `stdin`, the rest into
/// `control`. Both channels close when the client leaves.
async fn read_client(
    mut reader: impl AsyncRead + Unpin,
    stdin: Option<mpsc::Sender<Input>>,
    control: mpsc::UnboundedSender<Frame>,
) {
    loop {
        let frame = match frame::read_async(&mut reader).await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(err) => {
                tracing::debug!(%err, "attached exec: client stream");
                break;
            }
        };
        // A send fails once the command's input is closed: what the client
        // still types is dropped, and control frames keep flowing.
        match frame {
            Frame::Stdin(data) => {
                if let Some(tx) = &stdin {
                    let _ = tx.send(Input::Data(data)).await;
                }
            }
            Frame::StdinClosed => {
                if let Some(tx) = &stdin {
                    let _ = tx.send(Input::Close).await;
                }
            }
            Frame::Resize { .. } | Frame::Signal(_) => {
                let _ = control.send(frame);
            }
            other => {
                tracing::debug!(
                    ?other,
                    "attached exec: ignored a frame only the daemon sends"
                );
            }
        }
    }
}

/// Copies the client's input into the command until it closes its stdin
/// or leaves; then the command's stdin is closed. A pty stays open (closing
/// the master would hang up the terminal while the command may still
/// print); its end of input is the terminal's EOF character instead.
async fn write_stdin(mut sink: Sink, mut input: mpsc::Receiver<Input>) {
    let mut closed = false;
    while let Some(item) = input.recv().await {
        let data = match item {
            Input::Data(data) => data,
            Input::Close => {
                closed = true;
                break;
            }
        };
        let written = match &mut sink {
            Sink::Pipe(pipe) => pipe.write_all(&data).await,
            Sink::Pty(master) => master.write_all(&data).await,
        };
        if written.is_err() {
            break;
        }
    }
    if let Sink::Pty(master) = &sink {
        if closed {
            // VEOF (Ctrl-D): a reader of the terminal in canonical mode
            // sees the end of its input.
            let _ = master.write_all(&[0x04]).await;
        }
        while input.recv().await.is_some() {}
    }
}

fn exit_code(status: io::Result<std::process::ExitStatus>) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => s.code().or(s.signal().map(|n| 128 + n)).unwrap_or(255),
        Err(err) => {
            tracing::warn!(%err, "attached exec: wait for the helper");
            255
        }
    }
}

fn deliver_signal(helper: i32, number: i32) {
    let Ok(signal) = nix::sys::signal::Signal::try_from(number) else {
        tracing::debug!(number, "attached exec: unknown signal from the client");
        return;
    };
    if let Some(pid) = reap::command_of(helper) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
    }
}

async fn pump<R, W>(reader: R, mut writer: W, mut run: Running, wire: Wire)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin,
{
    let (control_tx, mut control) = mpsc::unbounded_channel();
    let (stdin_tx, stdin_rx) = mpsc::channel(8);
    let forward_stdin = run.sink.is_some();
    wire.started(run.helper, &control_tx);
    let stdin_tx = forward_stdin.then_some(stdin_tx);
    let mut client = if wire.is_docker() {
        tokio::spawn(wire::read_raw(reader, stdin_tx, control_tx))
    } else {
        tokio::spawn(read_client(reader, stdin_tx, control_tx))
    };
    let stdin_task = run
        .sink
        .take()
        .map(|sink| tokio::spawn(write_stdin(sink, stdin_rx)));
    let mut out_buf = vec![0u8; CHUNK];
    let mut err_buf = vec![0u8; CHUNK];
    let mut client_open = true;
    let mut exit: Option<i32> = None;
    let mut drain_until: Option<Instant> = None;
    let mut kill_at: Option<Instant> = None;
    let far = || Instant::now() + Duration::from_secs(86_400);
    let mut probe = tokio::time::interval_at(Instant::now() + PROBE_EVERY, PROBE_EVERY);
    loop {
        if exit.is_some() && run.stdout.is_none() && run.stderr.is_none() {
            break;
        }
        let mut left = false;
        tokio::select! {
            message = control.recv(), if client_open => match message {
                Some(Frame::Resize { rows, cols }) => {
                    if let Some(m) = &run.master {
                        if let Err(err) = pty::resize(m.raw(), rows, cols) {
                            tracing::debug!(%err, "attached exec: resize");
                        }
                    }
                }
                Some(Frame::Signal(n)) => deliver_signal(run.helper, n),
                Some(_) => {}
                None => left = true,
            },
            n = read_from(&mut run.stdout, &mut out_buf) => match n {
                Ok(n) if n > 0 => {
                    if client_open && send(&mut writer, &wire, &Frame::Stdout(out_buf[..n].to_vec())).await.is_err() {
                        left = true;
                    }
                }
                _ => run.stdout = None,
            },
            n = read_from(&mut run.stderr, &mut err_buf) => match n {
                Ok(n) if n > 0 => {
                    if client_open && send(&mut writer, &wire, &Frame::Stderr(err_buf[..n].to_vec())).await.is_err() {
                        left = true;
                    }
                }
                _ => run.stderr = None,
            },
            status = run.child.wait(), if exit.is_none() => {
                exit = Some(exit_code(status));
                drain_until = Some(Instant::now() + DRAIN);
            },
            _ = probe.tick(), if client_open => {
                if send(&mut writer, &wire, &Frame::Stdout(Vec::new())).await.is_err() {
                    left = true;
                }
            },
            _ = sleep_until(drain_until.unwrap_or_else(far)), if drain_until.is_some() => break,
            _ = sleep_until(kill_at.unwrap_or_else(far)), if kill_at.is_some() => {
                tracing::info!(helper = run.helper, "attached exec: client left; killing what still runs");
                reap::kill_descendants(run.helper);
                let _ = run.child.start_kill();
                kill_at = None;
            },
        }
        if left && client_open {
            // The client left (its stream ended, or writing to it failed):
            // close the command's input and output (stdin EOF; the pty
            // hangs up once its master closes), kill the rest after a grace.
            client_open = false;
            client.abort();
            run.stdout = None;
            run.stderr = None;
            run.master = None;
            if exit.is_none() {
                kill_at = Some(Instant::now() + DISCONNECT_GRACE);
            }
        }
    }
    if exit.is_none() {
        exit = Some(exit_code(run.child.wait().await));
    }
    run.guard.disarm();
    let code = exit.unwrap_or(255);
    wire.exited(code);
    if client_open {
        let _ = send(&mut writer, &wire, &Frame::Exit(code)).await;
        let _ = writer.shutdown().await;
        // Keep reading (and dropping) what the client still sends until it
        // closes: a socket closed with unread input makes the client's
        // read fail with ECONNRESET instead of a clean end.
        let _ = tokio::time::timeout(LINGER, &mut client).await;
    }
    client.abort();
    if let Some(task) = stdin_task {
        task.abort();
    }
    tracing::debug!(code, "attached exec ended");
}
