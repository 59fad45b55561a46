//! Every endpoint of Docker's Engine API (as of API 1.44) and what
//! answers it: a route of this module tree, or a 501 naming it.

use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};

use super::error::DockerError;
use super::{
    archive, attach, build, containers, df, events, exec, images, logs, objects, prune, stats,
    system,
};
use crate::routes::AppState;

/// One endpoint: method and Docker's path template (axum's syntax; an
/// image name, which may hold slashes, is matched by `/images/{*name}`
/// and told apart by its last segment in [`images::by_name`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub built: bool,
}

type Route = (Method, &'static str, MethodRouter<AppState>);

/// The endpoints stack serves.
fn built() -> Vec<Route> {
    use axum::routing::{delete, get, post};
    vec![
        (Method::GET, "/_ping", get(system::ping)),
        (Method::HEAD, "/_ping", on(MethodFilter::HEAD, system::ping)),
        (Method::GET, "/version", get(system::version)),
        (Method::GET, "/info", get(system::info)),
        (Method::GET, "/events", get(events::events)),
        (Method::GET, "/containers/json", get(containers::list)),
        (Method::POST, "/containers/create", post(containers::create)),
        (
            Method::GET,
            "/containers/{id}/json",
            get(containers::inspect),
        ),
        (Method::GET, "/containers/{id}/top", get(containers::top)),
        (Method::GET, "/containers/{id}/logs", get(logs::logs)),
        (
            Method::POST,
            "/containers/{id}/start",
            post(containers::start),
        ),
        (
            Method::POST,
            "/containers/{id}/stop",
            post(containers::stop),
        ),
        (
            Method::POST,
            "/containers/{id}/restart",
            post(containers::restart),
        ),
        (
            Method::POST,
            "/containers/{id}/kill",
            post(containers::kill),
        ),
        (
            Method::POST,
            "/containers/{id}/pause",
            post(containers::pause),
        ),
        (
            Method::POST,
            "/containers/{id}/unpause",
            post(containers::unpause),
        ),
        (
            Method::POST,
            "/containers/{id}/update",
            post(containers::update),
        ),
        (
            Method::POST,
            "/containers/{id}/wait",
            post(containers::wait),
        ),
        (
            Method::DELETE,
            "/containers/{id}",
            delete(containers::remove),
        ),
        (
            Method::POST,
            "/containers/{id}/rename",
            post(containers::rename),
        ),
        (Method::GET, "/containers/{id}/stats", get(stats::stats)),
        (Method::GET, "/containers/{id}/archive", get(archive::get)),
        (
            Method::HEAD,
            "/containers/{id}/archive",
            on(MethodFilter::HEAD, archive::stat),
        ),
        (
            Method::PUT,
            "/containers/{id}/archive",
            axum::routing::put(archive::put),
        ),
        (Method::GET, "/containers/{id}/export", get(archive::export)),
        (
            Method::GET,
            "/containers/{id}/changes",
            get(archive::changes),
        ),
        (Method::GET, "/system/df", get(df::disk_usage)),
        // stack has no plugins: the list is empty and none is found (so
        // `docker inspect X` ends with Docker's `No such object`).
        (Method::GET, "/plugins", get(system::plugins)),
        (Method::GET, "/plugins/{name}/json", get(system::plugin)),
        (
            Method::POST,
            "/containers/{id}/attach",
            post(attach::attach),
        ),
        (Method::POST, "/containers/{id}/exec", post(exec::create)),
        (Method::POST, "/exec/{id}/start", post(exec::start)),
        (Method::POST, "/exec/{id}/resize", post(exec::resize)),
        (Method::GET, "/exec/{id}/json", get(exec::inspect)),
        (Method::GET, "/images/json", get(images::list)),
        (Method::POST, "/images/create", post(images::create)),
        (Method::POST, "/build", post(build::build)),
        (Method::POST, "/build/prune", post(prune::build_cache)),
        (Method::POST, "/containers/prune", post(prune::containers)),
        (Method::POST, "/images/prune", post(prune::images)),
        (Method::POST, "/networks/prune", post(prune::networks)),
        (Method::POST, "/volumes/prune", post(prune::volumes)),
        (Method::GET, "/images/{*name}", get(images::by_name)),
        (Method::POST, "/images/{*name}", post(images::by_name)),
        (Method::DELETE, "/images/{*name}", delete(images::by_name)),
        (Method::GET, "/networks", get(objects::networks)),
        (Method::GET, "/networks/{id}", get(objects::network)),
        (
            Method::POST,
            "/networks/create",
            post(objects::create_network),
        ),
        (
            Method::DELETE,
            "/networks/{id}",
            delete(objects::remove_network),
        ),
        (
            Method::POST,
            "/networks/{id}/connect",
            post(objects::connect),
        ),
        (
            Method::POST,
            "/networks/{id}/disconnect",
            post(objects::disconnect),
        ),
        (Method::GET, "/volumes", get(objects::volumes)),
        (
            Method::POST,
            "/volumes/create",
            post(objects::create_volume),
        ),
        (Method::GET, "/volumes/{name}", get(objects::volume)),
        (
            Method::DELETE,
            "/volumes/{name}",
            delete(objects::remove_volume),
        ),
    ]
}

/// Docker's endpoints stack does not serve yet: each answers 501.
const NOT_BUILT: &[(&str, &str)] = &[
    ("POST", "/auth"),
    ("POST", "/session"),
    ("GET", "/distribution/{name}/json"),
    ("POST", "/containers/{id}/resize"),
    ("GET", "/containers/{id}/attach/ws"),
    ("POST", "/commit"),
    ("GET", "/images/search"),
    ("GET", "/images/get"),
    ("POST", "/images/load"),
    ("PUT", "/volumes/{name}"),
    ("GET", "/swarm"),
    ("POST", "/swarm/init"),
    ("POST", "/swarm/join"),
    ("POST", "/swarm/leave"),
    ("POST", "/swarm/update"),
    ("GET", "/swarm/unlockkey"),
    ("POST", "/swarm/unlock"),
    ("GET", "/nodes"),
    ("GET", "/nodes/{id}"),
    ("DELETE", "/nodes/{id}"),
    ("POST", "/nodes/{id}/update"),
    ("GET", "/services"),
    ("POST", "/services/create"),
    ("GET", "/services/{id}"),
    ("DELETE", "/services/{id}"),
    ("POST", "/services/{id}/update"),
    ("GET", "/services/{id}/logs"),
    ("GET", "/tasks"),
    ("GET", "/tasks/{id}"),
    ("GET", "/tasks/{id}/logs"),
    ("GET", "/secrets"),
    ("POST", "/secrets/create"),
    ("GET", "/secrets/{id}"),
    ("DELETE", "/secrets/{id}"),
    ("POST", "/secrets/{id}/update"),
    ("GET", "/configs"),
    ("POST", "/configs/create"),
    ("GET", "/configs/{id}"),
    ("DELETE", "/configs/{id}"),
    ("POST", "/configs/{id}/update"),
    ("GET", "/plugins/privileges"),
    ("POST", "/plugins/pull"),
    ("DELETE", "/plugins/{name}"),
    ("POST", "/plugins/{name}/enable"),
    ("POST", "/plugins/{name}/disable"),
    ("POST", "/plugins/{name}/upgrade"),
    ("POST", "/plugins/create"),
    ("POST", "/plugins/{name}/push"),
    ("POST", "/plugins/{name}/set"),
];

fn filter_of(method: &Method) -> MethodFilter {
    MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET)
}

/// Every endpoint, built or not.
pub fn endpoints() -> Vec<Endpoint> {
    let mut all: Vec<Endpoint> = built()
        .into_iter()
        .map(|(method, path, _)| Endpoint {
            method,
            path,
            built: true,
        })
        .collect();
    all.extend(NOT_BUILT.iter().filter_map(|(m, path)| {
        Some(Endpoint {
            method: m.parse().ok()?,
            path,
            built: false,
        })
    }));
    all
}

/// `(path, handler)` pairs for the router; axum merges the methods of one
/// path.
pub fn method_routers() -> Vec<(&'static str, MethodRouter<AppState>)> {
    let mut routes: Vec<(&'static str, MethodRouter<AppState>)> = built()
        .into_iter()
        .map(|(_, path, handler)| (path, handler))
        .collect();
    for (method, path) in NOT_BUILT {
        let Ok(m) = method.parse::<Method>() else {
            continue;
        };
        let handler = on(filter_of(&m), move || async move {
            DockerError::not_implemented(method, path)
        });
        routes.push((path, handler));
    }
    routes
}
