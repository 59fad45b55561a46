//! The container's `/etc/hosts` and `/etc/resolv.conf`, and reading the
//! host's resolvers from its own `/etc/resolv.conf`.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// `/etc/hosts` for a container: loopback, its own addresses under its
/// names, then `extra_hosts` (`--add-host`).
pub fn hosts_file(own: &[(Ipv4Addr, Vec<String>)], extra_hosts: &[(String, IpAddr)]) -> String {
    let mut out = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    for (address, names) in own {
        if !names.is_empty() {
            let _ = writeln!(out, "{address}\t{}", names.join(" "));
        }
    }
    for (name, address) in extra_hosts {
        let _ = writeln!(out, "{address}\t{name}");
    }
    out
}

/// `/etc/resolv.conf` for a container: the stack resolver (the gateway of
/// its first network) unless the container has its own `dns:` servers.
pub fn resolv_conf(nameservers: &[IpAddr], search: &[String], options: &[String]) -> String {
    let mut out = String::new();
    for ns in nameservers {
        let _ = writeln!(out, "nameserver {ns}");
    }
    if !search.is_empty() {
        let _ = writeln!(out, "search {}", search.join(" "));
    }
    if !options.is_empty() {
        let _ = writeln!(out, "options {}", options.join(" "));
    }
    out
}

/// The nameservers of a resolv.conf (at most three, as libc reads), on
/// port 53. Malformed lines are skipped rather than stalling lookups.
pub fn upstreams_from_resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next())
                .flatten()
                .and_then(|a| a.split('%').next())
                .and_then(|a| a.parse::<IpAddr>().ok())
        })
        .take(3)
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lists_own_names_and_extra_hosts() {
        let text = hosts_file(
            &[(
                Ipv4Addr::new(10, 89, 0, 2),
                vec!["web".into(), "p-web-1".into()],
            )],
            &[("db.local".into(), "10.1.2.3".parse().expect("ip"))],
        );
        assert!(text.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(text.contains("10.89.0.2\tweb p-web-1\n"));
        assert!(text.ends_with("10.1.2.3\tdb.local\n"));
    }

    #[test]
    fn resolv_conf_round_trip() {
        let text = resolv_conf(
            &["10.89.0.1".parse().expect("ip")],
            &["example.internal".into()],
            &["ndots:0".into()],
        );
        assert_eq!(
            text,
            "nameserver 10.89.0.1\nsearch example.internal\noptions ndots:0\n"
        );
        let host = "# comment\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nnameserver bogus\nnameserver 1.1.1.1\nnameserver 8.8.8.8\nnameserver 9.9.9.9\n";
        assert_eq!(
            upstreams_from_resolv_conf(host),
            vec![
                "127.0.0.53:53".parse().expect("sa"),
                "[fe80::1]:53".parse().expect("sa"),
                "1.1.1.1:53".parse().expect("sa"),
            ]
        );
    }
}
