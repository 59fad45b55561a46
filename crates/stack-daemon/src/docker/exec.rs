//! Docker's exec: `POST /containers/{id}/exec` records an exec instance,
//! `POST /exec/{id}/start` runs it on the hijacked connection (as
//! [`super::attach`] upgrades it: multiplexed frames without a tty, raw
//! with one; the client's raw input is the command's stdin), `GET
//! /exec/{id}/json` tells its state and exit code (the docker CLI asks
//! once the stream ends), `POST /exec/{id}/resize` sizes its pty. The
//! command runs through the same session as the native API's attached
//! exec ([`crate::exec_stream::session`]).

use axum::extract::{Path, Request, State};
use axum::http::header::UPGRADE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::json;

use super::error::{blocking, DockerError};
use super::exec_registry::{Exec, ExecSpec, Hooks};
use super::extract::{J, Q};
use crate::exec_stream::session;
use crate::exec_stream::wire::{ExecHooks, Wire};
use crate::routes::AppState;
use stack_api::exec_stream::ExecStreamRequest;

/// The largest `start` body accepted.
const MAX_BODY: usize = 1 << 16;
/// The exit code of an exec whose command could not be started.
const CANNOT_START: i32 = 126;

/// Docker's ExecConfig.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecConfig {
    #[serde(default)]
    attach_stdin: bool,
    #[serde(default)]
    attach_stdout: bool,
    #[serde(default)]
    attach_stderr: bool,
    #[serde(default)]
    detach_keys: Option<String>,
    #[serde(default)]
    tty: bool,
    #[serde(default)]
    console_size: Option<Vec<u16>>,
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default)]
    privileged: bool,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    working_dir: Option<String>,
}

impl ExecConfig {
    /// The native request it asks for, or what stack refuses.
    fn request(self) -> Result<ExecStreamRequest, DockerError> {
        if self.privileged {
            return Err(DockerError::bad_request(
                "exec: Privileged is not supported by stack",
            ));
        }
        if self.detach_keys.as_deref().is_some_and(|k| !k.is_empty()) {
            return Err(DockerError::bad_request(
                "exec: DetachKeys is not supported by stack",
            ));
        }
        let cmd = self.cmd.unwrap_or_default();
        if cmd.is_empty() {
            return Err(DockerError::bad_request("No exec command specified"));
        }
        let (rows, cols) = match self.console_size.as_deref() {
            Some([h, w]) if *h > 0 && *w > 0 => (Some(*h), Some(*w)),
            _ => (None, None),
        };
        let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
        Ok(ExecStreamRequest {
            cmd,
            env: self.env.unwrap_or_default(),
            user: non_empty(self.user),
            workdir: non_empty(self.working_dir),
            tty: self.tty,
            stdin: self.attach_stdin,
            rows,
            cols,
        })
    }
}

pub async fn create(
    State(s): State<AppState>,
    Path(id): Path<String>,
    J(config): J<ExecConfig>,
) -> Result<Response, DockerError> {
    let (attach_stdout, attach_stderr) = (config.attach_stdout, config.attach_stderr);
    let request = config.request()?;
    // The container is checked now (404, 409 when not running): the
    // command is built and dropped; start builds it again.
    let engine = s.engine.clone();
    let key = id.clone();
    let probe = ExecStreamRequest {
        tty: false,
        ..request.clone()
    };
    let name = blocking(move || {
        // Docker's words, with the container's id, for a paused one.
        let found = engine
            .docker_inspect(&key)
            .map_err(|e| DockerError::or_no_such(e, "container", &key))?;
        if found.state.paused {
            return Err(DockerError::new(
                axum::http::StatusCode::CONFLICT,
                format!(
                    "Container {} is paused, unpause the container before exec",
                    found.id
                ),
            ));
        }
        engine
            .exec_target(&key, &probe)
            .map(|target| target.name)
            .map_err(|e| DockerError::or_no_such(e, "container", &key))
    })
    .await?;
    let exec = s
        .execs
        .add(ExecSpec {
            container: id,
            container_name: name,
            request,
            attach_stdout,
            attach_stderr,
        })
        .map_err(|e| DockerError::internal(format!("exec id: {e}")))?;
    Ok((StatusCode::CREATED, Json(json!({ "Id": exec.id }))).into_response())
}

/// The body of `POST /exec/{id}/start`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartConfig {
    #[serde(default)]
    detach: bool,
    #[serde(default)]
    tty: bool,
}

