//! Images for the engine and the CLI: maps the host config file
//! (`registry-mirrors`, `insecure-registries`, `[registries."host"]`,
//! `max-concurrent-downloads`) onto the image crate's settings and runs
//! pulls and pushes on a private tokio runtime, so callers stay
//! synchronous.

mod settings;

use std::path::Path;

pub use stack_image::progress::{self, Progress};
pub use stack_image::{
    archive, Digest, ImageError, ImageRootfs, LocalImage, Platform, PruneReport, PullOutcome,
    PushOutcome, Reference, RegistrySettings, RuntimeConfig, Store,
};
use stack_image::{Puller, Pusher};

pub use settings::registry_settings;

use crate::config::Config;
use crate::paths::HostPaths;

/// The image store of a host plus the settings to pull into it.
pub struct Images {
    puller: Puller,
    settings: RegistrySettings,
    containers_dir: std::path::PathBuf,
    state_root: std::path::PathBuf,
}

impl Images {
    /// Opens the store under the state root with the config's settings.
    pub fn open(paths: &HostPaths, config: &Config) -> Result<Images, ImageError> {
        let store = Store::open(&paths.state_root)?;
        let settings = registry_settings(config);
        Ok(Images {
            puller: Puller::new(store, settings.clone()),
            settings,
            containers_dir: paths.state_root.join("containers"),
            state_root: paths.state_root.clone(),
        })
    }

    /// Chooses another platform for multi-arch images (`--platform`).
    pub fn with_platform(mut self, platform: Platform) -> Images {
        self.settings.platform = platform;
        let store = self.puller.store().clone();
        self.puller = Puller::new(store, self.settings.clone());
        self
    }

    pub fn store(&self) -> &Store {
        self.puller.store()
    }

    pub fn settings(&self) -> &RegistrySettings {
        &self.settings
    }

    /// Pulls each reference in turn; stops at the first failure.
    pub fn pull(
        &self,
        references: &[Reference],
        progress: &dyn Progress,
        mut each: impl FnMut(&PullOutcome),
    ) -> Result<Vec<PullOutcome>, ImageError> {
        runtime()?.block_on(async {
            let mut out = Vec::new();
            for reference in references {
                let outcome = self.puller.pull(reference, progress).await?;
                each(&outcome);
                out.push(outcome);
            }
            Ok(out)
        })
    }

    /// Pushes the local image `name` (`NAME[:TAG]`, normalized as pulls
    /// name images) to the registry its name says. Never to a mirror.
    /// `cancel` stops it: the requests in flight are dropped (a registry
    /// forgets an unfinished upload; nothing is written here).
    pub fn push(
        &self,
        name: &str,
        progress: &dyn Progress,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<PushOutcome, ImageError> {
        let target = Reference::parse(name)?;
        let pusher = Pusher::new(self.store().clone(), self.settings.clone());
        // The source is the exact name: an id prefix never picks what goes
        // to a registry (`push abc123` is not the image with that id).
        let source = target.to_string();
        runtime()?.block_on(async {
            tokio::select! {
                pushed = pusher.push(&source, &target, progress) => pushed,
                () = cancel.cancelled() => Err(ImageError::Cancelled {
                    what: format!("push of {source}"),
                }),
            }
        })
    }

    /// Names the image `source` (reference or id prefix) also `target`.
    pub fn tag(&self, source: &str, target: &str) -> Result<LocalImage, ImageError> {
        self.store().tag_image(source, target)
    }

    /// Removes the name `name` (and what only it used), unless a container
    /// still uses the image.
    pub fn remove(&self, name: &str) -> Result<LocalImage, ImageError> {
        self.release_stale_leases()?;
        self.store().remove(name)
    }

    /// Removes images no container uses (`all`: also tagged ones).
    pub fn prune(&self, all: bool) -> Result<PruneReport, ImageError> {
        self.release_stale_leases()?;
        self.store().prune(all)
    }

    /// Drops leases whose container is gone, or whose build no longer
    /// runs. Containers are removed by the runtime (or by their monitor,
    /// for `--rm`), which knows nothing of images, and a killed build
    /// never ends its leases, so a lease can outlive its holder; it is
    /// swept here, before anything decides what is in use.
    fn release_stale_leases(&self) -> Result<(), ImageError> {
        for holder in self.store().lease_holders()? {
            let live = self.containers_dir.join(&holder).exists()
                || crate::build_tmp::is_live(&self.state_root, &holder);
            if !live {
                self.store().release(&holder)?;
            }
        }
        Ok(())
    }

    /// The image for a container: pulled if missing, then leased to
    /// `holder` so prune and rmi leave it alone, and turned into overlay
    /// lower directories plus its runtime config.
    pub fn ensure_rootfs(
        &self,
        name: &str,
        holder: &str,
        progress: &dyn Progress,
    ) -> Result<ImageRootfs, ImageError> {
        let image = match self.store().find(name) {
            Ok(image) => image,
            Err(ImageError::ImageNotFound(_)) => {
                self.pull(&[Reference::parse(name)?], progress, |_| {})?;
                self.store().find(name)?
            }
            Err(e) => return Err(e),
        };
        self.store().lease(holder, &image)?;
        self.store().rootfs(name)
    }
}

/// A small runtime for one pull or push; the callers are synchronous.
fn runtime() -> Result<tokio::runtime::Runtime, ImageError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ImageError::io(Path::new("tokio runtime"), e))
}
