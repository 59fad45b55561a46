//! Rules the API server (or the kubelet) enforces that schema validation
//! does not see: `kubernetes-validate --strict` accepts a Deployment whose
//! selector misses its pods, a port of 99999, a name with `_`, a
//! Deployment with `restartPolicy: OnFailure`. Every render is checked
//! against them, and the tests break manifests on purpose to show each
//! rule bites.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::labels;
use crate::manifest::{Manifests, Object};
use crate::names::{is_dns1035_label, is_dns1123_label};

/// Every broken rule, one line each; empty when all hold.
pub fn check(manifests: &Manifests, project: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut pod_labels: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for object in &manifests.objects {
        let reference = object.reference();
        if !seen.insert(reference.clone()) {
            problems.push(format!("{reference}: rendered twice"));
        }
        names_and_labels(object, project, &mut problems);
        match object {
            Object::Deployment(deployment) => {
                let Some(spec) = &deployment.spec else {
                    problems.push(format!("{reference}: no spec"));
                    continue;
                };
                let template_labels = template_labels(&spec.template);
                let selector = spec.selector.match_labels.clone().unwrap_or_default();
                if selector.is_empty() || !is_subset(&selector, &template_labels) {
                    problems.push(format!(
                        "{reference}: selector {selector:?} does not match the pod labels {template_labels:?}"
                    ));
                }
                restart_policy(&reference, &spec.template, &["Always"], &mut problems);
                pod_labels.insert(object.name().to_string(), template_labels);
                pod(&reference, spec.template.spec.as_ref(), &mut problems);
            }
            Object::Job(job) => {
                let Some(spec) = &job.spec else {
                    problems.push(format!("{reference}: no spec"));
                    continue;
                };
                restart_policy(
                    &reference,
                    &spec.template,
                    &["Never", "OnFailure"],
                    &mut problems,
                );
                pod_labels.insert(object.name().to_string(), template_labels(&spec.template));
                pod(&reference, spec.template.spec.as_ref(), &mut problems);
            }
            _ => {}
        }
    }
    for object in &manifests.objects {
        if let Object::Service(service) = object {
            service_rules(object, service, &pod_labels, &mut problems);
        }
    }
    problems
}

fn names_and_labels(object: &Object, project: &str, problems: &mut Vec<String>) {
    let reference = object.reference();
    let name = object.name();
    let valid = match object {
        Object::Service(_) => is_dns1035_label(name),
        _ => is_dns1123_label(name),
    };
    if !valid {
        problems.push(format!(
            "{reference}: {name:?} is not a valid name for its kind"
        ));
    }
    let object_labels = object.metadata().labels.clone().unwrap_or_default();
    for (key, value) in labels::common(project, name) {
        if object_labels.get(&key) != Some(&value) {
            problems.push(format!("{reference}: label {key}={value} missing"));
        }
    }
    for (key, value) in &object_labels {
        if !labels::is_qualified_key(key) || !labels::is_label_value(value) {
            problems.push(format!("{reference}: label {key}={value} is not valid"));
        }
    }
}

