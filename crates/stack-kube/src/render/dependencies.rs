//! `depends_on`. Kubernetes starts every pod at once and has no ordering;
//! readiness probes plus client retries stand in for it. Users who want
//! the Compose behaviour opt into an initContainer per dependency that
//! waits until the dependency's Service answers. A Service only routes to
//! ready pods, so `service_healthy` is honoured too.

use k8s_openapi::api::core::v1::Container;
use stack_spec::{DependencyCondition, Service};

use super::{service, Context, RenderError};
use crate::names;

/// The waiting initContainers of `service`, if asked for; otherwise a
/// warning that ordering is not enforced.
pub(super) fn init_containers(
    ctx: &mut Context<'_>,
    name: &str,
    service: &Service,
) -> Result<Option<Vec<Container>>, RenderError> {
    if service.depends_on.is_empty() {
        return Ok(None);
    }
    let path = format!("services.{name}.depends_on");
    if !ctx.options.wait_for_dependencies {
        ctx.warnings.push(
            path,
            "Kubernetes starts all pods at once and does not enforce ordering; \
             pass --wait-for-dependencies to add initContainers that wait",
        );
        return Ok(None);
    }
    let mut containers = Vec::new();
    for (dependency, options) in &service.depends_on {
        let dep_path = format!("{path}.{dependency}");
        if options.condition == DependencyCondition::ServiceCompletedSuccessfully {
            ctx.warnings.push(
                dep_path,
                "a pod cannot wait for a Job to complete; not enforced",
            );
            continue;
        }
        let Some(target) = ctx.project.services.get(dependency) else {
            ctx.warnings.push(
                dep_path,
                "the dependency is not an enabled service; not enforced",
            );
            continue;
        };
        if options.restart {
            ctx.warnings.push(
                format!("{dep_path}.restart"),
                "pods are not restarted when a dependency changes",
            );
        }
        let host = ctx.service_name(dependency)?;
        let script = match service::first_port(target) {
            Some(port) => format!(
                "until nc -z -w 2 {host} {port}; do echo waiting for {host}:{port}; sleep 2; done"
            ),
            None => format!(
                "until nslookup {host} >/dev/null 2>&1; do echo waiting for {host}; sleep 2; done"
            ),
        };
        containers.push(Container {
            name: names::dns1123_label("init container", &format!("wait-for-{host}"))?,
            image: Some(ctx.options.init_image.clone()),
            command: Some(vec!["sh".into(), "-c".into(), script]),
            ..Container::default()
        });
    }
    Ok((!containers.is_empty()).then_some(containers))
}
