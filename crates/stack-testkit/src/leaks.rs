//! Leak checks: every host object stack makes carries a known prefix
//! (DESIGN.md, "Host conventions"), so a test can prove none is left.

use std::process::Command;

use crate::sandbox::{run_checked, Sandbox};

/// A host object that outlived what made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leak {
    Link(String),
    FirewallChain(String),
    Mount(String),
    Cgroup(String),
}

impl Sandbox {
    /// Host objects of stack still present in this sandbox: links `stk*`,
    /// iptables chains `STACK-*`, mounts below the state root, cgroups below
    /// this test's cgroup parent.
    pub fn leaks(&self) -> Vec<Leak> {
        let mut leaks = Vec::new();
        if let Ok(links) = run_checked(Command::new("ip").args(["-o", "link", "show"])) {
            for line in links.lines() {
                if let Some(name) = line.split(':').nth(1) {
                    let name = name.trim().split('@').next().unwrap_or_default();
                    if name.starts_with("stk") {
                        leaks.push(Leak::Link(name.to_string()));
                    }
                }
            }
        }
        for tool in ["iptables-save", "ip6tables-save"] {
            if let Ok(rules) = run_checked(&mut Command::new(tool)) {
                for line in rules.lines() {
                    if let Some(chain) = line.strip_prefix(':') {
                        let chain = chain.split_whitespace().next().unwrap_or_default();
                        if chain.starts_with("STACK-") {
                            leaks.push(Leak::FirewallChain(format!("{tool}: {chain}")));
                        }
                    }
                }
            }
        }
        if let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") {
            let root = self.state_root.to_string_lossy().into_owned();
            let run = self.run_dir.to_string_lossy().into_owned();
            for line in info.lines() {
                if let Some(point) = line.split_whitespace().nth(4) {
                    if point.starts_with(&root) || point.starts_with(&run) {
                        leaks.push(Leak::Mount(point.to_string()));
                    }
                }
            }
        }
        if let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") {
            for h in hierarchies.flatten() {
                let dir = h.path().join(&self.cgroup_parent);
                if let Ok(children) = std::fs::read_dir(&dir) {
                    for child in children.flatten() {
                        if child.path().is_dir() {
                            leaks.push(Leak::Cgroup(child.path().display().to_string()));
                        }
                    }
                }
            }
            // The parent itself is the test's; remove it if it is now empty.
            for h in std::fs::read_dir("/sys/fs/cgroup")
                .into_iter()
                .flatten()
                .flatten()
            {
                let _ = std::fs::remove_dir(h.path().join(&self.cgroup_parent));
            }
        }
        leaks
    }

    /// Panics, listing them, if any host objects of stack are left.
    ///
    /// A host-side veth whose peer was in a namespace that was just
    /// released goes when the kernel frees that namespace, which happens
    /// asynchronously (the netns cleanup work queue) once its last user is
    /// gone. So while the only leftovers are `stkv` links, look again for a
    /// few seconds before calling them leaked.
    pub fn assert_no_leaks(&self) {
        // The via-daemon mode's daemon goes first: it is not a leak.
        self.stop_daemon();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let mut leaks = self.leaks();
        while !leaks.is_empty()
            && std::time::Instant::now() < deadline
            && leaks
                .iter()
                .all(|l| matches!(l, Leak::Link(name) if name.starts_with("stkv")))
        {
            std::thread::sleep(std::time::Duration::from_millis(50));
            leaks = self.leaks();
        }
        assert!(leaks.is_empty(), "host objects left behind: {leaks:#?}");
    }
}
