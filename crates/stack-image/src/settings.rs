//! What the registry client needs to know about this host: mirrors,
//! insecure registries, credentials, CA files, concurrency, platform.
//! The engine fills this from its config file; the crate never reads it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::platform::Platform;
use crate::reference::{DOCKER_HUB, DOCKER_HUB_API};

/// A username and password (or identity token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Registry settings for pulls.
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    /// Mirrors per registry host (`docker.io` for Docker's `registry-mirrors`),
    /// tried in order before the registry itself.
    pub mirrors: BTreeMap<String, Vec<String>>,
    /// Hosts (`host` or `host:port`) or CIDRs reached over plain HTTP.
    pub insecure: Vec<String>,
    /// Credentials from stack's config, per registry host.
    pub credentials: BTreeMap<String, Credentials>,
    /// Docker's `config.json` (its `auths` are used when stack's config
    /// has no credentials for a host).
    pub docker_config: Option<PathBuf>,
    /// Extra CA certificates (PEM) per registry host.
    pub ca_files: BTreeMap<String, PathBuf>,
    /// Layers fetched at once per pull.
    pub max_concurrent_downloads: usize,
    /// Blobs sent at once per push (Docker's `max-concurrent-uploads`).
    pub max_concurrent_uploads: usize,
    /// The platform picked from multi-arch images.
    pub platform: Platform,
    /// Time limits of every request to a registry.
    pub timeouts: Timeouts,
}

/// Time limits of registry requests. A registry that stops sending, or
/// sends one byte now and then, must not hang a pull: each request ends
/// after `idle` without a byte, and after its total deadline whatever it
/// is doing. A timed-out mirror falls through to the next source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest wait for the next byte (response head or body).
    pub idle: Duration,
    /// Whole-request deadline for manifests, tokens and error bodies.
    pub request: Duration,
    /// Whole-request deadline for one blob download request; generous,
    /// since layers can be gigabytes on a slow link.
    pub download: Duration,
    /// Whole-request deadline for one blob upload, as generous for the
    /// same reason.
    pub upload: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            idle: Duration::from_secs(30),
            request: Duration::from_secs(120),
            download: Duration::from_secs(3600),
            upload: Duration::from_secs(3600),
        }
    }
}

impl Default for RegistrySettings {
    fn default() -> Self {
        RegistrySettings {
            mirrors: BTreeMap::new(),
            insecure: Vec::new(),
            credentials: BTreeMap::new(),
            docker_config: std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".docker/config.json")),
            ca_files: BTreeMap::new(),
            max_concurrent_downloads: 3,
            max_concurrent_uploads: 5,
            platform: Platform::host(),
            timeouts: Timeouts::default(),
        }
    }
}

/// One place to fetch an image from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `scheme://host[:port]`, no trailing slash.
    pub base_url: String,
    /// The host as keyed in settings (credentials, CA).
    pub host: String,
    pub is_mirror: bool,
}

impl RegistrySettings {
    /// The sources for `registry`, in the order they are tried: its
    /// mirrors, then the registry itself.
    pub fn endpoints(&self, registry: &str) -> Vec<Endpoint> {
        let mut out = Vec::new();
        for mirror in self.mirrors.get(registry).into_iter().flatten() {
            let trimmed = mirror.trim_end_matches('/');
            let (base_url, host) = match trimmed.split_once("://") {
                Some((_, host)) => (trimmed.to_string(), host.to_string()),
                None => (
                    format!("{}://{trimmed}", self.scheme_for(trimmed)),
                    trimmed.to_string(),
                ),
            };
            out.push(Endpoint {
                base_url,
                host,
                is_mirror: true,
            });
        }
        out.push(self.origin(registry));
        out
    }

    /// Where pushes to `registry` go: the registry itself. Mirrors serve
    /// pulls only; a push to one would put an image where nobody asked.
    pub fn push_endpoint(&self, registry: &str) -> Endpoint {
        self.origin(registry)
    }

    /// The registry itself (Docker Hub's API host for `docker.io`).
    fn origin(&self, registry: &str) -> Endpoint {
        let api_host = if registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            registry
        };
        Endpoint {
            base_url: format!("{}://{api_host}", self.scheme_for(registry)),
            host: registry.to_string(),
            is_mirror: false,
        }
    }

    /// `http` for loopback and insecure registries (Docker treats
    /// 127.0.0.0/8 as insecure by default), `https` otherwise.
    pub fn scheme_for(&self, host_port: &str) -> &'static str {
        if self.is_insecure(host_port) {
            "http"
        } else {
            "https"
        }
    }

    /// Whether plain HTTP is used for this host: loopback always (as
    /// Docker does), others when listed.
    pub fn is_insecure(&self, host_port: &str) -> bool {
        let host = strip_port(host_port);
        let ip: Option<IpAddr> = host.trim_matches(['[', ']']).parse().ok();
        host == "localhost"
            || ip.is_some_and(|ip| ip.is_loopback())
            || self.is_listed_insecure(host_port)
    }

    /// Whether the config names this host as insecure; only then is an
    /// HTTPS certificate accepted unverified (loopback over HTTPS is
    /// verified like any other host).
    pub fn is_listed_insecure(&self, host_port: &str) -> bool {
        let host = strip_port(host_port);
        let ip: Option<IpAddr> = host.trim_matches(['[', ']']).parse().ok();
        self.insecure.iter().any(|entry| {
            entry == host_port || entry == host || ip.is_some_and(|ip| cidr_contains(entry, ip))
        })
    }
}

fn strip_port(host_port: &str) -> &str {
    if let Some(rest) = host_port.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !host.contains(':') => {
            host
        }
        _ => host_port,
    }
}

fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let Some((net, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_mirrors_come_first_then_origin() {
        let mut s = RegistrySettings::default();
        s.mirrors.insert(
            "docker.io".into(),
            vec!["http://127.0.0.1:5000".into(), "mirror.example".into()],
        );
        let e = s.endpoints("docker.io");
        let urls: Vec<_> = e.iter().map(|e| e.base_url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://127.0.0.1:5000",
                "https://mirror.example",
                "https://registry-1.docker.io"
            ]
        );
        assert!(e[0].is_mirror && !e[2].is_mirror);
        assert_eq!(s.endpoints("quay.io").len(), 1);
        let push = s.push_endpoint("docker.io");
        assert_eq!(push.base_url, "https://registry-1.docker.io");
        assert!(!push.is_mirror);
        assert_eq!(
            s.push_endpoint("127.0.0.1:5000").base_url,
            "http://127.0.0.1:5000"
        );
    }

    #[test]
    fn insecure_rules() {
        let s = RegistrySettings {
            insecure: vec!["10.0.0.0/8".into(), "reg.local:5000".into()],
            ..RegistrySettings::default()
        };
        assert!(s.is_insecure("127.0.0.1:5000"));
        assert!(s.is_insecure("[::1]:5000"));
        assert!(s.is_insecure("10.1.2.3:443"));
        assert!(s.is_insecure("reg.local:5000"));
        assert!(!s.is_insecure("reg.local:5001"));
        assert!(!s.is_insecure("quay.io"));
        assert_eq!(s.scheme_for("quay.io"), "https");
    }
}
