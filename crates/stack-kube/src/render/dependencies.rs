//! `depends_on`. Kubernetes starts every pod at once and has no ordering;
//! readiness probes plus client retries stand in for it. Users who want
//! the Compose behaviour opt into an initContainer per dependency that
//! waits until the dependency's Service answers. A Service only routes to
//! ready pods, so `service_healthy` is honoured too; a one-shot dependency
//! (a Job) is waited for until it completes (`job_wait`).

use k8s_openapi::api::core::v1::Container;
use stack_spec::{DependencyCondition, Service};

use super::{job_wait, service, workload, Context, RenderError};
use crate::names;

/// The waiting initContainers of a pod.
#[derive(Debug, Default)]
pub(super) struct Waits {
    pub containers: Option<Vec<Container>>,
    /// One of them reads a Job's status: the pod needs the project's
    /// job-reading service account.
    pub reads_jobs: bool,
}

/// The waiting initContainers of `service`, if asked for; otherwise a
/// warning that ordering is not enforced.
pub(super) fn init_containers(
    ctx: &mut Context<'_>,
    name: &str,
    service: &Service,
) -> Result<Waits, RenderError> {
    if service.depends_on.is_empty() {
        return Ok(Waits::default());
    }
    let path = format!("services.{name}.depends_on");
    if !ctx.options.wait_for_dependencies {
        ctx.warnings.push(
            path,
            "Kubernetes starts all pods at once and does not enforce ordering; \
             pass --wait-for-dependencies to add initContainers that wait",
        );
        return Ok(Waits::default());
    }
    let mut containers = Vec::new();
    let mut reads_jobs = false;
    for (dependency, options) in &service.depends_on {
        let dep_path = format!("{path}.{dependency}");
        let Some(target) = ctx.project.services.get(dependency) else {
            ctx.warnings.push(
                dep_path,
                "the dependency is not an enabled service; not enforced",
            );
            continue;
        };
        if options.condition == DependencyCondition::ServiceCompletedSuccessfully {
            if !workload::is_job(ctx, dependency, target) {
                ctx.warnings.push(
                    dep_path,
                    "the dependency runs as a Deployment (restart: always or unless-stopped), \
                     which never completes; not enforced",
                );
                continue;
            }
            let job = ctx.service_name(dependency)?;
            containers.push(job_wait::init_container(ctx, &job)?);
            reads_jobs = true;
            continue;
        }
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
    Ok(Waits {
        containers: (!containers.is_empty()).then_some(containers),
        reads_jobs,
    })
}
