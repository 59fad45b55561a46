//! The resolver as a long-lived service of its own, outside any one
//! `stack` command: no daemon runs in the common case, yet containers must
//! resolve names after the command that started them has exited.
//!
//! The serving part is [`serve`]: it answers from the records under
//! `<state root>/networks/` and reloads them when told to (SIGHUP from the
//! engine after each change) and on a short tick as a safety net. A host
//! process (the hidden `stack` mode, or later the daemon) calls it; the
//! files under `<run>/dns/` ([`ResolverFiles`]) tell every other process
//! its pid and port, which the firewall redirects `<gateway>:53` to.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::registry::DnsRegistry;
use super::server::DnsServer;
use crate::error::{NetError, Result};
use crate::plan::attach::dns_entries;
use crate::store::Store;

/// How often the records are checked for changes besides SIGHUP.
const RELOAD_TICK: Duration = Duration::from_millis(250);

/// Where a resolver service leaves its traces: `<run>/dns/{pid,port,lock}`.
#[derive(Debug, Clone)]
pub struct ResolverFiles {
    pub dir: PathBuf,
}

impl ResolverFiles {
    pub fn new(run_dir: &Path) -> ResolverFiles {
        ResolverFiles {
            dir: run_dir.join("dns"),
        }
    }
    pub fn pid(&self) -> PathBuf {
        self.dir.join("pid")
    }
    pub fn port(&self) -> PathBuf {
        self.dir.join("port")
    }
    /// Held (flock) by whoever checks for or starts the service.
    pub fn lock(&self) -> PathBuf {
        self.dir.join("lock")
    }

    /// The port the last service listened on, if any.
    pub fn read_port(&self) -> Option<u16> {
        std::fs::read_to_string(self.port())
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The pid of the running service, if its pid file names a live process.
    pub fn read_pid(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.pid())
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| {
                    s.rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z')
                })
                .unwrap_or(true);
        alive.then_some(pid)
    }

    /// Records a started service.
    pub fn write(&self, pid: u32, port: u16) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .map_err(NetError::io(format!("create {}", self.dir.display())))?;
        for (path, text) in [
            (self.port(), port.to_string()),
            (self.pid(), pid.to_string()),
        ] {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, text).map_err(NetError::io(format!("write {}", tmp.display())))?;
            std::fs::rename(&tmp, &path)
                .map_err(NetError::io(format!("rename to {}", path.display())))?;
        }
        Ok(())
    }

    /// Removes the pid file (the port file stays: the next service tries
    /// the same port, so the firewall rules stay right).
    pub fn clear_pid(&self) {
        let _ = std::fs::remove_file(self.pid());
    }
}

/// Fills `registry` from the persisted records; returns how many
/// containers are attached (none means the service has nobody to serve).
pub fn load_registry(store: &Store, registry: &DnsRegistry) -> Result<usize> {
    let networks = store.networks()?;
    let records = store.containers()?;
    let attached = records.len();
    let containers = records
        .into_iter()
        .map(|record| {
            let entries = dns_entries(&record);
            (record.container_id, entries)
        })
        .collect();
    let internal = networks
        .iter()
        .filter(|n| n.internal)
        .map(|n| n.name.clone());
    registry.replace_all(containers, internal);
    Ok(attached)
}

/// Binds the resolver on every host address, on `preferred` when it is
/// free (so rules made for an earlier service stay right), else any port.
pub async fn bind(
    preferred: Option<u16>,
    registry: DnsRegistry,
    upstreams: Vec<SocketAddr>,
) -> Result<DnsServer> {
    if let Some(port) = preferred {
        let at = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
        if let Ok(server) = DnsServer::start(at, registry.clone(), upstreams.clone()).await {
            return Ok(server);
        }
    }
    DnsServer::start(
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        registry,
        upstreams,
    )
    .await
}

/// Why [`serve`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// No container is attached to any network any more.
    Idle,
    /// The `stop` future completed.
    Asked,
}

/// Serves names until no container has been attached for `idle_grace`
/// (a `run --rm` loop then reuses one resolver instead of starting one per
/// container) or `stop` completes, reloading the records whenever `reload`
/// is notified and when they change on disk.
pub async fn serve(
    state_root: &Path,
    registry: DnsRegistry,
    reload: &tokio::sync::Notify,
    stop: impl std::future::Future<Output = ()>,
    idle_grace: Duration,
) -> Result<Stopped> {
    let store = Store::open(state_root)?;
    let mut seen = records_stamp(state_root);
    let mut idle_since = None;
    tokio::pin!(stop);
    loop {
        if load_registry(&store, &registry)? == 0 {
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= idle_grace {
                return Ok(Stopped::Idle);
            }
        } else {
            idle_since = None;
        }
        loop {
            tokio::select! {
                () = &mut stop => return Ok(Stopped::Asked),
                () = reload.notified() => break,
                () = tokio::time::sleep(RELOAD_TICK) => {
                    let now = records_stamp(state_root);
                    if now != seen || idle_since.is_some() {
                        break;
                    }
                }
            }
        }
        seen = records_stamp(state_root);
    }
}

/// Modification times of the two record directories: a rename into
/// either changes its time.
fn records_stamp(state_root: &Path) -> [Option<SystemTime>; 2] {
    let base = state_root.join("networks");
    ["defs", "containers"].map(|d| {
        std::fs::metadata(base.join(d))
            .and_then(|m| m.modified())
            .ok()
    })
}
