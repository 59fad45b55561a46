//! A container's output from now on, for an attached client (Docker's
//! `attach`, which `docker run` without `-d` uses): the records its log
//! gets after the attach, from its next start (or at once when it runs)
//! until it stops. Input is not attached here.
//!
//! The log file is opened (made, if the container never ran) when the
//! client attaches, and read through that descriptor: a container made
//! with `--rm` may run, exit and be removed before a reader polling its
//! state would see it start, and the open file keeps its output readable.
//! When the log rotates, reading moves to the new file once the old one
//! is drained.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use stack_api::system::LogRecord;

use super::backoff::Backoff;
use super::{Engine, EngineError};

/// An attach to one container, checked (it exists) and ready to read.
pub struct AttachSource {
    engine: Engine,
    id: String,
    started_at: Option<String>,
    /// Whether the container has a tty (its output is one stream).
    pub tty: bool,
    /// Whether the container keeps a stdin open (`OpenStdin`, `-i`): only
    /// then does an attached input have somewhere to go.
    pub open_stdin: bool,
    path: PathBuf,
    file: File,
}

/// Where an attacher's input goes: the container's stdin FIFO.
pub struct AttachInput {
    engine: Engine,
    id: String,
    started_at: Option<String>,
    pub fifo: PathBuf,
}

impl AttachInput {
    /// Waits (at most `limit`) until the run being attached to has begun
    /// or ended: its stdin is open by then, so the attacher's last write
    /// end can go without its bytes going with it (a FIFO nobody holds
    /// drops what it buffered).
    pub fn wait_for_reader(&self, limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        let mut pause = Backoff::default();
        while std::time::Instant::now() < deadline {
            match self.engine.containers.find(&self.id) {
                Ok(record)
                    if record.state.started_at == self.started_at && !record.state.is_active() => {}
                _ => return,
            }
            pause.sleep();
        }
    }
}

impl Engine {
    /// Attaches to a container's output; with `replay`, what its log
    /// already holds comes first.
    pub fn attach(&self, key: &str, replay: bool) -> Result<AttachSource, EngineError> {
        let record = self.find(key)?;
        let path = record.dir.log();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(EngineError::io(format!("open {}", path.display())))?;
        if !replay {
            file.seek(SeekFrom::End(0))
                .map_err(EngineError::io(format!("seek {}", path.display())))?;
        } else {
            file.seek(SeekFrom::Start(0))
                .map_err(EngineError::io(format!("seek {}", path.display())))?;
        }
        Ok(AttachSource {
            engine: self.clone(),
            id: record.spec.id.clone(),
            started_at: record.state.started_at.clone(),
            tty: record.spec.process.tty,
            open_stdin: record.spec.process.stdin,
            path,
            file,
        })
    }
}

/// Where the container is in the run being attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    NotStarted,
    Running,
    Ended,
}

impl AttachSource {
    /// The container's stdin for an attacher's input, when it has one
    /// that is nobody's terminal (made with an open stdin for the Docker
    /// API).
    pub fn input(&self) -> Option<AttachInput> {
        let dir = self.engine.containers.find(&self.id).ok()?.dir;
        stack_runtime::input::has_fifo(&dir).then(|| AttachInput {
            engine: self.engine.clone(),
            id: self.id.clone(),
            started_at: self.started_at.clone(),
            fifo: stack_runtime::input::fifo(&dir),
        })
    }

    fn phase(&self) -> Phase {
        match self.engine.containers.find(&self.id) {
            Ok(record) if record.state.is_active() => Phase::Running,
            Ok(record) if record.state.started_at == self.started_at => Phase::NotStarted,
            // Ran and stopped, or removed (`--rm`).
            _ => Phase::Ended,
        }
    }

    /// What the log holds now, without waiting (Docker's `logs=1`
    /// without `stream`).
    pub fn replay(mut self, mut emit: impl FnMut(&LogRecord) -> bool) -> Result<(), EngineError> {
        let mut pending = Vec::new();
        self.drain(&mut pending, &mut emit)?;
        Ok(())
    }

    /// Sends each record to `emit` until the container has run and
    /// stopped, `emit` returns false, or `keep_going` says to stop.
    pub fn read(
        mut self,
        keep_going: impl Fn() -> bool,
        mut emit: impl FnMut(&LogRecord) -> bool,
    ) -> Result<(), EngineError> {
        let mut pending = Vec::new();
        let mut pause = Backoff::default();
        loop {
            // The state first: what the log holds once the run has ended
            // is all of its output.
            let phase = self.phase();
            let got = self.drain(&mut pending, &mut emit)?;
            if got.is_none() {
                return Ok(());
            }
            if phase == Phase::Ended {
                if !self.rotated_away() {
                    return Ok(());
                }
                continue;
            }
            if got == Some(0) {
                if self.rotated_away() {
                    continue;
                }
                if !keep_going() {
                    return Ok(());
                }
                pause.sleep();
            } else {
                pause.reset();
            }
        }
    }

    /// Reads what is there; `None` once `emit` asked to stop, else the
    /// number of bytes read.
    fn drain(
        &mut self,
        pending: &mut Vec<u8>,
        emit: &mut impl FnMut(&LogRecord) -> bool,
    ) -> Result<Option<usize>, EngineError> {
        let mut chunk = [0u8; 64 * 1024];
        let mut total = 0;
        loop {
            let n = self
                .file
                .read(&mut chunk)
                .map_err(EngineError::io(format!("read {}", self.path.display())))?;
            if n == 0 {
                return Ok(Some(total));
            }
            total += n;
            pending.extend_from_slice(&chunk[..n]);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let Ok(record) = serde_json::from_slice::<LogRecord>(&line) else {
                    continue;
                };
                if !emit(&record) {
                    return Ok(None);
                }
            }
        }
    }

    /// After a rotation the path names a new file: read that one next.
    fn rotated_away(&mut self) -> bool {
        let (Ok(open), Ok(now)) = (self.file.metadata(), std::fs::metadata(&self.path)) else {
            return false;
        };
        if (open.dev(), open.ino()) == (now.dev(), now.ino()) {
            return false;
        }
        match File::open(&self.path) {
            Ok(file) => {
                self.file = file;
                true
            }
            Err(_) => false,
        }
    }
}
