//! What every conversation with an endpoint starts from, for pulls and
//! pushes alike: an HTTP client that trusts the configured CA (or, for a
//! listed insecure registry, any certificate), and the credentials for
//! the host.

use std::time::Duration;

use super::auth;
use crate::error::{ImageError, Result};
use crate::settings::{Credentials, Endpoint, RegistrySettings};

/// An HTTP client for `endpoint` under `settings`.
pub(crate) fn http_client(
    settings: &RegistrySettings,
    endpoint: &Endpoint,
) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("stack/", env!("CARGO_PKG_VERSION")))
        // Idle and total limits are applied per request (see
        // `registry::deadline`), so their errors can say which.
        .connect_timeout(Duration::from_secs(5));
    if let Some(ca) = settings.ca_files.get(&endpoint.host) {
        let pem = std::fs::read(ca).map_err(|e| ImageError::io(ca, e))?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| ImageError::Registry {
            url: endpoint.base_url.clone(),
            message: format!("CA file {}: {e}", ca.display()),
        })?;
        builder = builder.add_root_certificate(cert);
    }
    if settings.is_listed_insecure(&endpoint.host) {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| ImageError::Registry {
        url: endpoint.base_url.clone(),
        message: format!("HTTP client: {e}"),
    })
}

/// Credentials for `host`: stack's config first, then Docker's
/// `config.json`.
pub(crate) fn credentials(settings: &RegistrySettings, host: &str) -> Option<Credentials> {
    settings.credentials.get(host).cloned().or_else(|| {
        let path = settings.docker_config.as_ref()?;
        auth::docker_config_credentials(path, host)
    })
}
