//! The network glue of a container's life: [`NetworkRequest::check`] at
//! create time, [`connect`] at every start (namespace file, networks,
//! attachment, `/etc` files, the spec's namespace), [`release`] at removal.
//!
//! The default network of a plain `stack run` is [`DEFAULT_NETWORK`]
//! (`bridge`, Docker's name), made on demand from the configured address
//! pools and kept like one made by `stack network create`; unlike Docker's,
//! it resolves container names too.

pub mod admin;
mod etc_files;
pub mod joins;
pub mod publish;
mod request;
pub mod resolver;
mod session;
pub mod view;

use std::path::{Path, PathBuf};

pub use request::{
    parse_extra_host, ExtraHostError, JoinRecord, NetworkRequest, RequestedMode, REQUEST_FILE,
};
pub use session::Session;
use stack_net::{AddressPool, AttachRequest, Attachment, ContainerNetworking, NetworkSpec};
use stack_runtime::spec::NetworkNamespace;

use super::{ContainerError, ContainerRecord, Containers};

/// The network of `stack run` without `--network`.
pub const DEFAULT_NETWORK: &str = "bridge";

/// argv[1] of the hidden mode that releases an auto-removed container's
/// networking after its exit (run by its monitor, see `on_removal`).
pub const RELEASE_MODE: &str = "__stack-release";

/// `<run>/netns/<id>`: the container's namespace file.
pub fn netns_path(run_dir: &Path, container_id: &str) -> Result<PathBuf, ContainerError> {
    crate::paths::child(&run_dir.join("netns"), container_id)
        .map_err(|e| ContainerError::Invalid(e.to_string()))
}

/// The address pools of the config file.
pub fn pools(containers: &Containers) -> Result<Vec<AddressPool>, ContainerError> {
    let config = crate::config::Config::load(&containers.paths.config_file)
        .map_err(|e| ContainerError::Invalid(e.to_string()))?;
    config
        .network
        .default_address_pools
        .iter()
        .map(|p| AddressPool::parse(&p.base, p.size))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ContainerError::Invalid(format!("{}: {e}", containers.paths.config_file.display()))
        })
}

/// Whether a network of that name exists (for create-time checks).
pub fn network_exists(state_root: &Path, name: &str) -> bool {
    stack_net::store::Store::open(state_root)
        .and_then(|s| s.networks())
        .is_ok_and(|all| all.iter().any(|n| n.name == name))
}

/// What a start made, so a failure later in the start can undo it.
#[derive(Debug, Default)]
pub struct Connected {
    made_netns: Option<PathBuf>,
}

/// Sets up the container's networking before its start and records the
/// namespace to use in its spec. On error nothing made by this call stays.
pub fn connect(
    containers: &Containers,
    record: &mut ContainerRecord,
) -> Result<Connected, ContainerError> {
    let Some(request) = NetworkRequest::load(record.dir.path())? else {
        return Ok(Connected::default());
    };
    let namespace = match &request.mode {
        RequestedMode::None => NetworkNamespace::Private,
        RequestedMode::Host => {
            etc_files::write_host(record, &request)?;
            NetworkNamespace::Host
        }
        RequestedMode::Container(other) => {
            let other = containers.find(other)?;
            let path = netns_path(&containers.run_dir, &other.spec.id)?;
            let path = if path.exists() {
                path
            } else if let Some(pid) = other.state.pid.filter(|_| other.state.container_alive()) {
                PathBuf::from(format!("/proc/{pid}/ns/net"))
            } else {
                return Err(ContainerError::Invalid(format!(
                    "network mode container:{}: that container is not running",
                    other.spec.name
                )));
            };
            etc_files::copy_from(record, &other)?;
            NetworkNamespace::Join { path }
        }
        RequestedMode::Networks(joins) => {
            let path = netns_path(&containers.run_dir, &record.spec.id)?;
            let made = !path.exists();
            if made {
                stack_net::netns::create(&path)?;
            }
            let attached = attach(containers, record, &request, joins, &path);
            match attached {
                Ok(networking) => {
                    if let Err(err) = etc_files::write_attached(record, &request, &networking) {
                        rollback(containers, record, made.then_some(&path));
                        return Err(err);
                    }
                }
                Err(err) => {
                    rollback(containers, record, made.then_some(&path));
                    return Err(err);
                }
            }
            record.spec.network = NetworkNamespace::Join { path: path.clone() };
            if record.spec.auto_remove {
                record.spec.on_removal = release_command(containers, &record.spec.id)?;
            }
            record.spec.save(&record.dir)?;
            return Ok(Connected {
                made_netns: made.then_some(path),
            });
        }
    };
    record.spec.network = namespace;
    record.spec.save(&record.dir)?;
    Ok(Connected::default())
}

