use std::net::Ipv4Addr;
use std::sync::Mutex;

use super::rules::{render_apply, render_remove, Observed, JUMPS};
use super::*;
use crate::model::Protocol;

fn set() -> RuleSet {
    RuleSet {
        networks: vec![
            NetworkRules {
                bridge: "stk-a".into(),
                subnet: "10.89.0.0/24".parse().expect("cidr"),
                gateway: Ipv4Addr::new(10, 89, 0, 1),
                internal: false,
            },
            NetworkRules {
                bridge: "stk-b".into(),
                subnet: "10.89.1.0/24".parse().expect("cidr"),
                gateway: Ipv4Addr::new(10, 89, 1, 1),
                internal: true,
            },
        ],
        ports: vec![
            PortForward {
                host_ip: None,
                host_port: 8080,
                target: Ipv4Addr::new(10, 89, 0, 2),
                target_port: 80,
                protocol: Protocol::Tcp,
            },
            PortForward {
                host_ip: Some(Ipv4Addr::new(127, 0, 0, 1)),
                host_port: 5353,
                target: Ipv4Addr::new(10, 89, 0, 3),
                target_port: 53,
                protocol: Protocol::Udp,
            },
        ],
        dns_port: Some(40053),
    }
}

fn rules_of(set: &RuleSet, chain: &str) -> Vec<String> {
    set.chains()
        .into_iter()
        .find(|c| c.chain == chain)
        .map(|c| c.rules)
        .unwrap_or_default()
}

#[test]
fn forward_rules_isolate_networks_and_block_internal_egress() {
    let rules = rules_of(&set(), "STACK-FORWARD");
    let pos = |r: &str| {
        rules
            .iter()
            .position(|x| x == r)
            .unwrap_or_else(|| panic!("missing rule {r:?} in {rules:#?}"))
    };
    assert!(
        pos("-o stk-+ -m conntrack --ctstate DNAT -j ACCEPT") < pos("-i stk-a -o stk-+ -j DROP")
    );
    assert!(pos("-i stk-a -o stk-a -j ACCEPT") < pos("-i stk-a -o stk-+ -j DROP"));
    assert!(pos("-i stk-a -o stk-+ -j DROP") < pos("-i stk-a -j ACCEPT"));
    pos("-i stk-b -j DROP");
    pos("-o stk-b -j DROP");
    assert!(!rules.contains(&"-i stk-b -j ACCEPT".to_string()));
    // Every rule is scoped to our interfaces.
    assert!(rules.iter().all(|r| r.contains("stk-")), "{rules:#?}");
}

#[test]
fn masquerade_only_for_networks_with_egress() {
    let rules = rules_of(&set(), "STACK-POSTROUTING");
    assert!(rules.contains(&"-s 10.89.0.0/24 ! -o stk-a -j MASQUERADE".to_string()));
    assert!(
        !rules.iter().any(|r| r.contains("! -o stk-b")),
        "{rules:#?}"
    );
    assert!(rules.contains(&"-s 127.0.0.0/8 -o stk-+ -j MASQUERADE".to_string()));
}

#[test]
fn published_ports_and_dns_redirect() {
    let s = set();
    assert_eq!(
        rules_of(&s, "STACK-PORTS"),
        vec![
            "-p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.89.0.2:80",
            "-d 127.0.0.1/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.89.0.3:53",
        ]
    );
    let pre = rules_of(&s, "STACK-PREROUTING");
    assert!(pre.contains(
        &"-d 10.89.1.1/32 -i stk-b -p udp -m udp --dport 53 -j REDIRECT --to-ports 40053"
            .to_string()
    ));
    assert_eq!(
        pre.last().map(String::as_str),
        Some("-m addrtype --dst-type LOCAL -j STACK-PORTS")
    );
    assert_eq!(rules_of(&s, "STACK-INPUT").len(), 4);
    let no_dns = RuleSet {
        dns_port: None,
        ..set()
    };
    assert!(rules_of(&no_dns, "STACK-INPUT").is_empty());
}

