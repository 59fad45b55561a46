//! Building an image on this host.

use crate::build::{BuildProgress, BuildRequest, BuiltImage, CancellationToken};

use super::{Engine, EngineError};

impl Engine {
    /// Builds `request` and names the image with its tags; `cancel`
    /// stops it (its running step killed, nothing tagged).
    pub fn build_image(
        &self,
        request: &BuildRequest,
        progress: &dyn BuildProgress,
        cancel: &CancellationToken,
    ) -> Result<BuiltImage, EngineError> {
        Ok(crate::build::build_on_host(
            &self.paths,
            self.containers(),
            request,
            progress,
            cancel,
        )?)
    }
}
