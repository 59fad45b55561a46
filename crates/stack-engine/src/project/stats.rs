//! `stats`: resource use of running containers from their cgroup (CPU,
//! memory and its limit, block I/O, process count) and from the network
//! namespace of their first process (`/proc/<pid>/net/dev`), with CPU
//! percent computed between two samples as `docker stats` does.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use stack_runtime::cgroup::Cgroup;

use crate::containers::ContainerRecord;

/// One reading of a container's counters.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Instant,
    pub cpu_usec: u64,
    pub memory_bytes: u64,
    pub memory_limit: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
}

/// Reads the counters of a container now.
pub fn sample(record: &ContainerRecord) -> Sample {
    let at = Instant::now();
    let cgroup = record.handle().cgroup().ok();
    let usage = cgroup.as_ref().map(Cgroup::usage).unwrap_or_default();
    let (net_rx, net_tx) = record
        .state
        .pid
        .filter(|_| record.state.container_alive())
        .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/net/dev")).ok())
        .map(|text| parse_net_dev(&text))
        .unwrap_or((0, 0));
    let (block_read, block_write) = cgroup.as_ref().map(block_io).unwrap_or((0, 0));
    let host_memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| parse_mem_total(&t))
        .unwrap_or(0);
    let memory_limit = cgroup
        .as_ref()
        .and_then(memory_limit)
        .filter(|l| *l < host_memory || host_memory == 0)
        .unwrap_or(host_memory);
    Sample {
        at,
        cpu_usec: usage.cpu_usec,
        memory_bytes: usage.memory_bytes,
        memory_limit,
        net_rx,
        net_tx,
        block_read,
        block_write,
        pids: usage.pids,
    }
}

/// What `stats` prints for one container, in Docker's JSON field names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsRow {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "CPUPerc")]
    pub cpu: String,
    #[serde(rename = "MemUsage")]
    pub mem_usage: String,
    #[serde(rename = "MemPerc")]
    pub mem_perc: String,
    #[serde(rename = "NetIO")]
    pub net_io: String,
    #[serde(rename = "BlockIO")]
    pub block_io: String,
    #[serde(rename = "PIDs")]
    pub pids: String,
}

/// The row of a container from two samples (`before` earlier).
pub fn row(record: &ContainerRecord, before: &Sample, now: &Sample) -> StatsRow {
    let mem_perc = if now.memory_limit == 0 {
        0.0
    } else {
        now.memory_bytes as f64 * 100.0 / now.memory_limit as f64
    };
    StatsRow {
        id: record.spec.id.chars().take(12).collect(),
        name: record.spec.name.clone(),
        cpu: format!("{:.2}%", cpu_percent(before, now)),
        mem_usage: format!(
            "{} / {}",
            binary_size(now.memory_bytes),
            binary_size(now.memory_limit)
        ),
        mem_perc: format!("{mem_perc:.2}%"),
        net_io: format!(
            "{} / {}",
            decimal_size(now.net_rx),
            decimal_size(now.net_tx)
        ),
        block_io: format!(
            "{} / {}",
            decimal_size(now.block_read),
            decimal_size(now.block_write)
        ),
        pids: now.pids.to_string(),
    }
}

/// CPU time used between the samples over the wall time between them, in
/// percent of one CPU (so up to 100 × CPUs, as Docker shows).
pub fn cpu_percent(before: &Sample, now: &Sample) -> f64 {
    let wall = now.at.saturating_duration_since(before.at).as_micros() as f64;
    if wall <= 0.0 {
        return 0.0;
    }
    now.cpu_usec.saturating_sub(before.cpu_usec) as f64 * 100.0 / wall
}

/// One interface's counters from `/proc/<pid>/net/dev`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceCounters {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

/// Every interface but loopback, in the file's order.
pub fn parse_net_dev_interfaces(text: &str) -> Vec<InterfaceCounters> {
    let mut out = Vec::new();
    for line in text.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name == "lo" {
            continue;
        }
        let f: Vec<u64> = counters
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let at = |i: usize| f.get(i).copied().unwrap_or(0);
        out.push(InterfaceCounters {
            name: name.to_string(),
            rx_bytes: at(0),
            rx_packets: at(1),
            rx_errors: at(2),
            rx_dropped: at(3),
            tx_bytes: at(8),
            tx_packets: at(9),
            tx_errors: at(10),
            tx_dropped: at(11),
        });
    }
    out
}

