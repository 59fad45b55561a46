//! A plan's actions, each with the reason it exists.

use std::fmt;

use super::FieldChange;

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionKind {
    PullImage {
        reference: String,
    },
    /// Build the image of a service with `build:`.
    BuildImage {
        service: String,
        reference: String,
    },
    CreateNetwork {
        key: String,
        name: String,
    },
    /// Remove and create again (its containers were removed before).
    RecreateNetwork {
        key: String,
        name: String,
    },
    CreateVolume {
        key: String,
        name: String,
    },
    CreateContainer {
        service: String,
        replica: u32,
        name: String,
    },
    /// Replace a container; `old_id` is `None` when the old one was already
    /// removed earlier in the plan (its network was recreated).
    RecreateContainer {
        service: String,
        replica: u32,
        name: String,
        old_id: Option<String>,
    },
    /// Start an existing, unchanged, stopped container.
    StartContainer {
        service: String,
        replica: u32,
        name: String,
        id: String,
    },
    /// Restart a running, unchanged container (`depends_on.restart`).
    RestartContainer {
        service: String,
        replica: u32,
        name: String,
        id: String,
    },
    RemoveContainer {
        service: String,
        replica: u32,
        name: String,
        id: String,
    },
    RemoveNetwork {
        name: String,
    },
    RemoveVolume {
        name: String,
    },
}

/// Why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Not there yet.
    New,
    ImageMissing,
    PullAlways,
    /// `up --build` or `pull_policy: build`.
    BuildAsked,
    ConfigChanged(Vec<FieldChange>),
    /// The hash differs but the old per-field view is unknown.
    ConfigHashChanged,
    ImageChanged {
        old: Option<String>,
        new: String,
    },
    ForceRecreate,
    /// A service whose namespaces or volumes it shares was recreated.
    SharedWithRecreated(String),
    NetworkRecreated(String),
    /// `depends_on.<service>.restart: true` and that service was replaced.
    DependencyReplaced(String),
    Stopped,
    ScaleDown,
    Orphan,
    /// `stack down`.
    Down,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub kind: ActionKind,
    pub reason: Reason,
    /// Actions of one wave may run in parallel; wave `n + 1` starts after
    /// wave `n` is done.
    pub wave: usize,
}

/// How many changed fields a reason names before "and N more".
const FIELDS_SHOWN: usize = 3;

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::New => f.write_str("new"),
            Reason::ImageMissing => f.write_str("not present locally"),
            Reason::PullAlways => f.write_str("pull policy always"),
            Reason::BuildAsked => f.write_str("build asked for"),
            Reason::ConfigChanged(changes) => {
                let shown: Vec<String> = changes
                    .iter()
                    .take(FIELDS_SHOWN)
                    .map(ToString::to_string)
                    .collect();
                f.write_str(&shown.join(", "))?;
                if changes.len() > FIELDS_SHOWN {
                    write!(f, " and {} more", changes.len() - FIELDS_SHOWN)?;
                }
                Ok(())
            }
            Reason::ConfigHashChanged => f.write_str("configuration changed"),
            Reason::ImageChanged { old, new } => match old {
                Some(old) => write!(f, "image changed ({} -> {})", short(old), short(new)),
                None => write!(f, "image changed (now {})", short(new)),
            },
            Reason::ForceRecreate => f.write_str("--force-recreate"),
            Reason::SharedWithRecreated(s) => write!(f, "{s} recreated (shares its namespace)"),
            Reason::NetworkRecreated(n) => write!(f, "network {n} recreated"),
            Reason::DependencyReplaced(s) => write!(f, "{s} replaced (depends_on restart)"),
            Reason::Stopped => f.write_str("stopped"),
            Reason::ScaleDown => f.write_str("scaled down"),
            Reason::Orphan => f.write_str("orphan (service no longer in the stack file)"),
            Reason::Down => f.write_str("down"),
        }
    }
}

/// `sha256:0123456789ab` for display.
fn short(digest: &str) -> &str {
    let end = digest.find(':').map(|i| i + 13).unwrap_or(12);
    digest.get(..end).unwrap_or(digest)
}

impl Action {
    /// The display label of the action's object: `web-1` (service and
    /// replica, shorter than the container name), `network demo_default`.
    pub fn object(&self) -> String {
        match &self.kind {
            ActionKind::PullImage { reference } | ActionKind::BuildImage { reference, .. } => {
                format!("image {reference}")
            }
            ActionKind::CreateNetwork { name, .. } | ActionKind::RecreateNetwork { name, .. } => {
                format!("network {name}")
            }
            ActionKind::CreateVolume { name, .. } | ActionKind::RemoveVolume { name } => {
                format!("volume {name}")
            }
            ActionKind::RemoveNetwork { name } => format!("network {name}"),
            ActionKind::CreateContainer {
                service, replica, ..
            }
            | ActionKind::RecreateContainer {
                service, replica, ..
            }
            | ActionKind::StartContainer {
                service, replica, ..
            }
            | ActionKind::RestartContainer {
                service, replica, ..
            }
            | ActionKind::RemoveContainer {
                service, replica, ..
            } => format!("{service}-{replica}"),
        }
    }

    pub fn verb(&self) -> &'static str {
        match self.kind {
            ActionKind::PullImage { .. } => "pull",
            ActionKind::BuildImage { .. } => "build",
            ActionKind::CreateNetwork { .. }
            | ActionKind::CreateVolume { .. }
            | ActionKind::CreateContainer { .. } => "create",
            ActionKind::RecreateNetwork { .. } | ActionKind::RecreateContainer { .. } => "recreate",
            ActionKind::StartContainer { .. } => "start",
            ActionKind::RestartContainer { .. } => "restart",
            ActionKind::RemoveContainer { .. }
            | ActionKind::RemoveNetwork { .. }
            | ActionKind::RemoveVolume { .. } => "remove",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb(), self.object())?;
        if !matches!(self.reason, Reason::New | Reason::Down) {
            write!(f, ": {}", self.reason)?;
        }
        Ok(())
    }
}
