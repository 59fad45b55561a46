//! The logs of several containers of this host, read straight from their
//! log files (each container's monitor writes its own): what they hold,
//! then what is appended, for the merged streams of `logs -f` and
//! attached `up` when no daemon is in between.

use stack_runtime::logs::{Cursor, LogLine};
use stack_runtime::spec::ContainerDir;
use stack_runtime::state::{State, Status};

use super::ContainerRecord;

/// Followed log files, one per container (index = the order given).
pub struct LogFollower {
    dirs: Vec<ContainerDir>,
    cursors: Vec<Cursor>,
}

impl LogFollower {
    pub fn new(records: &[ContainerRecord]) -> LogFollower {
        let dirs: Vec<_> = records.iter().map(|r| r.dir.clone()).collect();
        LogFollower {
            cursors: dirs.iter().map(|d| Cursor::at_start(&d.log())).collect(),
            dirs,
        }
    }

    /// Each log as it is now; following goes on from its end.
    pub fn existing(&mut self) -> Result<Vec<Vec<LogLine>>, stack_runtime::Error> {
        let mut out = Vec::new();
        for (dir, cursor) in self.dirs.iter().zip(self.cursors.iter_mut()) {
            let (mut held, mut after) = Cursor::held(&dir.log())?;
            // A stopped container's log will not grow: its last line, even
            // without a newline, is all there is.
            if !running(dir) {
                held.extend(after.finish());
            }
            out.push(held);
            *cursor = after;
        }
        Ok(out)
    }

    /// The lines appended since the last call, with their log's index.
    pub fn read_new(&mut self) -> Vec<(usize, LogLine)> {
        let mut batch = Vec::new();
        for (index, (dir, cursor)) in self.dirs.iter().zip(self.cursors.iter_mut()).enumerate() {
            let mut lines = cursor.read_new().map(|(l, _)| l).unwrap_or_default();
            // A line its container left unfinished shows once it is over,
            // as the daemon's follower gives it out when it stops.
            if lines.is_empty() && !running(dir) {
                lines = cursor.finish();
            }
            batch.extend(lines.into_iter().map(|l| (index, l)));
        }
        batch
    }

    /// Whether more lines may come (some container still runs).
    pub fn more(&self) -> bool {
        self.dirs.iter().any(running)
    }
}

fn running(dir: &ContainerDir) -> bool {
    State::load(dir).is_ok_and(|s| s.effective_status() == Status::Running)
}
