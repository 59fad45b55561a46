//! The host configuration file, `/etc/stack/config.toml` (or `STACK_CONFIG`).
//!
//! Keys follow Docker's `daemon.json` where Docker has one
//! (`registry-mirrors`, `insecure-registries`, `max-concurrent-downloads`,
//! `max-concurrent-uploads`),
//! so users can carry their settings over. Unknown keys are errors: a typo
//! must never silently fall back to a default. Each error names the file,
//! line and column.

mod network;
mod registry;
mod runtime;

use std::path::{Path, PathBuf};

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;

pub use network::{AddressPool, NetworkConfig};
pub use registry::{RegistryConfig, RegistryCredentials};
pub use runtime::RuntimeConfig;

/// Everything the config file can say. Every section has a default, so a
/// missing file is the same as an empty one.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Mirrors for docker.io, tried in order before the origin.
    #[serde(default)]
    pub registry_mirrors: Vec<String>,
    /// Registries (host or host:port, or a CIDR) reached over plain HTTP or
    /// with unverified TLS.
    #[serde(default)]
    pub insecure_registries: Vec<String>,
    /// Layers fetched at once per pull.
    #[serde(default = "default_concurrent_downloads")]
    pub max_concurrent_downloads: usize,
    /// Blobs sent at once per push.
    #[serde(default = "default_concurrent_uploads")]
    pub max_concurrent_uploads: usize,
    /// Seconds a registry may send nothing (no response head, no body
    /// byte) before the request fails and the next source is tried.
    #[serde(default = "default_registry_idle_timeout")]
    pub registry_idle_timeout: u64,
    /// Seconds one manifest, token or other small registry request may
    /// take in all, however steadily the bytes trickle in.
    #[serde(default = "default_registry_request_timeout")]
    pub registry_request_timeout: u64,
    /// Seconds one blob (layer) download request may take in all.
    #[serde(default = "default_registry_download_timeout")]
    pub registry_download_timeout: u64,
    /// Seconds one blob upload request of a push may take in all.
    #[serde(default = "default_registry_download_timeout")]
    pub registry_upload_timeout: u64,
    /// Seconds the daemon waits for a complete request head, counted from
    /// the connection's start or the end of the previous answer; a peer
    /// that sends nothing, or half a request, is disconnected then.
    #[serde(default = "default_api_header_read_timeout")]
    pub api_header_read_timeout: u64,
    /// Per-registry settings, keyed by registry host (`quay.io`, `127.0.0.1:5000`).
    #[serde(default)]
    pub registries: std::collections::BTreeMap<String, RegistryConfig>,
    #[serde(default)]
    pub network: NetworkConfig,
    #[serde(default)]
    pub runtime: RuntimeConfig,
}

fn default_concurrent_downloads() -> usize {
    3
}

fn default_concurrent_uploads() -> usize {
    5
}

fn default_registry_idle_timeout() -> u64 {
    30
}

fn default_registry_request_timeout() -> u64 {
    120
}

fn default_registry_download_timeout() -> u64 {
    3600
}

fn default_api_header_read_timeout() -> u64 {
    10
}

impl Default for Config {
    fn default() -> Self {
        Config {
            registry_mirrors: Vec::new(),
            insecure_registries: Vec::new(),
            max_concurrent_downloads: default_concurrent_downloads(),
            max_concurrent_uploads: default_concurrent_uploads(),
            registry_idle_timeout: default_registry_idle_timeout(),
            registry_request_timeout: default_registry_request_timeout(),
            registry_download_timeout: default_registry_download_timeout(),
            registry_upload_timeout: default_registry_download_timeout(),
            api_header_read_timeout: default_api_header_read_timeout(),
            registries: Default::default(),
            network: NetworkConfig::default(),
            runtime: RuntimeConfig::default(),
        }
    }
}

/// A config file that could not be read or understood.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    #[diagnostic(code(stack::config::read))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    #[diagnostic(code(stack::config::invalid))]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        #[source_code]
        source_code: std::sync::Arc<NamedSource<String>>,
        #[label("here")]
        span: Option<SourceSpan>,
    },
    #[error("{path}: {problem}")]
    #[diagnostic(code(stack::config::invalid))]
    Semantic {
        path: PathBuf,
        #[source]
        problem: ConfigProblem,
    },
}

