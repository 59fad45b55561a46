//! `[registries."host"]` sections: per-registry mirrors, TLS and credentials.

use std::path::PathBuf;

use serde::Deserialize;

/// Settings for one registry host.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RegistryConfig {
    /// Mirrors tried in order before this registry itself.
    #[serde(default)]
    pub mirrors: Vec<String>,
    /// Plain HTTP (or TLS without verification) for this registry.
    #[serde(default)]
    pub insecure: bool,
    /// Extra CA certificate (PEM) trusted for this registry.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Credentials; `~/.docker/config.json` `auths` is consulted as well.
    #[serde(default)]
    pub auth: Option<RegistryCredentials>,
}

/// A username and password (or token) for basic auth or token exchange.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryCredentials {
    pub username: String,
    pub password: String,
}
