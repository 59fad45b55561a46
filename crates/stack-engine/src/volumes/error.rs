//! Errors of volume work, each naming the volume at fault.

use crate::store::StoreError;

/// Something `stack volume ...` (or `up`'s volume check) could not do.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("no such volume: {0}")]
    NotFound(String),
    /// Refused while containers (running or not) mount it, as Docker does
    /// even with `--force`: removing it would break them.
    #[error("volume {name} is in use by container(s): {}", containers.join(", "))]
    InUse {
        name: String,
        containers: Vec<String>,
    },
    /// A bad name, driver, label or filter.
    #[error("{0}")]
    Invalid(String),
    /// `external: true` volumes of a stack file that do not exist.
    #[error(
        "external volume{} {} not found: create {} with `stack volume create NAME` first",
        if names.len() == 1 { "" } else { "s" },
        names.join(", "),
        if names.len() == 1 { "it" } else { "them" }
    )]
    MissingExternal { names: Vec<String> },
    #[error("volume {name}: {context}: {source}")]
    Io {
        name: String,
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("volume {name}: {source}")]
    Store {
        name: String,
        #[source]
        source: StoreError,
    },
}

pub(crate) fn io(
    name: &str,
    context: impl Into<String>,
) -> impl FnOnce(std::io::Error) -> VolumeError {
    let name = name.to_string();
    let context = context.into();
    move |source| VolumeError::Io {
        name,
        context,
        source,
    }
}

pub(crate) fn store(name: &str) -> impl FnOnce(StoreError) -> VolumeError {
    let name = name.to_string();
    move |source| VolumeError::Store { name, source }
}
