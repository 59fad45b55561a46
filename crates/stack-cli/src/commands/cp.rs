//! `stack cp SRC DEST`: files between a container and this host, either
//! way, as `docker cp` and `docker compose cp` copy them. One side is
//! `NAME:PATH`, where NAME is a service of the project (its replica
//! `--index`, default 1) or else a container; `-` is a tar on stdin or
//! stdout. The naming rules are Docker's: into an existing directory the
//! source keeps its name, to a path that does not exist it takes that
//! name, `dir/.` copies what is in `dir`.
//!
//! Runs in this process on the host's state root, whoever else serves it:
//! the container side is the engine's confined copy
//! ([`stack_engine::facade::archive`]); the host side is written through
//! a confined root too, so an archive from a container cannot place a
//! file outside the destination.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use miette::{IntoDiagnostic, WrapErr};
use stack_engine::error_class::{Classify, ErrorClass};
use stack_engine::facade::archive::{CopyIn, HostSource};
use stack_engine::facade::Engine;

use crate::global::{HostArgs, ProjectArgs};

use super::targets::{project_given, targets};

/// Arguments of `stack cp`.
#[derive(Debug, Args)]
pub struct CpArgs {
    /// Into a container: own the files by the container's user (without
    /// it they keep the ids they have here).
    #[arg(short = 'a', long = "archive")]
    archive: bool,
    /// Copy what a source symlink leads to, not the link.
    #[arg(short = 'L', long = "follow-link")]
    follow_link: bool,
    /// Which replica of the service (container number).
    #[arg(long, default_value_t = 1)]
    index: u32,
    /// `NAME:PATH`, a path on this host, or `-` (a tar on stdin).
    source: String,
    /// `NAME:PATH`, a path on this host, or `-` (a tar on stdout).
    destination: String,
}

/// One side of a copy.
enum Side {
    Container { key: String, path: String },
    Host(String),
}

impl Side {
    /// `NAME:PATH` names a container side; a colon after a slash is part
    /// of a host path (`./a:b`), as Docker reads it.
    fn parse(text: &str) -> Side {
        match text.split_once(':') {
            Some((name, path)) if !name.is_empty() && !name.contains('/') => Side::Container {
                key: name.to_string(),
                path: path.to_string(),
            },
            _ => Side::Host(text.to_string()),
        }
    }
}

pub fn run(host: &HostArgs, project: &ProjectArgs, args: CpArgs) -> miette::Result<ExitCode> {
    let engine = Engine::new(host.paths());
    match (Side::parse(&args.source), Side::parse(&args.destination)) {
        (Side::Container { key, path }, Side::Host(dest)) => {
            let id = container_id(host, project, &key, args.index)?;
            copy_out(&engine, &id, &path, &dest, args.follow_link)
        }
        (Side::Host(source), Side::Container { key, path }) => {
            let id = container_id(host, project, &key, args.index)?;
            copy_in(&engine, &id, &source, &path, &args)
        }
        (Side::Container { .. }, Side::Container { .. }) => {
            miette::bail!("copying between containers is not supported: copy through this host")
        }
        (Side::Host(_), Side::Host(_)) => {
            miette::bail!("one of SRC and DEST must be NAME:PATH (a service or a container)")
        }
    }?;
    Ok(ExitCode::SUCCESS)
}

/// The container NAME stands for: a service's replica when a project is
/// given and has that service, else a container name or id.
fn container_id(
    host: &HostArgs,
    project: &ProjectArgs,
    name: &str,
    index: u32,
) -> miette::Result<String> {
    if project_given(project) {
        let services = [name.to_string()];
        if let Ok(t) = targets(host, project, &services) {
            if let Ok(record) = t.selection.replica(name, index) {
                return Ok(record.spec.id.clone());
            }
        }
    }
    Ok(name.to_string())
}

fn copy_out(
    engine: &Engine,
    id: &str,
    path: &str,
    dest: &str,
    follow_link: bool,
) -> miette::Result<()> {
    let mut found = engine.container_path(id, path).into_diagnostic()?;
    if follow_link && !found.stat().link_target.is_empty() {
        let target = found.stat().link_target.clone();
        let name = found.stat().name.clone();
        found = engine.container_path(id, &target).into_diagnostic()?;
        found.rename(&name);
    }
    if dest == "-" {
        return found.write_tar(std::io::stdout().lock()).into_diagnostic();
    }
    let source_is_dir = found.stat().mode & (1 << 31) != 0;
    let (dir, name) = host_destination(dest, source_is_dir)?;
    if let Some(name) = name {
        found.rename(&name);
    }
    found.extract_on_host(&dir).into_diagnostic()
}

