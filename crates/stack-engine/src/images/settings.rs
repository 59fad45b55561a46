//! Config file -> image crate settings.

use std::time::Duration;

use stack_image::settings::{Credentials, Timeouts};
use stack_image::RegistrySettings;

use crate::config::Config;

/// Docker's `registry-mirrors` apply to docker.io only (as in Docker);
/// `[registries."host"] mirrors` add mirrors for any registry, after them.
pub fn registry_settings(config: &Config) -> RegistrySettings {
    let mut settings = RegistrySettings {
        max_concurrent_downloads: config.max_concurrent_downloads,
        max_concurrent_uploads: config.max_concurrent_uploads,
        insecure: config.insecure_registries.clone(),
        timeouts: Timeouts {
            idle: Duration::from_secs(config.registry_idle_timeout),
            request: Duration::from_secs(config.registry_request_timeout),
            download: Duration::from_secs(config.registry_download_timeout),
            upload: Duration::from_secs(config.registry_upload_timeout),
        },
        ..RegistrySettings::default()
    };
    if !config.registry_mirrors.is_empty() {
        settings
            .mirrors
            .insert("docker.io".into(), config.registry_mirrors.clone());
    }
    for (host, registry) in &config.registries {
        if !registry.mirrors.is_empty() {
            settings
                .mirrors
                .entry(host.clone())
                .or_default()
                .extend(registry.mirrors.iter().cloned());
        }
        if registry.insecure {
            settings.insecure.push(host.clone());
        }
        if let Some(ca) = &registry.ca_file {
            settings.ca_files.insert(host.clone(), ca.clone());
        }
        if let Some(auth) = &registry.auth {
            settings.credentials.insert(
                host.clone(),
                Credentials {
                    username: auth.username.clone(),
                    password: auth.password.clone(),
                },
            );
        }
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn maps_docker_keys_and_registry_sections() {
        let config = Config::parse(
            Path::new("c.toml"),
            r#"registry-mirrors = ["http://127.0.0.1:5000"]
insecure-registries = ["10.0.0.0/8"]
max-concurrent-downloads = 5
max-concurrent-uploads = 2
registry-idle-timeout = 2
registry-upload-timeout = 60
[registries."docker.io"]
mirrors = ["http://127.0.0.1:5001"]
[registries."quay.io"]
mirrors = ["https://quay-mirror.example"]
insecure = true
auth = { username = "u", password = "p" }
"#,
        )
        .expect("valid config");
        let s = registry_settings(&config);
        let hub: Vec<_> = s
            .endpoints("docker.io")
            .into_iter()
            .map(|e| e.base_url)
            .collect();
        assert_eq!(
            hub,
            [
                "http://127.0.0.1:5000",
                "http://127.0.0.1:5001",
                "https://registry-1.docker.io"
            ]
        );
        assert_eq!(s.max_concurrent_downloads, 5);
        assert_eq!(s.max_concurrent_uploads, 2);
        assert_eq!(s.timeouts.upload, Duration::from_secs(60));
        assert_eq!(s.timeouts.idle, Duration::from_secs(2));
        assert_eq!(s.timeouts.download, Duration::from_secs(3600));
        assert!(s.is_insecure("quay.io") && s.is_insecure("10.2.3.4:5000"));
        assert_eq!(
            s.credentials.get("quay.io").map(|c| c.username.as_str()),
            Some("u")
        );
        assert_eq!(s.endpoints("quay.io").len(), 2);
    }
}
