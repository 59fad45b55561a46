//! A Service per stack service, so every service name resolves in the
//! cluster as it does under `stack up`: ClusterIP with the `ports` and
//! `expose` ports, or headless (`clusterIP: None`, no ports) when there are
//! none. Kompose makes no Service in that case, so such names do not resolve.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service as KubeService, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use stack_spec::Service;

use super::{Context, RenderError, ServiceType};
use crate::labels;
use crate::manifest::Object;

/// The Service of stack service `name`.
pub(super) fn render(
    ctx: &mut Context<'_>,
    name: &str,
    service: &Service,
) -> Result<Object, RenderError> {
    let kube_name = ctx.service_name(name)?;
    let ports = service_ports(ctx, name, service);
    let publishes = !service.ports.is_empty();
    let spec = if ports.is_empty() {
        ServiceSpec {
            cluster_ip: Some("None".to_string()),
            selector: Some(labels::selector(&ctx.label, &kube_name)),
            ..ServiceSpec::default()
        }
    } else {
        let kind = if publishes {
            ctx.options.service_type
        } else {
            ServiceType::ClusterIp
        };
        ServiceSpec {
            type_: Some(kind.as_str().to_string()),
            selector: Some(labels::selector(&ctx.label, &kube_name)),
            ports: Some(ports),
            ..ServiceSpec::default()
        }
    };
    Ok(Object::Service(KubeService {
        metadata: ObjectMeta {
            name: Some(kube_name.clone()),
            labels: Some(labels::common(&ctx.label, &kube_name)),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    }))
}

/// Every (container port, protocol) the service listens on, from `ports`
/// then `expose`, protocol upper-case as Kubernetes writes it.
pub(super) fn container_ports(service: &Service) -> Vec<(u16, String)> {
    let published = service
        .ports
        .iter()
        .map(|port| (port.target, protocol(&port.protocol)));
    let exposed = service
        .expose
        .iter()
        .flat_map(|entry| parse_expose(entry).unwrap_or_default());
    published.chain(exposed).collect()
}

/// The port the Service of `service` answers on first, if any.
pub(super) fn first_port(service: &Service) -> Option<u16> {
    let published = service.ports.first().map(|entry| {
        entry
            .published
            .as_deref()
            .and_then(parse_published)
            .unwrap_or(entry.target)
    });
    published.or_else(|| {
        service
            .expose
            .iter()
            .find_map(|entry| parse_expose(entry)?.first().map(|(port, _)| *port))
    })
}

fn protocol(text: &str) -> String {
    if text.is_empty() {
        "TCP".to_string()
    } else {
        text.to_ascii_uppercase()
    }
}

/// `3000`, `3000/udp`, `3000-3002/tcp` → one entry per port.
fn parse_expose(entry: &str) -> Option<Vec<(u16, String)>> {
    let (ports, proto) = entry.split_once('/').unwrap_or((entry, "tcp"));
    let (first, last) = match ports.split_once('-') {
        Some((a, b)) => (a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?),
        None => {
            let port = ports.trim().parse::<u16>().ok()?;
            (port, port)
        }
    };
    if first == 0 || last < first {
        return None;
    }
    Some((first..=last).map(|port| (port, protocol(proto))).collect())
}

fn service_ports(ctx: &mut Context<'_>, name: &str, service: &Service) -> Vec<ServicePort> {
    let mut ports: BTreeMap<(i32, String), ServicePort> = BTreeMap::new();
    let mut add = |ctx: &mut Context<'_>, path: String, port: ServicePort| {
        let key = (port.port, port.protocol.clone().unwrap_or_default());
        match ports.get(&key) {
            Some(existing) if existing.target_port != port.target_port => ctx.warnings.push(
                path,
                format!(
                    "port {} is already taken by another entry; this one is left out",
                    port.port
                ),
            ),
            Some(_) => {}
            None => {
                ports.insert(key, port);
            }
        }
    };
    for (index, entry) in service.ports.iter().enumerate() {
        let path = format!("services.{name}.ports[{index}]");
        if entry.host_ip.is_some() {
            ctx.warnings.push(
                format!("{path}.host_ip"),
                "a Service listens on its cluster address; the host address is not used",
            );
        }
        if entry.mode == "host" {
            ctx.warnings.push(
                format!("{path}.mode"),
                "host mode publishing is not translated; the port is a Service port",
            );
        }
        let port = match entry.published.as_deref().map(parse_published) {
            Some(Some(published)) => published,
            Some(None) => {
                ctx.warnings.push(
                    format!("{path}.published"),
                    "a port range cannot be a Service port; the target port is used",
                );
                entry.target
            }
            None => entry.target,
        };
        let protocol = protocol(&entry.protocol);
        let service_port = ServicePort {
            name: Some(port_name(entry.name.as_deref(), port, &protocol)),
            port: i32::from(port),
            target_port: Some(IntOrString::Int(i32::from(entry.target))),
            protocol: Some(protocol),
            app_protocol: entry.app_protocol.clone(),
            ..ServicePort::default()
        };
        add(ctx, path, service_port);
    }
    for (index, entry) in service.expose.iter().enumerate() {
        let path = format!("services.{name}.expose[{index}]");
        let Some(exposed) = parse_expose(entry) else {
            ctx.warnings
                .push(path, format!("{entry:?} is not a port or port range"));
            continue;
        };
        for (port, protocol) in exposed {
            let service_port = ServicePort {
                name: Some(port_name(None, port, &protocol)),
                port: i32::from(port),
                target_port: Some(IntOrString::Int(i32::from(port))),
                protocol: Some(protocol),
                ..ServicePort::default()
            };
            add(ctx, path.clone(), service_port);
        }
    }
    let mut ports: Vec<ServicePort> = ports.into_values().collect();
    dedupe_names(&mut ports);
    ports
}