fn template_labels(template: &PodTemplateSpec) -> BTreeMap<String, String> {
    template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

fn is_subset(small: &BTreeMap<String, String>, big: &BTreeMap<String, String>) -> bool {
    small.iter().all(|(key, value)| big.get(key) == Some(value))
}

fn restart_policy(
    reference: &str,
    template: &PodTemplateSpec,
    allowed: &[&str],
    problems: &mut Vec<String>,
) {
    let policy = template
        .spec
        .as_ref()
        .and_then(|spec| spec.restart_policy.as_deref())
        .unwrap_or("Always");
    if !allowed.contains(&policy) {
        problems.push(format!(
            "{reference}: restartPolicy {policy} (allowed: {})",
            allowed.join(", ")
        ));
    }
}

fn pod(reference: &str, spec: Option<&PodSpec>, problems: &mut Vec<String>) {
    let Some(spec) = spec else {
        problems.push(format!("{reference}: pod template has no spec"));
        return;
    };
    let volumes: Vec<&str> = spec
        .volumes
        .iter()
        .flatten()
        .map(|v| v.name.as_str())
        .collect();
    let unique: BTreeSet<&str> = volumes.iter().copied().collect();
    if unique.len() != volumes.len() {
        problems.push(format!("{reference}: two pod volumes share a name"));
    }
    for name in &volumes {
        if !is_dns1123_label(name) {
            problems.push(format!("{reference}: volume name {name:?} is not valid"));
        }
    }
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    for container in containers {
        if !is_dns1123_label(&container.name) {
            problems.push(format!(
                "{reference}: container name {:?} is not valid",
                container.name
            ));
        }
        for mount in container.volume_mounts.iter().flatten() {
            if !unique.contains(mount.name.as_str()) {
                problems.push(format!(
                    "{reference}: mount of unknown volume {:?}",
                    mount.name
                ));
            }
        }
        for port in container.ports.iter().flatten() {
            if !(1..=65535).contains(&port.container_port) {
                problems.push(format!(
                    "{reference}: containerPort {} out of range",
                    port.container_port
                ));
            }
        }
    }
}

fn service_rules(
    object: &Object,
    service: &k8s_openapi::api::core::v1::Service,
    pod_labels: &BTreeMap<String, BTreeMap<String, String>>,
    problems: &mut Vec<String>,
) {
    let reference = object.reference();
    let Some(spec) = &service.spec else {
        problems.push(format!("{reference}: no spec"));
        return;
    };
    let selector = spec.selector.clone().unwrap_or_default();
    match pod_labels.get(object.name()) {
        Some(labels) if !selector.is_empty() && is_subset(&selector, labels) => {}
        _ => problems.push(format!(
            "{reference}: selector {selector:?} matches no rendered pods"
        )),
    }
    let ports = spec.ports.clone().unwrap_or_default();
    let headless = spec.cluster_ip.as_deref() == Some("None");
    if ports.is_empty() && !headless {
        problems.push(format!("{reference}: no ports but not headless"));
    }
    let mut names = BTreeSet::new();
    for port in &ports {
        if !(1..=65535).contains(&port.port) {
            problems.push(format!("{reference}: port {} out of range", port.port));
        }
        if let Some(IntOrString::Int(target)) = port.target_port {
            if !(1..=65535).contains(&target) {
                problems.push(format!("{reference}: targetPort {target} out of range"));
            }
        }
        if ports.len() > 1 && !names.insert(port.name.clone().unwrap_or_default()) {
            problems.push(format!("{reference}: port names must be set and unique"));
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
    use k8s_openapi::api::batch::v1::{Job, JobSpec};
    use k8s_openapi::api::core::v1::{
        Container, ContainerPort, Service, ServicePort, ServiceSpec, VolumeMount,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

    use super::*;

    fn meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            labels: Some(labels::common("p", name)),
            ..ObjectMeta::default()
        }
    }

    fn template(name: &str, restart: &str) -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: Some(meta(name)),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: name.into(),
                    ports: Some(vec![ContainerPort {
                        container_port: 80,
                        ..ContainerPort::default()
                    }]),
                    ..Container::default()
                }],
                restart_policy: Some(restart.into()),
                ..PodSpec::default()
            }),
        }
    }

    /// A valid web Deployment + Service and a one-shot Job.
    fn valid() -> Manifests {
        let deployment = Deployment {
            metadata: meta("web"),
            spec: Some(DeploymentSpec {
                selector: LabelSelector {
                    match_labels: Some(labels::selector("p", "web")),
                    ..LabelSelector::default()
                },
                template: template("web", "Always"),
                ..DeploymentSpec::default()
            }),
            status: None,
        };
        let service = Service {
            metadata: meta("web"),
            spec: Some(ServiceSpec {
                selector: Some(labels::selector("p", "web")),
                ports: Some(vec![ServicePort {
                    port: 8080,
                    target_port: Some(IntOrString::Int(80)),
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            status: None,
        };
        let job = Job {
            metadata: meta("once"),
            spec: Some(JobSpec {
                template: template("once", "Never"),
                ..JobSpec::default()
            }),
            status: None,
        };
        Manifests {
            objects: vec![
                Object::Service(service),
                Object::Deployment(deployment),
                Object::Job(job),
            ],
        }
    }

    fn deployment_spec(manifests: &mut Manifests) -> &mut DeploymentSpec {
        match &mut manifests.objects[1] {
            Object::Deployment(d) => d.spec.as_mut().expect("spec"),
            _ => unreachable!("second object is the deployment"),
        }
    }

    fn service_spec(manifests: &mut Manifests) -> &mut ServiceSpec {
        match &mut manifests.objects[0] {
            Object::Service(s) => s.spec.as_mut().expect("spec"),
            _ => unreachable!("first object is the service"),
        }
    }

    fn problems_after(change: impl FnOnce(&mut Manifests)) -> String {
        let mut manifests = valid();
        change(&mut manifests);
        check(&manifests, "p").join("\n")
    }

    #[test]
    fn a_valid_set_passes() {
        assert_eq!(check(&valid(), "p"), Vec::<String>::new());
    }

    #[test]
    fn selector_must_match_the_pod_labels() {
        let text = problems_after(|m| {
            deployment_spec(m).selector.match_labels =
                Some(BTreeMap::from([("app".into(), "other".into())]));
        });
        assert!(text.contains("deployment/web: selector"), "{text}");
    }

    #[test]
    fn service_must_select_rendered_pods() {
        let text = problems_after(|m| {
            service_spec(m).selector = Some(labels::selector("p", "nothing"));
        });
        assert!(text.contains("service/web: selector"), "{text}");
    }

    #[test]
    fn ports_must_be_in_range() {
        let text = problems_after(|m| {
            let ports = service_spec(m).ports.as_mut().expect("ports");
            ports[0].port = 99999;
            ports[0].target_port = Some(IntOrString::Int(0));
        });
        assert!(text.contains("port 99999 out of range"), "{text}");
        assert!(text.contains("targetPort 0 out of range"), "{text}");
        let text = problems_after(|m| {
            let pod = deployment_spec(m).template.spec.as_mut().expect("pod");
            pod.containers[0].ports.as_mut().expect("ports")[0].container_port = 70000;
        });
        assert!(text.contains("containerPort 70000 out of range"), "{text}");
    }

    #[test]
    fn names_must_be_dns_labels() {
        let text = problems_after(|m| {
            m.objects[2].metadata_mut().name = Some("Web_Service".into());
        });
        assert!(
            text.contains("\"Web_Service\" is not a valid name"),
            "{text}"
        );
    }

    #[test]
    fn restart_policy_matches_the_controller() {
        let text = problems_after(|m| {
            let pod = deployment_spec(m).template.spec.as_mut().expect("pod");
            pod.restart_policy = Some("OnFailure".into());
        });
        assert!(
            text.contains("deployment/web: restartPolicy OnFailure"),
            "{text}"
        );
        let text = problems_after(|m| {
            if let Object::Job(job) = &mut m.objects[2] {
                let pod = job.spec.as_mut().and_then(|s| s.template.spec.as_mut());
                pod.expect("pod").restart_policy = None;
            }
        });
        assert!(text.contains("job/once: restartPolicy Always"), "{text}");
    }

    #[test]
    fn common_labels_are_required() {
        let text = problems_after(|m| {
            m.objects[0].metadata_mut().labels = None;
        });
        assert!(
            text.contains("service/web: label app.kubernetes.io/managed-by=stack missing"),
            "{text}"
        );
    }

    #[test]
    fn mounts_need_their_volume() {
        let text = problems_after(|m| {
            let pod = deployment_spec(m).template.spec.as_mut().expect("pod");
            pod.containers[0].volume_mounts = Some(vec![VolumeMount {
                name: "data".into(),
                mount_path: "/data".into(),
                ..VolumeMount::default()
            }]);
        });
        assert!(text.contains("mount of unknown volume \"data\""), "{text}");
    }

    #[test]
    fn portless_services_must_be_headless() {
        let text = problems_after(|m| service_spec(m).ports = None);
        assert!(text.contains("no ports but not headless"), "{text}");
        let text = problems_after(|m| {
            let spec = service_spec(m);
            spec.ports = None;
            spec.cluster_ip = Some("None".into());
        });
        assert_eq!(text, "");
    }
}
