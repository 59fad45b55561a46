//! The controller of a service: a Deployment for long-running services, a
//! Job for one-shot ones, and the pod they run.
//!
//! `restart` decides: `always`, `unless-stopped` or none (Kompose's reading,
//! since most stack files leave it out for servers) → Deployment; `no` →
//! Job that runs once (`Never`, no retry); `on-failure[:N]` → Job with
//! `OnFailure` and `backoffLimit` N. A service with no `restart` that
//! another waits on with `service_completed_successfully` is a one-shot
//! task (a migration, say), not a server: it is a Job that runs once too,
//! where a Deployment would run it again and again.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    HostAlias, PodDNSConfig, PodDNSConfigOption, PodSpec, PodTemplateSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use stack_spec::{RestartPolicy, Service};

use super::{container, dependencies, files, job_wait, storage, units, Context, RenderError};
use crate::labels;
use crate::manifest::Object;
use crate::names;

/// The workload of service `name`, and objects made for it alone.
pub(super) fn render(
    ctx: &mut Context<'_>,
    name: &str,
    service: &Service,
) -> Result<(Object, Vec<Object>), RenderError> {
    let kube_name = ctx.service_name(name)?;
    let path = format!("services.{name}");
    let mut main = container::render(ctx, name, service)?;
    let mut storage = storage::pod_storage(ctx, name, service)?;
    files::mounts(ctx, name, service, &mut storage)?;
    main.volume_mounts = non_empty(std::mem::take(&mut storage.mounts));
    let waits = dependencies::init_containers(ctx, name, service)?;
    let mut pod = PodSpec {
        containers: vec![main],
        init_containers: waits.containers,
        volumes: non_empty(std::mem::take(&mut storage.volumes)),
        ..PodSpec::default()
    };
    if waits.reads_jobs {
        pod.service_account_name = Some(job_wait::account(ctx)?);
        ctx.reads_jobs = true;
    }
    pod_settings(ctx, &path, service, &mut pod);
    let template = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels::common(&ctx.label, &kube_name)),
            annotations: files::annotations(ctx, &format!("{path}.labels"), &service.labels),
            ..ObjectMeta::default()
        }),
        spec: Some(pod),
    };
    let deploy_labels = service
        .deploy
        .as_ref()
        .map(|d| d.labels.clone())
        .unwrap_or_default();
    let metadata = ObjectMeta {
        name: Some(kube_name.clone()),
        labels: Some(labels::common(&ctx.label, &kube_name)),
        annotations: files::annotations(ctx, &format!("{path}.deploy.labels"), &deploy_labels),
        ..ObjectMeta::default()
    };
    let replicas = service
        .scale
        .or_else(|| service.deploy.as_ref().and_then(|d| d.replicas))
        .unwrap_or(1);
    let replicas = i32::try_from(replicas).unwrap_or(i32::MAX);
    let one_shot = awaited_completion(ctx, name);
    if one_shot
        && matches!(
            service.restart,
            Some(RestartPolicy::Always | RestartPolicy::UnlessStopped)
        )
    {
        ctx.warnings.push(
            format!("{path}.restart"),
            "other services wait for it to complete, but this restart policy runs it again \
             and again; rendered as a Deployment, so they never start",
        );
    }
    let workload = match service.restart {
        None if one_shot => job(metadata, template, replicas, "Never", Some(0)),
        None | Some(RestartPolicy::Always) | Some(RestartPolicy::UnlessStopped) => deployment(
            ctx,
            &kube_name,
            metadata,
            template,
            replicas,
            storage.uses_claims,
        ),
        Some(RestartPolicy::No) => job(metadata, template, replicas, "Never", Some(0)),
        Some(RestartPolicy::OnFailure(limit)) => {
            let limit = limit.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
            job(metadata, template, replicas, "OnFailure", limit)
        }
    };
    Ok((workload, storage.objects))
}

/// Whether service `name` renders as a Job (see the module's comment).
pub(super) fn is_job(ctx: &Context<'_>, name: &str, service: &Service) -> bool {
    match service.restart {
        None => awaited_completion(ctx, name),
        Some(RestartPolicy::No | RestartPolicy::OnFailure(_)) => true,
        Some(RestartPolicy::Always | RestartPolicy::UnlessStopped) => false,
    }
}

/// Whether some service waits for `name` with
/// `condition: service_completed_successfully`.
pub(super) fn awaited_completion(ctx: &Context<'_>, name: &str) -> bool {
    ctx.project.services.values().any(|s| {
        s.depends_on.get(name).is_some_and(|d| {
            d.condition == stack_spec::DependencyCondition::ServiceCompletedSuccessfully
        })
    })
}

