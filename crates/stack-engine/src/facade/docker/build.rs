//! `POST /build` of the Docker API (the classic builder's protocol): the
//! query checked into a build request, the context read from the
//! uploaded tar (compressed or not) into a directory of its own, confined
//! as image layers are (but a plain tree: no whiteouts), and the build's progress as Docker's stream of
//! `{"stream": ...}` lines ending in the image id.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use stack_api::docker::build::BuildLine;

use super::super::{Engine, EngineError};
use crate::build::{BuildEvent, BuildProgress, BuildRequest, CancellationToken, DockerfileSource};

/// A checked `POST /build` query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerBuild {
    /// Everything but the context, which comes with the body.
    pub request: BuildRequest,
    /// `-q`: only the id is printed (by the client, from `aux`).
    pub quiet: bool,
}

/// Query parameters the classic builder takes that a client sends with
/// their "unset" value (`memory=0`, `cachefrom=[]`, ...): accepted while
/// unset, refused by name when set.
const UNSET_OR_REFUSED: &[&str] = &[
    "remote",
    "cachefrom",
    "extrahosts",
    "memory",
    "memswap",
    "cpushares",
    "cpusetcpus",
    "cpusetmems",
    "cpuperiod",
    "cpuquota",
    "shmsize",
    "squash",
    "ulimits",
    "outputs",
    "isolation",
];

/// Parameters that change nothing here: stack never keeps a step's
/// container (`rm`, `forcerm`), `session` belongs to BuildKit's protocol
/// and `version=1` is the classic builder's.
const ACCEPTED: &[&str] = &["rm", "forcerm", "session"];

fn unset(value: &str) -> bool {
    matches!(value, "" | "0" | "[]" | "{}" | "null" | "false")
}

fn bad(message: String) -> EngineError {
    EngineError::Invalid(message)
}

/// A JSON object of strings (`buildargs`, `labels`); a `null` value
/// (`--build-arg NAME` with NAME unset) leaves the argument out.
fn json_map(name: &str, value: &str) -> Result<BTreeMap<String, String>, EngineError> {
    if value.is_empty() {
        return Ok(BTreeMap::new());
    }
    let map: BTreeMap<String, Option<String>> = serde_json::from_str(value)
        .map_err(|e| bad(format!("{name}: expected a JSON object of strings: {e}")))?;
    Ok(map.into_iter().filter_map(|(k, v)| Some((k, v?))).collect())
}

fn flag(name: &str, value: &str) -> Result<bool, EngineError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" => Ok(true),
        "" | "0" | "false" => Ok(false),
        other => Err(bad(format!("{name}: invalid boolean {other:?}"))),
    }
}

impl DockerBuild {
    /// From the query's pairs (`t` may repeat).
    pub fn from_query(pairs: &[(String, String)]) -> Result<DockerBuild, EngineError> {
        let mut build = DockerBuild::default();
        let mut dockerfile = None;
        for (key, value) in pairs {
            let value = value.as_str();
            match key.as_str() {
                "t" if !value.is_empty() => build.request.tags.push(value.to_string()),
                "t" => {}
                "dockerfile" if !value.is_empty() => dockerfile = Some(context_path(value)?),
                "dockerfile" => {}
                "buildargs" => build.request.build_args = json_map("buildargs", value)?,
                "labels" => build.request.labels = json_map("labels", value)?,
                "target" => build.request.target = Some(value.to_string()).filter(|t| !t.is_empty()),
                "nocache" => build.request.no_cache = flag("nocache", value)?,
                "pull" => build.request.pull = !value.is_empty() && flag("pull", value)?,
                "q" => build.quiet = flag("q", value)?,
                "networkmode" => {
                    build.request.network = match value {
                        "" | "default" | "bridge" => None,
                        "none" | "host" => Some(value.to_string()),
                        other => return Err(bad(format!("networkmode {other:?}: expected default, bridge, none or host"))),
                    }
                }
                "platform" if value.is_empty() => {}
                "platform" => {
                    let host = format!("linux/{}", crate::images::Platform::host().architecture);
                    if value != host {
                        return Err(bad(format!("platform {value}: this host builds {host} only")));
                    }
                }
                "version" if matches!(value, "" | "1") => {}
                "version" => {
                    return Err(bad(format!(
                        "version={value}: BuildKit's protocol is not served; set DOCKER_BUILDKIT=0 to use the classic builder's"
                    )))
                }
                key if ACCEPTED.contains(&key) => {}
                key if UNSET_OR_REFUSED.contains(&key) && unset(value) => {}
                key if UNSET_OR_REFUSED.contains(&key) => {
                    return Err(bad(format!("build option {key}={value} is not supported by stack")))
                }
                other => return Err(bad(format!("unknown build option {other:?}"))),
            }
        }
        if let Some(file) = dockerfile {
            build.request.dockerfile = DockerfileSource::Path(file);
        }
        Ok(build)
    }
}

