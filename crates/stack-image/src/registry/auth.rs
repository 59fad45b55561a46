//! Registry authentication: `WWW-Authenticate` challenges, the bearer-token
//! exchange Docker Hub uses (anonymous or with credentials), basic auth,
//! and credentials from Docker's `config.json` `auths`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::settings::Credentials;

/// What a 401 asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` header value.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let (scheme, params) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let params = parse_params(params);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        }),
        _ => None,
    }
}

/// `key="value",key2=value2` with commas allowed inside quotes.
fn parse_params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        out.insert(key, value.to_string());
        rest = after.trim_start_matches([',', ' ']);
    }
    out
}

/// A bearer token and when to stop using it.
#[derive(Debug, Clone)]
pub struct Token {
    pub value: String,
    pub expires: Instant,
}

/// The body of a token endpoint's answer.
#[derive(Debug, serde::Deserialize)]
pub struct TokenResponse {
    pub token: Option<String>,
    pub access_token: Option<String>,
    pub expires_in: Option<u64>,
}

impl TokenResponse {
    pub fn into_token(self) -> Option<Token> {
        let value = self.token.or(self.access_token)?;
        // A little early, so a token never expires mid-request.
        let lifetime = self.expires_in.unwrap_or(60).max(10) - 5;
        Some(Token {
            value,
            expires: Instant::now() + Duration::from_secs(lifetime),
        })
    }
}

/// `Basic <base64(user:password)>`.
pub fn basic_header(c: &Credentials) -> String {
    let raw = format!("{}:{}", c.username, c.password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Credentials for `host` from a Docker `config.json` (`auths.<host>.auth`
/// is base64 of `user:password`; `https://index.docker.io/v1/` is Docker
/// Hub's key). Credential helpers are not run.
pub fn docker_config_credentials(path: &Path, host: &str) -> Option<Credentials> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let auths = json.get("auths")?.as_object()?;
    let keys: Vec<String> = if host == crate::reference::DOCKER_HUB {
        vec![
            "https://index.docker.io/v1/".into(),
            "index.docker.io".into(),
            "docker.io".into(),
            "registry-1.docker.io".into(),
        ]
    } else {
        vec![
            host.into(),
            format!("https://{host}"),
            format!("http://{host}"),
        ]
    };
    for key in keys {
        let Some(entry) = auths.get(&key) else {
            continue;
        };
        if let Some(auth) = entry.get("auth").and_then(|a| a.as_str()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth)
                .ok()?;
            let decoded = String::from_utf8(decoded).ok()?;
            let (username, password) = decoded.split_once(':')?;
            return Some(Credentials {
                username: username.into(),
                password: password.into(),
            });
        }
        if let (Some(u), Some(p)) = (
            entry.get("username").and_then(|v| v.as_str()),
            entry.get("password").and_then(|v| v.as_str()),
        ) {
            return Some(Credentials {
                username: u.into(),
                password: p.into(),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_hub_challenge() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull,push""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/redis:pull,push".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="basic-realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn reads_docker_config_auths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths":{"127.0.0.1:5001":{"auth":"dGVzdHVzZXI6dGVzdHBhc3M="},
                "https://index.docker.io/v1/":{"auth":"aHViOnNlY3JldA=="}}}"#,
        )
        .expect("write");
        let c = docker_config_credentials(&path, "127.0.0.1:5001").expect("creds");
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("testuser", "testpass")
        );
        let c = docker_config_credentials(&path, "docker.io").expect("hub creds");
        assert_eq!(c.username, "hub");
        assert!(docker_config_credentials(&path, "quay.io").is_none());
    }
}
