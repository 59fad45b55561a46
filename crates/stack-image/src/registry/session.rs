//! Talking to one endpoint about one repository: authentication (basic or
//! bearer, re-authenticating on 401), manifests with digest checks.

use std::time::{Duration, Instant};

use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE,
};
use reqwest::{Method, Response, StatusCode};
use tokio::sync::Mutex;

use super::auth::{self, Challenge, Token, TokenResponse};
use super::deadline::{connect_error, read_body, read_prefix, Deadline, Origin};
use super::{MANIFEST_ACCEPT, MAX_ERROR_BODY_BYTES, MAX_MANIFEST_BYTES, MAX_TOKEN_BYTES};
use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::settings::{Credentials, Endpoint, Timeouts};

/// How requests to this endpoint are authorized right now.
#[derive(Debug, Clone)]
enum AuthState {
    None,
    Basic,
    Bearer(Token),
}

/// A client for one repository on one endpoint.
pub struct Session {
    pub(crate) http: reqwest::Client,
    pub endpoint: Endpoint,
    pub repository: String,
    credentials: Option<Credentials>,
    state: Mutex<AuthState>,
    pub(crate) timeouts: Timeouts,
    /// Whether tokens must also grant `push` on the repository.
    push: bool,
}

/// Makes the body of one attempt of a request: a streamed body cannot be
/// sent twice, so a request answered 401 gets a fresh one.
pub(crate) type MakeBody<'a> = &'a (dyn Fn() -> Result<reqwest::Body> + Send + Sync);

/// A manifest (or index) exactly as served.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub bytes: Vec<u8>,
    pub digest: Digest,
    pub media_type: String,
}

