//! `develop.watch` rules compiled per service: absolute host path, target
//! inside the container, filters, action, exec. Everything a rule can get
//! wrong is reported here, before anything is watched.

use std::path::{Path, PathBuf};

use stack_spec::model::{WatchAction, WatchExec};
use stack_spec::Project;

use super::ignore::{PathFilter, PatternError};

/// A rule that cannot be used, naming the service and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error(
        "service {service}: develop.watch rule for {path}: rebuild needs the service \
         to have a build section"
    )]
    Rebuild { service: String, path: String },
    #[error("service {service}: develop.watch rule for {path}: action {action} needs a target")]
    NoTarget {
        service: String,
        path: String,
        action: &'static str,
    },
    #[error("service {service}: develop.watch rule for {path}: target {target:?} must be an absolute path in the container")]
    RelativeTarget {
        service: String,
        path: String,
        target: String,
    },
    #[error("service {service}: develop.watch rule for {path}: sync+exec needs exec.command")]
    NoExecCommand { service: String, path: String },
    #[error("service {service}: develop.watch rule for {path}: {source}")]
    Pattern {
        service: String,
        path: String,
        #[source]
        source: PatternError,
    },
    #[error("no such service: {0}")]
    UnknownService(String),
}

/// What happens after a rule's files changed.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleAction {
    /// Build the service's image again; recreate its containers if the
    /// image changed.
    Rebuild,
    Sync,
    Restart,
    SyncRestart,
    SyncExec(WatchExec),
}

impl RuleAction {
    pub fn syncs(&self) -> bool {
        !matches!(self, RuleAction::Restart | RuleAction::Rebuild)
    }

    pub fn name(&self) -> &'static str {
        match self {
            RuleAction::Rebuild => "rebuild",
            RuleAction::Sync => "sync",
            RuleAction::Restart => "restart",
            RuleAction::SyncRestart => "sync+restart",
            RuleAction::SyncExec(_) => "sync+exec",
        }
    }
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub service: String,
    /// Absolute host path (a directory or a single file).
    pub path: PathBuf,
    /// Absolute path in the container (sync actions only).
    pub target: Option<PathBuf>,
    pub filter: PathFilter,
    pub action: RuleAction,
    pub initial_sync: bool,
}

impl Rule {
    /// `host` relative to the rule's path, if it is the path or below it.
    pub fn relative<'a>(&self, host: &'a Path) -> Option<&'a Path> {
        host.strip_prefix(&self.path).ok()
    }

    /// Whether a changed host path is this rule's business.
    pub fn wants(&self, host: &Path) -> bool {
        match self.relative(host) {
            Some(rel) if rel.as_os_str().is_empty() => true,
            Some(rel) => self.filter.wants_file(rel) || self.filter_allows_dir(rel, host),
            None => false,
        }
    }

    /// A directory counts when it is not pruned: files below may match
    /// `include` even when the directory's own name does not.
    fn filter_allows_dir(&self, rel: &Path, host: &Path) -> bool {
        host.is_dir() && !self.filter.skips_dir(rel)
    }

    /// Where a host path lands in the container.
    pub fn target_of(&self, host: &Path) -> Option<PathBuf> {
        let rel = self.relative(host)?;
        let target = self.target.as_ref()?;
        Some(if rel.as_os_str().is_empty() {
            target.clone()
        } else {
            target.join(rel)
        })
    }
}

/// The rules of `services` (all services with `develop.watch` when empty),
/// in file order. Any broken rule fails the whole set.
pub fn compile(project: &Project, services: &[String]) -> Result<Vec<Rule>, RuleError> {
    for s in services {
        if !project.services.contains_key(s) {
            return Err(RuleError::UnknownService(s.clone()));
        }
    }
    let mut rules = Vec::new();
    for (name, service) in &project.services {
        if !services.is_empty() && !services.contains(name) {
            continue;
        }
        let Some(develop) = &service.develop else {
            continue;
        };
        for rule in &develop.watch {
            rules.push(compile_rule(project, name, rule)?);
        }
    }
    Ok(rules)
}

fn compile_rule(
    project: &Project,
    service: &str,
    rule: &stack_spec::model::WatchRule,
) -> Result<Rule, RuleError> {
    let path = project.working_dir.join(&rule.path);
    let shown = rule.path.clone();
    let action = match rule.action {
        WatchAction::Rebuild => {
            if project
                .services
                .get(service)
                .is_none_or(|s| s.build.is_none())
            {
                return Err(RuleError::Rebuild {
                    service: service.into(),
                    path: shown,
                });
            }
            RuleAction::Rebuild
        }
        WatchAction::Sync => RuleAction::Sync,
        WatchAction::Restart => RuleAction::Restart,
        WatchAction::SyncRestart => RuleAction::SyncRestart,
        WatchAction::SyncExec => {
            let exec = rule.exec.clone().unwrap_or_default();
            if exec.command.is_empty() {
                return Err(RuleError::NoExecCommand {
                    service: service.into(),
                    path: shown,
                });
            }
            RuleAction::SyncExec(exec)
        }
    };
    let target = match (&rule.target, action.syncs()) {
        (Some(t), _) if !t.starts_with('/') => {
            return Err(RuleError::RelativeTarget {
                service: service.into(),
                path: shown,
                target: t.clone(),
            })
        }
        (Some(t), _) => Some(PathBuf::from(t)),
        (None, true) => {
            return Err(RuleError::NoTarget {
                service: service.into(),
                path: shown,
                action: action.name(),
            })
        }
        (None, false) => None,
    };
    let filter =
        PathFilter::new(&rule.ignore, &rule.include).map_err(|source| RuleError::Pattern {
            service: service.into(),
            path: shown.clone(),
            source,
        })?;
    Ok(Rule {
        service: service.into(),
        path: normalize(&path),
        target,
        filter,
        action,
        initial_sync: rule.initial_sync,
    })
}

/// Removes `.` and resolves `..` lexically, so prefixes compare reliably.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