/// Received and sent bytes over every interface but loopback.
pub fn parse_net_dev(text: &str) -> (u64, u64) {
    parse_net_dev_interfaces(text)
        .iter()
        .fold((0, 0), |(rx, tx), i| (rx + i.rx_bytes, tx + i.tx_bytes))
}

/// Bytes one block device read and wrote for a cgroup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceIo {
    pub major: u64,
    pub minor: u64,
    pub read: u64,
    pub write: u64,
}

/// `MAJ:MIN` as numbers.
fn device_numbers(text: &str) -> Option<(u64, u64)> {
    let (major, minor) = text.split_once(':')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Per device: cgroup v2 `io.stat` (`MAJ:MIN rbytes=N wbytes=N ...`).
pub fn parse_io_stat_devices(text: &str) -> Vec<DeviceIo> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some((major, minor)) = fields.next().and_then(device_numbers) else {
            continue;
        };
        let mut device = DeviceIo {
            major,
            minor,
            ..DeviceIo::default()
        };
        for field in fields {
            if let Some(v) = field.strip_prefix("rbytes=") {
                device.read = v.parse().unwrap_or(0);
            } else if let Some(v) = field.strip_prefix("wbytes=") {
                device.write = v.parse().unwrap_or(0);
            }
        }
        out.push(device);
    }
    out
}

/// Per device: cgroup v1 `blkio.throttle.io_service_bytes` (`MAJ:MIN
/// Read N` lines).
pub fn parse_blkio_devices(text: &str) -> Vec<DeviceIo> {
    let mut out: Vec<DeviceIo> = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [numbers, op, value] = parts.as_slice() else {
            continue;
        };
        let Some((major, minor)) = device_numbers(numbers) else {
            continue;
        };
        let value = value.parse::<u64>().unwrap_or(0);
        let index = match out
            .iter()
            .position(|d| (d.major, d.minor) == (major, minor))
        {
            Some(i) => i,
            None => {
                out.push(DeviceIo {
                    major,
                    minor,
                    ..DeviceIo::default()
                });
                out.len() - 1
            }
        };
        match *op {
            "Read" => out[index].read += value,
            "Write" => out[index].write += value,
            _ => {}
        }
    }
    out
}

fn totals(devices: &[DeviceIo]) -> (u64, u64) {
    devices
        .iter()
        .fold((0, 0), |(r, w), d| (r + d.read, w + d.write))
}

/// Bytes read and written: cgroup v2 `io.stat` (`rbytes=`, `wbytes=`).
pub fn parse_io_stat(text: &str) -> (u64, u64) {
    totals(&parse_io_stat_devices(text))
}

/// Bytes read and written: cgroup v1 `blkio.throttle.io_service_bytes`.
pub fn parse_blkio(text: &str) -> (u64, u64) {
    totals(&parse_blkio_devices(text))
}

fn parse_mem_total(meminfo: &str) -> Option<u64> {
    let kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn hierarchy<'a>(cgroup: &'a Cgroup, name: &str) -> Option<&'a Path> {
    cgroup
        .dirs
        .iter()
        .find(|(h, _)| h == name || h.split(',').any(|c| c == name))
        .map(|(_, p)| p.as_path())
}

fn block_io(cgroup: &Cgroup) -> (u64, u64) {
    totals(&block_devices(cgroup))
}

/// Bytes read and written per block device, from either cgroup version.
pub fn block_devices(cgroup: &Cgroup) -> Vec<DeviceIo> {
    if cgroup.unified {
        return hierarchy(cgroup, "")
            .and_then(|d| read(&d.join("io.stat")))
            .map(|t| parse_io_stat_devices(&t))
            .unwrap_or_default();
    }
    hierarchy(cgroup, "blkio")
        .and_then(|d| read(&d.join("blkio.throttle.io_service_bytes")))
        .map(|t| parse_blkio_devices(&t))
        .unwrap_or_default()
}