impl Session {
    /// This source, as the errors of the size and time limits name it.
    pub(crate) fn origin(&self) -> Origin<'_> {
        Origin {
            registry: &self.endpoint.base_url,
            repository: &self.repository,
        }
    }

    pub fn new(
        http: reqwest::Client,
        endpoint: Endpoint,
        repository: &str,
        credentials: Option<Credentials>,
        timeouts: Timeouts,
    ) -> Session {
        Session {
            http,
            endpoint,
            repository: repository.to_string(),
            credentials,
            state: Mutex::new(AuthState::None),
            timeouts,
            push: false,
        }
    }

    /// The same session asking for push access: bearer tokens are
    /// requested with `pull,push` scope on the repository from the first
    /// request on, as Docker does, rather than upgraded on the first
    /// refused upload.
    pub fn for_push(mut self) -> Session {
        self.push = true;
        self
    }

    pub fn url(&self, tail: &str) -> String {
        format!("{}/v2/{}/{tail}", self.endpoint.base_url, self.repository)
    }

    /// Sends a request, answering one 401 by authenticating as the
    /// challenge asks (a fresh token also covers expiry and
    /// `insufficient_scope`) and sending again. Waiting for the answer
    /// counts against `deadline`; `what` names the request in errors.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        headers: HeaderMap,
        deadline: &Deadline,
        what: &str,
    ) -> Result<Response> {
        self.send_body(method, url, headers, None, deadline, what)
            .await
    }

    /// [`Session::send`] with a body made afresh for each attempt.
    pub(crate) async fn send_body(
        &self,
        method: Method,
        url: &str,
        headers: HeaderMap,
        body: Option<MakeBody<'_>>,
        deadline: &Deadline,
        what: &str,
    ) -> Result<Response> {
        for attempt in 0..2 {
            let mut request = self
                .http
                .request(method.clone(), url)
                .headers(headers.clone());
            if let Some(make) = body {
                request = request.body(make()?);
            }
            // Credentials go to the endpoint only: an upload `Location`
            // naming another host gets the request without them.
            if same_origin(url, &self.endpoint.base_url) {
                if let Some(value) = self.authorization().await {
                    request = request.header(AUTHORIZATION, value);
                }
            }
            let response = deadline
                .wait(&self.origin(), what, request.send())
                .await?
                .map_err(|e| connect_error(url, &e))?;
            if response.status() != StatusCode::UNAUTHORIZED || attempt == 1 {
                return Ok(response);
            }
            let challenge = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .and_then(auth::parse_challenge);
            match challenge {
                Some(Challenge::Basic) if self.credentials.is_some() => {
                    *self.state.lock().await = AuthState::Basic;
                }
                Some(Challenge::Bearer {
                    realm,
                    service,
                    scope,
                }) => {
                    let token = self.fetch_token(&realm, service, scope, deadline).await?;
                    *self.state.lock().await = AuthState::Bearer(token);
                }
                _ => return Ok(response),
            }
        }
        Err(ImageError::Registry {
            url: url.to_string(),
            message: "authentication loop".into(),
        })
    }

    async fn authorization(&self) -> Option<HeaderValue> {
        let state = self.state.lock().await;
        let value = match &*state {
            AuthState::None => return None,
            AuthState::Basic => auth::basic_header(self.credentials.as_ref()?),
            AuthState::Bearer(token) if token.expires > Instant::now() => {
                format!("Bearer {}", token.value)
            }
            AuthState::Bearer(_) => return None,
        };
        HeaderValue::from_str(&value).ok()
    }

    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<String>,
        scope: Option<String>,
        deadline: &Deadline,
    ) -> Result<Token> {
        let mut query: Vec<(&str, String)> = token_scopes(&self.repository, self.push, scope)
            .into_iter()
            .map(|scope| ("scope", scope))
            .collect();
        if let Some(service) = service {
            query.push(("service", service));
        }
        let mut request = self.http.get(realm).query(&query);
        if let Some(c) = &self.credentials {
            request = request.basic_auth(&c.username, Some(&c.password));
        }
        let what = format!("token from {realm}");
        let response = deadline
            .wait(&self.origin(), &what, request.send())
            .await?
            .map_err(|e| connect_error(realm, &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(ImageError::Unauthorized {
                url: realm.to_string(),
                status: status.as_u16(),
                detail: ": the token server refused".into(),
            });
        }
        let body = read_body(&self.origin(), response, MAX_TOKEN_BYTES, &what, deadline).await?;
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|source| ImageError::Json {
                what: format!("token from {realm}"),
                source,
            })?;
        parsed.into_token().ok_or_else(|| ImageError::Registry {
            url: realm.to_string(),
            message: "token response has neither token nor access_token".into(),
        })
    }

    /// Fetches a manifest or index by tag or digest, keeping the exact
    /// bytes and checking them against the digest asked for and the
    /// registry's `Docker-Content-Digest`.
    pub async fn manifest(&self, reference: &str) -> Result<Manifest> {
        let url = self.url(&format!("manifests/{reference}"));
        let what = format!("manifest {reference}");
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
        // Each attempt has its own deadline, which also covers the body.
        let (response, deadline) = retry_transient(|| async {
            let deadline = Deadline::request(&self.timeouts);
            let response = self
                .send(Method::GET, &url, headers.clone(), &deadline, &what)
                .await?;
            Ok((response, deadline))
        })
        .await?;
        let response = self.check_status(&url, response, &deadline).await?;
        let media_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let announced = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v).ok());
        let bytes = read_body(
            &self.origin(),
            response,
            MAX_MANIFEST_BYTES,
            &what,
            &deadline,
        )
        .await?;
        let digest = Digest::of(&bytes);
        let expected = Digest::parse(reference).ok().or(announced);
        if let Some(expected) = expected {
            if expected != digest {
                return Err(ImageError::DigestMismatch {
                    what: url,
                    expected: expected.to_string(),
                    actual: digest.to_string(),
                });
            }
        }
        Ok(Manifest {
            bytes,
            digest,
            media_type,
        })
    }
}

