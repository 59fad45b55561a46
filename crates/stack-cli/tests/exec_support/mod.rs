//! Shared by the attached exec tests: containers to exec in, the client's
//! side of the frame protocol, and looking for processes in /proc.

#![allow(dead_code)]

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use stack_api::client::Client;
use stack_api::exec_stream::frame::{self, Frame};
use stack_testkit::Sandbox;

use serde_json::json;

use crate::run_support::{self, describe, stack};

pub fn run_detached(
    sb: &Sandbox,
    root: &std::path::Path,
    name: &str,
    extra: &[&str],
    script: &str,
) {
    let mut args = vec!["run", "-d", "--network", "none", "--name", name];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--rootfs", root.to_str().expect("path"), "sh", "-c", script]);
    let out = stack(sb, &args);
    assert!(out.status.success(), "run {name}: {}", describe(&out));
}

pub fn open(client: &Client, key: &str, req: serde_json::Value) -> UnixStream {
    client
        .upgrade(
            &format!("/v1/containers/{key}/exec/stream"),
            "stack-exec",
            &req,
        )
        .unwrap_or_else(|e| panic!("upgrade {key} {req}: {e}"))
}

/// What an exec printed and how it ended.
#[derive(Debug, Default)]
pub struct Ended {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: Option<i32>,
}

impl Ended {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Reads frames until the exit frame (or the end, which fails the test).
pub fn read_until_exit(stream: &mut UnixStream) -> Ended {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut ended = Ended::default();
    // The daemon's empty probe frames keep a read from timing out.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            Instant::now() < deadline,
            "no exit frame within a minute: {ended:?}"
        );
        match frame::read(stream).expect("read a frame") {
            Some(Frame::Stdout(d)) => ended.stdout.extend(d),
            Some(Frame::Stderr(d)) => ended.stderr.extend(d),
            Some(Frame::Exit(code)) => {
                ended.code = Some(code);
                assert_eq!(
                    frame::read(stream).expect("after exit"),
                    None,
                    "exit is the last frame"
                );
                return ended;
            }
            Some(other) => panic!("unexpected frame {other:?}"),
            None => panic!("stream ended without an exit frame: {ended:?}"),
        }
    }
}

/// Runs `req` feeding `input` (then stdin-closed) from another thread.
pub fn exec(client: &Client, key: &str, req: serde_json::Value, input: &[u8]) -> Ended {
    let mut stream = open(client, key, req);
    let mut writer = stream.try_clone().expect("clone");
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        for chunk in input.chunks(32 * 1024) {
            frame::write(&mut writer, &Frame::Stdin(chunk.to_vec())).expect("stdin frame");
        }
        frame::write(&mut writer, &Frame::StdinClosed).expect("stdin-closed frame");
    });
    let ended = read_until_exit(&mut stream);
    feeder.join().expect("feeder");
    ended
}

/// Pids whose command line is exactly `args`.
pub fn processes(args: &[&str]) -> Vec<i32> {
    let wanted: Vec<u8> = args
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            (cmdline == wanted).then_some(pid)
        })
        .collect()
}

pub fn wait_for(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Opens a session running `sleep MARKER` (with `extra` request fields),
/// waits until it runs, drops the client, and waits until the command is
/// gone: a client that vanishes leaves nothing running.
pub fn ends_when_the_client_leaves(
    client: &Client,
    key: &str,
    marker: &str,
    extra: serde_json::Value,
) {
    let mut req = serde_json::json!({"cmd": ["sleep", marker]});
    if let (Some(req), Some(extra)) = (req.as_object_mut(), extra.as_object()) {
        req.extend(extra.clone());
    }
    let session = open(client, key, req);
    wait_for(&format!("sleep {marker}"), 10, || {
        !processes(&["sleep", marker]).is_empty()
    });
    drop(session);
    wait_for(&format!("sleep {marker} to end"), 10, || {
        processes(&["sleep", marker]).is_empty()
    });
}

/// Zombie children of `pid`.
pub fn zombies_of(pid: u32) -> Vec<String> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let parent = fields.next().and_then(|p| p.parse::<u32>().ok());
            state == Some("Z") && parent == Some(pid)
        })
        .collect()
}

