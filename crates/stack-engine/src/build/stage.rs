//! What a stage is while it builds: its layers, the image config its
//! instructions have shaped so far, the build arguments in scope, and the
//! history. The instructions that only change the config are applied
//! here, as pure functions of the state and the (expanded) instruction.

use std::collections::BTreeMap;

use stack_build::model::{ArgDecl, Command, Healthcheck, InstructionKind};

use super::layer::Layer;
use super::BuildError;

/// Docker's default `SHELL`.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// The config fields a Dockerfile sets (Docker's `config` of an image).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageConfig {
    pub env: Vec<(String, String)>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub user: String,
    pub working_dir: String,
    pub exposed_ports: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    pub volumes: Vec<String>,
    pub healthcheck: Option<HealthConfig>,
    pub shell: Option<Vec<String>>,
    pub onbuild: Vec<String>,
}

/// `HEALTHCHECK`, durations in nanoseconds as the image config keeps them;
/// `test` is `["NONE"]` for `HEALTHCHECK NONE`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthConfig {
    pub test: Vec<String>,
    pub interval: Option<i64>,
    pub timeout: Option<i64>,
    pub start_period: Option<i64>,
    pub start_interval: Option<i64>,
    pub retries: Option<i64>,
}

/// One history entry of the image config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub created_by: String,
    pub empty_layer: bool,
}

/// A stage while it builds.
#[derive(Debug, Clone, Default)]
pub struct StageState {
    /// Bottom layer first.
    pub layers: Vec<Layer>,
    pub config: StageConfig,
    /// Build arguments declared in this stage, with their values.
    pub args: BTreeMap<String, String>,
    pub history: Vec<HistoryEntry>,
    /// The cache key of everything so far: the base and every instruction.
    pub chain: String,
    /// This stage set `CMD` (an `ENTRYPOINT` then keeps it; the base
    /// image's `CMD` it drops).
    pub cmd_set_here: bool,
}

impl StageConfig {
    /// The value of an `ENV` variable.
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets an `ENV` variable, keeping the order of first definition.
    pub fn set_env(&mut self, name: &str, value: &str) {
        match self.env.iter_mut().find(|(k, _)| k == name) {
            Some(entry) => entry.1 = value.to_string(),
            None => self.env.push((name.to_string(), value.to_string())),
        }
    }

    /// The shell of shell-form commands.
    pub fn shell(&self) -> Vec<String> {
        self.shell
            .clone()
            .unwrap_or_else(|| DEFAULT_SHELL.iter().map(|s| s.to_string()).collect())
    }

    /// A command as the process will run it.
    pub fn argv(&self, command: &Command) -> Vec<String> {
        match command {
            Command::Exec(args) => args.clone(),
            Command::Shell(text) => {
                let mut argv = self.shell();
                argv.push(text.clone());
                argv
            }
        }
    }

    /// An absolute path for a `WORKDIR` or `COPY` destination written
    /// relative to the current working directory.
    pub fn absolute(&self, path: &str) -> String {
        if path.starts_with('/') {
            clean(path)
        } else {
            let base = if self.working_dir.is_empty() {
                "/"
            } else {
                &self.working_dir
            };
            clean(&format!("{base}/{path}"))
        }
    }
}

/// `/a//b/./c/../d/` → `/a/b/d`, never above `/`.
pub fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

impl StageState {
    /// What variables expand to in this stage: `ENV` first, then the
    /// stage's build arguments.
    pub fn lookup(&self, name: &str) -> Option<String> {
        self.config
            .env_value(name)
            .map(str::to_string)
            .or_else(|| self.args.get(name).cloned())
    }

    /// The environment of a `RUN`: `ENV`, then build arguments not
    /// shadowed by it (Docker passes those to `RUN` but does not keep them
    /// in the image).
    pub fn run_env(&self) -> Vec<String> {
        let mut env: Vec<String> = self
            .config
            .env
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for (k, v) in &self.args {
            if self.config.env_value(k).is_none() {
                env.push(format!("{k}={v}"));
            }
        }
        env
    }

    /// Declares `ARG`s: the build's value, else the global value of a name
    /// declared before the first `FROM` (only when no default is given
    /// here), else the default.
    pub fn declare_args(
        &mut self,
        decls: &[ArgDecl],
        build_args: &BTreeMap<String, String>,
        globals: &BTreeMap<String, String>,
    ) {
        for decl in decls {
            let value = build_args
                .get(&decl.name)
                .cloned()
                .or_else(|| match &decl.default {
                    Some(d) => Some(d.clone()),
                    None => globals.get(&decl.name).cloned(),
                });
            // A declared argument without a value is unset, not empty.
            match value {
                Some(v) => {
                    self.args.insert(decl.name.clone(), v);
                }
                None => {
                    self.args.remove(&decl.name);
                }
            }
        }
    }

