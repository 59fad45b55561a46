//! Docker's rules for turning an image's config plus `run` options into
//! the process to start: entrypoint and command, environment, user and
//! working directory. Pure functions, so every rule has a unit test.

use serde::{Deserialize, Serialize};

/// The part of an OCI image config that decides the process
/// (`config` in the image's config JSON, Docker's field names).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfig {
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub stop_signal: Option<String>,
}

/// What the user asked for on the command line (or in a stack file).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessOverrides {
    /// `--entrypoint`: `Some("")` clears the image's entrypoint.
    pub entrypoint: Option<String>,
    /// Trailing arguments after the image.
    pub cmd: Vec<String>,
    /// Entries of env files, in order, then `-e` entries (`K=V` or `K`).
    pub env_files: Vec<String>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
}

/// The resolved process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedProcess {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub user: String,
    pub cwd: String,
}

/// Docker's default PATH when the image sets none.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why a container's process cannot be worked out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    #[error("no command specified (the image has no entrypoint or cmd)")]
    NoCommand,
    #[error("working directory {0:?} is not an absolute path")]
    RelativeWorkdir(String),
}

/// Applies Docker's rules. `host_env` answers `-e KEY` (no value).
pub fn resolve(
    image: &ImageConfig,
    o: &ProcessOverrides,
    host_env: impl Fn(&str) -> Option<String>,
) -> Result<ResolvedProcess, ProcessError> {
    // An --entrypoint override also drops the image's CMD.
    let (entrypoint, image_cmd) = match &o.entrypoint {
        Some(e) if e.is_empty() => (Vec::new(), Vec::new()),
        Some(e) => (vec![e.clone()], Vec::new()),
        None => (
            image.entrypoint.clone().unwrap_or_default(),
            image.cmd.clone().unwrap_or_default(),
        ),
    };
    let cmd = if o.cmd.is_empty() {
        image_cmd
    } else {
        o.cmd.clone()
    };
    let args: Vec<String> = entrypoint.into_iter().chain(cmd).collect();
    if args.is_empty() {
        return Err(ProcessError::NoCommand);
    }
    let mut env: Vec<String> = Vec::new();
    let mut set = |entry: String| {
        let key = entry.split('=').next().unwrap_or_default().to_string();
        env.retain(|e| e.split('=').next() != Some(key.as_str()));
        env.push(entry);
    };
    for e in image.env.iter().flatten() {
        set(e.clone());
    }
    for e in o.env_files.iter().chain(&o.env) {
        if e.contains('=') {
            set(e.clone());
        } else if let Some(v) = host_env(e) {
            set(format!("{e}={v}"));
        }
    }
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, DEFAULT_PATH.to_string());
    }
    let user = o
        .user
        .clone()
        .or_else(|| image.user.clone())
        .unwrap_or_default();
    let cwd = o
        .workdir
        .clone()
        .or_else(|| image.working_dir.clone())
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "/".into());
    if !cwd.starts_with('/') {
        return Err(ProcessError::RelativeWorkdir(cwd));
    }
    Ok(ResolvedProcess {
        args,
        env,
        user,
        cwd,
    })
}

/// Parses an env file: `K=V` lines, `#` comments and blank lines skipped,
/// a bare `K` taken from the host (as Docker's --env-file).
pub fn parse_env_file(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> ImageConfig {
        ImageConfig {
            entrypoint: Some(vec!["/docker-entrypoint.sh".into()]),
            cmd: Some(vec!["nginx".into(), "-g".into()]),
            env: Some(vec![
                "PATH=/usr/bin:/bin".into(),
                "A=image".into(),
                "B=image".into(),
            ]),
            user: Some("www".into()),
            working_dir: Some("/srv".into()),
            stop_signal: None,
        }
    }

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn image_entrypoint_and_cmd() {
        let p = resolve(&image(), &ProcessOverrides::default(), none).expect("resolve");
        assert_eq!(p.args, ["/docker-entrypoint.sh", "nginx", "-g"]);
        assert_eq!((p.user.as_str(), p.cwd.as_str()), ("www", "/srv"));
    }

    #[test]
    fn user_cmd_replaces_image_cmd_but_keeps_entrypoint() {
        let o = ProcessOverrides {
            cmd: vec!["sh".into()],
            ..Default::default()
        };
        assert_eq!(
            resolve(&image(), &o, none).expect("resolve").args,
            ["/docker-entrypoint.sh", "sh"]
        );
    }

    #[test]
    fn entrypoint_override_drops_image_cmd() {
        let o = ProcessOverrides {
            entrypoint: Some("/bin/echo".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve(&image(), &o, none).expect("resolve").args,
            ["/bin/echo"]
        );
        let o = ProcessOverrides {
            entrypoint: Some(String::new()),
            cmd: vec!["true".into()],
            ..Default::default()
        };
        assert_eq!(resolve(&image(), &o, none).expect("resolve").args, ["true"]);
    }

    #[test]
    fn env_order_is_image_then_files_then_flags() {
        let o = ProcessOverrides {
            env_files: vec!["A=file".into(), "C=file".into()],
            env: vec!["C=flag".into(), "HOSTVAR".into(), "MISSING".into()],
            ..Default::default()
        };
        let p =
            resolve(&image(), &o, |k| (k == "HOSTVAR").then(|| "h".to_string())).expect("resolve");
        assert_eq!(
            p.env,
            [
                "PATH=/usr/bin:/bin",
                "B=image",
                "A=file",
                "C=flag",
                "HOSTVAR=h"
            ]
        );
    }

    #[test]
    fn defaults_without_image_config() {
        let o = ProcessOverrides {
            cmd: vec!["true".into()],
            ..Default::default()
        };
        let p = resolve(&ImageConfig::default(), &o, none).expect("resolve");
        assert_eq!(p.env, [DEFAULT_PATH]);
        assert_eq!((p.user.as_str(), p.cwd.as_str()), ("", "/"));
        assert!(resolve(&ImageConfig::default(), &ProcessOverrides::default(), none).is_err());
        let o = ProcessOverrides {
            cmd: vec!["x".into()],
            workdir: Some("rel".into()),
            ..Default::default()
        };
        assert!(resolve(&ImageConfig::default(), &o, none).is_err());
    }

    #[test]
    fn env_files_skip_comments() {
        assert_eq!(
            parse_env_file("# c\n\nA=1\n  B=2\nC\n"),
            ["A=1", "B=2", "C"]
        );
    }
}
