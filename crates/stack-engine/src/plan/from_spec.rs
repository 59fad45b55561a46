//! The desired side of a plan, made from the stack file model.

use std::collections::BTreeMap;

use serde::Serialize;
use stack_spec::{DependencyCondition, MountType, Project, Service};

use super::{
    ConfigFields, DesiredDependency, DesiredNetwork, DesiredProject, DesiredService, DesiredVolume,
    PlanError, PullPolicy, SERVICE_PATHS_NOT_HASHED,
};
use crate::supervise::Condition;

/// The network a service joins when it names none and has no `network_mode`.
const DEFAULT_NETWORK: &str = "default";

/// The planner's view of a loaded project (profiles already applied: only
/// `project.services` is planned).
pub fn desired_from_spec(project: &Project) -> Result<DesiredProject, PlanError> {
    let mut desired = DesiredProject {
        name: project.name.clone(),
        ..Default::default()
    };
    for (key, net) in &project.networks {
        desired.networks.insert(
            key.clone(),
            DesiredNetwork {
                name: net.name.clone(),
                external: net.external,
                config: fields_of(&format!("network {key}"), net, &[])?,
            },
        );
    }
    for (key, vol) in &project.volumes {
        desired.volumes.insert(
            key.clone(),
            DesiredVolume {
                name: vol.name.clone(),
                external: vol.external,
                config: fields_of(&format!("volume {key}"), vol, &[])?,
            },
        );
    }
    for (name, service) in &project.services {
        let s = desired_service(project, name, service)?;
        desired.services.insert(name.clone(), s);
    }
    if !desired.networks.contains_key(DEFAULT_NETWORK)
        && desired
            .services
            .values()
            .any(|s| s.networks.iter().any(|n| n == DEFAULT_NETWORK))
    {
        // Compose creates `<project>_default` without it being declared.
        desired.networks.insert(
            DEFAULT_NETWORK.into(),
            DesiredNetwork {
                name: format!("{}_{DEFAULT_NETWORK}", project.name),
                external: false,
                config: ConfigFields::default(),
            },
        );
    }
    Ok(desired)
}

fn desired_service(
    project: &Project,
    name: &str,
    service: &Service,
) -> Result<DesiredService, PlanError> {
    let build = service.build.is_some();
    let image = match (&service.image, build) {
        (Some(image), _) => image.clone(),
        // Compose's name for a built image without `image:`.
        (None, true) => format!("{}-{name}", project.name),
        (None, false) => return Err(PlanError::NoImage(name.to_string())),
    };
    let replicas = service
        .scale
        .or_else(|| service.deploy.as_ref().and_then(|d| d.replicas))
        .unwrap_or(1);
    let networks: Vec<String> = if service.network_mode.is_some() {
        Vec::new()
    } else if service.networks.is_empty() {
        vec![DEFAULT_NETWORK.to_string()]
    } else {
        service.networks.keys().cloned().collect()
    };
    let volumes = service
        .volumes
        .iter()
        .filter(|v| v.kind == MountType::Volume)
        .filter_map(|v| v.source.clone())
        .filter(|source| project.volumes.contains_key(source))
        .collect();
    let pull_policy = match service.pull_policy.as_deref() {
        Some("always") => PullPolicy::Always,
        Some("never") => PullPolicy::Never,
        Some("build") => PullPolicy::Build,
        // `missing`, `if_not_present`, and the schedules (`daily`, …), which
        // behave as `missing` between their pulls.
        _ => PullPolicy::Missing,
    };
    Ok(DesiredService {
        name: name.to_string(),
        image,
        build,
        replicas,
        container_name: service.container_name.clone(),
        config: fields_of(
            &format!("service {name}"),
            service,
            SERVICE_PATHS_NOT_HASHED,
        )?,
        depends_on: service
            .depends_on
            .iter()
            .map(|(dep, d)| DesiredDependency {
                service: dep.clone(),
                condition: condition(d.condition),
                required: d.required,
                restart: d.restart,
            })
            .collect(),
        networks,
        volumes,
        shares_with: shared_services(service),
        pull_policy,
    })
}

/// Converts a `depends_on` condition of the model.
pub fn condition(c: DependencyCondition) -> Condition {
    match c {
        DependencyCondition::ServiceStarted => Condition::Started,
        DependencyCondition::ServiceHealthy => Condition::Healthy,
        DependencyCondition::ServiceCompletedSuccessfully => Condition::CompletedSuccessfully,
    }
}

/// Services whose namespaces or volumes `service` shares.
fn shared_services(service: &Service) -> Vec<String> {
    let mut out: Vec<String> = [&service.network_mode, &service.ipc, &service.pid]
        .into_iter()
        .flatten()
        .filter_map(|mode| mode.strip_prefix("service:"))
        .map(str::to_string)
        .collect();
    for from in &service.volumes_from {
        // `svc`, `svc:ro`, `svc:rw`; `container:name` is not a service.
        if from.starts_with("container:") {
            continue;
        }
        let svc = from.split(':').next().unwrap_or(from);
        out.push(svc.to_string());
    }
    out.sort();
    out.dedup();
    out
}

fn fields_of(what: &str, value: &impl Serialize, skip: &[&str]) -> Result<ConfigFields, PlanError> {
    let json = serde_json::to_value(value).map_err(|e| PlanError::Model {
        what: what.to_string(),
        message: e.to_string(),
    })?;
    Ok(ConfigFields::flatten(&json, skip))
}

/// Per-service hashes as `stack config --hash` would print them.
pub fn service_hashes(project: &DesiredProject) -> BTreeMap<String, String> {
    project
        .services
        .iter()
        .map(|(name, s)| (name.clone(), s.config.hash()))
        .collect()
}

#[cfg(test)]
#[path = "from_spec_tests.rs"]
mod tests;
