//! Building an image on this host.

use crate::build::{BuildProgress, BuildRequest, BuiltImage};

use super::{Engine, EngineError};

impl Engine {
    /// Builds `request` and names the image with its tags.
    pub fn build_image(
        &self,
        request: &BuildRequest,
        progress: &dyn BuildProgress,
    ) -> Result<BuiltImage, EngineError> {
        Ok(crate::build::build_on_host(
            &self.paths,
            self.containers(),
            request,
            progress,
        )?)
    }
}
