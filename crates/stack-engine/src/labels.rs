//! The labels a project's containers carry. They are Compose's own names,
//! so tools that read Docker's labels understand stack's containers, and
//! every verb finds a project's containers from the containers themselves
//! (the store may be behind after a crash; a container's spec never is).

use std::collections::BTreeMap;

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
/// The replica number, 1-based, stable across recreations.
pub const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
/// `"True"` on containers of `stack run SERVICE`.
pub const ONEOFF: &str = "com.docker.compose.oneoff";
/// The stack files the project was brought up from, comma-separated.
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";

/// What a container's labels say it is part of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership<'a> {
    pub project: &'a str,
    pub service: &'a str,
    pub number: Option<u32>,
    pub oneoff: bool,
}

/// Reads a container's project membership; `None` for containers of
/// plain `stack run IMAGE`.
pub fn membership(labels: &BTreeMap<String, String>) -> Option<Membership<'_>> {
    Some(Membership {
        project: labels.get(PROJECT)?,
        service: labels.get(SERVICE)?,
        number: labels.get(CONTAINER_NUMBER).and_then(|n| n.parse().ok()),
        oneoff: labels
            .get(ONEOFF)
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_membership_and_ignores_plain_containers() {
        let mut labels = BTreeMap::new();
        assert_eq!(membership(&labels), None);
        labels.insert(PROJECT.to_string(), "shop".to_string());
        labels.insert(SERVICE.to_string(), "web".to_string());
        labels.insert(CONTAINER_NUMBER.to_string(), "2".to_string());
        let m = membership(&labels).expect("member");
        assert_eq!(
            (m.project, m.service, m.number, m.oneoff),
            ("shop", "web", Some(2), false)
        );
    }
}
