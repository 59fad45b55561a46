//! The service's container: image, command, environment, security,
//! resources, ports and probes. Volume mounts are added by `storage`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EnvVar, ResourceRequirements, SecurityContext,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use stack_spec::{Resource, Service};

use super::{probes, service, units, Context, RenderError};

/// The container of service `name`.
pub(super) fn render(
    ctx: &mut Context<'_>,
    name: &str,
    service: &Service,
) -> Result<Container, RenderError> {
    let path = format!("services.{name}");
    let image = image(ctx, &path, service)?;
    let (readiness, liveness) = probes::render(ctx, &path, service);
    Ok(Container {
        name: ctx.service_name(name)?,
        image: Some(image),
        image_pull_policy: pull_policy(ctx, &path, service),
        command: argv(ctx, &format!("{path}.entrypoint"), &service.entrypoint),
        args: argv(ctx, &format!("{path}.command"), &service.command),
        env: env(service),
        working_dir: service.working_dir.clone(),
        ports: ports(service),
        security_context: security_context(ctx, &path, service),
        resources: resources(service),
        readiness_probe: readiness,
        liveness_probe: liveness,
        tty: service.tty.then_some(true),
        stdin: service.stdin_open.then_some(true),
        ..Container::default()
    })
}

fn image(ctx: &mut Context<'_>, path: &str, service: &Service) -> Result<String, RenderError> {
    match (&service.image, &service.build) {
        (Some(image), Some(_)) => {
            ctx.warnings.push(
                format!("{path}.build"),
                format!("a cluster cannot build images: build {image} and push it to a registry the cluster can pull from"),
            );
            Ok(image.clone())
        }
        (Some(image), None) => Ok(image.clone()),
        (None, Some(_)) => Err(RenderError::Unsupported {
            path: format!("{path}.build"),
            problem: "a cluster cannot use local builds: set `image:` to a registry reference and push the image there".into(),
        }),
        (None, None) => Err(RenderError::Unsupported {
            path: path.to_string(),
            problem: "has no `image:`".into(),
        }),
    }
}

fn pull_policy(ctx: &mut Context<'_>, path: &str, service: &Service) -> Option<String> {
    let policy = service.pull_policy.as_deref()?;
    let mapped = match policy {
        "always" => "Always",
        "never" => "Never",
        "missing" | "if_not_present" => "IfNotPresent",
        other => {
            ctx.warnings.push(
                format!("{path}.pull_policy"),
                format!("{other:?} has no Kubernetes counterpart; the cluster's default applies"),
            );
            return None;
        }
    };
    Some(mapped.to_string())
}

/// Compose `entrypoint` → `command`, Compose `command` → `args`. An empty
/// list (Compose: "clear the image's value") cannot be said in Kubernetes,
/// where an empty list means "keep the image's value".
fn argv(ctx: &mut Context<'_>, path: &str, value: &Option<Vec<String>>) -> Option<Vec<String>> {
    let words = value.as_ref()?;
    if words.is_empty() {
        ctx.warnings.push(
            path,
            "an empty list cannot clear the image's value on Kubernetes; the image's value is kept",
        );
        return None;
    }
    Some(words.iter().map(|word| units::literal(word)).collect())
}

/// Variables with a value, in name order. A variable declared without a
/// value and unset at load time is unset in the container under
/// `stack up` as well, so it is left out here too.
fn env(service: &Service) -> Option<Vec<EnvVar>> {
    let vars: Vec<EnvVar> = service
        .environment
        .iter()
        .filter_map(|(name, value)| {
            Some(EnvVar {
                name: name.clone(),
                value: Some(units::literal(value.as_ref()?)),
                ..EnvVar::default()
            })
        })
        .collect();
    (!vars.is_empty()).then_some(vars)
}

