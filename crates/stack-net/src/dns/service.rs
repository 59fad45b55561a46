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
use std::time::{Duration, SystemTime};

use super::registry::{DnsEntry, DnsRegistry};
use super::server::DnsServer;
use crate::error::{NetError, Result};
use crate::store::Store;

/// How often the records are checked for changes besides SIGHUP.
const RELOAD_TICK: Duration = Duration::from_millis(500);

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

/// Fills `registry` from the persisted records; returns how many networks
/// exist (none left means the service has nothing to serve).
pub fn load_registry(store: &Store, registry: &DnsRegistry) -> Result<usize> {
    let networks = store.networks()?;
    let containers = store
        .containers()?
        .into_iter()
        .map(|record| {
            let entries = record
                .endpoints
                .iter()
                .map(|e| DnsEntry {
                    network: e.network.clone(),
                    address: e.address,
                    names: e.names.clone(),
                })
                .collect();
            (record.container_id, entries)
        })
        .collect();
    let internal = networks
        .iter()
        .filter(|n| n.internal)
        .map(|n| n.name.clone());
    registry.replace_all(containers, internal);
    Ok(networks.len())
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
    /// The last network is gone.
    NoNetworks,
    /// The `stop` future completed.
    Asked,
}

/// Serves names until no network is left or `stop` completes, reloading
/// the records whenever `reload` is notified and when they change on disk.
pub async fn serve(
    state_root: &Path,
    registry: DnsRegistry,
    reload: &tokio::sync::Notify,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Stopped> {
    let store = Store::open(state_root)?;
    let mut seen = records_stamp(state_root);
    if load_registry(&store, &registry)? == 0 {
        return Ok(Stopped::NoNetworks);
    }
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return Ok(Stopped::Asked),
            () = reload.notified() => {}
            () = tokio::time::sleep(RELOAD_TICK) => {
                let now = records_stamp(state_root);
                if now == seen {
                    continue;
                }
            }
        }
        seen = records_stamp(state_root);
        if load_registry(&store, &registry)? == 0 {
            return Ok(Stopped::NoNetworks);
        }
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
