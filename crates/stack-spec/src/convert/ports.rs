//! `ports:` short and long syntax to long-form [`Port`]s.

use super::Ctx;
use crate::model::Port;
use crate::yaml::{Node, Value};

const LONG_KEYS: &[&str] = &[
    "name",
    "target",
    "published",
    "host_ip",
    "protocol",
    "app_protocol",
    "mode",
    "x-",
];

/// A short-syntax port that was refused, naming it as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid port {spec:?}: {problem}")]
pub struct PortError {
    pub spec: String,
    pub problem: PortProblem,
}

/// What is wrong with a short-syntax port.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortProblem {
    #[error("protocol must be tcp, udp or sctp")]
    Protocol,
    #[error("missing `]` after the IPv6 address")]
    Bracket,
    #[error("expected `:` after the host address")]
    Colon,
    #[error("write an IPv6 host address in brackets, e.g. [::1]:8080:80")]
    Ipv6,
    #[error("too many `:`")]
    TooManyColons,
    #[error("the container port must be 1-65535")]
    ContainerPortZero,
    #[error("host and container ranges differ in size")]
    RangeSizes,
    #[error("{0:?} is not a port number")]
    NotAPort(String),
    #[error("range {0:?} is reversed")]
    Reversed(String),
}

/// Parses `[[HOST_IP:](PORT|RANGE):](PORT|RANGE)[/PROTOCOL]`; IPv6 host
/// addresses go in brackets (`[::1]:8080:80`). Ranges expand to one port
/// each.
pub fn parse_port(spec: &str) -> Result<Vec<Port>, PortError> {
    let bad = |problem| PortError {
        spec: spec.to_string(),
        problem,
    };
    let (addr, protocol) = match spec.rsplit_once('/') {
        Some((a, p)) => (a, p.to_string()),
        None => (spec, "tcp".to_string()),
    };
    if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(bad(PortProblem::Protocol));
    }
    let (host_ip, rest) = if let Some(bracketed) = addr.strip_prefix('[') {
        let (ip, rest) = bracketed
            .split_once(']')
            .ok_or_else(|| bad(PortProblem::Bracket))?;
        let rest = rest
            .strip_prefix(':')
            .ok_or_else(|| bad(PortProblem::Colon))?;
        (Some(ip.to_string()), rest)
    } else {
        (None, addr)
    };
    let parts: Vec<&str> = rest.rsplitn(3, ':').collect();
    let (host_ip, published, target) = match (host_ip, parts.as_slice()) {
        (ip, [target]) => (ip, None, *target),
        (ip, [target, published]) => (ip, Some(*published), *target),
        (None, [_, _, ip]) if ip.contains(':') => return Err(bad(PortProblem::Ipv6)),
        (None, [target, published, ip]) => (Some(ip.to_string()), Some(*published), *target),
        _ => return Err(bad(PortProblem::TooManyColons)),
    };
    let published = published.filter(|p| !p.is_empty());
    let (t_start, t_end) = range(target).map_err(bad)?;
    if t_start == 0 {
        // 0 means "any free port" only on the host side.
        return Err(bad(PortProblem::ContainerPortZero));
    }
    let publish_range = match published {
        Some(p) => Some(range(p).map_err(bad)?),
        None => None,
    };
    let count = t_end - t_start + 1;
    let mut ports = Vec::new();
    for (i, t) in (t_start..=t_end).enumerate() {
        let published = match publish_range {
            None => None,
            Some((p_start, p_end)) if count == 1 => Some(if p_start == p_end {
                p_start.to_string()
            } else {
                format!("{p_start}-{p_end}")
            }),
            Some((p_start, p_end)) => {
                if p_end - p_start + 1 != count {
                    return Err(bad(PortProblem::RangeSizes));
                }
                Some((p_start + i as u32).to_string())
            }
        };
        ports.push(Port {
            mode: "ingress".into(),
            host_ip: host_ip.clone(),
            target: t as u16,
            published,
            protocol: protocol.clone(),
            ..Port::default()
        });
    }
    Ok(ports)
}

