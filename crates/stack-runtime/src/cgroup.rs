//! The container's cgroup on cgroup v1, v2, and the hybrid layout (v1
//! controllers plus a cgroup2 mount at `unified/`, where crun gives up).
//!
//! Written against the cgroupfs files directly rather than through
//! cgroups-rs: cgroups-rs 0.5 brings zbus and a second nix version into
//! every build of the one `stack` binary, and what a container needs is a
//! handful of files (create, limits, join, OOM count, usage, remove). Every
//! function takes the hierarchy root, so tests point it at a temporary
//! directory of plain files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::devices::DeviceRule;
use crate::error::{Context, Error};
use crate::spec::Resources;

/// Where the cgroup hierarchies are mounted.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// How the host mounts its cgroups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One cgroup2 hierarchy at the root.
    Unified,
    /// v1 hierarchies below the root (directory names such as `memory`,
    /// `cpu,cpuacct`), and optionally a cgroup2 hierarchy at `unified`.
    Legacy {
        hierarchies: Vec<String>,
        unified: bool,
    },
}

impl Layout {
    /// Detects the layout under `root` (statfs magic, as runc does).
    pub fn detect(root: &Path) -> Result<Layout, Error> {
        let stat =
            nix::sys::statfs::statfs(root).context(|| format!("statfs {}", root.display()))?;
        if stat.filesystem_type().0 as i64 == CGROUP2_SUPER_MAGIC {
            return Ok(Layout::Unified);
        }
        let mut hierarchies = Vec::new();
        let mut unified = false;
        let entries = std::fs::read_dir(root).context(|| format!("read {}", root.display()))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            // Skip symlinks such as `cpuacct -> cpu,cpuacct`.
            if entry.file_type().map(|t| t.is_symlink()).unwrap_or(true) {
                continue;
            }
            if name == "unified" {
                unified = true;
            } else if (is_managed(&name) || name == DEVICES_V1)
                && path.join("cgroup.procs").exists()
            {
                hierarchies.push(name);
            }
        }
        if unified {
            hierarchies.retain(|h| h != DEVICES_V1);
        }
        hierarchies.sort();
        Ok(Layout::Legacy {
            hierarchies,
            unified,
        })
    }
}

/// The v1 controllers a container joins: the ones stack limits, reads or
/// (`freezer`, for `pause`) drives. Each join is a write to `cgroup.procs`
/// that costs an RCU grace period in the kernel, so joining hierarchies
/// nobody uses (blkio, name=systemd) would make every start slower for
/// nothing; the freezer is one directory and one write, and without it a
/// running container could never be paused. `devices` is joined only on a
/// v1 host without a cgroup2 mount: with one (hybrid), the container is in
/// its cgroup2 directory anyway and a BPF device filter there confines it
/// without another join.
pub const MANAGED_V1: &[&str] = &["cpu", "cpuacct", "memory", "pids", "freezer"];

/// The v1 device controller's hierarchy.
const DEVICES_V1: &str = "devices";

fn is_managed(hierarchy: &str) -> bool {
    hierarchy.split(',').any(|c| MANAGED_V1.contains(&c))
}

/// One container's cgroup: its directory in every hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cgroup {
    /// Directory per hierarchy; v1 ones are named by hierarchy.
    pub dirs: Vec<(String, PathBuf)>,
    /// True when limits go to a cgroup2 hierarchy.
    pub unified: bool,
}

/// Usage figures for `stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Usage {
    pub memory_bytes: u64,
    pub cpu_usec: u64,
    pub pids: u64,
}