fn find(s: &AppState, id: &str) -> Result<std::sync::Arc<Exec>, DockerError> {
    s.execs.get(id).ok_or_else(|| {
        DockerError::new(
            StatusCode::NOT_FOUND,
            format!("No such exec instance: {id}"),
        )
    })
}

pub async fn start(
    State(s): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, DockerError> {
    let (mut parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|e| DockerError::bad_request(format!("request body: {e}")))?;
    let start: StartConfig = if bytes.iter().all(u8::is_ascii_whitespace) {
        StartConfig::default()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| DockerError::bad_request(format!("invalid JSON body: {e}")))?
    };
    let exec = find(&s, &id)?;
    let mut req = exec.spec.request.clone();
    req.tty = req.tty || start.tty;
    let upgrade = parts
        .headers
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("tcp"));
    if !start.detach && !upgrade {
        return Err(DockerError::bad_request(
            "exec start needs the headers `Connection: Upgrade` and `Upgrade: tcp`",
        ));
    }
    if !exec.claim() {
        return Err(DockerError::new(
            StatusCode::CONFLICT,
            format!("exec {} has already been started", exec.id),
        ));
    }
    let engine = s.engine.clone();
    let key = exec.spec.container.clone();
    let prepared = req.clone();
    let attached = blocking(move || {
        crate::exec_ops::attached_exec(&engine, &key, &prepared).map_err(|e| {
            let mut e = DockerError::from(e);
            if e.status == StatusCode::NOT_FOUND {
                e.message = format!("No such container: {key}");
            }
            e
        })
    })
    .await;
    let attached = match attached {
        Ok(a) => a,
        Err(e) => {
            // Never ran: it ends here, so the client's inspect is not left
            // waiting on a running exec.
            Hooks(exec.clone()).exited(CANNOT_START);
            return Err(e);
        }
    };
    let wire = Wire::Docker {
        tty: req.tty,
        stdout: exec.spec.attach_stdout,
        stderr: exec.spec.attach_stderr,
        hooks: Box::new(Hooks(exec.clone())),
    };
    tracing::info!(exec = %exec.id, container = %exec.spec.container, cmd = ?req.cmd, tty = req.tty, "docker exec");
    if start.detach {
        let (ours, mut theirs) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            // Output nobody reads: drained until the session ends.
            let _ = tokio::io::copy(&mut theirs, &mut tokio::io::sink()).await;
        });
        tokio::spawn(session::run_on(ours, attached, wire));
        return Ok(StatusCode::OK.into_response());
    }
    let on_upgrade = parts
        .extensions
        .remove::<hyper::upgrade::OnUpgrade>()
        .ok_or_else(|| DockerError::bad_request("this connection cannot be upgraded"))?;
    let hooks = Hooks(exec.clone());
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => session::run_on(TokioIo::new(upgraded), attached, wire).await,
            Err(err) => {
                tracing::warn!(%err, "docker exec: upgrade failed");
                hooks.exited(CANNOT_START);
            }
        }
    });
    super::attach::switching_protocols(req.tty)
}

pub async fn inspect(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, DockerError> {
    let exec = find(&s, &id)?;
    let spec = &exec.spec;
    let state = exec.state();
    let cmd = &spec.request.cmd;
    let body = json!({
        "ID": exec.id,
        "Running": state.running,
        "ExitCode": state.exit_code,
        "ProcessConfig": {
            "entrypoint": cmd.first().cloned().unwrap_or_default(),
            "arguments": cmd.iter().skip(1).collect::<Vec<_>>(),
            "tty": spec.request.tty,
            "user": spec.request.user.clone().unwrap_or_default(),
            "privileged": false,
        },
        "OpenStdin": spec.request.stdin,
        "OpenStderr": spec.attach_stderr,
        "OpenStdout": spec.attach_stdout,
        "CanRemove": false,
        "ContainerID": spec.container_name,
        "DetachKeys": "",
        "Pid": state.pid,
    });
    Ok(Json(body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ResizeQuery {
    h: u16,
    w: u16,
}

pub async fn resize(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<ResizeQuery>,
) -> Result<Response, DockerError> {
    let exec = find(&s, &id)?;
    if !exec.spec.request.tty {
        return Err(DockerError::bad_request(format!(
            "exec {} has no tty to resize",
            exec.id
        )));
    }
    if !exec.resize(q.h, q.w) {
        return Err(DockerError::new(
            StatusCode::CONFLICT,
            format!("exec {} is not running", exec.id),
        ));
    }
    Ok(StatusCode::OK.into_response())
}
