//! Container logs: one JSON line per chunk read from the container,
//! `{"log":"...","stream":"stdout","time":"..."}` as Docker's json-file
//! driver writes, rotated to `container.log.1` when the file would pass its
//! size cap (one rotated file is kept).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Context, Error};

/// One log record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub log: String,
    pub stream: String,
    pub time: String,
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

    /// Writes one chunk as one line, rotating first if it would not fit.
    pub fn write(&mut self, stream: &str, chunk: &[u8]) -> Result<(), Error> {
        let record = LogLine {
            log: String::from_utf8_lossy(chunk).into_owned(),
            stream: stream.into(),
            time: crate::timefmt::now(),
        };
        let mut line =
            serde_json::to_vec(&record).map_err(|e| Error::invalid("log record", e.to_string()))?;
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

/// Reads every record, oldest first (the rotated file, then the current).
pub fn read_all(path: &Path) -> Result<Vec<LogLine>, Error> {
    let mut lines = Vec::new();
    for p in [rotated(path), path.to_path_buf()] {
        let Ok(file) = File::open(&p) else { continue };
        for line in BufReader::new(file).lines() {
            let line = line.context(|| format!("read {}", p.display()))?;
            if let Ok(record) = serde_json::from_str::<LogLine>(&line) {
                lines.push(record);
            }
        }
    }
    Ok(lines)
}

/// Follows the current log file from `offset`, calling `emit` per record,
/// until `keep_going` says stop and nothing new arrived. Handles rotation
/// by reopening when the file shrinks.
pub fn follow(
    path: &Path,
    mut offset: u64,
    mut emit: impl FnMut(&LogLine),
    keep_going: impl Fn() -> bool,
) -> Result<(), Error> {
    let mut pending = String::new();
    loop {
        let mut progressed = false;
        if let Ok(mut file) = File::open(path) {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            if len < offset {
                offset = 0;
            }
            if len > offset {
                file.seek(SeekFrom::Start(offset))
                    .context(|| format!("seek {}", path.display()))?;
                let mut reader = BufReader::new(file);
                loop {
                    let mut buf = String::new();
                    let n = reader
                        .read_line(&mut buf)
                        .context(|| format!("read {}", path.display()))?;
                    if n == 0 {
                        break;
                    }
                    offset += n as u64;
                    progressed = true;
                    pending.push_str(&buf);
                    if pending.ends_with('\n') {
                        if let Ok(record) = serde_json::from_str::<LogLine>(pending.trim_end()) {
                            emit(&record);
                        }
                        pending.clear();
                    }
                }
            }
        }
        if !progressed {
            if !keep_going() {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

/// Size of the current log file (where following starts after a dump).
pub fn current_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_at_the_cap_and_reads_back_in_order() {
        let dir = std::env::temp_dir().join(format!("stack-logs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("container.log");
        let mut w = LogWriter::open(&path, 1024).expect("open");
        for i in 0..40 {
            w.write(
                if i % 2 == 0 { "stdout" } else { "stderr" },
                format!("line {i}\n").as_bytes(),
            )
            .expect("write");
        }
        assert!(std::fs::metadata(&path).expect("log").len() <= 1024);
        assert!(rotated(&path).exists());
        let all = read_all(&path).expect("read");
        let last = all.last().expect("records");
        assert_eq!(
            (last.log.as_str(), last.stream.as_str()),
            ("line 39\n", "stderr")
        );
        let numbers: Vec<usize> = all
            .iter()
            .map(|l| l.log.trim()[5..].parse().expect("n"))
            .collect();
        assert!(
            numbers.windows(2).all(|w| w[1] == w[0] + 1),
            "in order: {numbers:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
