//! What a build reads before it runs: the Dockerfile (a file beside or in
//! the context, or inline) and the context's ignore file.

use std::path::{Path, PathBuf};

use super::{BuildError, BuildRequest, DockerfileSource};

/// The Dockerfile's text, its name for messages, and the
/// `<Dockerfile>.dockerignore` beside it when there is one.
pub fn read_dockerfile(
    request: &BuildRequest,
) -> Result<(String, String, Option<PathBuf>), BuildError> {
    match &request.dockerfile {
        DockerfileSource::Inline(text) => Ok((text.clone(), "Dockerfile".into(), None)),
        DockerfileSource::Path(path) => {
            let path = if path.is_absolute() {
                path.clone()
            } else {
                request.context.join(path)
            };
            let text = std::fs::read_to_string(&path).map_err(BuildError::io(&path))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "Dockerfile".into());
            let specific = path.with_file_name(format!("{name}.dockerignore"));
            Ok((text, name, specific.is_file().then_some(specific)))
        }
    }
}

/// The context's ignore patterns: `<Dockerfile>.dockerignore` first,
/// else `.dockerignore` at the context's root.
pub fn read_ignore(
    context: &Path,
    specific: Option<&Path>,
) -> Result<Option<stack_build::dockerignore::IgnoreMatcher>, BuildError> {
    let path = match specific {
        Some(p) => p.to_path_buf(),
        None => context.join(".dockerignore"),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => stack_build::IgnoreMatcher::parse(&text)
            .map(Some)
            .map_err(|e| BuildError::Invalid(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(BuildError::io(&path)(e)),
    }
}
