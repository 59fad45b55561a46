//! Who may talk to the daemon: root and members of the group `stack`,
//! decided from the peer's credentials (SO_PEERCRED) on every connection.
//! The socket's mode (0660, group `stack`) is the first gate; this check
//! still holds when the file mode is loosened by mistake.

/// Name of the group whose members may use the daemon.
pub const GROUP: &str = "stack";

/// The credentials the kernel reports for a connected peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub uid: u32,
    pub gid: u32,
    pub pid: Option<i32>,
}

/// The access rule of one daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Gid of the group `stack`, when the host has one.
    pub stack_gid: Option<u32>,
}

impl Policy {
    /// Looks the group up on this host.
    pub fn from_host() -> Policy {
        let stack_gid = nix::unistd::Group::from_name(GROUP)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw());
        Policy { stack_gid }
    }

    /// Whether `peer`, with its supplementary groups, may use the API.
    pub fn allows(&self, peer: &Peer, supplementary: &[u32]) -> bool {
        if peer.uid == 0 {
            return true;
        }
        match self.stack_gid {
            Some(gid) => peer.gid == gid || supplementary.contains(&gid),
            None => false,
        }
    }

    /// Decides for a live peer, reading its supplementary groups from /proc
    /// only when the cheaper checks did not already settle it.
    pub fn allows_live(&self, peer: &Peer) -> bool {
        if self.allows(peer, &[]) {
            return true;
        }
        if self.stack_gid.is_none() {
            return false;
        }
        let groups = peer.pid.map(supplementary_groups).unwrap_or_default();
        self.allows(peer, &groups)
    }
}

/// The `Groups:` line of /proc/<pid>/status (empty when unreadable).
pub fn supplementary_groups(pid: i32) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    parse_groups(&status)
}

fn parse_groups(status: &str) -> Vec<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Groups:"))
        .map(|rest| {
            rest.split_whitespace()
                .filter_map(|g| g.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(uid: u32, gid: u32) -> Peer {
        Peer {
            uid,
            gid,
            pid: None,
        }
    }

    #[test]
    fn root_is_always_allowed() {
        let p = Policy { stack_gid: None };
        assert!(p.allows(&peer(0, 0), &[]));
    }

    #[test]
    fn others_need_the_stack_group() {
        let none = Policy { stack_gid: None };
        assert!(!none.allows(&peer(1000, 1000), &[1000, 27]));
        let p = Policy {
            stack_gid: Some(990),
        };
        assert!(!p.allows(&peer(65534, 65534), &[]));
        assert!(p.allows(&peer(1000, 990), &[]));
        assert!(p.allows(&peer(1000, 1000), &[27, 990]));
    }

    #[test]
    fn reads_the_groups_line() {
        let status = "Name:\tsh\nUid:\t1000\t1000\t1000\t1000\nGroups:\t27 990 \nVmRSS:\t1 kB\n";
        assert_eq!(parse_groups(status), vec![27, 990]);
        assert!(parse_groups("Name:\tx\n").is_empty());
    }
}
