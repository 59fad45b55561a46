//! One use of the network manager from a blocking caller: a current-thread
//! tokio runtime of its own (engine calls are never made inside a runtime),
//! the manager opened without touching the firewall, and the resolver
//! process started and agreed on when a container needs names.

use std::path::{Path, PathBuf};

use stack_net::{AddressPool, ManagerOptions, NetworkManager};

use super::resolver;
use crate::containers::ContainerError;

/// File under `<state>/networks/` naming the resolver port the firewall's
/// DNS redirect was last filled with.
const APPLIED_DNS_PORT: &str = "dns-port";

pub struct Session {
    runtime: tokio::runtime::Runtime,
    pub manager: NetworkManager,
    state_root: PathBuf,
    run_dir: PathBuf,
}

impl Session {
    /// Opens the manager; cheap when nothing changed (no firewall work).
    pub fn open(
        state_root: &Path,
        run_dir: &Path,
        pools: Vec<AddressPool>,
    ) -> Result<Session, ContainerError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| ContainerError::Io {
                context: "start a runtime for networking".into(),
                source,
            })?;
        let options = ManagerOptions {
            pools,
            dns_bind: None,
            upstreams: Vec::new(),
            external_dns_port: applied_port(state_root),
            refresh_on_open: false,
            state_root: state_root.to_path_buf(),
        };
        let manager = runtime.block_on(NetworkManager::open(options))?;
        Ok(Session {
            runtime,
            manager,
            state_root: state_root.to_path_buf(),
            run_dir: run_dir.to_path_buf(),
        })
    }

    pub fn state_root(&self) -> &Path {
        &self.state_root
    }

    /// Runs one of the manager's async calls to completion.
    pub fn block_on<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }

    /// Starts the resolver when none runs and makes the firewall's DNS
    /// redirect point at its port (a refresh only when the port moved).
    pub fn ensure_resolver(&mut self) -> Result<(), ContainerError> {
        let port = resolver::ensure(&self.state_root, &self.run_dir)?;
        if applied_port(&self.state_root) != Some(port) {
            self.manager.set_external_dns_port(Some(port));
            self.runtime.block_on(self.manager.refresh_firewall())?;
            let path = self.state_root.join("networks").join(APPLIED_DNS_PORT);
            std::fs::write(&path, port.to_string()).map_err(|source| ContainerError::Io {
                context: format!("write {}", path.display()),
                source,
            })?;
        }
        Ok(())
    }

    /// Tells the resolver the records changed.
    pub fn notify_resolver(&self) {
        resolver::notify(&self.run_dir);
    }

    /// Stops the resolver when no network is left.
    pub fn stop_resolver_if_idle(&self) -> Result<(), ContainerError> {
        if self.manager.networks()?.is_empty() {
            resolver::stop(&self.run_dir)?;
            let _ = std::fs::remove_file(self.state_root.join("networks").join(APPLIED_DNS_PORT));
        }
        Ok(())
    }
}

fn applied_port(state_root: &Path) -> Option<u16> {
    std::fs::read_to_string(state_root.join("networks").join(APPLIED_DNS_PORT))
        .ok()?
        .trim()
        .parse()
        .ok()
}