fn ports(service: &Service) -> Option<Vec<ContainerPort>> {
    let mut seen = Vec::new();
    let mut ports = Vec::new();
    for (target, protocol) in service::container_ports(service) {
        if seen.contains(&(target, protocol.clone())) {
            continue;
        }
        seen.push((target, protocol.clone()));
        ports.push(ContainerPort {
            container_port: i32::from(target),
            protocol: Some(protocol),
            ..ContainerPort::default()
        });
    }
    (!ports.is_empty()).then_some(ports)
}

fn security_context(
    ctx: &mut Context<'_>,
    path: &str,
    service: &Service,
) -> Option<SecurityContext> {
    let mut security = SecurityContext::default();
    if let Some(user) = &service.user {
        let (uid, gid) = user.split_once(':').unwrap_or((user, ""));
        match (uid.parse::<i64>(), gid.parse::<i64>()) {
            (Ok(uid), Ok(gid)) => {
                security.run_as_user = Some(uid);
                security.run_as_group = Some(gid);
            }
            (Ok(uid), Err(_)) if gid.is_empty() => security.run_as_user = Some(uid),
            _ => ctx.warnings.push(
                format!("{path}.user"),
                format!("{user:?}: Kubernetes takes numeric ids only; the image's user applies"),
            ),
        }
    }
    let add = capabilities(&service.cap_add);
    let drop = capabilities(&service.cap_drop);
    if add.is_some() || drop.is_some() {
        security.capabilities = Some(Capabilities { add, drop });
    }
    security.privileged = service.privileged.then_some(true);
    security.read_only_root_filesystem = service.read_only.then_some(true);
    for option in &service.security_opt {
        match option.as_str() {
            "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true" => {
                security.allow_privilege_escalation = Some(false);
            }
            other => ctx.warnings.push(
                format!("{path}.security_opt"),
                format!("{other:?} is not translated to Kubernetes"),
            ),
        }
    }
    (security != SecurityContext::default()).then_some(security)
}

/// Capability names as Kubernetes writes them (no `CAP_` prefix).
fn capabilities(names: &[String]) -> Option<Vec<String>> {
    let names: Vec<String> = names
        .iter()
        .map(|name| {
            let upper = name.to_ascii_uppercase();
            upper.strip_prefix("CAP_").unwrap_or(&upper).to_string()
        })
        .collect();
    (!names.is_empty()).then_some(names)
}

/// `deploy.resources` limits and reservations, falling back to the legacy
/// `cpus` and `mem_limit` for limits as Compose does.
fn resources(service: &Service) -> Option<ResourceRequirements> {
    let declared = service.deploy.as_ref().and_then(|d| d.resources.as_ref());
    let mut limits = declared
        .and_then(|r| r.limits.as_ref())
        .map(quantities)
        .unwrap_or_default();
    if !limits.contains_key("cpu") {
        if let Some(cpus) = service.cpus.filter(|c| *c > 0.0) {
            limits.insert("cpu".to_string(), units::cpus(cpus));
        }
    }
    if !limits.contains_key("memory") {
        if let Some(memory) = service.mem_limit.filter(|m| m.0 > 0) {
            limits.insert("memory".to_string(), units::bytes(memory.0));
        }
    }
    let requests = declared
        .and_then(|r| r.reservations.as_ref())
        .map(quantities)
        .unwrap_or_default();
    if limits.is_empty() && requests.is_empty() {
        return None;
    }
    Some(ResourceRequirements {
        limits: (!limits.is_empty()).then_some(limits),
        requests: (!requests.is_empty()).then_some(requests),
        ..ResourceRequirements::default()
    })
}

fn quantities(resource: &Resource) -> BTreeMap<String, Quantity> {
    let mut out = BTreeMap::new();
    if let Some(cpus) = resource.cpus.filter(|c| *c > 0.0) {
        out.insert("cpu".to_string(), units::cpus(cpus));
    }
    if let Some(memory) = resource.memory.filter(|m| m.0 > 0) {
        out.insert("memory".to_string(), units::bytes(memory.0));
    }
    out
}
