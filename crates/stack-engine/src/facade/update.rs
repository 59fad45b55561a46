//! `update` of a container: the native request (and Docker's, mapped onto
//! it) turned into the runtime's changes, done, recorded as an event, and
//! answered with every value now in force.

use stack_api::docker::create::UpdateConfig;
use stack_api::system::ContainerUpdate;
use stack_runtime::spec::{ContainerSpec, RestartPolicy};
use stack_runtime::update::Changes;

use super::{Engine, EngineError};

impl Engine {
    /// New limits and restart policy for a container (`stack container
    /// update`, `docker update`): live when it runs, kept for its later
    /// starts.
    pub fn update(&self, key: &str, req: &ContainerUpdate) -> Result<ContainerUpdate, EngineError> {
        let record = self.find(key)?;
        let restart = req
            .restart
            .as_deref()
            .map(|text| {
                text.parse::<RestartPolicy>()
                    .map_err(|e| EngineError::Invalid(e.to_string()))
            })
            .transpose()?;
        let changes = Changes {
            memory: req.memory,
            memory_swap: req.memory_swap,
            cpus: req.cpus,
            cpu_shares: req.cpu_shares,
            pids_limit: req.pids_limit,
            restart,
        };
        stack_runtime::update::update(&record.dir, &changes)?;
        self.record_event(&self.event(&record, "update"));
        let spec = ContainerSpec::load(&record.dir)?;
        Ok(in_force(&spec))
    }

    /// `POST /containers/{id}/update`: Docker's body as the native one.
    pub fn docker_update(&self, key: &str, req: &UpdateConfig) -> Result<(), EngineError> {
        self.update(key, &from_docker(req)?).map(drop)
    }
}

/// The values of `spec` an update can change.
fn in_force(spec: &ContainerSpec) -> ContainerUpdate {
    let r = &spec.resources;
    ContainerUpdate {
        memory: r.memory,
        memory_swap: r.memory_swap,
        cpus: r.cpus,
        cpu_shares: r.cpu_shares,
        pids_limit: r.pids_limit,
        restart: Some(spec.restart.policy.to_string()),
    }
}

/// Docker's update body: zeros (and an empty policy name) keep a value,
/// as Docker reads them; a field stack does not update is refused by
/// name when set.
fn from_docker(req: &UpdateConfig) -> Result<ContainerUpdate, EngineError> {
    super::docker::create::refuse_unmapped("", &req.unmapped)?;
    let positive = |field: &str, value: i64| match value {
        0 => Ok(None),
        v if v > 0 => Ok(Some(v as u64)),
        v => Err(EngineError::Invalid(format!("{field} {v} is negative"))),
    };
    let restart = req
        .restart_policy
        .as_ref()
        .filter(|p| !p.name.is_empty())
        .map(|p| match (p.name.as_str(), p.maximum_retry_count) {
            ("on-failure", n) if n > 0 => format!("on-failure:{n}"),
            (name, 0) => name.to_string(),
            (name, n) => format!("{name}:{n}"),
        });
    Ok(ContainerUpdate {
        memory: positive("Memory", req.memory)?,
        memory_swap: match req.memory_swap {
            0 => None,
            -1 => Some(-1),
            v if v > 0 => Some(v),
            v => return Err(EngineError::Invalid(format!("MemorySwap {v} is negative"))),
        },
        cpus: positive("NanoCpus", req.nano_cpus)?.map(|n| n as f64 / 1e9),
        cpu_shares: positive("CpuShares", req.cpu_shares)?,
        pids_limit: req.pids_limit,
        restart,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> UpdateConfig {
        serde_json::from_value(json).expect("update body")
    }

    #[test]
    fn zeros_keep_values_and_set_fields_map() {
        let req = body(serde_json::json!({
            "Memory": 67108864, "MemorySwap": -1, "NanoCpus": 500000000,
            "CpuShares": 0, "CpuQuota": 0, "BlkioWeight": 0, "CgroupParent": "",
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
        }));
        let update = from_docker(&req).expect("mapped");
        assert_eq!(
            update,
            ContainerUpdate {
                memory: Some(64 << 20),
                memory_swap: Some(-1),
                cpus: Some(0.5),
                cpu_shares: None,
                pids_limit: None,
                restart: Some("on-failure:3".into()),
            }
        );
        let nothing = body(serde_json::json!({"RestartPolicy": {"Name": ""}}));
        assert_eq!(
            from_docker(&nothing).expect("empty"),
            ContainerUpdate::default()
        );
    }

    #[test]
    fn other_fields_are_refused_by_name() {
        let err = from_docker(&body(serde_json::json!({"BlkioWeight": 300}))).expect_err("blkio");
        assert!(err.to_string().contains("BlkioWeight"), "{err}");
        let err = from_docker(&body(serde_json::json!({"CpuQuota": 5000}))).expect_err("quota");
        assert!(err.to_string().contains("CpuQuota"), "{err}");
        let err = from_docker(&body(serde_json::json!({"Memory": -5}))).expect_err("negative");
        assert!(err.to_string().contains("Memory"), "{err}");
    }
}
