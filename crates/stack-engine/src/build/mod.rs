//! Building images from Dockerfiles on this host: the frontend
//! (`stack-build`) reads the Dockerfile; this module walks the stages the
//! target needs, applies each instruction to the stage's config, runs
//! `RUN` in a container of stack's runtime and writes `COPY`/`ADD` into a
//! fresh layer, asks the cache before every layer-making step, and
//! commits the image to the store under its tags.

mod cache;
mod copy_step;
mod execute;
mod from_spec;
mod inputs;
mod layer;
pub mod layers;
pub mod leftovers;
mod owners;
pub mod progress;
mod run_mounts;
mod run_step;
mod stage;
pub mod store_layers;
mod tree;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use cache::BuildCache;
pub use execute::Builder;
pub use from_spec::{image_name, requests_for};
pub use layers::{BuiltImage, Layer, LayerSource, LayerStore};
pub use progress::{BuildEvent, BuildProgress};
pub use run_step::BUILD_STEP_LABEL;
/// Stops a build (or a push) from another thread: the builder checks it
/// before each step and while a `RUN` runs, whose container it then
/// kills and removes.
pub use tokio_util::sync::CancellationToken;

use crate::containers::ContainerError;

/// What to build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildRequest {
    /// The build context: a directory.
    pub context: PathBuf,
    /// The Dockerfile: a path (relative: to the context), or its text.
    pub dockerfile: DockerfileSource,
    /// `--build-arg K=V`.
    pub build_args: BTreeMap<String, String>,
    /// `--target`: the stage to stop at (default: the last).
    pub target: Option<String>,
    /// `-t`: names for the image.
    pub tags: Vec<String>,
    /// `--label K=V`: added to the image's labels.
    pub labels: BTreeMap<String, String>,
    /// `--no-cache`: run every step.
    pub no_cache: bool,
    /// `--pull`: fetch base images even when present.
    pub pull: bool,
    /// `--network` for every `RUN` without its own: `default`, `none`,
    /// `host`.
    pub network: Option<String>,
    /// `SOURCE_DATE_EPOCH`: file times in the layers clamped to it and the
    /// image's `created` set to it, so a rebuild is byte for byte the same.
    pub source_date_epoch: Option<u64>,
}

/// Where the Dockerfile comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerfileSource {
    Path(PathBuf),
    /// `dockerfile_inline:` of a stack file.
    Inline(String),
}

impl Default for DockerfileSource {
    fn default() -> Self {
        DockerfileSource::Path(PathBuf::from("Dockerfile"))
    }
}

/// Why a build failed. Each names the Dockerfile line (`Dockerfile:7`)
/// where one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Invalid(String),
    /// The Dockerfile does not parse (the message names file, line and
    /// column).
    #[error("{message}")]
    Dockerfile { path: String, message: String },
    #[error("{at}: {what} is not supported yet")]
    Unsupported { at: String, what: String },
    #[error("{at}: `{command}` exited with code {code}")]
    RunFailed {
        at: String,
        command: String,
        code: i32,
    },
    /// Its [`CancellationToken`] was cancelled (the client left).
    #[error("the build was cancelled")]
    Cancelled,
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error(transparent)]
    Image(#[from] crate::images::ImageError),
    #[error(transparent)]
    Runtime(#[from] stack_runtime::Error),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Builds `request` with this host's image store, containers and build
/// cache, until done or until `cancel` is cancelled.
pub fn build_on_host(
    paths: &crate::paths::HostPaths,
    containers: &crate::containers::Containers,
    request: &BuildRequest,
    progress: &dyn BuildProgress,
    cancel: &CancellationToken,
) -> Result<BuiltImage, BuildError> {
    let root = &paths.state_root;
    let config = crate::config::Config::load(&paths.config_file)
        .map_err(|e| BuildError::Invalid(e.to_string()))?;
    let images = crate::images::Images::open(paths, &config)?;
    let store = store_layers::StoreLayers::new(images, request.source_date_epoch)?;
    // What killed builds left is swept first; a failure there is no
    // reason to refuse this build.
    if let Err(err) = leftovers::sweep(root, containers) {
        tracing::warn!(%err, "could not remove what interrupted builds left");
    }
    let scratch = leftovers::BuildDir::create(root, "build")?;
    let builder = Builder {
        containers,
        store: &store,
        cache: BuildCache::open(root)?,
        scratch: scratch.path().to_path_buf(),
        owner: scratch.name().to_string(),
        cancel,
    };
    builder.build(request, progress)
}

/// What `builder prune` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CachePruneReport {
    /// The keys of the cache entries forgotten.
    pub entries: Vec<String>,
    /// `RUN --mount=type=cache` directories removed, and their bytes.
    pub mounts: usize,
    pub mount_bytes: u64,
    /// Layers no image names any more, removed from the store.
    pub store: crate::images::PruneReport,
    /// Step containers and directories of interrupted builds.
    pub leftovers: leftovers::Swept,
}

/// Forgets the build cache of this host: what interrupted builds left,
/// its entries, its cache mounts (`RUN --mount=type=cache`), then the
/// layers only the cache knew.
pub fn prune_cache(paths: &crate::paths::HostPaths) -> Result<CachePruneReport, BuildError> {
    let root = &paths.state_root;
    let leftovers = leftovers::sweep(root, &crate::containers::Containers::new(paths))?;
    let entries = BuildCache::open(root)?.clear()?;
    let mounts_dir = root.join("build-cache-mounts");
    let (mut mounts, mut mount_bytes) = (0, 0);
    if let Ok(list) = std::fs::read_dir(&mounts_dir) {
        for entry in list.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                mount_bytes += crate::disk_usage::bytes_below(&path);
                stack_runtime::fsutil::remove_tree(&path)?;
                mounts += 1;
            } else {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let config = crate::config::Config::load(&paths.config_file)
        .map_err(|e| BuildError::Invalid(e.to_string()))?;
    let store = crate::images::Images::open(paths, &config)?.prune(false)?;
    Ok(CachePruneReport {
        entries,
        mounts,
        mount_bytes,
        store,
        leftovers,
    })
}

/// A number no other build of this process uses at the same time.
pub(crate) fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl crate::error_class::Classify for BuildError {
    fn class(&self) -> crate::error_class::ErrorClass {
        use crate::error_class::ErrorClass;
        match self {
            BuildError::Invalid(_)
            | BuildError::Dockerfile { .. }
            | BuildError::Unsupported { .. }
            // The Dockerfile's command failed: the user's input, as
            // Docker answers a failed build.
            | BuildError::RunFailed { .. } => ErrorClass::InvalidInput,
            // No client is left to read it.
            BuildError::Cancelled => ErrorClass::Conflict,
            BuildError::Container(e) => e.class(),
            BuildError::Image(e) => e.class(),
            BuildError::Runtime(e) => e.class(),
            BuildError::Io { .. } => ErrorClass::Internal,
        }
    }
}

impl BuildError {
    /// A wrapper for I/O errors at `path`.
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
        move |source| BuildError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
