//! What an attached exec's connection carries: the native protocol
//! (frames both ways, an exit frame last), or Docker's hijacked stream
//! (`POST /exec/{id}/start`): output in multiplexed 8-byte-header frames
//! without a tty and raw with one, input as raw bytes whose end is the
//! client's half-close, and the exit code told to the exec's record
//! instead of the stream.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

use stack_api::exec_stream::frame::{Frame, CHUNK};

/// What the client sends for the command's stdin, in order.
pub enum Input {
    Data(Vec<u8>),
    Close,
}

/// What the Docker side learns of a running exec.
pub trait ExecHooks: Send + Sync {
    /// The helper runs as `pid`; resizes sent on `control` reach its pty.
    fn started(&self, pid: i32, control: mpsc::UnboundedSender<Frame>);
    /// The command ended with `code` (before the stream closes).
    fn exited(&self, code: i32);
}

/// The connection's protocol.
pub enum Wire {
    Native,
    Docker {
        tty: bool,
        /// The client attached the command's stdout (`AttachStdout`);
        /// output it did not attach is read and dropped.
        stdout: bool,
        /// The same for stderr (`AttachStderr`).
        stderr: bool,
        hooks: Box<dyn ExecHooks>,
    },
}

/// Docker's multiplexed frame: stream id, three zero bytes, the length
/// (big endian), the payload.
fn multiplexed(stream: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.push(stream);
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

impl Wire {
    /// The bytes of `frame` on this wire (none for what Docker's stream
    /// does not carry: the exit code, an empty probe).
    pub fn encode(&self, frame: &Frame) -> Vec<u8> {
        match self {
            Wire::Native => frame.encode(),
            Wire::Docker {
                tty,
                stdout,
                stderr,
                ..
            } => match frame {
                Frame::Stdout(data) | Frame::Stderr(data) if data.is_empty() => Vec::new(),
                Frame::Stdout(_) if !*stdout => Vec::new(),
                Frame::Stderr(_) if !*stderr => Vec::new(),
                Frame::Stdout(data) if *tty => data.clone(),
                Frame::Stdout(data) => multiplexed(1, data),
                Frame::Stderr(data) if *tty => data.clone(),
                Frame::Stderr(data) => multiplexed(2, data),
                _ => Vec::new(),
            },
        }
    }

    pub fn started(&self, pid: i32, control: &mpsc::UnboundedSender<Frame>) {
        if let Wire::Docker { hooks, .. } = self {
            hooks.started(pid, control.clone());
        }
    }

    pub fn exited(&self, code: i32) {
        if let Wire::Docker { hooks, .. } = self {
            hooks.exited(code);
        }
    }

    pub fn is_docker(&self) -> bool {
        matches!(self, Wire::Docker { .. })
    }
}

/// Reads a Docker client's raw input as stdin frames; its half-close ends
/// the command's input (the client is still reading then), an error means
/// it left (`control` then closes).
pub async fn read_raw(
    mut reader: impl AsyncRead + Unpin,
    stdin: Option<mpsc::Sender<Input>>,
    control: mpsc::UnboundedSender<Frame>,
) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n: io::Result<usize> = reader.read(&mut buf).await;
        match n {
            Ok(0) => {
                if let Some(tx) = &stdin {
                    let _ = tx.send(Input::Close).await;
                }
                // Still connected: keep `control` open until the session
                // ends (it aborts this task).
                std::future::pending::<()>().await;
            }
            Ok(n) => {
                if let Some(tx) = &stdin {
                    let _ = tx.send(Input::Data(buf[..n].to_vec())).await;
                }
            }
            Err(err) => {
                tracing::debug!(%err, "docker exec: client stream");
                drop(control);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct None_;
    impl ExecHooks for None_ {
        fn started(&self, _: i32, _: mpsc::UnboundedSender<Frame>) {}
        fn exited(&self, _: i32) {}
    }

    #[test]
    fn docker_frames_are_multiplexed_without_a_tty_and_raw_with_one() {
        let mux = Wire::Docker {
            tty: false,
            stdout: true,
            stderr: true,
            hooks: Box::new(None_),
        };
        assert_eq!(
            mux.encode(&Frame::Stderr(b"hi".to_vec())),
            vec![2, 0, 0, 0, 0, 0, 0, 2, b'h', b'i']
        );
        assert!(mux.encode(&Frame::Exit(3)).is_empty());
        assert!(mux.encode(&Frame::Stdout(Vec::new())).is_empty());
        let raw = Wire::Docker {
            tty: true,
            stdout: true,
            stderr: true,
            hooks: Box::new(None_),
        };
        assert_eq!(raw.encode(&Frame::Stdout(b"hi".to_vec())), b"hi".to_vec());
    }

    #[test]
    fn streams_the_client_did_not_attach_are_dropped() {
        let only_stderr = Wire::Docker {
            tty: false,
            stdout: false,
            stderr: true,
            hooks: Box::new(None_),
        };
        assert!(only_stderr
            .encode(&Frame::Stdout(b"hi".to_vec()))
            .is_empty());
        assert_eq!(
            only_stderr.encode(&Frame::Stderr(b"e".to_vec())),
            vec![2, 0, 0, 0, 0, 0, 0, 1, b'e']
        );
    }
}