/// Where on this host a copied entry lands: the directory it goes into,
/// and the name it takes there when not its own.
fn host_destination(dest: &str, source_is_dir: bool) -> miette::Result<(PathBuf, Option<String>)> {
    let path = Path::new(dest);
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok((path.to_path_buf(), None)),
        Ok(_) if source_is_dir => {
            miette::bail!("cannot copy a directory to the file {dest}")
        }
        Ok(_) => split_destination(path),
        Err(_) if dest.ends_with('/') => {
            miette::bail!("{dest}: no such directory")
        }
        Err(_) => split_destination(path),
    }
}

/// `dir/name` as the directory (which must exist) and the name.
fn split_destination(path: &Path) -> miette::Result<(PathBuf, Option<String>)> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| miette::miette!("{}: not a name to copy to", path.display()))?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        miette::bail!("{}: no such directory", parent.display());
    }
    Ok((parent, Some(name)))
}

fn copy_in(
    engine: &Engine,
    id: &str,
    source: &str,
    path: &str,
    args: &CpArgs,
) -> miette::Result<()> {
    let options = CopyIn {
        keep_kinds: false,
        as_container_user: args.archive,
    };
    if source == "-" {
        return engine
            .copy_into_container(id, path, options, std::io::stdin())
            .into_diagnostic();
    }
    let source_path = Path::new(source);
    let meta = if args.follow_link {
        std::fs::metadata(source_path)
    } else {
        std::fs::symlink_metadata(source_path)
    }
    .into_diagnostic()
    .wrap_err_with(|| source.to_string())?;
    let contents_only = source.ends_with("/.");
    let (dest_dir, rename) = match engine.container_path(id, path) {
        Ok(found) if found.stat().mode & (1 << 31) != 0 => (path.to_string(), None),
        Ok(_) if meta.is_dir() => miette::bail!("cannot copy a directory to the file {path}"),
        Ok(_) => container_parent(path)?,
        Err(err) if err.class() == ErrorClass::NotFound => {
            if path.ends_with('/') {
                miette::bail!("{path}: no such directory in the container");
            }
            container_parent(path)?
        }
        Err(err) => return Err(err).into_diagnostic(),
    };
    // The entry this host sends: the source under its own name (or the
    // destination's), or with `dir/.` what the directory holds.
    let resolved = if args.follow_link && !contents_only {
        std::fs::canonicalize(source_path).into_diagnostic()?
    } else {
        source_path.to_path_buf()
    };
    let name = resolved
        .file_name()
        .ok_or_else(|| miette::miette!("{source}: not a file or directory to copy"))?
        .to_os_string();
    let parent = match resolved.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let rename = rename.unwrap_or_else(|| name.to_string_lossy().into_owned());
    let host_source = HostSource {
        parent,
        name,
        contents_only,
    };
    engine
        .copy_from_host(id, &host_source, &rename, &dest_dir, options)
        .into_diagnostic()
}

/// A container path's directory and last name.
fn container_parent(path: &str) -> miette::Result<(String, Option<String>)> {
    let trimmed = path.trim_end_matches('/');
    let (dir, name) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
    if name.is_empty() || name == "." || name == ".." {
        miette::bail!("{path}: not a name to copy to");
    }
    let dir = if dir.is_empty() { "/" } else { dir };
    Ok((dir.to_string(), Some(name.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_are_read_as_docker_reads_them() {
        assert!(
            matches!(Side::parse("web:/etc"), Side::Container { key, path } if key == "web" && path == "/etc")
        );
        assert!(matches!(Side::parse("./a:b"), Side::Host(p) if p == "./a:b"));
        assert!(matches!(Side::parse("-"), Side::Host(p) if p == "-"));
        assert!(matches!(Side::parse("/abs/path"), Side::Host(_)));
    }

    #[test]
    fn container_destinations_split_into_directory_and_name() {
        assert_eq!(
            container_parent("/etc/app.conf").expect("split"),
            ("/etc".to_string(), Some("app.conf".to_string()))
        );
        assert_eq!(
            container_parent("top").expect("split"),
            ("/".to_string(), Some("top".to_string()))
        );
        assert!(container_parent("/a/..").is_err());
    }
}
