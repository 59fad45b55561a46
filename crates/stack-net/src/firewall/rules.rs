//! The firewall as data: what rules our chains hold, rendered as
//! `iptables-restore` input. Pure, so every rule is unit-tested without root.
//!
//! Every rule lives in a `STACK-…` chain; the only rules outside them are
//! the jumps from the built-in chains ([`JUMPS`]). Every rule of ours
//! matches on one of our interfaces (`stk-…`) or our subnets, so traffic of
//! other software passes through untouched (a global "ct state INVALID drop"
//! once broke forwarding on routers).
//!
//! Published ports use DNAT plus `route_localnet=1` on our bridges rather
//! than a userland proxy: the kernel forwards with no copy through our
//! process, the container sees the real client address for remote clients,
//! and nothing has to stay running for a port to keep working (the rules
//! survive a restart of stack). For `127.0.0.1:port` the `OUTPUT` hook
//! does the DNAT; the packet then leaves through the bridge with source
//! 127.0.0.1, which `route_localnet` allows and `MASQUERADE` rewrites to
//! the gateway address so the container can answer.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::model::Protocol;

/// Our chains, by table.
pub const FILTER_CHAINS: [&str; 2] = ["STACK-FORWARD", "STACK-INPUT"];
pub const NAT_CHAINS: [&str; 3] = ["STACK-PREROUTING", "STACK-PORTS", "STACK-POSTROUTING"];

/// A jump from a built-in chain into one of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jump {
    pub table: &'static str,
    pub builtin: &'static str,
    /// Matches placed before `-j`, exactly as `iptables-save` prints them.
    pub matches: &'static str,
    pub target: &'static str,
}

impl Jump {
    /// The rule body after `-A <builtin>` / `-I <builtin> 1` / `-D <builtin>`.
    pub fn spec(&self) -> String {
        if self.matches.is_empty() {
            format!("-j {}", self.target)
        } else {
            format!("{} -j {}", self.matches, self.target)
        }
    }
}

pub const JUMPS: [Jump; 5] = [
    Jump {
        table: "filter",
        builtin: "FORWARD",
        matches: "",
        target: "STACK-FORWARD",
    },
    Jump {
        table: "filter",
        builtin: "INPUT",
        matches: "",
        target: "STACK-INPUT",
    },
    Jump {
        table: "nat",
        builtin: "PREROUTING",
        matches: "",
        target: "STACK-PREROUTING",
    },
    Jump {
        table: "nat",
        builtin: "OUTPUT",
        matches: "-m addrtype --dst-type LOCAL",
        target: "STACK-PORTS",
    },
    Jump {
        table: "nat",
        builtin: "POSTROUTING",
        matches: "",
        target: "STACK-POSTROUTING",
    },
];

/// The firewall inputs of one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRules {
    pub bridge: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub internal: bool,
}

/// One published host port, already expanded from ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortForward {
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub target: Ipv4Addr,
    pub target_port: u16,
    pub protocol: Protocol,
}

/// Everything the rules are made from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSet {
    pub networks: Vec<NetworkRules>,
    pub ports: Vec<PortForward>,
    /// Port the DNS resolver listens on in the host namespace; queries to
    /// `<gateway>:53` are redirected there.
    pub dns_port: Option<u16>,
}

/// Rules of one of our chains, each as the text after `-A <chain> `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRules {
    pub table: &'static str,
    pub chain: &'static str,
    pub rules: Vec<String>,
}

impl RuleSet {
    /// The content of each of our chains.
    pub fn chains(&self) -> Vec<ChainRules> {
        let chain = |table, chain, rules| ChainRules {
            table,
            chain,
            rules,
        };
        vec![
            chain("filter", "STACK-FORWARD", self.forward_rules()),
            chain("filter", "STACK-INPUT", self.input_rules()),
            chain("nat", "STACK-PREROUTING", self.prerouting_rules()),
            chain("nat", "STACK-PORTS", self.port_rules()),
            chain("nat", "STACK-POSTROUTING", self.postrouting_rules()),
        ]
    }

    fn forward_rules(&self) -> Vec<String> {
        let mut rules = vec![
            // Invalid packets could leak a container's source address.
            "-o stk-+ -m conntrack --ctstate INVALID -j DROP".to_string(),
            "-o stk-+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT".to_string(),
            "-i stk-+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT".to_string(),
            // Published ports stay reachable from anywhere, other networks included.
            "-o stk-+ -m conntrack --ctstate DNAT -j ACCEPT".to_string(),
        ];
        for n in &self.networks {
            let b = &n.bridge;
            rules.push(format!("-i {b} -o {b} -j ACCEPT"));
            // Isolation: no traffic from one of our networks into another.
            rules.push(format!("-i {b} -o stk-+ -j DROP"));
            if n.internal {
                rules.push(format!("-i {b} -j DROP"));
            } else {
                rules.push(format!("-i {b} -j ACCEPT"));
            }
            rules.push(format!("-o {b} -j DROP"));
        }
        rules
    }

    fn input_rules(&self) -> Vec<String> {
        let Some(port) = self.dns_port else {
            return Vec::new();
        };
        let mut rules = Vec::new();
        for n in &self.networks {
            for proto in ["udp", "tcp"] {
                rules.push(format!(
                    "-i {} -p {proto} -m {proto} --dport {port} -j ACCEPT",
                    n.bridge
                ));
            }
        }
        rules
    }

    fn prerouting_rules(&self) -> Vec<String> {
        let mut rules = Vec::new();
        if let Some(port) = self.dns_port {
            for n in &self.networks {
                for proto in ["udp", "tcp"] {
                    rules.push(format!(
                        "-d {}/32 -i {} -p {proto} -m {proto} --dport 53 -j REDIRECT --to-ports {port}",
                        n.gateway, n.bridge
                    ));
                }
            }
        }
        rules.push("-m addrtype --dst-type LOCAL -j STACK-PORTS".to_string());
        rules
    }