fn write(path: &Path, value: &str) -> Result<(), Error> {
    std::fs::write(path, value).context(|| format!("write {value:?} to {}", path.display()))
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Reads `key value` lines (memory.events, memory.oom_control, cpu.stat).
fn keyed(path: &Path, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

impl Cgroup {
    /// The cgroup at `rel` (e.g. `stack/<id>`) under `root`, not yet created.
    pub fn at(root: &Path, layout: &Layout, rel: &str) -> Cgroup {
        match layout {
            Layout::Unified => Cgroup {
                dirs: vec![("".into(), root.join(rel))],
                unified: true,
            },
            Layout::Legacy {
                hierarchies,
                unified,
            } => {
                let mut dirs: Vec<(String, PathBuf)> = hierarchies
                    .iter()
                    .map(|h| (h.clone(), root.join(h).join(rel)))
                    .collect();
                if *unified {
                    dirs.push(("unified".into(), root.join("unified").join(rel)));
                }
                Cgroup {
                    dirs,
                    unified: false,
                }
            }
        }
    }

    /// The directory in the hierarchy that has controller `hierarchy`
    /// (`""` or `unified` for a cgroup2 one).
    pub(crate) fn dir(&self, hierarchy: &str) -> Option<&Path> {
        self.dirs
            .iter()
            .find(|(h, _)| h == hierarchy || (h.split(',').any(|c| c == hierarchy)))
            .map(|(_, p)| p.as_path())
    }

    /// Creates every directory, applies `resources` and restricts devices
    /// to `devices` (`None`: every device, for a privileged container). On
    /// v2, ancestors get the controllers enabled (never the leaf:
    /// no-internal-process rule).
    pub fn create(
        &self,
        root: &Path,
        resources: &Resources,
        devices: Option<&[DeviceRule]>,
    ) -> Result<(), Error> {
        for (hierarchy, dir) in &self.dirs {
            if self.unified {
                enable_controllers(root, dir)?;
            } else if hierarchy.split(',').any(|c| c == "cpuset") {
                create_cpuset(dir)?;
            }
            std::fs::create_dir_all(dir).context(|| format!("create cgroup {}", dir.display()))?;
        }
        self.apply(resources)?;
        match devices {
            Some(rules) => self.restrict_devices(rules),
            None => Ok(()),
        }
    }

    /// Denies every device, then allows `rules` in order: a BPF program on
    /// the container's cgroup v2 directory where it has one (v2, or
    /// hybrid), else the v1 devices controller. A host with neither cannot
    /// confine devices, and the container is refused rather than started
    /// unconfined.
    fn restrict_devices(&self, rules: &[DeviceRule]) -> Result<(), Error> {
        let unified = if self.unified { "" } else { "unified" };
        if let Some(dir) = self.dir(unified) {
            return crate::devices::bpf::attach(dir, rules);
        }
        match self.dir(DEVICES_V1) {
            Some(dir) => {
                write(&dir.join("devices.deny"), "a")?;
                for rule in rules {
                    let file = if rule.allow {
                        "devices.allow"
                    } else {
                        "devices.deny"
                    };
                    write(&dir.join(file), &rule.to_string())?;
                }
                Ok(())
            }
            None => Err(Error::invalid(
                "device controller",
                "this host has neither the cgroup v1 devices controller nor cgroup v2: devices cannot be confined",
            )),
        }
    }

    /// Writes the limits.
    pub fn apply(&self, r: &Resources) -> Result<(), Error> {
        let set = |hierarchy: &str, file: &str, value: String| -> Result<(), Error> {
            match self.dir(hierarchy) {
                Some(dir) => write(&dir.join(file), &value),
                None => Err(Error::invalid(
                    format!("cgroup controller {hierarchy}"),
                    "not mounted on this host",
                )),
            }
        };
        let (mem, cpu, pids) = if self.unified {
            ("", "", "")
        } else {
            ("memory", "cpu", "pids")
        };
        // v1 keeps memory+swap at or above memory at every write: the
        // larger of the two goes first, as runc orders them.
        let swap_first = match (r.memory_swap, self.dir(mem)) {
            (Some(swap), Some(dir)) if !self.unified => {
                let current = read_trimmed(&dir.join("memory.limit_in_bytes"))
                    .and_then(|v| v.parse::<i64>().ok());
                swap_goes_first(swap, current)
            }
            _ => false,
        };
        if swap_first {
            self.apply_swap(r)?;
        }
        if let Some(bytes) = r.memory {
            let file = if self.unified {
                "memory.max"
            } else {
                "memory.limit_in_bytes"
            };
            set(mem, file, bytes.to_string())?;
        }
        if !swap_first {
            self.apply_swap(r)?;
        }
        if let Some(bytes) = r.memory_reservation {
            let file = if self.unified {
                "memory.low"
            } else {
                "memory.soft_limit_in_bytes"
            };
            set(mem, file, bytes.to_string())?;
        }
        if let Some(cpus) = r.cpus {
            let period: u64 = 100_000;
            let quota = (cpus * period as f64).round() as u64;
            if self.unified {
                set(cpu, "cpu.max", format!("{quota} {period}"))?;
            } else {
                set(cpu, "cpu.cfs_period_us", period.to_string())?;
                set(cpu, "cpu.cfs_quota_us", quota.to_string())?;
            }
        }
        if let Some(shares) = r.cpu_shares {
            if self.unified {
                set(cpu, "cpu.weight", shares_to_weight(shares).to_string())?;
            } else {
                set(cpu, "cpu.shares", shares.to_string())?;
            }
        }
        if let Some(limit) = r.pids_limit {
            let value = if limit <= 0 {
                "max".to_string()
            } else {
                limit.to_string()
            };
            set(pids, "pids.max", value)?;
        }
        Ok(())
    }

    /// Writes the memory+swap limit: v1's `memory.memsw.limit_in_bytes`
    /// (which exists only with swap accounting), v2's `memory.swap.max`
    /// (swap alone: the total less the memory limit).
    fn apply_swap(&self, r: &Resources) -> Result<(), Error> {
        let Some(swap) = r.memory_swap else {
            return Ok(());
        };
        let refuse = |why: &str| Err(Error::refused("memory+swap limit", why));
        let (dir, file, value) = if self.unified {
            let value = match (swap, r.memory) {
                (-1, _) => "max".to_string(),
                (total, Some(memory)) if total >= memory as i64 => {
                    (total - memory as i64).to_string()
                }
                (_, Some(_)) => return refuse("must not be below the memory limit"),
                (_, None) => return refuse("needs a memory limit"),
            };
            (self.dir(""), "memory.swap.max", value)
        } else {
            (
                self.dir("memory"),
                "memory.memsw.limit_in_bytes",
                swap.to_string(),
            )
        };
        let Some(dir) = dir else {
            return refuse("the memory controller is not mounted on this host");
        };
        if !dir.join(file).exists() {
            return refuse(&format!(
                "this host's memory cgroup has no {file} (swap accounting is off)"
            ));
        }
        write(&dir.join(file), &value)
    }

    /// Moves process `pid` into the cgroup in every hierarchy.
    pub fn join(&self, pid: i32) -> Result<(), Error> {
        for (_, dir) in &self.dirs {
            write(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// Moves process `pid` into the cgroup's directories that exist: what
    /// an exec does, since a container started by an older stack has no
    /// directory in a hierarchy containers join since (the v1 freezer),
    /// and must still take execs.
    pub fn join_existing(&self, pid: i32) -> Result<(), Error> {
        for (_, dir) in self.dirs.iter().filter(|(_, dir)| dir.is_dir()) {
            write(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// How many times the kernel's OOM killer killed a process in here.
    pub fn oom_kills(&self) -> u64 {
        if self.unified {
            self.dir("")
                .and_then(|d| keyed(&d.join("memory.events"), "oom_kill"))
                .unwrap_or(0)
        } else {
            self.dir("memory")
                .and_then(|d| keyed(&d.join("memory.oom_control"), "oom_kill"))
                .unwrap_or(0)
        }
    }

    /// Current memory, cumulative CPU time and process count.
    pub fn usage(&self) -> Usage {
        let num = |p: Option<PathBuf>| {
            p.and_then(|p| read_trimmed(&p))
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0)
        };
        if self.unified {
            let d = self.dir("");
            Usage {
                memory_bytes: num(d.map(|d| d.join("memory.current"))),
                cpu_usec: d
                    .and_then(|d| keyed(&d.join("cpu.stat"), "usage_usec"))
                    .unwrap_or(0),
                pids: num(d.map(|d| d.join("pids.current"))),
            }
        } else {
            Usage {
                memory_bytes: num(self.dir("memory").map(|d| d.join("memory.usage_in_bytes"))),
                cpu_usec: num(self.dir("cpuacct").map(|d| d.join("cpuacct.usage"))) / 1000,
                pids: num(self.dir("pids").map(|d| d.join("pids.current"))),
            }
        }
    }

    /// Kills whatever is left inside and removes every directory, retrying
    /// while the kernel finishes releasing exited tasks.
    pub fn remove(&self) -> Result<(), Error> {
        // A frozen task dies of SIGKILL only once thawed (v1): signal
        // first, so nothing more of the container runs, then thaw.
        for (_, dir) in &self.dirs {
            kill_all(dir);
        }
        self.thaw_all();
        let mut last_error = None;
        for (_, dir) in &self.dirs {
            if !dir.exists() {
                continue;
            }
            let kill_file = dir.join("cgroup.kill");
            if kill_file.exists() {
                let _ = std::fs::write(&kill_file, "1");
            }
            let mut removed = false;
            for attempt in 0..200 {
                kill_all(dir);
                match std::fs::remove_dir(dir) {
                    Ok(()) => {
                        removed = true;
                        break;
                    }
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                        removed = true;
                        break;
                    }
                    Err(err) => {
                        last_error =
                            Some(Error::io(format!("remove cgroup {}", dir.display()), err));
                        std::thread::sleep(Duration::from_millis(if attempt < 20 {
                            1
                        } else {
                            10
                        }));
                    }
                }
            }
            if removed {
                last_error = None;
            }
        }
        match last_error {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// Process ids in the cgroup (first hierarchy that has any).
    pub fn pids(&self) -> Vec<i32> {
        self.dirs
            .iter()
            .map(|(_, d)| procs(d))
            .find(|p| !p.is_empty())
            .unwrap_or_default()
    }
}

fn kill_all(dir: &Path) {
    for pid in procs(dir) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

fn procs(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// Whether a new v1 memory+swap limit `swap` must be written before the
/// memory limit, the memory limit now being `current`: when it grows past
/// it (or is unlimited), else the memory limit would pass memory+swap.
fn swap_goes_first(swap: i64, current: Option<i64>) -> bool {
    swap == -1 || current.is_none_or(|limit| swap >= limit)
}

/// cgroup v1 cpu.shares to v2 cpu.weight (the formula runc and crun use).
pub fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

/// Enables memory, cpu and pids for children on every ancestor of `leaf`
/// below `root`.
fn enable_controllers(root: &Path, leaf: &Path) -> Result<(), Error> {
    let rel = leaf.strip_prefix(root).unwrap_or(leaf);
    let mut dir = root.to_path_buf();
    let wanted: Vec<String> = read_trimmed(&root.join("cgroup.controllers"))
        .unwrap_or_default()
        .split_whitespace()
        .filter(|c| matches!(*c, "memory" | "cpu" | "pids"))
        .map(|c| format!("+{c}"))
        .collect();
    let components: Vec<_> = rel.components().collect();
    for (i, component) in components.iter().enumerate() {
        if !wanted.is_empty() {
            write(&dir.join("cgroup.subtree_control"), &wanted.join(" "))?;
        }
        dir.push(component);
        if i + 1 < components.len() {
            std::fs::create_dir_all(&dir).context(|| format!("create cgroup {}", dir.display()))?;
        }
    }
    Ok(())
}

/// v1 cpuset cgroups start with no CPUs or memory nodes: copy the parent's
/// into each new level, or joining fails with ENOSPC.
fn create_cpuset(leaf: &Path) -> Result<(), Error> {
    let mut missing = Vec::new();
    let mut dir = leaf.to_path_buf();
    while !dir.exists() {
        missing.push(dir.clone());
        if !dir.pop() {
            break;
        }
    }
    for dir in missing.into_iter().rev() {
        std::fs::create_dir(&dir).context(|| format!("create cgroup {}", dir.display()))?;
        let parent = dir.parent().unwrap_or(&dir).to_path_buf();
        for file in ["cpuset.cpus", "cpuset.mems"] {
            if read_trimmed(&dir.join(file)).unwrap_or_default().is_empty() {
                if let Some(value) = read_trimmed(&parent.join(file)) {
                    write(&dir.join(file), &value)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "cgroup_tests.rs"]
mod tests;
