//! `[runtime]`: which container backend runs containers by default.

use serde::Deserialize;

/// Runtime settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuntimeConfig {
    /// `stack` (built in) or `runc` (an OCI bundle run by runc).
    #[serde(default = "default_backend")]
    pub default: String,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            default: default_backend(),
        }
    }
}

fn default_backend() -> String {
    "stack".into()
}
