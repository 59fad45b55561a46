//! What a build reads before it runs: the Dockerfile (a file beside or in
//! the context, or inline) and the context's ignore file. A file named
//! inside the context is read confined to it (symlinks resolved inside,
//! never out), as every other read of the context: an uploaded context's
//! `Dockerfile -> /etc/shadow` names the context's own `/etc/shadow`.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use rustix::fs::OFlags;
use stack_confine::ConfinedRoot;

use super::{BuildError, BuildRequest, DockerfileSource};

/// A file of the context (`rel` relative to its root), read confined;
/// `None` when it is not there.
fn read_in_context(context: &Path, rel: &Path) -> Result<Option<String>, BuildError> {
    let shown = context.join(rel);
    let components: Vec<OsString> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_os_string()),
            _ => None,
        })
        .collect();
    let root = ConfinedRoot::open(context).map_err(BuildError::io(context))?;
    let fd = match root.resolve(&components, OFlags::RDONLY) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(e) => return Err(BuildError::io(&shown)(e.into())),
    };
    let mut text = String::new();
    std::fs::File::from(fd)
        .read_to_string(&mut text)
        .map_err(BuildError::io(&shown))?;
    Ok(Some(text))
}

/// Reads `path`: confined when it names a file inside the context
/// (relative without `..`, or absolute below it), as given otherwise (`-f`
/// or a stack file's `dockerfile: ../x` naming a file elsewhere on this
/// host, the caller's own; the Docker API refuses those).
fn read_file(context: &Path, path: &Path) -> Result<Option<String>, BuildError> {
    let inside = |rel: &Path| {
        rel.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    };
    let rel = if path.is_absolute() {
        path.strip_prefix(context).ok().filter(|r| inside(r))
    } else {
        Some(path).filter(|r| inside(r))
    };
    match rel {
        Some(rel) => read_in_context(context, rel),
        None => match std::fs::read_to_string(context.join(path)) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BuildError::io(&context.join(path))(e)),
        },
    }
}

/// The Dockerfile's text, its name for messages, and the
/// `<Dockerfile>.dockerignore` beside it when there is one.
pub fn read_dockerfile(
    request: &BuildRequest,
) -> Result<(String, String, Option<PathBuf>), BuildError> {
    match &request.dockerfile {
        DockerfileSource::Inline(text) => Ok((text.clone(), "Dockerfile".into(), None)),
        DockerfileSource::Path(path) => {
            let shown = request.context.join(path);
            let text = read_file(&request.context, path)?.ok_or_else(|| {
                BuildError::io(&shown)(std::io::Error::from(std::io::ErrorKind::NotFound))
            })?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "Dockerfile".into());
            let specific = path.with_file_name(format!("{name}.dockerignore"));
            let exists = read_file(&request.context, &specific)?.is_some();
            Ok((text, name, exists.then_some(specific)))
        }
    }
}

/// The context's ignore patterns: `<Dockerfile>.dockerignore` first,
/// else `.dockerignore` at the context's root.
pub fn read_ignore(
    context: &Path,
    specific: Option<&Path>,
) -> Result<Option<stack_build::dockerignore::IgnoreMatcher>, BuildError> {
    let path = specific.unwrap_or(Path::new(".dockerignore"));
    let Some(text) = read_file(context, path)? else {
        return Ok(None);
    };
    stack_build::IgnoreMatcher::parse(&text)
        .map(Some)
        .map_err(|e| BuildError::Invalid(format!("{}: {e}", context.join(path).display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dockerfile_symlink_never_reads_outside_the_context() {
        let dir = tempfile::tempdir().expect("temp dir");
        let outside = dir.path().join("secret");
        std::fs::write(&outside, "SECRET outside\n").expect("secret");
        let context = dir.path().join("ctx");
        std::fs::create_dir(&context).expect("ctx");
        std::os::unix::fs::symlink(&outside, context.join("Dockerfile")).expect("link");
        std::os::unix::fs::symlink("/", context.join(".dockerignore")).expect("link");
        let request = BuildRequest {
            context: context.clone(),
            ..BuildRequest::default()
        };
        // Resolved inside the context, the link names nothing there.
        let err = read_dockerfile(&request).expect_err("no Dockerfile in the context");
        assert!(!err.to_string().contains("SECRET"), "{err}");
        // Inside the context, a link is followed within it.
        std::fs::write(context.join("real"), "FROM scratch\n").expect("real");
        std::fs::remove_file(context.join("Dockerfile")).expect("rm");
        std::os::unix::fs::symlink("/real", context.join("Dockerfile")).expect("link");
        let (text, name, _) = read_dockerfile(&request).expect("read");
        assert_eq!(
            (text.as_str(), name.as_str()),
            ("FROM scratch\n", "Dockerfile")
        );
        // A `..` path is the caller's own file, read as given.
        let request = BuildRequest {
            context,
            dockerfile: DockerfileSource::Path("../secret".into()),
            ..BuildRequest::default()
        };
        assert_eq!(
            read_dockerfile(&request).expect("read").0,
            "SECRET outside\n"
        );
    }
}
