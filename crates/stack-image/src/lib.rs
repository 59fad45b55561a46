//! Images: references, a registry client with mirrors and auth, a content
//! store laid out as an OCI image layout, and layer unpacking into overlay
//! snapshots.
//!
//! The registry client is written here on reqwest + oci-spec rather than
//! wrapping `oci-client`: an orchestrator needs mirror lists with fallback,
//! per-registry insecure mode, re-auth on 401, docker `config.json`
//! credentials, diff_id verification and resumable writes into its own
//! store, which that crate lacks.
//!
//! Entry points: [`Puller::pull`] fetches an image, [`Pusher::push`] sends
//! one to its registry, [`Store::tag_image`] names it again, [`Store::rootfs`] turns
//! a local image into overlay lower directories plus its runtime config,
//! [`Store::remove`] / [`Store::prune`] clean up, [`archive`] saves and loads
//! OCI archives. For builds, [`write_layer`] turns a directory (an overlay
//! upper or a plain tree) into a layer, [`Store::add_layer`] stores it with
//! its snapshot and [`Store::commit_image`] names the result.

pub mod archive;
pub mod digest;
pub mod error;
pub mod image_config;
pub mod layer;
pub mod manifest;
pub mod platform;
pub mod progress;
pub mod pull;
pub mod push;
pub mod reference;
pub mod registry;
pub mod settings;
pub mod store;
pub mod unpack;

pub use digest::Digest;
pub use error::{ImageError, Result};
pub use image_config::{Healthcheck, History, ImageConfigFile, RuntimeConfig};
pub use layer::{write_layer, DiffKind, LayerOptions, LayerStats};
pub use platform::Platform;
pub use pull::{PullOutcome, Puller};
pub use push::{PushOutcome, Pusher};
pub use reference::Reference;
pub use settings::{Credentials, RegistrySettings};
pub use store::{AddedLayer, ImageRootfs, LocalImage, PruneReport, Store};
