//! `-p` / `ports:` short syntax: `[IP:][HOST:]CONTAINER[/PROTO]`, where
//! HOST and CONTAINER may be ranges (`8000-8009`). A missing host port gets
//! a free one of the host's, picked once at create time so it stays the
//! same across restarts.

use std::net::Ipv4Addr;

use stack_net::{MappingError, PortMapping, PortRange, Protocol};

/// A published port that was refused, naming the value as written.
#[derive(Debug, thiserror::Error)]
#[error("invalid published port {text:?}: {problem}")]
pub struct PublishError {
    pub text: String,
    #[source]
    pub problem: PublishProblem,
}

/// What is wrong with a published port.
#[derive(Debug, thiserror::Error)]
pub enum PublishProblem {
    #[error("unknown protocol {0:?}")]
    Protocol(String),
    #[error("IPv6 host addresses are not supported yet")]
    Ipv6,
    #[error("expected [IP:][HOST:]CONTAINER[/PROTO]")]
    Shape,
    #[error("{0:?} is not an IPv4 address")]
    NotIpv4(String),
    #[error("{0:?} is not a port (1-65535)")]
    NotPort(String),
    #[error("range {0:?} ends before it starts")]
    Backwards(String),
    #[error("a container port range needs a host port range")]
    RangeWithoutHost,
    /// The kernel would not hand out a port to pick.
    #[error("no free host port: {0}")]
    NoFreePort(#[source] std::io::Error),
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

/// Parses one published port; the error names the value.
pub fn parse_publish(text: &str) -> Result<PortMapping, PublishError> {
    let bad = |problem: PublishProblem| PublishError {
        text: text.to_string(),
        problem,
    };
    let (rest, protocol) = match text.rsplit_once('/') {
        Some((rest, "tcp")) => (rest, Protocol::Tcp),
        Some((rest, "udp")) => (rest, Protocol::Udp),
        Some((_, other)) => return Err(bad(PublishProblem::Protocol(other.to_string()))),
        None => (text, Protocol::Tcp),
    };
    if rest.starts_with('[') {
        return Err(bad(PublishProblem::Ipv6));
    }
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [c] => (None, None, *c),
        [h, c] => (None, Some(*h), *c),
        [ip, h, c] => (Some(*ip), Some(*h).filter(|h| !h.is_empty()), *c),
        _ => return Err(bad(PublishProblem::Shape)),
    };
    let host_ip = match ip {
        None | Some("") | Some("0.0.0.0") => None,
        Some(ip) => Some(
            ip.parse::<Ipv4Addr>()
                .map_err(|_| bad(PublishProblem::NotIpv4(ip.to_string())))?,
        ),
    };
    let container_ports = parse_range(container).map_err(bad)?;
    let host_ports = match host {
        Some(h) => parse_range(h).map_err(bad)?,
        None if container_ports.len() == 1 => {
            PortRange::single(free_port(host_ip, protocol).map_err(bad)?)
        }
        None => return Err(bad(PublishProblem::RangeWithoutHost)),
    };
    let mapping = PortMapping {
        host_ip,
        host_ports,
        container_ports,
        protocol,
    };
    mapping.validate().map_err(|e| bad(e.into()))?;
    Ok(mapping)
}

fn parse_range(text: &str) -> Result<PortRange, PublishProblem> {
    let port = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| PublishProblem::NotPort(p.to_string()))
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (start, end) = (port(a)?, port(b)?);
            if end < start {
                return Err(PublishProblem::Backwards(text.to_string()));
            }
            Ok(PortRange { start, end })
        }
        None => Ok(PortRange::single(port(text)?)),
    }
}

/// A port nobody on the host listens on right now.
fn free_port(ip: Option<Ipv4Addr>, protocol: Protocol) -> Result<u16, PublishProblem> {
    let at = (ip.unwrap_or(Ipv4Addr::UNSPECIFIED), 0);
    let port = match protocol {
        Protocol::Tcp => std::net::TcpListener::bind(at).and_then(|l| l.local_addr()),
        Protocol::Udp => std::net::UdpSocket::bind(at).and_then(|s| s.local_addr()),
    };
    port.map(|a| a.port()).map_err(PublishProblem::NoFreePort)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_syntax_forms() {
        let m = parse_publish("8080:80").expect("host:container");
        assert_eq!((m.host_ports.start, m.container_ports.start), (8080, 80));
        assert_eq!((m.host_ip, m.protocol), (None, Protocol::Tcp));
        let m = parse_publish("127.0.0.1:5353:53/udp").expect("ip:host:container/udp");
        assert_eq!(m.host_ip, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(m.protocol, Protocol::Udp);
        let m = parse_publish("8000-8002:9000-9002").expect("ranges");
        assert_eq!(
            m.pairs().collect::<Vec<_>>(),
            vec![(8000, 9000), (8001, 9001), (8002, 9002)]
        );
        let m = parse_publish("127.0.0.1::80").expect("ip with a free host port");
        assert_ne!(m.host_ports.start, 0);
        assert_eq!(m.container_ports.start, 80);
        let m = parse_publish("80").expect("container only");
        assert_ne!(m.host_ports.start, 0);
    }

    #[test]
    fn bad_values_are_named() {
        for bad in [
            "80/sctp",
            "1:2:3:4",
            "70000:80",
            "0:80",
            "x:80",
            "8000-8001:80",
            "9-8:8-9",
            "999.0.0.1:80:80",
            "[::1]:80:80",
            "8000-8001",
        ] {
            let err = parse_publish(bad).expect_err(bad).to_string();
            assert!(err.contains(bad), "{err} should name {bad}");
        }
    }
}