/// `8000` or `8000-8010`, each within 1..=65535 (0 allowed for "any").
fn range(text: &str) -> Result<(u32, u32), PortProblem> {
    let one = |s: &str| -> Result<u32, PortProblem> {
        match s.trim().parse::<u32>() {
            Ok(p) if p <= 65535 => Ok(p),
            _ => Err(PortProblem::NotAPort(s.to_string())),
        }
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (one(a)?, one(b)?);
            if a > b {
                return Err(PortProblem::Reversed(text.to_string()));
            }
            Ok((a, b))
        }
        None => {
            let p = one(text)?;
            Ok((p, p))
        }
    }
}

/// One `ports:` item, short or long.
pub fn port_entry(ctx: &mut Ctx, node: &Node, service: &str) -> Vec<Port> {
    let context = format!("service `{service}` ports");
    match &node.value {
        Value::Map(m) => {
            let mut port = Port {
                mode: "ingress".into(),
                protocol: "tcp".into(),
                ..Port::default()
            };
            let mut has_target = false;
            for (k, v) in m.iter() {
                match k.name.as_str() {
                    "target" => match ctx.uint::<u16>(v, &context) {
                        Some(0) => {
                            ctx.error(
                                v.span,
                                format!("{context}: the container port must be 1-65535"),
                            );
                            has_target = true;
                        }
                        Some(t) => {
                            port.target = t;
                            has_target = true;
                        }
                        None => {}
                    },
                    "published" => {
                        port.published = ctx.string(v, &context);
                        if let Some(p) = &port.published {
                            if let Err(problem) = range(p) {
                                let spec = p.clone();
                                ctx.error(v.span, PortError { spec, problem }.to_string());
                            }
                        }
                    }
                    "host_ip" => port.host_ip = ctx.string(v, &context),
                    "protocol" => port.protocol = ctx.string(v, &context).unwrap_or(port.protocol),
                    "app_protocol" => port.app_protocol = ctx.string(v, &context),
                    "mode" => match ctx.string(v, &context).as_deref() {
                        Some(m @ ("host" | "ingress")) => port.mode = m.to_string(),
                        _ => ctx.error(v.span, format!("{context}: mode must be host or ingress")),
                    },
                    "name" => port.name = ctx.string(v, &context),
                    key if key.starts_with("x-") => {}
                    key => ctx.unknown_key(k.span, key, &context, LONG_KEYS),
                }
            }
            if !has_target {
                ctx.error(node.span, format!("{context}: a port needs a `target`"));
                return Vec::new();
            }
            vec![port]
        }
        _ => match ctx.string(node, &context) {
            Some(spec) => match parse_port(&spec) {
                Ok(ports) => ports,
                Err(e) => {
                    ctx.error_with(node.span, e.to_string(), "bad port");
                    Vec::new()
                }
            },
            None => Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> Port {
        let mut ports = parse_port(spec).expect("valid port");
        assert_eq!(ports.len(), 1);
        ports.remove(0)
    }

    #[test]
    fn short_forms() {
        let p = one("80");
        assert_eq!((p.target, p.published.as_deref()), (80, None));
        let p = one("8080:80");
        assert_eq!((p.target, p.published.as_deref()), (80, Some("8080")));
        let p = one("127.0.0.1:8080:80/udp");
        assert_eq!(p.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(p.protocol, "udp");
        let p = one("[::1]:6001:6001");
        assert_eq!(p.host_ip.as_deref(), Some("::1"));
        let p = one("127.0.0.1::80");
        assert_eq!(
            (p.host_ip.as_deref(), p.published),
            (Some("127.0.0.1"), None)
        );
        let p = one("8000-8010:80");
        assert_eq!(p.published.as_deref(), Some("8000-8010"));
    }

    #[test]
    fn ranges_expand() {
        let ports = parse_port("9090-9091:8080-8081").expect("valid");
        assert_eq!(ports.len(), 2);
        assert_eq!(ports[1].target, 8081);
        assert_eq!(ports[1].published.as_deref(), Some("9091"));
        assert_eq!(parse_port("3000-3002").expect("valid").len(), 3);
    }

    #[test]
    fn bad_ports() {
        for spec in [
            "http",
            "80/xyz",
            "70000",
            "1:2:3:4",
            "9090-9092:8080-8081",
            "90-80",
            "80:0",
            "0",
        ] {
            assert!(parse_port(spec).is_err(), "{spec}");
        }
    }
}