fn deployment(
    ctx: &Context<'_>,
    name: &str,
    metadata: ObjectMeta,
    mut template: PodTemplateSpec,
    replicas: i32,
    uses_claims: bool,
) -> Object {
    if let Some(pod) = template.spec.as_mut() {
        pod.restart_policy = Some("Always".to_string());
    }
    Object::Deployment(Deployment {
        metadata,
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(labels::selector(&ctx.label, name)),
                ..LabelSelector::default()
            },
            strategy: uses_claims.then(|| DeploymentStrategy {
                type_: Some("Recreate".to_string()),
                ..DeploymentStrategy::default()
            }),
            template,
            ..DeploymentSpec::default()
        }),
        status: None,
    })
}

fn job(
    metadata: ObjectMeta,
    mut template: PodTemplateSpec,
    replicas: i32,
    restart: &str,
    backoff_limit: Option<i32>,
) -> Object {
    if let Some(pod) = template.spec.as_mut() {
        pod.restart_policy = Some(restart.to_string());
    }
    let runs = (replicas != 1).then_some(replicas);
    Object::Job(Job {
        metadata,
        spec: Some(JobSpec {
            backoff_limit,
            completions: runs,
            parallelism: runs,
            template,
            ..JobSpec::default()
        }),
        status: None,
    })
}

/// Pod-wide settings: stop grace period, host name and aliases, DNS,
/// platform, init.
fn pod_settings(ctx: &mut Context<'_>, path: &str, service: &Service, pod: &mut PodSpec) {
    pod.termination_grace_period_seconds = service
        .stop_grace_period
        .map(|grace| units::seconds_ceil(grace.0, 0));
    if let Some(hostname) = &service.hostname {
        match names::dns1123_label("hostname", hostname) {
            Ok(label) if &label == hostname => pod.hostname = Some(label),
            _ => ctx.warnings.push(
                format!("{path}.hostname"),
                format!("{hostname:?} is not a DNS label; the pod name is the host name"),
            ),
        }
    }
    pod.host_aliases = host_aliases(ctx, path, service);
    pod.dns_config = dns_config(service);
    pod.node_selector = platform(ctx, path, service);
    if service.init == Some(true) {
        // With a shared process namespace the pod's pause process is PID 1
        // and reaps zombies, which is what `init: true` is for.
        pod.share_process_namespace = Some(true);
    }
    for (network, attachment) in &service.networks {
        if attachment
            .as_ref()
            .is_some_and(|a| *a != Default::default())
        {
            ctx.warnings.push(
                format!("{path}.networks.{network}"),
                "aliases and fixed addresses are not translated; the service name resolves",
            );
        }
    }
}

fn host_aliases(ctx: &mut Context<'_>, path: &str, service: &Service) -> Option<Vec<HostAlias>> {
    let mut by_ip: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (host, ips) in &service.extra_hosts {
        for ip in ips {
            if ip.parse::<std::net::IpAddr>().is_err() {
                ctx.warnings.push(
                    format!("{path}.extra_hosts.{host}"),
                    format!("{ip:?} is not an IP address; left out"),
                );
                continue;
            }
            by_ip.entry(ip.clone()).or_default().push(host.clone());
        }
    }
    let aliases: Vec<HostAlias> = by_ip
        .into_iter()
        .map(|(ip, hostnames)| HostAlias {
            ip,
            hostnames: Some(hostnames),
        })
        .collect();
    non_empty(aliases)
}

/// `dns`, `dns_search`, `dns_opt` are added to the cluster's DNS settings
/// (the policy stays ClusterFirst so service names keep resolving).
fn dns_config(service: &Service) -> Option<PodDNSConfig> {
    if service.dns.is_empty() && service.dns_search.is_empty() && service.dns_opt.is_empty() {
        return None;
    }
    let options: Vec<PodDNSConfigOption> = service
        .dns_opt
        .iter()
        .map(|option| {
            let (name, value) = match option.split_once(':') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (option.as_str(), None),
            };
            PodDNSConfigOption {
                name: Some(name.to_string()),
                value,
            }
        })
        .collect();
    Some(PodDNSConfig {
        nameservers: non_empty(service.dns.clone()),
        searches: non_empty(service.dns_search.clone()),
        options: non_empty(options),
    })
}

/// `platform: linux/arm64` → a node selector on the well-known labels.
fn platform(
    ctx: &mut Context<'_>,
    path: &str,
    service: &Service,
) -> Option<BTreeMap<String, String>> {
    let platform = service.platform.as_deref()?;
    let mut parts = platform.split('/');
    let os = parts.next().filter(|s| !s.is_empty())?;
    let mut selector = BTreeMap::from([("kubernetes.io/os".to_string(), os.to_string())]);
    if let Some(arch) = parts.next() {
        selector.insert("kubernetes.io/arch".to_string(), arch.to_string());
    }
    if parts.next().is_some() {
        ctx.warnings.push(
            format!("{path}.platform"),
            "the CPU variant cannot be selected; os and architecture are",
        );
    }
    Some(selector)
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}
