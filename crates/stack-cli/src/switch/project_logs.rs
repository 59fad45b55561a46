//! A project's logs and containers through the daemon: one log stream per
//! container (`GET /v1/containers/{id}/logs?follow=true`), merged here in
//! time order as the local path merges the log files; states from the
//! container list; stop and kill through the API.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stack_api::client::{encode, Client, ClientError, Method};
use stack_api::paths;
use stack_api::system::{ContainerSummary, LogRecord};
use stack_engine::containers::{LogLine, Status};
use stack_engine::labels;

use crate::follow::attach::{Replica, Session, Stopper};
use crate::follow::logs::{is_replica, LogSource, Member};

/// The attached or followed containers of one project, via the daemon.
pub struct RemoteSession {
    client: Client,
    project: String,
    containers: Vec<ContainerSummary>,
    /// Records each container's log held when `existing` read it.
    seen: Vec<usize>,
    lines: Option<Receiver<(usize, LogLine)>>,
    followers: Arc<AtomicUsize>,
    /// Why the container list could not be read any more.
    lost: Mutex<Option<String>>,
}

impl RemoteSession {
    pub fn open(
        c: &Client,
        project: &str,
        services: &[String],
        index: Option<u32>,
    ) -> miette::Result<RemoteSession> {
        let client = Client::new(c.socket()).map_err(remote)?;
        let mut containers = list(&client, project)?;
        containers.retain(|c| {
            labels::membership(&c.labels)
                .is_some_and(|m| services.is_empty() || services.iter().any(|s| s == m.service))
                && is_replica(&c.labels, index)
        });
        // The order of the local path: by service and number, then age.
        containers.sort_by_key(|c| {
            let m = labels::membership(&c.labels);
            (
                m.as_ref().map(|m| m.service.to_string()),
                m.and_then(|m| m.number),
            )
        });
        Ok(RemoteSession {
            seen: vec![0; containers.len()],
            client,
            project: project.to_string(),
            containers,
            lines: None,
            followers: Arc::new(AtomicUsize::new(0)),
            lost: Mutex::new(None),
        })
    }

    pub fn members(&self) -> Vec<Member> {
        self.containers
            .iter()
            .map(|c| Member::of(&c.labels, &c.name))
            .collect()
    }

    fn socket(&self) -> PathBuf {
        self.client.socket().to_path_buf()
    }

    /// One thread per container following its log, skipping what
    /// `existing` already returned.
    fn start_following(&mut self) -> Receiver<(usize, LogLine)> {
        let (tx, rx) = channel();
        for (index, container) in self.containers.iter().enumerate() {
            let follower = Follower {
                socket: self.socket(),
                path: format!("{}?follow=true", paths::container_logs(&container.id)),
                index,
                skip: self.seen[index],
                tx: tx.clone(),
                alive: self.followers.clone(),
            };
            self.followers.fetch_add(1, Ordering::SeqCst);
            if std::thread::Builder::new()
                .name("log-follow".into())
                .spawn(move || follower.run())
                .is_err()
            {
                self.followers.fetch_sub(1, Ordering::SeqCst);
            }
        }
        rx
    }
}

struct Follower {
    socket: PathBuf,
    path: String,
    index: usize,
    skip: usize,
    tx: Sender<(usize, LogLine)>,
    alive: Arc<AtomicUsize>,
}

impl Follower {
    fn run(self) {
        if let Ok(client) = Client::new(&self.socket) {
            let mut skip = self.skip;
            let _ = client.stream(Method::GET, &self.path, None, |r: LogRecord| {
                if skip > 0 {
                    skip -= 1;
                    return true;
                }
                self.tx.send((self.index, line(r))).is_ok()
            });
        }
        self.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

fn line(r: LogRecord) -> LogLine {
    LogLine {
        log: r.log,
        stream: r.stream,
        time: r.time,
    }
}

fn list(client: &Client, project: &str) -> miette::Result<Vec<ContainerSummary>> {
    client
        .get(&format!(
            "{}?all=true&project={}",
            paths::CONTAINERS,
            encode(project)
        ))
        .map_err(remote)
}

fn status_of(word: &str) -> Status {
    match word {
        // A paused container still runs: its log is followed on.
        "running" | "paused" => Status::Running,
        "restarting" => Status::Restarting,
        "exited" => Status::Exited,
        _ => Status::Created,
    }
}

impl LogSource for RemoteSession {
    fn existing(&mut self) -> miette::Result<Vec<Vec<LogLine>>> {
        let mut out = Vec::new();
        for (index, container) in self.containers.iter().enumerate() {
            let mut lines = Vec::new();
            let path = format!("{}?follow=false", paths::container_logs(&container.id));
            self.client
                .stream(Method::GET, &path, None, |r: LogRecord| {
                    lines.push(line(r));
                    true
                })
                .map_err(remote)?;
            self.seen[index] = lines.len();
            out.push(lines);
        }
        Ok(out)
    }

    fn read_new(&mut self) -> Vec<(usize, LogLine)> {
        if self.lines.is_none() {
            self.lines = Some(self.start_following());
        }
        self.lines
            .as_ref()
            .map(|rx| rx.try_iter().collect())
            .unwrap_or_default()
    }

    fn more(&self) -> bool {
        self.lines.is_none() || self.followers.load(Ordering::SeqCst) > 0
    }
}

impl Session for RemoteSession {
    fn replicas(&self) -> Vec<Replica> {
        let now = match list(&self.client, &self.project) {
            Ok(now) => now,
            Err(err) => {
                if let Ok(mut lost) = self.lost.lock() {
                    lost.get_or_insert(err.to_string());
                }
                Vec::new()
            }
        };
        self.containers
            .iter()
            .map(|c| {
                // Gone from the list (removed, or the daemon left): over.
                let current = now.iter().find(|n| n.id == c.id);
                Replica {
                    name: c.name.clone(),
                    service: labels::membership(&c.labels)
                        .map(|m| m.service.to_string())
                        .unwrap_or_default(),
                    status: current.map_or(Status::Exited, |n| status_of(&n.status)),
                    exit_code: current.map_or(c.exit_code, |n| n.exit_code),
                }
            })
            .collect()
    }

    fn stoppers(&self, timeout: Option<Duration>) -> Vec<Stopper> {
        let t = timeout
            .map(|t| format!("?t={}", t.as_secs()))
            .unwrap_or_default();
        self.containers
            .iter()
            .map(|c| {
                let socket = self.socket();
                let path = format!("{}{t}", paths::container_stop(&c.id));
                let service = labels::membership(&c.labels)
                    .map(|m| m.service.to_string())
                    .unwrap_or_default();
                let stop: Box<dyn FnOnce() + Send> = Box::new(move || {
                    if let Ok(client) = Client::new(socket) {
                        let _ = client.call(Method::POST, &path);
                    }
                });
                (service, stop)
            })
            .collect()
    }

    fn kill_all(&self) {
        for c in &self.containers {
            let path = format!("{}?signal=KILL", paths::container_kill(&c.id));
            let _ = self.client.call(Method::POST, &path);
        }
    }

    fn lost(&self) -> Option<String> {
        self.lost.lock().ok().and_then(|l| l.clone())
    }
}

fn remote(err: ClientError) -> miette::Report {
    miette::miette!("{err}")
}