/// A config file that parses but whose values cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigProblem {
    #[error("max-concurrent-downloads must be at least 1")]
    NoDownloads,
    #[error("max-concurrent-uploads must be at least 1")]
    NoUploads,
    #[error("{0} must be at least 1 (seconds)")]
    ZeroTimeout(&'static str),
    #[error(transparent)]
    Pool(#[from] stack_net::PoolError),
}

impl Config {
    /// Reads the config file at `path`. A missing file gives the defaults;
    /// any other read error, a syntax error or an unknown key is an error.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(path, &text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses config text; `path` only names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|err| {
            let span = err.span();
            let (line, column) = span
                .as_ref()
                .map(|s| line_and_column(text, s.start))
                .unwrap_or((1, 1));
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message: err.message().trim().to_string(),
                source_code: std::sync::Arc::new(NamedSource::new(
                    path.display().to_string(),
                    text.to_string(),
                )),
                span: span.map(|s| SourceSpan::from(s.start..s.end.max(s.start + 1))),
            }
        })?;
        config.validate().map_err(|problem| ConfigError::Semantic {
            path: path.to_path_buf(),
            problem,
        })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigProblem> {
        if self.max_concurrent_downloads == 0 {
            return Err(ConfigProblem::NoDownloads);
        }
        if self.max_concurrent_uploads == 0 {
            return Err(ConfigProblem::NoUploads);
        }
        for (key, value) in [
            ("registry-idle-timeout", self.registry_idle_timeout),
            ("registry-request-timeout", self.registry_request_timeout),
            ("registry-download-timeout", self.registry_download_timeout),
            ("registry-upload-timeout", self.registry_upload_timeout),
            ("api-header-read-timeout", self.api_header_read_timeout),
        ] {
            if value == 0 {
                return Err(ConfigProblem::ZeroTimeout(key));
            }
        }
        Ok(self.network.validate()?)
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults() {
        let c = Config::load(Path::new("/nonexistent/stack/config.toml")).expect("defaults");
        assert_eq!(c, Config::default());
        assert_eq!(
            c,
            Config::parse(Path::new("empty.toml"), "").expect("empty")
        );
        assert_eq!(c.max_concurrent_downloads, 3);
    }

    #[test]
    fn docker_keys_parse() {
        let c = Config::parse(
            Path::new("c.toml"),
            "registry-mirrors = [\"http://127.0.0.1:5000\"]\ninsecure-registries = [\"127.0.0.1:5000\"]\n",
        )
        .expect("valid");
        assert_eq!(c.registry_mirrors, vec!["http://127.0.0.1:5000"]);
        assert_eq!(c.insecure_registries, vec!["127.0.0.1:5000"]);
        assert_eq!(c.max_concurrent_downloads, 3);
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let err = Config::parse(Path::new("c.toml"), "\n\nregistry-mirror = []\n")
            .expect_err("unknown key");
        match err {
            ConfigError::Invalid {
                line,
                column,
                message,
                ..
            } => {
                assert_eq!((line, column), (3, 1));
                assert!(message.contains("registry-mirror"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn syntax_error_is_located() {
        let err = Config::parse(
            Path::new("c.toml"),
            "registry-mirrors = [\n  \"a\",\n  oops\n]\n",
        )
        .expect_err("bad toml");
        let text = err.to_string();
        assert!(text.starts_with("c.toml:3:"), "{text}");
    }

    #[test]
    fn timeouts_default_and_parse() {
        let c = Config::default();
        assert_eq!(
            (
                c.registry_idle_timeout,
                c.registry_request_timeout,
                c.registry_download_timeout,
                c.api_header_read_timeout
            ),
            (30, 120, 3600, 10)
        );
        let c = Config::parse(
            Path::new("c.toml"),
            "registry-idle-timeout = 2\nregistry-download-timeout = 7200\napi-header-read-timeout = 1\n",
        )
        .expect("valid");
        assert_eq!(c.registry_idle_timeout, 2);
        assert_eq!(c.registry_download_timeout, 7200);
        assert_eq!(c.api_header_read_timeout, 1);
        let err =
            Config::parse(Path::new("c.toml"), "registry-request-timeout = 0\n").expect_err("zero");
        assert!(
            err.to_string().contains("registry-request-timeout"),
            "{err}"
        );
    }

    #[test]
    fn zero_downloads_rejected() {
        let err =
            Config::parse(Path::new("c.toml"), "max-concurrent-downloads = 0\n").expect_err("zero");
        assert!(err.to_string().contains("max-concurrent-downloads"));
    }

    #[test]
    fn hostile_address_pools_rejected() {
        for (base, size) in [
            ("0.0.0.0/0", 24),
            ("127.0.0.0/8", 24),
            ("169.254.0.0/16", 24),
            ("224.0.0.0/4", 24),
            ("10.0.0.0/8", 31),
        ] {
            let text = format!(
                "[network]\ndefault-address-pools = [{{ base = \"{base}\", size = {size} }}]\n"
            );
            let err = Config::parse(Path::new("c.toml"), &text).expect_err(base);
            let msg = err.to_string();
            assert!(
                msg.contains("c.toml") && msg.contains(base),
                "{base}: {msg}"
            );
        }
        let ok = "[network]\ndefault-address-pools = [{ base = \"10.90.0.0/16\", size = 24 }]\n";
        Config::parse(Path::new("c.toml"), ok).expect("a private pool");
    }
}
