//! The per-service configuration hash, basis of recreation decisions: a
//! change to anything that shapes the container changes it; scaling,
//! dependencies, profiles and pull policy do not (as in Compose).

use sha2::{Digest, Sha256};

use crate::model::Service;

impl Service {
    /// Hex SHA-256 of the normalized service as canonical (sorted) JSON,
    /// with `build`, `pull_policy`, `scale`, `deploy.replicas`, `depends_on`
    /// and `profiles` blanked.
    pub fn config_hash(&self) -> String {
        let mut blanked = self.clone();
        blanked.build = None;
        blanked.pull_policy = None;
        blanked.scale = None;
        blanked.depends_on.clear();
        blanked.profiles.clear();
        if let Some(deploy) = blanked.deploy.as_mut() {
            deploy.replicas = None;
        }
        // serde_json::Value keeps object keys sorted: the bytes are canonical.
        let canonical = serde_json::to_value(&blanked)
            .map(|v| v.to_string())
            .unwrap_or_default();
        let digest = Sha256::digest(canonical.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Dependency, DependencyCondition, Service};

    #[test]
    fn hash_ignores_scale_and_dependencies_but_not_image() {
        let base = Service {
            image: Some("redis:7".into()),
            ..Service::default()
        };
        let mut scaled = base.clone();
        scaled.scale = Some(3);
        scaled.profiles = vec!["debug".into()];
        scaled.depends_on.insert(
            "db".into(),
            Dependency {
                condition: DependencyCondition::ServiceHealthy,
                restart: true,
                required: true,
            },
        );
        assert_eq!(base.config_hash(), scaled.config_hash());
        let mut other = base.clone();
        other.image = Some("redis:8".into());
        assert_ne!(base.config_hash(), other.config_hash());
        assert_eq!(base.config_hash().len(), 64);
    }
}