    fn port_rules(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| {
                let mut rule = String::new();
                if let Some(ip) = p.host_ip {
                    let _ = write!(rule, "-d {ip}/32 ");
                }
                let proto = p.protocol.as_str();
                let _ = write!(
                    rule,
                    "-p {proto} -m {proto} --dport {} -j DNAT --to-destination {}:{}",
                    p.host_port, p.target, p.target_port
                );
                rule
            })
            .collect()
    }

    fn postrouting_rules(&self) -> Vec<String> {
        // Published ports reached through 127.0.0.1 (see the module docs).
        let mut rules = vec!["-s 127.0.0.0/8 -o stk-+ -j MASQUERADE".to_string()];
        for n in &self.networks {
            let (b, s) = (&n.bridge, n.subnet);
            // Hairpin: a container reaching a published port of its own network.
            rules.push(format!(
                "-s {s} -o {b} -m conntrack --ctstate DNAT -j MASQUERADE"
            ));
            if !n.internal {
                rules.push(format!("-s {s} ! -o {b} -j MASQUERADE"));
            }
        }
        rules
    }
}

/// What `iptables-save` shows of ours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// (table, chain, number of rules) of each `STACK-…` chain present.
    pub chains: Vec<(String, String, usize)>,
    /// Jumps present, by index into [`JUMPS`].
    pub jumps: Vec<usize>,
}

impl Observed {
    /// Reads `iptables-save` output.
    pub fn parse(save: &str) -> Observed {
        let mut observed = Observed::default();
        let mut table = String::new();
        for line in save.lines() {
            if let Some(t) = line.strip_prefix('*') {
                table = t.trim().to_string();
            } else if let Some(decl) = line.strip_prefix(':') {
                let name = decl.split_whitespace().next().unwrap_or_default();
                if name.starts_with("STACK-") {
                    observed.chains.push((table.clone(), name.to_string(), 0));
                }
            } else if let Some(rule) = line.strip_prefix("-A ") {
                let (chain, body) = rule.split_once(' ').unwrap_or((rule, ""));
                if let Some(entry) = observed
                    .chains
                    .iter_mut()
                    .find(|(t, c, _)| *t == table && c == chain)
                {
                    entry.2 += 1;
                }
                for (i, jump) in JUMPS.iter().enumerate() {
                    if jump.table == table && jump.builtin == chain && body == jump.spec() {
                        observed.jumps.push(i);
                    }
                }
            }
        }
        observed
    }

    pub fn has_chain(&self, table: &str, chain: &str) -> bool {
        self.chains.iter().any(|(t, c, _)| t == table && c == chain)
    }

    /// True when our chains and jumps are all there with the expected
    /// number of rules; a flush or a reload shows as a difference. Counts,
    /// not text, are compared: `iptables-save` normalizes rules (adds
    /// `-m tcp`, `/32`, reorders matches), so a text comparison would see
    /// differences that are not there. Changed inputs are applied by
    /// [`super::Firewall::apply`], which always re-fills every chain.
    pub fn matches(&self, wanted: &[ChainRules]) -> bool {
        let jumps_ok = (0..JUMPS.len()).all(|i| self.jumps.contains(&i));
        let chains_ok = wanted.iter().all(|w| {
            self.chains
                .iter()
                .any(|(t, c, n)| t == w.table && c == w.chain && *n == w.rules.len())
        });
        jumps_ok && chains_ok
    }
}

/// `iptables-restore --noflush` input that (re)fills all our chains and
/// inserts the jumps that `observed` lacks. Declaring a chain flushes it.
pub fn render_apply(set: &RuleSet, observed: Option<&Observed>) -> String {
    let chains = set.chains();
    let mut out = String::new();
    for table in ["filter", "nat"] {
        let _ = writeln!(out, "*{table}");
        for c in chains.iter().filter(|c| c.table == table) {
            let _ = writeln!(out, ":{} - [0:0]", c.chain);
        }
        for c in chains.iter().filter(|c| c.table == table) {
            for rule in &c.rules {
                let _ = writeln!(out, "-A {} {rule}", c.chain);
            }
        }
        if let Some(observed) = observed {
            for (i, jump) in JUMPS.iter().enumerate() {
                if jump.table == table && !observed.jumps.contains(&i) {
                    let _ = writeln!(out, "-I {} 1 {}", jump.builtin, jump.spec());
                }
            }
        }
        out.push_str("COMMIT\n");
    }
    out
}

/// `iptables-restore --noflush` input that removes every jump and chain of
/// ours that `observed` shows; `None` when there is nothing to remove.
pub fn render_remove(observed: &Observed) -> Option<String> {
    let mut out = String::new();
    let mut any = false;
    for table in ["filter", "nat"] {
        let _ = writeln!(out, "*{table}");
        for (i, jump) in JUMPS.iter().enumerate() {
            if jump.table == table && observed.jumps.contains(&i) {
                let _ = writeln!(out, "-D {} {}", jump.builtin, jump.spec());
                any = true;
            }
        }
        let ours: Vec<&str> = observed
            .chains
            .iter()
            .filter(|(t, _, _)| t == table)
            .map(|(_, c, _)| c.as_str())
            .collect();
        // Flush all first (they may refer to each other), then delete.
        for chain in &ours {
            let _ = writeln!(out, ":{chain} - [0:0]");
        }
        for chain in &ours {
            let _ = writeln!(out, "-X {chain}");
            any = true;
        }
        out.push_str("COMMIT\n");
    }
    any.then_some(out)
}
