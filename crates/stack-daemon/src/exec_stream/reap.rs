//! Ending what an attached exec left: the exec helper waits for the
//! command it forked inside the container, so killing the helper alone
//! would leave the command running. The command and its children are found
//! as the helper's descendants in `/proc` (the host's view of every pid
//! namespace) and killed first.

use std::collections::BTreeMap;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// `pid -> parent pid` of every process, from `/proc/<pid>/stat`.
fn parents() -> BTreeMap<i32, i32> {
    let mut map = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return map;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) {
            if let Some(ppid) = parent_of_stat(&stat) {
                map.insert(pid, ppid);
            }
        }
    }
    map
}

/// The parent pid field of a `/proc/<pid>/stat` line. The command name
/// (in parentheses) may hold spaces and parentheses: fields count from
/// the last `)`.
fn parent_of_stat(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Every descendant of `root` given a parent map, nearest first.
fn descendants_in(map: &BTreeMap<i32, i32>, root: i32) -> Vec<i32> {
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(map.iter().filter(|(_, pp)| **pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    found.remove(0);
    found
}

/// The live descendants of `pid`; none for pid 0 or 1 (every process
/// descends from them).
pub fn descendants(pid: i32) -> Vec<i32> {
    if pid <= 1 {
        return Vec::new();
    }
    descendants_in(&parents(), pid)
}

/// The command the helper `helper` runs (its direct child), if alive.
pub fn command_of(helper: i32) -> Option<i32> {
    if helper <= 1 {
        return None;
    }
    parents()
        .into_iter()
        .find(|(_, parent)| *parent == helper)
        .map(|(pid, _)| pid)
}

/// SIGKILL to every descendant of `helper` (the helper then exits on its
/// own, reporting the command's death).
pub fn kill_descendants(helper: i32) {
    for pid in descendants(helper) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parent_survives_odd_names() {
        assert_eq!(parent_of_stat("42 (sh) S 7 42 42 0"), Some(7));
        assert_eq!(parent_of_stat("42 (a) b) (c) R 9 1 1"), Some(9));
        assert_eq!(parent_of_stat("garbage"), None);
    }

    #[test]
    fn descendants_walk_the_tree() {
        let map: BTreeMap<i32, i32> = [(2, 1), (3, 2), (4, 3), (5, 2), (6, 1), (7, 6)]
            .into_iter()
            .collect();
        let mut d = descendants_in(&map, 2);
        d.sort();
        assert_eq!(d, vec![3, 4, 5]);
        assert!(descendants_in(&map, 4).is_empty());
    }

    #[test]
    fn init_and_the_kernel_have_no_descendants_to_kill() {
        assert!(descendants(0).is_empty());
        assert!(descendants(1).is_empty());
        assert_eq!(command_of(1), None);
    }

    #[test]
    fn this_process_has_no_parent_loop() {
        let me = std::process::id() as i32;
        assert!(!descendants(me).contains(&me));
    }
}
