//! `GET /containers/{id}/logs`: the container's log as Docker's clients
//! read it. Without a tty each record is a frame (an 8-byte header: the
//! stream, 1 stdout or 2 stderr, three zero bytes, the length as a
//! big-endian u32; then the bytes); with a tty the bytes come as they are.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use stack_api::system::LogRecord;
use stack_engine::facade::containers::LogOptions;

use super::error::{blocking, DockerError};
use super::extract::{flag, Q};
use crate::routes::AppState;

#[derive(Debug, Deserialize)]
pub struct LogsQuery {
    #[serde(default, deserialize_with = "flag")]
    follow: bool,
    #[serde(default, deserialize_with = "flag")]
    stdout: bool,
    #[serde(default, deserialize_with = "flag")]
    stderr: bool,
    #[serde(default, deserialize_with = "flag")]
    timestamps: bool,
    /// `all` or a number of records.
    #[serde(default)]
    tail: Option<String>,
    /// Unix seconds, fractions allowed; 0 is no bound.
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
    /// Docker 1.42's `details` (the log driver's attributes): stack's
    /// json-file log has none.
    #[serde(default, deserialize_with = "flag")]
    details: bool,
}

/// A Unix time in seconds (`1700000000`, `1700000000.5`); 0 or empty is
/// no bound.
fn unix_time(
    field: &str,
    text: Option<&str>,
) -> Result<Option<std::time::SystemTime>, DockerError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let secs: f64 = text.parse().map_err(|_| {
        DockerError::bad_request(format!("{field} {text:?}: expected Unix seconds"))
    })?;
    if secs <= 0.0 {
        return Ok(None);
    }
    let at = std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| DockerError::bad_request(format!("{field} {text:?} is out of range")))?;
    Ok(Some(std::time::UNIX_EPOCH + at))
}

/// One frame of Docker's multiplexed stream.
pub fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.push(stream);
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

pub async fn logs(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<LogsQuery>,
) -> Result<Response, DockerError> {
    if !q.stdout && !q.stderr {
        return Err(DockerError::bad_request(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    if q.details {
        return Err(DockerError::bad_request(
            "details: stack's json-file logs have no details",
        ));
    }
    let tail = match q.tail.as_deref() {
        None | Some("") | Some("all") => None,
        Some(n) => match n.parse::<i64>() {
            Ok(n) if n < 0 => None,
            Ok(n) => Some(n as usize),
            Err(_) => {
                return Err(DockerError::bad_request(format!(
                    "tail {n:?}: expected a number or all"
                )))
            }
        },
    };
    let options = LogOptions {
        follow: q.follow,
        tail,
        since: unix_time("since", q.since.as_deref())?,
        until: unix_time("until", q.until.as_deref())?,
    };
    let engine = s.engine.clone();
    let key = id.clone();
    let (source, tty) = blocking(move || {
        let no_such = |e| DockerError::or_no_such(e, "container", &key);
        let tty = engine.docker_inspect(&key).map_err(no_such)?.config.tty;
        let source = engine.log_source(&key).map_err(no_such)?;
        Ok((source, tty))
    })
    .await?;
    let content_type = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    let (chunks, response) = super::stream::bytes(content_type);
    let (stdout, stderr, timestamps) = (q.stdout, q.stderr, q.timestamps);
    tokio::task::spawn_blocking(move || {
        let emit = |record: &LogRecord| {
            let stream = match record.stream.as_str() {
                "stderr" if stderr => 2,
                "stdout" if stdout => 1,
                _ => return !chunks.closed(),
            };
            let mut payload = Vec::with_capacity(record.log.len() + 32);
            if timestamps {
                payload.extend_from_slice(record.time.as_bytes());
                payload.push(b' ');
            }
            payload.extend_from_slice(record.log.as_bytes());
            if tty {
                chunks.send(payload)
            } else {
                chunks.send(frame(stream, &payload))
            }
        };
        if let Err(err) = source.read_with(&options, emit) {
            tracing::warn!(%err, "read log");
        }
    });
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_the_stream_and_the_length() {
        assert_eq!(
            frame(1, b"hi\n"),
            [1, 0, 0, 0, 0, 0, 0, 3, b'h', b'i', b'\n']
        );
        assert_eq!(frame(2, b"")[..8], [2, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn unix_times() {
        assert_eq!(unix_time("since", None).ok(), Some(None));
        assert_eq!(unix_time("since", Some("0")).ok(), Some(None));
        let at = unix_time("since", Some("10.5")).expect("ok").expect("some");
        assert_eq!(
            at.duration_since(std::time::UNIX_EPOCH).expect("after"),
            std::time::Duration::from_millis(10_500)
        );
        assert!(unix_time("since", Some("soon")).is_err());
    }
}