/// `tty` names a pty of the container; `stty size` shows the size asked
/// for, then the size a resize frame set.
pub fn tty_sized_then_resized(client: &Client, key: &str, script: &str) {
    let mut tty = open(
        client,
        key,
        json!({"cmd": ["sh", "-c", script], "tty": true, "stdin": true, "rows": 30, "cols": 100}),
    );
    tty.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !String::from_utf8_lossy(&seen).contains("30 100") {
        assert!(
            Instant::now() < deadline,
            "no size within 30 s: {:?}",
            String::from_utf8_lossy(&seen)
        );
        match frame::read(&mut tty).expect("frame") {
            Some(Frame::Stdout(d)) => seen.extend(d),
            other => panic!(
                "before the resize: {other:?} after {:?}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
    frame::write(
        &mut tty,
        &Frame::Resize {
            rows: 40,
            cols: 120,
        },
    )
    .expect("resize");
    std::thread::sleep(Duration::from_millis(300));
    frame::write(&mut tty, &Frame::Stdin(b"go\r".to_vec())).expect("stdin");
    let rest = read_until_exit(&mut tty);
    seen.extend(&rest.stdout);
    let text = String::from_utf8_lossy(&seen);
    assert_eq!(rest.code, Some(5), "{text}");
    assert!(rest.stderr.is_empty(), "a tty has one stream");
    assert!(text.contains("/dev/pts/"), "{text}");
    assert!(text.contains("40 120"), "{text}");
}

/// Runs `stack ARGS` through the daemon and in process with the same
/// stdin; both must print the same and exit the same way.
pub fn both_ways(
    sb: &Sandbox,
    socket: &std::path::Path,
    args: &[&str],
    input: &[u8],
) -> std::process::Output {
    let host = format!("unix://{}", socket.display());
    let run = |prefix: &[&str]| {
        let mut child = sb
            .command(run_support::stack_bin())
            .args(prefix)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn stack");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait stack");
        feeder.join().expect("feeder");
        out
    };
    let a = run(&["--host", host.as_str()]);
    let b = run(&["--no-daemon"]);
    let show = format!(
        "{args:?}\ndaemon: {}\nin process: {}",
        describe(&a),
        describe(&b)
    );
    assert_eq!(a.status.code(), b.status.code(), "{show}");
    assert_eq!(a.stdout, b.stdout, "{show}");
    assert_eq!(a.stderr, b.stderr, "{show}");
    a
}

/// A stack file with one service `web` and its container `shop-web-1`,
/// made the way `up` makes it (Compose's labels).
pub fn compose_member(sb: &Sandbox, root: &std::path::Path) -> std::path::PathBuf {
    let file = sb.dir().join("compose.yaml");
    std::fs::write(&file, "name: shop\nservices:\n  web:\n    image: busybox\n")
        .expect("stack file");
    run_detached(
        sb,
        root,
        "shop-web-1",
        &[
            "-l",
            "com.docker.compose.project=shop",
            "-l",
            "com.docker.compose.service=web",
            "-l",
            "com.docker.compose.container-number=1",
        ],
        "exec sleep 1000",
    );
    file
}

/// `stack container exec -it` on a terminal (a pty this test holds the
/// master of): raw mode while it runs, the size passed on, SIGWINCH
/// becoming a resize, the terminal restored afterwards.
pub fn terminal_session(sb: &Sandbox, host: &str) {
    use std::io::Read;
    use std::os::fd::{AsFd, AsRawFd};
    use std::os::unix::process::CommandExt;

    let size = nix::pty::Winsize {
        ws_row: 30,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(Some(&size), None).expect("openpty");
    let before = nix::sys::termios::tcgetattr(pty.slave.as_fd()).expect("tcgetattr");
    let slave = pty.slave.try_clone().expect("dup slave");
    let mut cli = sb.command(run_support::stack_bin());
    cli.args([
        "--host",
        host,
        "container",
        "exec",
        "-i",
        "-t",
        "web",
        "sh",
        "-c",
        "tty; stty size; read x; stty size; exit 6",
    ])
    .stdin(std::process::Stdio::from(slave.try_clone().expect("dup")))
    .stdout(std::process::Stdio::from(slave.try_clone().expect("dup")))
    .stderr(std::process::Stdio::from(slave));
    // SAFETY: setsid and ioctl are async-signal-safe.
    unsafe {
        cli.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            if libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cli.spawn().expect("spawn stack -it");
    drop(cli);
    let master = std::fs::File::from(pty.master);
    let mut reader = master.try_clone().expect("dup master");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().expect("lock").extend_from_slice(&buf[..n]);
        }
    });
    let text = || String::from_utf8_lossy(&seen.lock().expect("lock")).into_owned();
    wait_for("the first stty size", 20, || text().contains("30 100"));
    let bigger = libc::winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from a valid pointer.
    assert_eq!(
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &bigger) },
        0
    );
    std::thread::sleep(Duration::from_millis(500));
    (&master).write_all(b"go\r").expect("type");
    let status = child.wait().expect("wait stack -it");
    wait_for("the second stty size", 10, || text().contains("40 120"));
    assert_eq!(status.code(), Some(6), "{}", text());
    assert!(text().contains("/dev/pts/"), "{}", text());
    let after = nix::sys::termios::tcgetattr(pty.slave.as_fd()).expect("tcgetattr");
    assert_eq!(after.local_flags, before.local_flags, "terminal restored");
    assert_eq!(after.input_flags, before.input_flags, "terminal restored");
}