impl Session {
    /// Turns an error status into the matching error; passes success
    /// through. The start of the error body (within its limit and the
    /// request's deadline) gives the registry's message. The status is
    /// the answer: a body that is long (a proxy's HTML page), stalls or
    /// breaks only loses the message, it never replaces the status.
    pub(crate) async fn check_status(
        &self,
        url: &str,
        response: Response,
        deadline: &Deadline,
    ) -> Result<Response> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let what = format!("error body of HTTP {status} from {url}");
        let body = read_prefix(
            &self.origin(),
            response,
            MAX_ERROR_BODY_BYTES,
            &what,
            deadline,
        )
        .await
        .unwrap_or_default();
        Err(status_error(url, status, &String::from_utf8_lossy(&body)))
    }
}

pub(crate) fn status_error(url: &str, status: StatusCode, body: &str) -> ImageError {
    let detail = registry_error_detail(body);
    match status {
        StatusCode::NOT_FOUND => ImageError::NotFound {
            url: url.to_string(),
            detail,
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ImageError::Unauthorized {
            url: url.to_string(),
            status: status.as_u16(),
            detail,
        },
        _ => ImageError::Registry {
            url: url.to_string(),
            message: format!("HTTP {status}{detail}"),
        },
    }
}

/// The scopes to ask a token server for: what the challenge named (a
/// cross-repository mount also needs pull on the source repository) and,
/// for a push, `pull,push` on the repository; pull alone otherwise.
fn token_scopes(repository: &str, push: bool, challenge: Option<String>) -> Vec<String> {
    let own = if push {
        format!("repository:{repository}:pull,push")
    } else {
        format!("repository:{repository}:pull")
    };
    let mut scopes: Vec<String> = challenge
        .iter()
        .flat_map(|c| c.split(' '))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let own_prefix = format!("repository:{repository}:");
    if push {
        // The challenge may ask for the repository with less than push.
        scopes.retain(|s| !s.starts_with(&own_prefix));
    }
    if scopes.is_empty() || push {
        scopes.push(own);
    }
    scopes
}

/// `: CODE message` from a distribution error body, if it has one.
fn registry_error_detail(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let first = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(|e| e.get(0));
    match first {
        Some(e) => format!(
            ": {} {}",
            e.get("code").and_then(|c| c.as_str()).unwrap_or_default(),
            e.get("message")
                .and_then(|c| c.as_str())
                .unwrap_or_default()
        ),
        None => String::new(),
    }
}

/// Retries 5xx answers and timeouts with a short backoff. A refused
/// connection is not retried: the next source is a better bet.
pub(crate) async fn retry_transient<F, Fut, T>(mut op: F) -> Result<(Response, T)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(Response, T)>>,
{
    let mut delay = Duration::from_millis(100);
    for _ in 0..2 {
        match op().await {
            Ok((r, _))
                if r.status().is_server_error() || r.status() == StatusCode::TOO_MANY_REQUESTS => {}
            other => return other,
        }
        tokio::time::sleep(delay).await;
        delay *= 4;
    }
    op().await
}

/// Whether `url` has the scheme, host and port of `base`.
fn same_origin(url: &str, base: &str) -> bool {
    match (reqwest::Url::parse(url), reqwest::Url::parse(base)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::token_scopes;

    #[test]
    fn push_sessions_ask_for_pull_and_push() {
        assert_eq!(
            token_scopes("team/app", false, None),
            ["repository:team/app:pull"]
        );
        assert_eq!(
            token_scopes("team/app", true, Some("repository:team/app:pull".into())),
            ["repository:team/app:pull,push"]
        );
        // A mount names the source repository too; both are kept.
        assert_eq!(
            token_scopes(
                "team/app",
                true,
                Some("repository:team/base:pull repository:team/app:pull,push".into())
            ),
            ["repository:team/base:pull", "repository:team/app:pull,push"]
        );
        assert_eq!(
            token_scopes("x", false, Some("repository:x:pull".into())),
            ["repository:x:pull"]
        );
    }
}
