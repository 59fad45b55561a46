//! Container logs as Docker's json-file driver keeps them: one JSON record
//! per line of output, `{"log":"...\n","stream":"stdout","time":"..."}`,
//! rotated to `container.log.1` when the file would pass its size cap (one
//! rotated file is kept).
//!
//! The monitor reads the container's output in chunks that have nothing to
//! do with lines (a traceback arrives in one read, a long line in several),
//! so the writer cuts each chunk at its newlines. What follows the last
//! newline is written at once as a *partial* record, and a line longer than
//! [`MAX_RECORD`] is cut into partial records of that size: as json-file
//! stores them, a partial record is one whose text does not end in a
//! newline. Writing partials at once (instead of holding them until their
//! newline comes) loses nothing when the process dies mid-line and needs
//! no flush from the monitor's loop.
//!
//! Readers ([`read_all`], [`Cursor`], [`follow`]) give out whole lines: a
//! partial record is joined with the records that complete it on the same
//! stream (the line keeps the time of its first piece), and a record
//! holding several lines (files written before records were cut at
//! newlines) gives one line each. Every reader of a log (the CLI in
//! process, the daemon's logs route) goes through them, so both paths show
//! the same lines.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Context, Error};

/// Longest text of one record; a longer line is cut into partial records
/// of this size, as Docker's json-file driver cuts at its 16 KiB buffer.
pub const MAX_RECORD: usize = 16 * 1024;

/// Longest line a reader joins from partial records; past it, what was
/// joined is given out as a line of its own, so a process that never
/// writes a newline cannot make a reader hold its whole output.
const MAX_JOINED: usize = 1024 * 1024;

/// One log record, or one line assembled from records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub log: String,
    pub stream: String,
    pub time: String,
}

impl LogLine {
    /// A piece of a line whose rest follows in later records of its stream
    /// (json-file's flag: the text has no final newline). A line given out
    /// by a reader is partial only when its process never finished it.
    pub fn is_partial(&self) -> bool {
        !self.log.ends_with('\n')
    }
}

/// Appends records to a container's log file.
pub struct LogWriter {
    path: PathBuf,
    file: File,
    size: u64,
    max: u64,
}

fn rotated(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// Cuts a chunk of output into the texts of its records: each line with
/// its newline, then what follows the last newline; pieces longer than
/// `max` cut at `max` bytes (moved back to a character boundary when the
/// text is UTF-8 there, so no character is split in two).
fn pieces(chunk: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    for mut line in chunk.split_inclusive(|b| *b == b'\n') {
        while line.len() > max {
            let mut cut = max;
            // UTF-8 continuation bytes are 0b10xx_xxxx; a character is at
            // most four bytes long.
            while cut > max - 3 && line[cut] & 0xC0 == 0x80 {
                cut -= 1;
            }
            if line[cut] & 0xC0 == 0x80 {
                cut = max;
            }
            let (head, rest) = line.split_at(cut);
            out.push(head);
            line = rest;
        }
        out.push(line);
    }
    out
}

impl LogWriter {
    pub fn open(path: &Path, max: u64) -> Result<LogWriter, Error> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .context(|| format!("open log {}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(LogWriter {
            path: path.to_path_buf(),
            file,
            size,
            max: max.max(1024),
        })
    }

    /// Writes a chunk of output as one record per line (see the module
    /// docs), rotating first when a record would not fit.
    pub fn write(&mut self, stream: &str, chunk: &[u8]) -> Result<(), Error> {
        let time = crate::timefmt::now();
        for piece in pieces(chunk, MAX_RECORD) {
            let record = LogLine {
                log: String::from_utf8_lossy(piece).into_owned(),
                stream: stream.into(),
                time: time.clone(),
            };
            self.append(&record)?;
        }
        Ok(())
    }

    fn append(&mut self, record: &LogLine) -> Result<(), Error> {
        let mut line =
            serde_json::to_vec(record).map_err(|e| Error::invalid("log record", e.to_string()))?;
        line.push(b'\n');
        if self.size > 0 && self.size + line.len() as u64 > self.max {
            std::fs::rename(&self.path, rotated(&self.path))
                .context(|| format!("rotate {}", self.path.display()))?;
            self.file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .context(|| format!("open log {}", self.path.display()))?;
            self.size = 0;
        }
        self.file
            .write_all(&line)
            .context(|| format!("write log {}", self.path.display()))?;
        self.size += line.len() as u64;
        Ok(())
    }
}

/// Records in, whole lines out: joins partial records with what completes
/// them on their stream, and cuts records that hold several lines.
#[derive(Debug, Default)]
pub struct Lines {
    /// The unfinished line of each stream (at most one per stream).
    pending: Vec<LogLine>,
}

impl Lines {
    /// Adds a record; the lines it completes go to `out`.
    pub fn push(&mut self, record: LogLine, out: &mut Vec<LogLine>) {
        for piece in record.log.split_inclusive('\n') {
            let line = match self.pending.iter().position(|p| p.stream == record.stream) {
                Some(at) => {
                    let mut start = self.pending.remove(at);
                    start.log.push_str(piece);
                    start
                }
                None => LogLine {
                    log: piece.to_string(),
                    stream: record.stream.clone(),
                    time: record.time.clone(),
                },
            };
            if line.is_partial() && line.log.len() < MAX_JOINED {
                self.pending.push(line);
            } else {
                out.push(line);
            }
        }
    }

