//! `update`: new resource limits and restart policy for a container that
//! exists (Docker's `docker update`). The spec on disk takes the new
//! values, so a later start (by a user or by the restart policy, whose
//! monitor reads them again before each restart) keeps them; a running
//! container gets them at once, through its backend (its cgroup files, or
//! `runc update`).

use crate::error::Error;
use crate::spec::{ContainerDir, ContainerSpec, RestartPolicy};
use crate::state::{State, Status};

/// What an update changes; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Changes {
    /// Bytes.
    pub memory: Option<u64>,
    /// Bytes of memory and swap together; -1: swap without limit.
    pub memory_swap: Option<i64>,
    pub cpus: Option<f64>,
    pub cpu_shares: Option<u64>,
    /// 0 or less: no limit.
    pub pids_limit: Option<i64>,
    pub restart: Option<RestartPolicy>,
}

/// `spec` with `changes` made, refused (naming the container) when the
/// result would not hold: memory+swap below memory, a CPU count that is
/// not positive, a restart policy for a container removed when it exits.
pub fn merged(spec: &ContainerSpec, changes: &Changes) -> Result<ContainerSpec, Error> {
    let name = &spec.name;
    let refuse = |message: String| {
        Err(Error::refused(
            format!("update of container {name}"),
            message,
        ))
    };
    let mut next = spec.clone();
    let r = &mut next.resources;
    r.memory = changes.memory.or(r.memory);
    r.memory_swap = changes.memory_swap.or(r.memory_swap);
    r.cpus = changes.cpus.or(r.cpus);
    r.cpu_shares = changes.cpu_shares.or(r.cpu_shares);
    r.pids_limit = changes.pids_limit.or(r.pids_limit);
    if changes.cpus.is_some_and(|c| !(c > 0.0 && c.is_finite())) {
        return refuse(format!(
            "cpus must be a positive number, not {}",
            changes.cpus.unwrap_or_default()
        ));
    }
    if changes.cpu_shares == Some(0) {
        return refuse("cpu shares must be positive".into());
    }
    match (r.memory_swap, r.memory) {
        (Some(-1) | None, _) => {}
        (Some(_), None) => {
            return refuse("a memory+swap limit needs a memory limit (set memory too)".into())
        }
        (Some(swap), Some(memory)) if swap < 0 || (swap as u64) < memory => {
            return refuse(format!(
                "memory+swap limit {swap} is below the memory limit {memory}: \
                 update memory+swap at the same time"
            ))
        }
        _ => {}
    }
    if let Some(policy) = changes.restart {
        if spec.auto_remove && policy != RestartPolicy::No {
            return refuse(
                "a restart policy cannot be set: the container is removed when it exits (--rm)"
                    .into(),
            );
        }
        next.restart.policy = policy;
    }
    Ok(next)
}

/// Updates the container at `dir`: the running one at once, then its
/// spec. Nothing is stored when the live change is refused.
pub fn update(dir: &ContainerDir, changes: &Changes) -> Result<(), Error> {
    let spec = ContainerSpec::load(dir)?;
    let next = merged(&spec, changes)?;
    let state = State::load(dir)?;
    let resources_changed = next.resources != spec.resources;
    if resources_changed && state.effective_status() == Status::Running && state.container_alive() {
        crate::backend::of(next.backend).update_resources(&next)?;
    }
    next.save(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_values_stay_and_set_ones_replace() {
        let mut spec = ContainerSpec::fixture();
        spec.resources.memory = Some(64 << 20);
        spec.resources.cpus = Some(1.0);
        let next = merged(
            &spec,
            &Changes {
                cpus: Some(0.5),
                pids_limit: Some(10),
                restart: Some(RestartPolicy::Always),
                ..Default::default()
            },
        )
        .expect("merged");
        assert_eq!(next.resources.memory, Some(64 << 20));
        assert_eq!(next.resources.cpus, Some(0.5));
        assert_eq!(next.resources.pids_limit, Some(10));
        assert_eq!(next.restart.policy, RestartPolicy::Always);
        assert_eq!(
            merged(&spec, &Changes::default())
                .expect("nothing")
                .resources,
            spec.resources
        );
    }

    #[test]
    fn swap_below_memory_or_without_memory_is_refused() {
        let mut spec = ContainerSpec::fixture();
        spec.name = "web-1".into();
        let swap_alone = Changes {
            memory_swap: Some(128 << 20),
            ..Default::default()
        };
        let err = merged(&spec, &swap_alone).expect_err("no memory limit");
        assert!(err.to_string().contains("web-1"), "{err}");
        spec.resources.memory = Some(64 << 20);
        spec.resources.memory_swap = Some(128 << 20);
        // Raising memory past the stored memory+swap alone is refused...
        let err = merged(
            &spec,
            &Changes {
                memory: Some(256 << 20),
                ..Default::default()
            },
        )
        .expect_err("memory above memory+swap");
        assert!(err.to_string().contains("at the same time"), "{err}");
        // ...with both it is fine, and -1 lifts the swap limit.
        for swap in [512 << 20, -1] {
            let both = Changes {
                memory: Some(256 << 20),
                memory_swap: Some(swap),
                ..Default::default()
            };
            assert!(merged(&spec, &both).is_ok(), "{swap}");
        }
    }

    #[test]
    fn bad_cpus_and_a_policy_for_an_auto_removed_container_are_refused() {
        let mut spec = ContainerSpec::fixture();
        for cpus in [0.0, -1.0, f64::NAN] {
            let bad = Changes {
                cpus: Some(cpus),
                ..Default::default()
            };
            assert!(merged(&spec, &bad).is_err(), "{cpus}");
        }
        spec.auto_remove = true;
        let always = Changes {
            restart: Some(RestartPolicy::Always),
            ..Default::default()
        };
        let err = merged(&spec, &always).expect_err("--rm");
        assert!(err.to_string().contains("--rm"), "{err}");
    }
}
