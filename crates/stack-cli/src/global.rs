//! Top-level arguments shared by every verb.

use std::path::PathBuf;

use clap::{Args, Parser};

use crate::commands::Command;

/// Declarative multi-container stacks on a light built-in engine.
#[derive(Debug, Parser)]
#[command(name = "stack", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub host: HostArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Which stack file(s) and project a verb works on (Compose's global flags).
#[derive(Debug, Clone, Default, Args)]
pub struct ProjectArgs {
    /// Stack file(s); repeatable. Default: compose.yaml, compose.yml,
    /// docker-compose.yaml, docker-compose.yml, then stack.yaml.
    #[arg(short = 'f', long = "file", global = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Project name (default: `STACK_PROJECT_NAME`, the file's `name:`, or
    /// the directory).
    #[arg(short = 'p', long = "project-name", global = true, value_name = "NAME")]
    pub project_name: Option<String>,
    /// Working directory of the project (default: the first file's directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// Alternate environment file(s) for interpolation; repeatable.
    #[arg(long = "env-file", global = true, value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
    /// Enable services of a profile; repeatable.
    #[arg(long = "profile", global = true, value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Warn about unknown keys instead of refusing the file.
    #[arg(long, global = true)]
    pub compatibility: bool,
}

/// Where stack keeps its state on this host.
#[derive(Debug, Clone, Default, Args)]
pub struct HostArgs {
    /// State root (default: `STACK_ROOT` or /var/lib/stack).
    #[arg(long = "root", global = true, value_name = "DIR")]
    pub state_root: Option<PathBuf>,
    /// Config file (default: `STACK_CONFIG` or /etc/stack/config.toml).
    #[arg(long = "config", global = true, value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// Daemon to use, `unix:///path/to/stack.sock` (default: `STACK_HOST`,
    /// else $STACK_RUN/stack.sock when a daemon answers there).
    #[arg(
        long = "host",
        short = 'H',
        global = true,
        env = "STACK_HOST",
        value_name = "URL"
    )]
    pub daemon_host: Option<String>,
    /// Run the engine in this process even when a daemon answers.
    #[arg(long = "no-daemon", global = true)]
    pub no_daemon: bool,
}
