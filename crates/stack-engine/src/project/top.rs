//! `top`: the processes of a container, found through its cgroup and read
//! from /proc, in the columns of `ps -ef` (UID PID PPID C STIME TTY TIME
//! CMD) that `docker top` shows by default. Reading /proc directly spares
//! a `ps` process per container and works whatever the image contains.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::containers::ContainerRecord;

/// Clock ticks per second of /proc times. Linux reports them in USER_HZ,
/// which is 100 on every architecture it exports to user space.
const TICKS_PER_SECOND: u64 = 100;

/// One process row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRow {
    pub uid: String,
    pub pid: i32,
    pub ppid: i32,
    /// CPU use over the process's life, in percent.
    pub c: u64,
    pub stime: String,
    pub tty: String,
    pub time: String,
    pub cmd: String,
}

/// Column titles, in order.
pub const TITLES: [&str; 8] = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];

impl ProcessRow {
    /// The row's cells in [`TITLES`] order.
    pub fn cells(&self) -> [String; 8] {
        [
            self.uid.clone(),
            self.pid.to_string(),
            self.ppid.to_string(),
            self.c.to_string(),
            self.stime.clone(),
            self.tty.clone(),
            self.time.clone(),
            self.cmd.clone(),
        ]
    }
}

/// The processes in the container's cgroup, by pid. A process that exits
/// while it is read is left out.
pub fn processes(record: &ContainerRecord) -> Vec<ProcessRow> {
    let Ok(cgroup) = record.handle().cgroup() else {
        return Vec::new();
    };
    let proc = Path::new("/proc");
    let boot = boot_time(proc).unwrap_or(UNIX_EPOCH);
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let now = SystemTime::now();
    let mut rows: Vec<ProcessRow> = cgroup
        .pids()
        .into_iter()
        .filter_map(|pid| read_process(proc, pid, boot, now, &passwd))
        .collect();
    rows.sort_by_key(|r| r.pid);
    rows
}

fn read_process(
    proc: &Path,
    pid: i32,
    boot: SystemTime,
    now: SystemTime,
    passwd: &str,
) -> Option<ProcessRow> {
    let dir = proc.join(pid.to_string());
    let stat = parse_stat(&std::fs::read_to_string(dir.join("stat")).ok()?)?;
    let status = std::fs::read_to_string(dir.join("status")).ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or("?");
    let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
    let started = boot + Duration::from_millis(stat.start_ticks * 1000 / TICKS_PER_SECOND);
    let cpu_ticks = stat.utime + stat.stime;
    let alive_ms = now
        .duration_since(started)
        .unwrap_or_default()
        .as_millis()
        .max(1) as u64;
    Some(ProcessRow {
        uid: user_name(passwd, uid),
        pid,
        ppid: stat.ppid,
        c: cpu_ticks * 1000 / TICKS_PER_SECOND * 100 / alive_ms,
        stime: start_time_text(started, now),
        tty: tty_name(stat.tty_nr),
        time: cpu_time_text(cpu_ticks / TICKS_PER_SECOND),
        cmd: command_text(&cmdline, &stat.comm),
    })
}

/// The fields of /proc/<pid>/stat that `top` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub comm: String,
    pub ppid: i32,
    pub tty_nr: u64,
    pub utime: u64,
    pub stime: u64,
    pub start_ticks: u64,
}

/// Parses /proc/<pid>/stat; the command name may hold spaces and
/// parentheses, so fields are counted from its last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let fields: Vec<&str> = text.get(close + 2..)?.split_whitespace().collect();
    let num = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    Some(Stat {
        comm,
        ppid: fields.get(1)?.parse().ok()?,
        tty_nr: num(4)?,
        utime: num(11)?,
        stime: num(12)?,
        start_ticks: num(19)?,
    })
}

/// The host's name for `uid`, or the number when it has none.
pub fn user_name(passwd: &str, uid: &str) -> String {
    passwd
        .lines()
        .find_map(|line| {
            let mut parts = line.split(':');
            let name = parts.next()?;
            (parts.nth(1)? == uid).then(|| name.to_string())
        })
        .unwrap_or_else(|| uid.to_string())
}

/// `?` for no terminal, `pts/N` or `ttyN` as ps names them.
pub fn tty_name(tty_nr: u64) -> String {
    if tty_nr == 0 {
        return "?".into();
    }
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    match major {
        136..=143 => format!("pts/{}", minor + (major - 136) * 256),
        4 => format!("tty{minor}"),
        _ => format!("{major}:{minor}"),
    }
}

/// `HH:MM:SS`, with `D-` in front past a day, as ps's TIME.
pub fn cpu_time_text(seconds: u64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let clock = format!(
        "{:02}:{:02}:{:02}",
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60
    );
    if days > 0 {
        format!("{days}-{clock}")
    } else {
        clock
    }
}

/// ps's STIME: `HH:MM` (UTC) when started within the last day, else the date.
pub fn start_time_text(started: SystemTime, now: SystemTime) -> String {
    let stamp = stack_runtime::timefmt::format(started);
    let within_a_day = now
        .duration_since(started)
        .map(|d| d < Duration::from_secs(86_400))
        .unwrap_or(true);
    if within_a_day {
        stamp.get(11..16).unwrap_or_default().to_string()
    } else {
        stamp.get(..10).unwrap_or_default().to_string()
    }
}

/// The command line with its arguments, or `[comm]` for a kernel-style
/// process without one.
pub fn command_text(cmdline: &[u8], comm: &str) -> String {
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if args.is_empty() {
        format!("[{comm}]")
    } else {
        args.join(" ")
    }
}

/// Boot time from the `btime` line of /proc/stat.
fn boot_time(proc: &Path) -> Option<SystemTime> {
    let text = std::fs::read_to_string(proc.join("stat")).ok()?;
    let secs: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_a_tricky_command_name() {
        let text = "42 (my (odd) cmd) S 7 42 42 34817 42 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 1000 10 0";
        let stat = parse_stat(text).expect("parses");
        assert_eq!(stat.comm, "my (odd) cmd");
        assert_eq!(stat.ppid, 7);
        assert_eq!(stat.tty_nr, 34817);
        assert_eq!((stat.utime, stat.stime), (250, 50));
        assert_eq!(stat.start_ticks, 12345);
    }

    #[test]
    fn names_terminals_as_ps() {
        assert_eq!(tty_name(0), "?");
        assert_eq!(tty_name(34817), "pts/1");
        assert_eq!(tty_name((4 << 8) | 2), "tty2");
    }

    #[test]
    fn formats_cpu_time_and_commands() {
        assert_eq!(cpu_time_text(3), "00:00:03");
        assert_eq!(cpu_time_text(90_061), "1-01:01:01");
        assert_eq!(command_text(b"sleep\x00100\x00", "sleep"), "sleep 100");
        assert_eq!(command_text(b"", "kworker"), "[kworker]");
    }

    #[test]
    fn names_users_from_passwd_or_by_number() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        assert_eq!(user_name(passwd, "1000"), "alice");
        assert_eq!(user_name(passwd, "4242"), "4242");
    }

    #[test]
    fn start_time_is_a_clock_today_and_a_date_before() {
        let started = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let now = started + Duration::from_secs(60);
        assert_eq!(start_time_text(started, now), "22:13");
        let later = started + Duration::from_secs(3 * 86_400);
        assert_eq!(start_time_text(started, later), "2023-11-14");
    }
}
