//! Every route of the API, written once. The daemon's router declares its
//! routes with the templates (`{param}` is both axum's and OpenAPI's
//! syntax); the client builds concrete paths with the functions, which
//! fill the same templates with a percent-encoded value. A path changed
//! here changes on both sides at once.
//!
//! Query strings (`?all=true`) are not part of a route; callers append
//! them to the built path.

/// `GET`: whether the daemon serves.
pub const PING: &str = "/v1/_ping";
/// `GET`: the daemon's version.
pub const VERSION: &str = "/v1/version";
/// `GET`: the event log as NDJSON.
pub const EVENTS: &str = "/v1/events";

/// `GET`: the container list.
pub const CONTAINERS: &str = "/v1/containers";
/// `GET` (inspect), `DELETE` (remove).
pub const CONTAINER: &str = "/v1/containers/{id}";
pub const CONTAINER_LOGS: &str = "/v1/containers/{id}/logs";
pub const CONTAINER_START: &str = "/v1/containers/{id}/start";
pub const CONTAINER_STOP: &str = "/v1/containers/{id}/stop";
pub const CONTAINER_RESTART: &str = "/v1/containers/{id}/restart";
pub const CONTAINER_KILL: &str = "/v1/containers/{id}/kill";
pub const CONTAINER_PAUSE: &str = "/v1/containers/{id}/pause";
pub const CONTAINER_UNPAUSE: &str = "/v1/containers/{id}/unpause";
pub const CONTAINER_UPDATE: &str = "/v1/containers/{id}/update";
/// A command run to completion.
pub const CONTAINER_EXEC: &str = "/v1/containers/{id}/exec";
/// A command with attached streams over an upgraded connection.
pub const CONTAINER_EXEC_STREAM: &str = "/v1/containers/{id}/exec/stream";

/// `GET`: the local images.
pub const IMAGES: &str = "/v1/images";
pub const IMAGES_PULL: &str = "/v1/images/pull";
pub const IMAGES_PRUNE: &str = "/v1/images/prune";
/// `DELETE`: one image, by reference.
pub const IMAGE: &str = "/v1/images/{name}";

/// `GET` (list), `POST` (create).
pub const NETWORKS: &str = "/v1/networks";
pub const NETWORKS_PRUNE: &str = "/v1/networks/prune";
/// `GET` (inspect), `DELETE` (remove).
pub const NETWORK: &str = "/v1/networks/{name}";
/// `GET` (list), `POST` (create).
pub const VOLUMES: &str = "/v1/volumes";
pub const VOLUMES_PRUNE: &str = "/v1/volumes/prune";
/// `GET` (inspect), `DELETE` (remove).
pub const VOLUME: &str = "/v1/volumes/{name}";

/// `GET`: the projects with containers.
pub const PROJECTS: &str = "/v1/projects";
pub const PROJECT_PLAN: &str = "/v1/projects/{name}/plan";
pub const PROJECT_UP: &str = "/v1/projects/{name}/up";
pub const PROJECT_DOWN: &str = "/v1/projects/{name}/down";
/// `GET`: a project's containers (`ps`).
pub const PROJECT_CONTAINERS: &str = "/v1/projects/{name}/containers";
pub const PROJECT_START: &str = "/v1/projects/{name}/start";
pub const PROJECT_STOP: &str = "/v1/projects/{name}/stop";
pub const PROJECT_RESTART: &str = "/v1/projects/{name}/restart";
pub const PROJECT_KILL: &str = "/v1/projects/{name}/kill";
pub const PROJECT_PAUSE: &str = "/v1/projects/{name}/pause";
pub const PROJECT_UNPAUSE: &str = "/v1/projects/{name}/unpause";
pub const PROJECT_RM: &str = "/v1/projects/{name}/rm";

/// `template` with its one `{param}` replaced by `value`, percent-encoded
/// (ids, names and image references may carry `/`, `:` or spaces). A
/// template without a placeholder comes back as it is.
pub fn fill(template: &str, value: &str) -> String {
    match (template.find('{'), template.find('}')) {
        (Some(open), Some(close)) if open < close => {
            format!(
                "{}{}{}",
                &template[..open],
                encode(value),
                &template[close + 1..]
            )
        }
        _ => template.to_string(),
    }
}

/// Percent-encodes a path segment or query value (image references carry
/// `/` and `:`).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn container(id: &str) -> String {
    fill(CONTAINER, id)
}