/// Undoes a [`connect`] whose start failed afterwards.
pub fn undo(containers: &Containers, record: &ContainerRecord, connected: Connected) {
    if let Some(path) = connected.made_netns {
        rollback(containers, record, Some(&path));
    }
}

fn rollback(containers: &Containers, record: &ContainerRecord, made: Option<&PathBuf>) {
    let Some(path) = made else { return };
    let _ = release(&containers.state_root, &containers.run_dir, &record.spec.id);
    let _ = stack_net::netns::remove(path);
}

fn attach(
    containers: &Containers,
    record: &ContainerRecord,
    request: &NetworkRequest,
    joins: &[JoinRecord],
    netns: &Path,
) -> Result<ContainerNetworking, ContainerError> {
    let mut session = Session::open(
        &containers.state_root,
        &containers.run_dir,
        pools(containers)?,
    )?;
    if joins.iter().any(|j| j.network == DEFAULT_NETWORK) {
        ensure_default_network(&session)?;
    }
    let spec = &record.spec;
    let attach = AttachRequest {
        container_id: spec.id.clone(),
        netns: netns.to_path_buf(),
        attachments: joins
            .iter()
            .map(|j| {
                let mut names = vec![spec.name.clone(), spec.id[..12].to_string()];
                names.extend(j.aliases.iter().cloned());
                if spec.hostname != spec.id[..12] && !names.contains(&spec.hostname) {
                    names.push(spec.hostname.clone());
                }
                Attachment {
                    network: j.network.clone(),
                    ipv4_address: j.ipv4_address,
                    names,
                }
            })
            .collect(),
        ports: request.ports.clone(),
    };
    let networking = session.block_on(session.manager.attach(&attach))?;
    // After the attachment is recorded: an idle resolver that is about to
    // exit re-reads the records under the lock and then stays.
    if let Err(err) = session.ensure_resolver() {
        let _ = session.block_on(session.manager.release(&spec.id));
        return Err(err);
    }
    session.notify_resolver();
    for endpoint in &networking.endpoints {
        admin::endpoint_event(
            &containers.state_root,
            "connect",
            &endpoint.network,
            &spec.id,
        );
    }
    Ok(networking)
}

/// Makes the default network when it does not exist yet.
pub fn ensure_default_network(session: &Session) -> Result<(), ContainerError> {
    if session.manager.network(DEFAULT_NETWORK).is_ok() {
        return Ok(());
    }
    let spec = NetworkSpec {
        name: DEFAULT_NETWORK.into(),
        standalone: true,
        ..Default::default()
    };
    session.block_on(session.manager.create_network(&spec))?;
    admin::network_event(session.state_root(), "create", DEFAULT_NETWORK);
    Ok(())
}

/// Releases a container's endpoints and removes its namespace file.
/// Idempotent: a container that never had networks costs one directory read.
pub fn release(
    state_root: &Path,
    run_dir: &Path,
    container_id: &str,
) -> Result<(), ContainerError> {
    let path = netns_path(run_dir, container_id)?;
    let attached = stack_net::store::Store::open(state_root)
        .and_then(|s| s.containers())
        .ok()
        .and_then(|all| all.into_iter().find(|c| c.container_id == container_id));
    let mut first_error = None;
    if let Some(record) = attached {
        let released = Session::open(state_root, run_dir, Vec::new()).and_then(|session| {
            session.block_on(session.manager.release(container_id))?;
            session.notify_resolver();
            Ok(())
        });
        first_error = released.err();
        for endpoint in &record.endpoints {
            admin::endpoint_event(state_root, "disconnect", &endpoint.network, container_id);
        }
    }
    if let Err(err) = stack_net::netns::remove(&path) {
        first_error.get_or_insert(err.into());
    }
    first_error.map_or(Ok(()), Err)
}

/// The `on_removal` command of an auto-removed container.
fn release_command(containers: &Containers, id: &str) -> Result<Vec<String>, ContainerError> {
    let exe = std::env::current_exe().map_err(|source| ContainerError::Io {
        context: "locate the stack binary".into(),
        source,
    })?;
    Ok(vec![
        exe.display().to_string(),
        RELEASE_MODE.into(),
        containers.state_root.display().to_string(),
        containers.run_dir.display().to_string(),
        id.to_string(),
    ])
}

/// Entry of the release hidden mode: `<state root> <run dir> <id>`.
pub fn release_main(state_root: &Path, run_dir: &Path, id: &str) -> i32 {
    match release(state_root, run_dir, id) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("stack: release networking of {id}: {err}");
            1
        }
    }
}
