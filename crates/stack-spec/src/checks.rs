//! Checks of a stack file whose rules live in crates the loader must not
//! import (DESIGN.md: spec, image, runtime and net never import each
//! other). The engine passes them in [`crate::LoadOptions::checks`], so one
//! rule (e.g. which subnets a network may have, owned by stack-net) serves
//! the stack file, the command line and the API alike, and a stack file's
//! error still names its file, line and column.

use std::fmt;

use crate::model::IpamPool;

/// The error a host check returns; its text becomes the diagnostic.
pub type CheckError = Box<dyn std::error::Error + Send + Sync>;

/// Host rules applied while loading.
pub trait HostChecks: Send + Sync {
    /// One `ipam.config` entry of the network named `network` (its full
    /// name, `<project>_<key>` unless given).
    fn ipam_pool(&self, network: &str, pool: &IpamPool) -> Result<(), CheckError>;
}

impl fmt::Debug for dyn HostChecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HostChecks")
    }
}