pub fn container_logs(id: &str) -> String {
    fill(CONTAINER_LOGS, id)
}

pub fn container_start(id: &str) -> String {
    fill(CONTAINER_START, id)
}

pub fn container_stop(id: &str) -> String {
    fill(CONTAINER_STOP, id)
}

pub fn container_restart(id: &str) -> String {
    fill(CONTAINER_RESTART, id)
}

pub fn container_kill(id: &str) -> String {
    fill(CONTAINER_KILL, id)
}

pub fn container_pause(id: &str) -> String {
    fill(CONTAINER_PAUSE, id)
}

pub fn container_unpause(id: &str) -> String {
    fill(CONTAINER_UNPAUSE, id)
}

pub fn container_update(id: &str) -> String {
    fill(CONTAINER_UPDATE, id)
}

pub fn container_exec(id: &str) -> String {
    fill(CONTAINER_EXEC, id)
}

pub fn container_exec_stream(id: &str) -> String {
    fill(CONTAINER_EXEC_STREAM, id)
}

pub fn image(name: &str) -> String {
    fill(IMAGE, name)
}

pub fn network(name: &str) -> String {
    fill(NETWORK, name)
}

pub fn volume(name: &str) -> String {
    fill(VOLUME, name)
}

pub fn project_plan(name: &str) -> String {
    fill(PROJECT_PLAN, name)
}

pub fn project_up(name: &str) -> String {
    fill(PROJECT_UP, name)
}

pub fn project_down(name: &str) -> String {
    fill(PROJECT_DOWN, name)
}

pub fn project_containers(name: &str) -> String {
    fill(PROJECT_CONTAINERS, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value that needs encoding, and its encoding.
    const RAW: &str = "127.0.0.1:5000/my app";
    const ENCODED: &str = "127.0.0.1%3A5000%2Fmy%20app";

    type Builder = fn(&str) -> String;

    /// Every builder with its template and the placeholder it fills.
    fn builders() -> Vec<(&'static str, &'static str, Builder)> {
        vec![
            (CONTAINER, "{id}", container),
            (CONTAINER_LOGS, "{id}", container_logs),
            (CONTAINER_START, "{id}", container_start),
            (CONTAINER_STOP, "{id}", container_stop),
            (CONTAINER_RESTART, "{id}", container_restart),
            (CONTAINER_KILL, "{id}", container_kill),
            (CONTAINER_PAUSE, "{id}", container_pause),
            (CONTAINER_UNPAUSE, "{id}", container_unpause),
            (CONTAINER_UPDATE, "{id}", container_update),
            (CONTAINER_EXEC, "{id}", container_exec),
            (CONTAINER_EXEC_STREAM, "{id}", container_exec_stream),
            (IMAGE, "{name}", image),
            (NETWORK, "{name}", network),
            (VOLUME, "{name}", volume),
            (PROJECT_PLAN, "{name}", project_plan),
            (PROJECT_UP, "{name}", project_up),
            (PROJECT_DOWN, "{name}", project_down),
            (PROJECT_CONTAINERS, "{name}", project_containers),
        ]
    }

    #[test]
    fn each_builder_fills_its_template() {
        for (template, placeholder, build) in builders() {
            assert_eq!(template.matches('{').count(), 1, "{template}");
            assert_eq!(
                build(RAW),
                template.replace(placeholder, ENCODED),
                "{template}"
            );
        }
        for action in crate::project_actions::ProjectAction::ALL {
            let template = action.path_template();
            assert_eq!(action.path(RAW), template.replace("{name}", ENCODED));
        }
    }

    #[test]
    fn fixed_paths_have_no_placeholder() {
        for path in [
            PING,
            VERSION,
            EVENTS,
            CONTAINERS,
            IMAGES,
            IMAGES_PULL,
            IMAGES_PRUNE,
            NETWORKS,
            NETWORKS_PRUNE,
            VOLUMES,
            VOLUMES_PRUNE,
            PROJECTS,
        ] {
            assert!(path.starts_with("/v1/") && !path.contains('{'), "{path}");
            assert_eq!(fill(path, "x"), path);
        }
    }

    #[test]
    fn encodes_references() {
        assert_eq!(
            encode("127.0.0.1:5000/busybox:1"),
            "127.0.0.1%3A5000%2Fbusybox%3A1"
        );
        assert_eq!(encode("label=a=b"), "label%3Da%3Db");
    }
}
