//! A container's new name (Docker's `rename`). Compose renames the
//! container it replaces, once stopped, before it creates the new one under
//! the old name, then removes the old one.
//!
//! Only a container whose process is not alive is renamed: a live one's
//! name is in its DNS records and its `/etc/hosts`, which are not rewritten
//! in place. An exited container's endpoints are released, so its old name
//! stops resolving at once (for the container that takes it next); its
//! next start attaches again, under the new name, as a first start does.

use stack_runtime::state::Status;

use super::{network, ContainerError, ContainerRecord, Containers};

impl Containers {
    /// Renames the container of `record`; answers the renamed record.
    pub fn rename(
        &self,
        record: &ContainerRecord,
        new_name: &str,
    ) -> Result<ContainerRecord, ContainerError> {
        let new_name = new_name.trim_start_matches('/');
        self.check_new_name(new_name)?;
        let status = record.state.effective_status();
        if matches!(status, Status::Running | Status::Restarting) || record.state.container_alive()
        {
            return Err(ContainerError::Live {
                name: record.spec.name.clone(),
                verb: "rename",
            });
        }
        network::release(&self.state_root, &self.run_dir, &record.spec.id)?;
        let mut renamed = record.clone();
        renamed.spec.name = new_name.to_string();
        renamed.spec.save(&renamed.dir)?;
        Ok(renamed)
    }
}
