//! One container: namespaces, overlay rootfs, mounts, capabilities, seccomp,
//! cgroups, the first process, exec, and its lifecycle.
//!
//! Process model (see `monitor.rs` for the reasons): the caller never forks
//! to create a container. It execs the `stack` binary in a hidden mode
//! ([`launch::MONITOR_MODE`]); that helper detaches into a per-container
//! monitor, which forks the container's first process into new namespaces
//! and stays its parent to record the exit and pump output to the log.
//! Everything any `stack` process needs later is on disk in the container
//! directory: `config.json` ([`spec`]), `state.json` ([`state`]) and
//! `container.log` ([`logs`]).
//!
//! Setup steps that touch mounts are data ([`kernel::Op`]) performed by a
//! [`kernel::Kernel`], so the plan is tested without root.

pub mod backend;
pub mod capabilities;
pub mod cgroup;
mod child;
pub mod control;
pub mod devices;
mod error;
pub mod event_log;
pub mod events;
pub mod exec;
pub mod files;
pub mod freezer;
pub mod fsutil;
pub mod handle;
mod init;
pub mod input;
pub mod kernel;
pub mod launch;
pub mod logs;
pub mod monitor;
pub mod mount_stubs;
pub mod mounts;
pub mod namespaces;
pub mod pause;
pub mod probe;
pub mod process;
pub mod recover;
pub mod rootfs;
pub mod runc;
pub mod seccomp;
mod setns;
pub mod spec;
pub mod state;
pub mod supervise;
pub mod sysctl;
pub mod timefmt;
pub mod update;
pub mod user;
mod watch;

pub use error::Error;
