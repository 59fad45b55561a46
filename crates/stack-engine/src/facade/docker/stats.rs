//! `GET /containers/{id}/stats`: a reading of a container's counters in
//! Docker's shape, from the same cgroup and `/proc` files as `stack stats`
//! ([`crate::project::stats`]): CPU time with the host's beside it (so a
//! client computes the percent between two readings), memory with its
//! `memory.stat`, process count and limit, bytes per block device, and
//! counters per network interface.

use stack_api::docker::stats::{
    BlkioEntry, BlkioStats, ContainerStats, CpuStats, CpuUsage, MemoryStats, NetworkStats,
    PidsStats,
};

use super::super::{Engine, EngineError};
use super::GO_ZERO_TIME;
use crate::project::stats::{self as counters, InterfaceCounters};

/// The host's CPU time in nanoseconds (the `cpu` line of `/proc/stat`,
/// in clock ticks) and the number of CPUs it lists.
fn host_cpu(proc_stat: &str, ticks_per_second: u64) -> (Option<u64>, Option<u64>) {
    let mut lines = proc_stat.lines();
    let total = lines
        .next()
        .and_then(|l| l.strip_prefix("cpu "))
        .map(|rest| {
            rest.split_whitespace()
                .filter_map(|f| f.parse::<u64>().ok())
                .sum::<u64>()
        })
        .filter(|_| ticks_per_second > 0)
        .map(|ticks| ticks.saturating_mul(1_000_000_000 / ticks_per_second));
    let cpus = proc_stat
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count() as u64;
    (total, Some(cpus).filter(|n| *n > 0))
}

fn network(i: &InterfaceCounters) -> NetworkStats {
    NetworkStats {
        rx_bytes: i.rx_bytes,
        rx_packets: i.rx_packets,
        rx_errors: i.rx_errors,
        rx_dropped: i.rx_dropped,
        tx_bytes: i.tx_bytes,
        tx_packets: i.tx_packets,
        tx_errors: i.tx_errors,
        tx_dropped: i.tx_dropped,
    }
}

impl Engine {
    /// A reading of `key`'s counters now; `previous` (the reading before,
    /// of a stream or of a two-reading answer) fills `precpu_stats` and
    /// `preread`. A container that is not running reads as zeros, as in
    /// Docker.
    pub fn docker_stats(
        &self,
        key: &str,
        previous: Option<&ContainerStats>,
    ) -> Result<ContainerStats, EngineError> {
        let record = self.find(key)?;
        let read = stack_runtime::timefmt::now();
        let sample = counters::sample(&record);
        let cgroup = record.handle().cgroup().ok();
        let alive = record.state.container_alive();
        let interfaces = record
            .state
            .pid
            .filter(|_| alive)
            .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/net/dev")).ok())
            .map(|text| counters::parse_net_dev_interfaces(&text))
            .unwrap_or_default();
        // SAFETY: sysconf reads a constant of the system.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let (system_cpu_usage, online_cpus) = std::fs::read_to_string("/proc/stat")
            .map(|text| host_cpu(&text, u64::try_from(ticks).unwrap_or(0)))
            .unwrap_or((None, None));
        let devices = cgroup
            .as_ref()
            .map(counters::block_devices)
            .unwrap_or_default();
        let io_service_bytes_recursive = devices
            .iter()
            .flat_map(|d| {
                [("read", d.read), ("write", d.write)].map(|(op, value)| BlkioEntry {
                    major: d.major,
                    minor: d.minor,
                    op: op.to_string(),
                    value,
                })
            })
            .collect();
        Ok(ContainerStats {
            read,
            preread: previous.map_or_else(|| GO_ZERO_TIME.to_string(), |p| p.read.clone()),
            pids_stats: PidsStats {
                current: Some(sample.pids),
                limit: cgroup.as_ref().and_then(counters::pids_limit),
            },
            blkio_stats: BlkioStats {
                io_service_bytes_recursive,
            },
            num_procs: 0,
            storage_stats: Default::default(),
            cpu_stats: CpuStats {
                cpu_usage: CpuUsage {
                    total_usage: sample.cpu_usec.saturating_mul(1000),
                },
                system_cpu_usage,
                online_cpus,
            },
            precpu_stats: previous.map(|p| p.cpu_stats.clone()).unwrap_or_default(),
            memory_stats: MemoryStats {
                usage: Some(sample.memory_bytes),
                stats: cgroup
                    .as_ref()
                    .map(counters::memory_stat)
                    .unwrap_or_default(),
                limit: Some(sample.memory_limit),
            },
            name: format!("/{}", record.spec.name),
            id: record.spec.id.clone(),
            networks: interfaces
                .iter()
                .map(|i| (i.name.clone(), network(i)))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_cpu_time_is_in_nanoseconds() {
        let text = "cpu  100 0 50 850 0 0 0 0 0 0\ncpu0 50 0 25 425 0 0 0 0 0 0\ncpu1 50 0 25 425 0 0 0 0 0 0\nintr 1\n";
        assert_eq!(host_cpu(text, 100), (Some(10_000_000_000), Some(2)));
        assert_eq!(host_cpu("", 100), (None, None));
        assert_eq!(host_cpu(text, 0).0, None);
    }
}