/// `memory.stat` as keys and numbers (`inactive_file`, or v1's
/// `total_inactive_file`, which Docker's clients subtract from usage).
pub fn memory_stat(cgroup: &Cgroup) -> std::collections::BTreeMap<String, u64> {
    let dir = if cgroup.unified {
        hierarchy(cgroup, "")
    } else {
        hierarchy(cgroup, "memory")
    };
    dir.and_then(|d| read(&d.join("memory.stat")))
        .map(|text| {
            text.lines()
                .filter_map(|l| {
                    let (k, v) = l.split_once(' ')?;
                    Some((k.to_string(), v.trim().parse().ok()?))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The process limit, `None` when unlimited.
pub fn pids_limit(cgroup: &Cgroup) -> Option<u64> {
    let dir = if cgroup.unified {
        hierarchy(cgroup, "")
    } else {
        hierarchy(cgroup, "pids")
    };
    read(&dir?.join("pids.max"))?.trim().parse().ok()
}

/// The memory limit, `None` when unlimited (`max`, or v1's huge number).
pub fn memory_limit(cgroup: &Cgroup) -> Option<u64> {
    let text = if cgroup.unified {
        read(&hierarchy(cgroup, "")?.join("memory.max"))?
    } else {
        read(&hierarchy(cgroup, "memory")?.join("memory.limit_in_bytes"))?
    };
    text.trim().parse().ok()
}

/// `12.5MiB`, as Docker shows memory.
pub fn binary_size(bytes: u64) -> String {
    scaled(bytes, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB"])
}

/// `1.2kB`, as Docker shows network and block I/O.
pub fn decimal_size(bytes: u64) -> String {
    scaled(bytes, 1000.0, &["B", "kB", "MB", "GB", "TB"])
}

fn scaled(bytes: u64, base: f64, units: &[&str]) -> String {
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= base && unit + 1 < units.len() {
        value /= base;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}{}", units[0])
    } else {
        format!("{value:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
            + units[unit]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sums_interfaces_but_loopback() {
        let text = "Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets\n    lo:  500 5 0 0 0 0 0 0 500 5 0 0 0 0 0 0\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n  eth1: 1 1 0 0 0 0 0 0 2 1 0 0 0 0 0 0\n";
        assert_eq!(parse_net_dev(text), (1001, 2002));
    }

    #[test]
    fn reads_each_interface_and_each_device() {
        let text = "Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets\n    lo:  500 5 0 0 0 0 0 0 500 5 0 0 0 0 0 0\n  eth0: 1000 10 1 2 0 0 0 0 2000 20 3 4 0 0 0 0\n";
        let eth0 = &parse_net_dev_interfaces(text)[0];
        assert_eq!(
            (
                eth0.name.as_str(),
                eth0.rx_packets,
                eth0.rx_errors,
                eth0.rx_dropped
            ),
            ("eth0", 10, 1, 2)
        );
        assert_eq!(
            (eth0.tx_bytes, eth0.tx_errors, eth0.tx_dropped),
            (2000, 3, 4)
        );
        let v1 = parse_blkio_devices("8:0 Read 10\n8:0 Write 20\n8:16 Read 1\nTotal 31\n");
        assert_eq!(
            v1,
            [
                DeviceIo {
                    major: 8,
                    minor: 0,
                    read: 10,
                    write: 20
                },
                DeviceIo {
                    major: 8,
                    minor: 16,
                    read: 1,
                    write: 0
                },
            ]
        );
        let v2 = parse_io_stat_devices("259:0 rbytes=7 wbytes=9 rios=1\n");
        assert_eq!(
            v2,
            [DeviceIo {
                major: 259,
                minor: 0,
                read: 7,
                write: 9
            }]
        );
    }

    #[test]
    fn reads_block_io_of_both_cgroup_versions() {
        assert_eq!(
            parse_io_stat("8:0 rbytes=4096 wbytes=100 rios=1 wios=1\n8:16 rbytes=4 wbytes=0\n"),
            (4100, 100)
        );
        assert_eq!(
            parse_blkio("8:0 Read 10\n8:0 Write 20\n8:0 Sync 30\nTotal 30\n"),
            (10, 20)
        );
    }

    #[test]
    fn formats_sizes_as_docker() {
        assert_eq!(binary_size(512), "512B");
        assert_eq!(binary_size(1536), "1.5KiB");
        assert_eq!(binary_size(64 << 20), "64MiB");
        assert_eq!(decimal_size(1234), "1.234kB");
        assert_eq!(decimal_size(0), "0B");
    }

    #[test]
    fn cpu_percent_is_cpu_time_over_wall_time() {
        let at = Instant::now();
        let before = Sample {
            at,
            cpu_usec: 1_000,
            memory_bytes: 0,
            memory_limit: 0,
            net_rx: 0,
            net_tx: 0,
            block_read: 0,
            block_write: 0,
            pids: 0,
        };
        let now = Sample {
            at: at + Duration::from_secs(1),
            cpu_usec: 501_000,
            ..before
        };
        assert!((cpu_percent(&before, &now) - 50.0).abs() < 1e-9);
        assert_eq!(cpu_percent(&now, &now), 0.0);
    }
}
