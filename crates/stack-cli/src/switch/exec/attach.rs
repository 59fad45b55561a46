//! The client side of an attached exec: the upgraded socket carries this
//! process's stdin (then stdin-closed), terminal size changes (SIGWINCH)
//! and signals that end this process; the daemon's stdout, stderr and exit
//! frames come back. The exit frame's code is this process's exit code.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use stack_api::client::Client;
use stack_api::exec_stream::frame::{self, Frame, CHUNK};
use stack_api::exec_stream::{ExecStreamRequest, PROTOCOLS};
use stack_api::paths;

use super::terminal::{self, RawMode};

/// The daemon's socket, shared by the threads that write frames.
type Shared = Arc<Mutex<UnixStream>>;

fn send(socket: &Shared, frame: &Frame) -> bool {
    match socket.lock() {
        Ok(mut s) => frame::write(&mut *s, frame).is_ok(),
        Err(_) => false,
    }
}

/// Copies stdin into stdin frames, then says it is closed.
fn forward_stdin(socket: Shared) {
    let mut stdin = std::io::stdin().lock();
    let mut buf = vec![0u8; CHUNK];
    loop {
        match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if !send(&socket, &Frame::Stdin(buf[..n].to_vec())) {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    send(&socket, &Frame::StdinClosed);
}

/// Signals this process handles on a thread of its own (they are blocked
/// everywhere else): SIGWINCH becomes a resize frame; the others end the
/// session after the terminal is restored.
fn watch_signals(socket: Shared, set: SigSet, raw: Option<Arc<RawMode>>) {
    loop {
        let Ok(signal) = set.wait() else { return };
        if signal == Signal::SIGWINCH {
            if let Some((rows, cols)) = terminal::size(0) {
                send(&socket, &Frame::Resize { rows, cols });
            }
            continue;
        }
        if let Some(raw) = &raw {
            raw.restore();
        }
        // The daemon sees the connection close and ends the command.
        std::process::exit(128 + signal as i32);
    }
}

/// Runs `req` in container `key` through the daemon; returns its exit code.
pub fn run(client: &Client, key: &str, req: &ExecStreamRequest) -> miette::Result<i32> {
    let path = paths::container_exec_stream(key);
    let socket = client
        .upgrade(&path, PROTOCOLS[0], req)
        .map_err(|e| miette::miette!("{e}"))?;
    let mut reader = socket
        .try_clone()
        .map_err(|e| miette::miette!("exec stream: {e}"))?;
    let shared: Shared = Arc::new(Mutex::new(socket));
    let raw = if req.tty && terminal::is_terminal(0) {
        Some(Arc::new(
            RawMode::enter().map_err(|e| miette::miette!("terminal raw mode: {e}"))?,
        ))
    } else {
        None
    };
    let mut signals = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(s);
    }
    if raw.is_some() {
        signals.add(Signal::SIGWINCH);
        // Ctrl-C and Ctrl-\ reach the container as bytes in raw mode; a
        // SIGINT from elsewhere still restores the terminal.
        signals.add(Signal::SIGINT);
        signals.add(Signal::SIGQUIT);
    }
    // Blocked before the threads start, so they inherit the mask and only
    // the watcher receives these signals.
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&signals), None)
        .map_err(|e| miette::miette!("block signals: {e}"))?;
    {
        let socket = shared.clone();
        let raw = raw.clone();
        std::thread::spawn(move || watch_signals(socket, signals, raw));
    }
    if req.stdin {
        let socket = shared.clone();
        std::thread::spawn(move || forward_stdin(socket));
    }
    let code = receive(&mut reader);
    // The signal thread holds the other reference: restore explicitly,
    // on success and on error alike.
    if let Some(raw) = &raw {
        raw.restore();
    }
    code
}

/// Writes the daemon's output here until the exit frame.
fn receive(reader: &mut UnixStream) -> miette::Result<i32> {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    loop {
        let frame = frame::read(reader).map_err(|e| miette::miette!("exec stream: {e}"))?;
        match frame {
            Some(Frame::Stdout(data)) => {
                let mut out = stdout.lock();
                let _ = out.write_all(&data);
                let _ = out.flush();
            }
            Some(Frame::Stderr(data)) => {
                let _ = stderr.lock().write_all(&data);
            }
            Some(Frame::Exit(code)) => return Ok(code),
            Some(_) => {}
            None => {
                miette::bail!("the stack daemon closed the exec stream before the command ended")
            }
        }
    }
}