    /// Applies an instruction that changes only the config. Answers false
    /// for the ones that make a layer (`RUN`, `COPY`, `ADD`, `WORKDIR`'s
    /// directory is made by the caller).
    pub fn apply_config(&mut self, kind: &InstructionKind) -> Result<bool, BuildError> {
        let config = &mut self.config;
        match kind {
            InstructionKind::Env(pairs) => {
                for (k, v) in pairs {
                    config.set_env(k, v);
                }
            }
            InstructionKind::Label(pairs) => {
                for (k, v) in pairs {
                    config.labels.insert(k.clone(), v.clone());
                }
            }
            InstructionKind::Maintainer(who) => {
                config.labels.insert("maintainer".into(), who.clone());
            }
            InstructionKind::User(user) => config.user = user.clone(),
            InstructionKind::Workdir(dir) => config.working_dir = config.absolute(dir),
            InstructionKind::Expose(ports) => {
                for port in ports {
                    let port = if port.contains('/') {
                        port.to_ascii_lowercase()
                    } else {
                        format!("{port}/tcp")
                    };
                    if !config.exposed_ports.contains(&port) {
                        config.exposed_ports.push(port);
                    }
                }
            }
            InstructionKind::Cmd(command) => {
                config.cmd = Some(config.argv(command));
                self.cmd_set_here = true;
            }
            InstructionKind::Entrypoint(command) => {
                config.entrypoint = Some(config.argv(command));
                // Docker: an ENTRYPOINT drops the CMD the base image had.
                if !self.cmd_set_here {
                    config.cmd = None;
                }
            }
            InstructionKind::Shell(shell) => config.shell = Some(shell.clone()),
            InstructionKind::StopSignal(signal) => config.stop_signal = Some(signal.clone()),
            InstructionKind::Volume(paths) => {
                for p in paths {
                    if !config.volumes.contains(p) {
                        config.volumes.push(p.clone());
                    }
                }
            }
            InstructionKind::Healthcheck(check) => {
                config.healthcheck = Some(health_config(check.as_ref())?)
            }
            InstructionKind::Onbuild(inner) => config.onbuild.push(inner.source.clone()),
            InstructionKind::Arg(_)
            | InstructionKind::Run(_)
            | InstructionKind::Copy(_)
            | InstructionKind::Add(_) => return Ok(false),
        }
        Ok(true)
    }
}

fn health_config(check: Option<&Healthcheck>) -> Result<HealthConfig, BuildError> {
    let Some(check) = check else {
        return Ok(HealthConfig {
            test: vec!["NONE".into()],
            ..HealthConfig::default()
        });
    };
    let test = match &check.command {
        Command::Exec(args) => {
            let mut test = vec!["CMD".to_string()];
            test.extend(args.iter().cloned());
            test
        }
        Command::Shell(text) => vec!["CMD-SHELL".to_string(), text.clone()],
    };
    let nanos = |text: &Option<String>| -> Result<Option<i64>, BuildError> {
        text.as_deref()
            .map(|t| {
                crate::spec::Duration::parse(t)
                    .map(|d| d.0.as_nanos().min(i64::MAX as u128) as i64)
                    .map_err(|e| BuildError::Invalid(format!("HEALTHCHECK duration {t:?}: {e}")))
            })
            .transpose()
    };
    Ok(HealthConfig {
        test,
        interval: nanos(&check.interval)?,
        timeout: nanos(&check.timeout)?,
        start_period: nanos(&check.start_period)?,
        start_interval: nanos(&check.start_interval)?,
        retries: check.retries.map(i64::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cleaned_and_made_absolute_from_the_workdir() {
        let mut c = StageConfig::default();
        assert_eq!(c.absolute("app"), "/app");
        c.working_dir = "/srv/app".into();
        assert_eq!(c.absolute("../x/./y/"), "/srv/x/y");
        assert_eq!(c.absolute("/a//b"), "/a/b");
        assert_eq!(clean("/../../etc"), "/etc");
    }

    #[test]
    fn env_wins_over_args_and_args_reach_run_only() {
        let mut s = StageState::default();
        let build_args: BTreeMap<String, String> = [("V".to_string(), "from-build".to_string())]
            .into_iter()
            .collect();
        let globals: BTreeMap<String, String> = [("G".to_string(), "global".to_string())]
            .into_iter()
            .collect();
        s.declare_args(
            &[
                ArgDecl {
                    name: "V".into(),
                    default: Some("default".into()),
                },
                ArgDecl {
                    name: "G".into(),
                    default: None,
                },
                ArgDecl {
                    name: "D".into(),
                    default: Some("d".into()),
                },
                ArgDecl {
                    name: "UNSET".into(),
                    default: None,
                },
            ],
            &build_args,
            &globals,
        );
        assert_eq!(s.lookup("V").as_deref(), Some("from-build"));
        assert_eq!(s.lookup("G").as_deref(), Some("global"));
        assert_eq!(s.lookup("UNSET"), None);
        s.apply_config(&InstructionKind::Env(vec![("D".into(), "env".into())]))
            .expect("env");
        assert_eq!(s.lookup("D").as_deref(), Some("env"));
        assert_eq!(s.run_env(), ["D=env", "G=global", "V=from-build"]);
    }

    #[test]
    fn shell_forms_use_the_stage_shell_and_entrypoint_drops_the_base_cmd() {
        let mut s = StageState::default();
        s.config.cmd = Some(vec!["base".into()]);
        s.apply_config(&InstructionKind::Shell(vec![
            "/bin/bash".into(),
            "-ec".into(),
        ]))
        .expect("shell");
        s.apply_config(&InstructionKind::Entrypoint(Command::Shell(
            "run it".into(),
        )))
        .expect("entrypoint");
        assert_eq!(
            s.config.entrypoint.as_deref(),
            Some(&["/bin/bash".to_string(), "-ec".into(), "run it".into()][..])
        );
        assert_eq!(s.config.cmd, None);
        s.apply_config(&InstructionKind::Expose(vec!["80".into(), "53/UDP".into()]))
            .expect("expose");
        assert_eq!(s.config.exposed_ports, ["80/tcp", "53/udp"]);
    }
}
