//! Top-level arguments shared by every verb.

use std::path::PathBuf;

use clap::Args;

/// Which stack file(s) and project a verb works on (Compose's global flags).
/// `--help` shows them in a section of their own; verbs that work on no
/// project refuse them ([`refuse_project_flags`]).
#[derive(Debug, Clone, Default, Args)]
pub struct ProjectArgs {
    /// Stack file(s); repeatable. Default: compose.yaml, compose.yml,
    /// docker-compose.yaml, docker-compose.yml, then stack.yaml.
    #[arg(
        help_heading = "Project options",
        short = 'f',
        long = "file",
        global = true,
        value_name = "FILE"
    )]
    pub files: Vec<PathBuf>,
    /// Project name (default: `STACK_PROJECT_NAME`, the file's `name:`, or
    /// the directory).
    #[arg(
        help_heading = "Project options",
        short = 'p',
        long = "project-name",
        global = true,
        value_name = "NAME"
    )]
    pub project_name: Option<String>,
    /// Working directory of the project (default: the first file's directory).
    #[arg(
        help_heading = "Project options",
        long,
        global = true,
        value_name = "DIR"
    )]
    pub project_directory: Option<PathBuf>,
    /// Alternate environment file(s) for interpolation; repeatable.
    #[arg(
        help_heading = "Project options",
        long = "env-file",
        global = true,
        value_name = "FILE"
    )]
    pub env_files: Vec<PathBuf>,
    /// Enable services of a profile; repeatable.
    #[arg(
        help_heading = "Project options",
        long = "profile",
        global = true,
        value_name = "PROFILE"
    )]
    pub profiles: Vec<String>,
    /// Warn about unknown keys instead of refusing the file.
    #[arg(help_heading = "Project options", long, global = true)]
    pub compatibility: bool,
}

/// Where stack keeps its state on this host.
#[derive(Debug, Clone, Default, Args)]
pub struct HostArgs {
    /// State root (default: `STACK_ROOT` or /var/lib/stack).
    #[arg(
        help_heading = "Global options",
        long = "root",
        global = true,
        value_name = "DIR"
    )]
    pub state_root: Option<PathBuf>,
    /// Config file (default: `STACK_CONFIG` or /etc/stack/config.toml).
    #[arg(
        help_heading = "Global options",
        long = "config",
        global = true,
        value_name = "FILE"
    )]
    pub config_file: Option<PathBuf>,
    /// Daemon to use, `unix:///path/to/stack.sock` (default: `STACK_HOST`,
    /// else $STACK_RUN/stack.sock when a daemon answers there).
    #[arg(
        help_heading = "Global options",
        long = "host",
        short = 'H',
        global = true,
        env = "STACK_HOST",
        value_name = "URL"
    )]
    pub daemon_host: Option<String>,
    /// Run the engine in this process even when a daemon answers.
    #[arg(help_heading = "Global options", long = "no-daemon", global = true)]
    pub no_daemon: bool,
    /// How steps are reported: auto (tty on a terminal, else plain), tty,
    /// plain or quiet.
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "MODE"
    )]
    pub progress: crate::progress::ProgressMode,
}

impl HostArgs {
    /// The state root, run directory and config file these flags name
    /// (each defaulting as documented).
    pub fn paths(&self) -> stack_engine::paths::HostPaths {
        stack_engine::paths::HostPaths::resolve(
            self.state_root.clone(),
            None,
            self.config_file.clone(),
        )
    }
}

impl ProjectArgs {
    /// The project flags given on the command line.
    fn given(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        if !self.files.is_empty() {
            given.push("-f/--file");
        }
        if self.project_name.is_some() {
            given.push("-p/--project-name");
        }
        if self.project_directory.is_some() {
            given.push("--project-directory");
        }
        if !self.env_files.is_empty() {
            given.push("--env-file");
        }
        if !self.profiles.is_empty() {
            given.push("--profile");
        }
        if self.compatibility {
            given.push("--compatibility");
        }
        given
    }
}

/// A verb that works on no project (`daemon`, `volume`, ...) refuses the
/// project flags rather than accept and ignore them.
pub fn refuse_project_flags(verb: &str, project: &ProjectArgs) -> miette::Result<()> {
    let given = project.given();
    if given.is_empty() {
        return Ok(());
    }
    miette::bail!(
        "`stack {verb}` works on no project: {} mean nothing to it",
        given.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::commands::Cli;

    use super::*;

    #[test]
    fn only_given_project_flags_are_named() {
        let cli = Cli::try_parse_from(["stack", "daemon"]).expect("parses");
        assert!(refuse_project_flags("daemon", &cli.project).is_ok());
        let cli =
            Cli::try_parse_from(["stack", "daemon", "-p", "x", "--profile", "a"]).expect("parses");
        let err = refuse_project_flags("daemon", &cli.project).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "`stack daemon` works on no project: -p/--project-name, --profile mean nothing to it"
        );
    }
}