/// `iptables-save` of a host with Docker's rules and ours.
fn saved(with_ours: bool, flushed: bool) -> String {
    let ours = set();
    let mut out = String::from(
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:DOCKER-USER - [0:0]\n",
    );
    let chain_lines = |table: &str| -> String {
        let mut s = String::new();
        for c in ours.chains().iter().filter(|c| c.table == table) {
            s += &format!(":{} - [0:0]\n", c.chain);
        }
        if !flushed {
            for c in ours.chains().iter().filter(|c| c.table == table) {
                for r in &c.rules {
                    s += &format!("-A {} {r}\n", c.chain);
                }
            }
        }
        s
    };
    if with_ours {
        out += &chain_lines("filter");
        out += "-A FORWARD -j STACK-FORWARD\n-A INPUT -j STACK-INPUT\n";
    }
    out += "-A FORWARD -j DOCKER-USER\n-A DOCKER-USER -j RETURN\nCOMMIT\n";
    out += "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n";
    if with_ours {
        out += &chain_lines("nat");
        out += "-A PREROUTING -j STACK-PREROUTING\n-A OUTPUT -m addrtype --dst-type LOCAL -j STACK-PORTS\n-A POSTROUTING -j STACK-POSTROUTING\n";
    }
    out += "COMMIT\n";
    out
}

#[test]
fn observed_state_detects_flushes() {
    let wanted = set().chains();
    let full = Observed::parse(&saved(true, false));
    assert_eq!(full.jumps.len(), JUMPS.len());
    assert!(full.matches(&wanted));
    assert!(!Observed::parse(&saved(true, true)).matches(&wanted));
    let none = Observed::parse(&saved(false, false));
    assert!(none.jumps.is_empty() && none.chains.is_empty());
    assert!(!none.matches(&wanted));
}

#[test]
fn apply_inserts_only_missing_jumps() {
    let s = set();
    let fresh = render_apply(&s, Some(&Observed::parse(&saved(false, false))));
    assert!(fresh.contains("-I FORWARD 1 -j STACK-FORWARD\n"), "{fresh}");
    assert!(fresh.contains("-I OUTPUT 1 -m addrtype --dst-type LOCAL -j STACK-PORTS\n"));
    let repaired = render_apply(&s, Some(&Observed::parse(&saved(true, true))));
    assert!(!repaired.contains("-I "), "{repaired}");
    assert!(repaired.contains(":STACK-FORWARD - [0:0]\n"));
    assert_eq!(repaired.matches("COMMIT").count(), 2);
}

#[test]
fn remove_deletes_jumps_then_chains() {
    let input = render_remove(&Observed::parse(&saved(true, false))).expect("something to remove");
    let del = input
        .find("-D FORWARD -j STACK-FORWARD")
        .expect("jump removed");
    let x = input.find("-X STACK-FORWARD").expect("chain removed");
    assert!(del < x);
    assert!(!input.contains("DOCKER"));
    assert_eq!(render_remove(&Observed::parse(&saved(false, false))), None);
}

/// Records what the driver asks of iptables; `save` replays a script.
#[derive(Default)]
struct FakeIptables {
    saves: Mutex<Vec<String>>,
    restores: Mutex<Vec<String>>,
}

impl IptablesRunner for &FakeIptables {
    async fn save(&self) -> Result<String> {
        let mut saves = self.saves.lock().expect("lock");
        Ok(if saves.is_empty() {
            String::new()
        } else {
            saves.remove(0)
        })
    }
    async fn restore(&self, input: String) -> Result<()> {
        self.restores.lock().expect("lock").push(input);
        Ok(())
    }
}

#[tokio::test]
async fn one_restore_per_change_and_reconcile_repairs_only_differences() {
    let fake = FakeIptables::default();
    fake.saves.lock().expect("lock").extend([
        saved(false, false),
        saved(true, false),
        saved(true, true),
    ]);
    let mut fw = Firewall::new(&fake);
    fw.apply(&set()).await.expect("first apply");
    fw.apply(&set()).await.expect("second apply");
    assert_eq!(fake.restores.lock().expect("lock").len(), 2);
    assert!(!fake.restores.lock().expect("lock")[1].contains("-I "));
    assert!(!fw.reconcile(&set()).await.expect("intact"));
    assert!(fw.reconcile(&set()).await.expect("flushed"));
    assert_eq!(fake.restores.lock().expect("lock").len(), 3);
}
