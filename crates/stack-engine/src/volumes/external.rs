//! `up` refuses a stack file whose `external: true` volumes do not exist,
//! naming them, instead of quietly making empty ones.

use std::collections::BTreeSet;
use std::path::Path;

use stack_spec::model::{MountType, Project};

use super::{volume_dir, VolumeError};

/// Checks the external volumes the project's services mount.
pub fn require_external(state_root: &Path, project: &Project) -> Result<(), VolumeError> {
    let used: BTreeSet<&str> = project
        .services
        .values()
        .flat_map(|s| s.volumes.iter())
        .filter(|v| v.kind == MountType::Volume)
        .filter_map(|v| v.source.as_deref())
        .collect();
    let missing: Vec<String> = project
        .volumes
        .iter()
        .filter(|(key, vol)| vol.external && used.contains(key.as_str()))
        .map(|(_, vol)| vol.name.clone())
        .filter(|name| !volume_dir(state_root, name).is_ok_and(|d| d.join("_data").is_dir()))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(VolumeError::MissingExternal { names: missing })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stack_spec::model::{Service, ServiceVolume, Volume};

    fn project(external: &[(&str, &str)], mounted: &[&str]) -> Project {
        let mut p = Project::default();
        for (key, name) in external {
            p.volumes.insert(
                key.to_string(),
                Volume {
                    name: name.to_string(),
                    external: true,
                    ..Default::default()
                },
            );
        }
        let mut s = Service::default();
        for key in mounted {
            let v: ServiceVolume = serde_json::from_value(serde_json::json!({
                "type": "volume", "source": key, "target": format!("/{key}")
            }))
            .expect("service volume");
            s.volumes.push(v);
        }
        p.services.insert("app".into(), s);
        p
    }

    #[test]
    fn missing_external_volumes_are_named_and_unused_ones_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = project(
            &[("a", "team-a"), ("b", "team-b"), ("c", "team-c")],
            &["a", "b"],
        );
        let err = require_external(dir.path(), &p).expect_err("missing");
        assert_eq!(
            err.to_string(),
            "external volumes team-a, team-b not found: create them with \
             `stack volume create NAME` first"
        );
        std::fs::create_dir_all(dir.path().join("volumes/team-a/_data")).expect("a");
        let err = require_external(dir.path(), &p).expect_err("b missing");
        assert!(
            err.to_string()
                .starts_with("external volume team-b not found"),
            "{err}"
        );
        std::fs::create_dir_all(dir.path().join("volumes/team-b/_data")).expect("b");
        require_external(dir.path(), &p).expect("both there; c is not mounted");
    }
}