    /// Gives out the unfinished lines as they are (the end of the log, as
    /// far as the reader goes).
    pub fn finish(&mut self, out: &mut Vec<LogLine>) {
        out.append(&mut self.pending);
    }
}

/// Parses one line of a log file; a line that is no record (a torn write
/// of a crashed monitor) is skipped.
fn parse(line: &[u8]) -> Option<LogLine> {
    serde_json::from_slice(line.trim_ascii_end()).ok()
}

/// Every line of the log, oldest first (the rotated file, then the
/// current one); a line left unfinished at the end is given out as is.
pub fn read_all(path: &Path) -> Result<Vec<LogLine>, Error> {
    let mut lines = Lines::default();
    let mut out = Vec::new();
    for p in [rotated(path), path.to_path_buf()] {
        read_whole(&p, &mut lines, &mut out)?;
    }
    lines.finish(&mut out);
    Ok(out)
}

/// Every record of the file at `path` (none when it is missing) through
/// `lines`, which joins partial records.
fn read_whole(path: &Path, lines: &mut Lines, out: &mut Vec<LogLine>) -> Result<(), Error> {
    let Ok(file) = File::open(path) else {
        return Ok(());
    };
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .context(|| format!("read {}", path.display()))?;
        if n == 0 {
            return Ok(());
        }
        if let Some(record) = parse(&buf) {
            lines.push(record, out);
        }
    }
}

/// Reads a log file as it grows, from an offset on, in whole lines; after
/// a rotation (another file at the path, or a shorter one) it starts again
/// at the beginning of the new file.
pub struct Cursor {
    path: PathBuf,
    offset: u64,
    /// Which file `offset` is in (device, inode).
    file: Option<(u64, u64)>,
    lines: Lines,
}

impl Cursor {
    /// At the start of the current log file.
    pub fn at_start(path: &Path) -> Cursor {
        Cursor {
            path: path.to_path_buf(),
            offset: 0,
            file: None,
            lines: Lines::default(),
        }
    }

    /// What the log holds now (the rotated file, then the current one;
    /// a line still being written is left in the cursor), and a cursor
    /// right after it. Following from there misses nothing:
    /// reading the whole log and then opening at its end would lose what
    /// the container wrote in between (a `logs -f` right after a start).
    pub fn held(path: &Path) -> Result<(Vec<LogLine>, Cursor), Error> {
        let mut cursor = Cursor::at_start(path);
        let mut out = Vec::new();
        read_whole(&rotated(path), &mut cursor.lines, &mut out)?;
        let (current, _) = cursor.read_new()?;
        out.extend(current);
        // A line still being written stays in the cursor: a follower gets
        // it whole; a reader that does not follow takes it with `finish`.
        Ok((out, cursor))
    }

    /// At the current end of the log: what [`read_all`] did not see.
    pub fn at_end(path: &Path) -> Cursor {
        let meta = std::fs::metadata(path).ok();
        Cursor {
            path: path.to_path_buf(),
            offset: meta.as_ref().map_or(0, |m| m.len()),
            file: meta.map(|m| (m.dev(), m.ino())),
            lines: Lines::default(),
        }
    }

    /// Lines completed since the last call, and whether the file grew. A
    /// record still being written is left for the next call.
    pub fn read_new(&mut self) -> Result<(Vec<LogLine>, bool), Error> {
        let mut out = Vec::new();
        let Ok(file) = File::open(&self.path) else {
            return Ok((out, false));
        };
        let meta = file
            .metadata()
            .context(|| format!("stat {}", self.path.display()))?;
        let identity = Some((meta.dev(), meta.ino()));
        if identity != self.file || meta.len() < self.offset {
            self.offset = 0;
            self.file = identity;
        }
        if meta.len() == self.offset {
            return Ok((out, false));
        }
        let mut reader = BufReader::new(file);
        reader
            .seek(SeekFrom::Start(self.offset))
            .context(|| format!("seek {}", self.path.display()))?;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .context(|| format!("read {}", self.path.display()))?;
            if n == 0 || !buf.ends_with(b"\n") {
                break; // half-written: read it whole next time
            }
            self.offset += n as u64;
            if let Some(record) = parse(&buf) {
                self.lines.push(record, &mut out);
            }
        }
        Ok((out, true))
    }

    /// The lines left unfinished, as they are (following ends).
    pub fn finish(&mut self) -> Vec<LogLine> {
        let mut out = Vec::new();
        self.lines.finish(&mut out);
        out
    }
}

/// Follows the log from its current end, calling `emit` per line, until
/// `keep_going` says stop and nothing new arrived; then gives out what
/// was left unfinished.
pub fn follow(
    path: &Path,
    emit: impl FnMut(&LogLine),
    keep_going: impl Fn() -> bool,
) -> Result<(), Error> {
    follow_from(Cursor::at_end(path), emit, keep_going)
}

/// [`follow`] from a cursor already placed (after [`Cursor::held`]).
pub fn follow_from(
    mut cursor: Cursor,
    mut emit: impl FnMut(&LogLine),
    keep_going: impl Fn() -> bool,
) -> Result<(), Error> {
    loop {
        let (lines, grew) = cursor.read_new()?;
        lines.iter().for_each(&mut emit);
        if !grew {
            if !keep_going() {
                cursor.finish().iter().for_each(&mut emit);
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