/// A path inside the uploaded context: relative, and never above it.
fn context_path(text: &str) -> Result<PathBuf, EngineError> {
    let path = Path::new(text);
    let inside = path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !inside {
        return Err(bad(format!(
            "dockerfile {text:?}: must be a path inside the build context"
        )));
    }
    Ok(path.to_path_buf())
}

/// Build events as the classic builder's stream.
struct Stream<'a> {
    emit: &'a (dyn Fn(BuildLine) + Sync),
    /// The tags as the client named them (Docker prints them so).
    tags: Vec<String>,
    /// `q=1`: the steps are not sent, only the id (the client prints
    /// what it received, so anything more would be printed too).
    quiet: bool,
}

impl BuildProgress for Stream<'_> {
    fn event(&self, event: BuildEvent) {
        let emit = self.emit;
        if self.quiet {
            if let BuildEvent::Built { id, .. } = event {
                emit(BuildLine::image(id.clone()));
                emit(BuildLine::text(format!("{id}\n")));
            }
            return;
        }
        match event {
            BuildEvent::Step {
                number,
                total,
                text,
                ..
            } => emit(BuildLine::text(format!("Step {number}/{total} : {text}\n"))),
            BuildEvent::Cached => emit(BuildLine::text(" ---> Using cache\n")),
            BuildEvent::Output(line) => emit(BuildLine::text(format!("{line}\n"))),
            BuildEvent::Done(_) => {}
            BuildEvent::Built { id, .. } => {
                emit(BuildLine::image(id.clone()));
                let short = id
                    .trim_start_matches("sha256:")
                    .get(..12)
                    .unwrap_or(&id)
                    .to_string();
                emit(BuildLine::text(format!("Successfully built {short}\n")));
                for tag in &self.tags {
                    emit(BuildLine::text(format!("Successfully tagged {tag}\n")));
                }
            }
        }
    }
}

impl Engine {
    /// Builds from an uploaded context (`archive`: a tar, compressed or
    /// not), sending the progress to `emit`, until done or `cancel`led;
    /// answers the image id. The context directory is removed afterwards,
    /// whatever happened.
    pub fn docker_build(
        &self,
        archive: impl Read + Send,
        build: &DockerBuild,
        emit: &(dyn Fn(BuildLine) + Sync),
        cancel: &CancellationToken,
    ) -> Result<String, EngineError> {
        // Held while the build runs, so a sweep of what killed builds
        // left never takes it; removed when dropped.
        let dir = crate::build::leftovers::BuildDir::create(&self.paths.state_root, "context")?;
        self.build_in(archive, dir.path(), build, emit, cancel)
    }

    fn build_in(
        &self,
        archive: impl Read + Send,
        dir: &Path,
        build: &DockerBuild,
        emit: &(dyn Fn(BuildLine) + Sync),
        cancel: &CancellationToken,
    ) -> Result<String, EngineError> {
        // A context is a plain tree: a `.wh.` file in it is a file.
        stack_image::unpack::unpack_tree(archive, dir, "build context")?;
        let request = BuildRequest {
            context: dir.to_path_buf(),
            ..build.request.clone()
        };
        let stream = Stream {
            emit,
            tags: build.request.tags.clone(),
            quiet: build.quiet,
        };
        Ok(self.build_image(&request, &stream, cancel)?.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<DockerBuild, EngineError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        DockerBuild::from_query(&pairs)
    }

    #[test]
    fn the_classic_clients_query_reads_with_its_unset_values() {
        let b = query(&[
            ("t", "app:1"),
            ("t", "app:latest"),
            ("dockerfile", "build/Dockerfile"),
            ("buildargs", r#"{"A":"1","UNSET":null}"#),
            ("labels", r#"{"k":"v"}"#),
            ("memory", "0"),
            ("cachefrom", "[]"),
            ("rm", "1"),
            ("forcerm", "0"),
            ("version", "1"),
            ("nocache", "1"),
            ("pull", ""),
            ("q", "0"),
            ("networkmode", "default"),
            ("platform", ""),
        ])
        .expect("query");
        assert_eq!(b.request.tags, ["app:1", "app:latest"]);
        assert_eq!(
            b.request.dockerfile,
            DockerfileSource::Path("build/Dockerfile".into())
        );
        assert_eq!(b.request.build_args.len(), 1);
        assert!(b.request.no_cache && !b.request.pull && !b.quiet);
        assert_eq!(b.request.network, None);
    }

    #[test]
    fn what_stack_does_not_do_is_refused_by_name() {
        let err = |pairs: &[(&str, &str)]| query(pairs).expect_err("refused").to_string();
        assert!(err(&[("memory", "1000000")]).contains("memory=1000000"));
        assert!(err(&[("remote", "https://example.invalid/ctx.git")]).contains("remote"));
        assert!(err(&[("version", "2")]).contains("DOCKER_BUILDKIT=0"));
        assert!(err(&[("dockerfile", "../outside")]).contains("inside the build context"));
        assert!(err(&[("dockerfile", "/etc/passwd")]).contains("inside the build context"));
        assert!(err(&[("colour", "blue")]).contains("\"colour\""));
    }
}