/// A single published port; `None` for a real range. `0` (any port) is
/// treated as unset by the caller's fallback.
fn parse_published(text: &str) -> Option<u16> {
    let (first, last) = text.split_once('-').unwrap_or((text, text));
    let (first, last) = (
        first.trim().parse::<u16>().ok()?,
        last.trim().parse::<u16>().ok()?,
    );
    (first == last && first != 0).then_some(first)
}

/// The Compose port name if Kubernetes accepts it (an IANA service name),
/// else `tcp-8080`.
fn port_name(given: Option<&str>, port: u16, protocol: &str) -> String {
    match given {
        Some(name) if is_iana_service_name(name) => name.to_string(),
        _ => format!("{}-{port}", protocol.to_ascii_lowercase()),
    }
}

fn is_iana_service_name(name: &str) -> bool {
    name.len() <= 15
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// Port names must be unique within a Service; a repeated Compose name
/// falls back to the generated one.
fn dedupe_names(ports: &mut [ServicePort]) {
    let mut seen = Vec::new();
    for port in ports.iter_mut() {
        let name = port.name.clone().unwrap_or_default();
        if seen.contains(&name) {
            let protocol = port
                .protocol
                .clone()
                .unwrap_or_default()
                .to_ascii_lowercase();
            port.name = Some(format!("{protocol}-{}", port.port));
        }
        seen.push(port.name.clone().unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expose_entries() {
        assert_eq!(parse_expose("3000"), Some(vec![(3000, "TCP".into())]));
        assert_eq!(parse_expose("53/udp"), Some(vec![(53, "UDP".into())]));
        assert_eq!(parse_expose("10-11").map(|v| v.len()), Some(2));
        assert_eq!(parse_expose("http"), None);
        assert_eq!(parse_expose("0"), None);
    }

    #[test]
    fn published_ports() {
        assert_eq!(parse_published("8080"), Some(8080));
        assert_eq!(parse_published("8080-8080"), Some(8080));
        assert_eq!(parse_published("8000-8010"), None);
        assert_eq!(parse_published("0"), None);
    }

    #[test]
    fn port_names() {
        assert_eq!(port_name(Some("web"), 80, "TCP"), "web");
        assert_eq!(port_name(Some("Web_UI"), 80, "TCP"), "tcp-80");
        assert_eq!(port_name(None, 53, "UDP"), "udp-53");
        assert!(!is_iana_service_name("a--b"));
        assert!(!is_iana_service_name("8080"));
        assert!(!is_iana_service_name("a-very-long-port-name"));
    }
}
