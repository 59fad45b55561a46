//! Names of host objects. Interface names are at most 15 bytes (IFNAMSIZ),
//! so they are derived by hashing, with the prefixes every leak check knows.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest interface name the kernel accepts.
pub const IFNAMSIZ_MAX: usize = 15;

/// FNV-1a: stable across Rust releases (unlike `DefaultHasher`), so a
/// network's bridge name is the same after an upgrade.
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
    }
}

fn stable_hash(value: impl Hash) -> u64 {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    value.hash(&mut h);
    h.finish()
}

/// `stk-` and 11 hex digits of the network name's hash: stable, so an
/// existing bridge is found again after a restart.
pub fn bridge_name(network: &str) -> String {
    format!("stk-{:011x}", stable_hash(network) & 0xfff_ffff_ffff)
}

static VETH_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// `stkv` and 11 hex digits, fresh on every call. A host veth of a deleted
/// namespace lingers for seconds, so a name is never reused right away.
pub fn host_veth_name(container_id: &str, network: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seq = VETH_SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let h = stable_hash((container_id, network, nanos, seq, std::process::id()));
    format!("stkv{:011x}", h & 0xfff_ffff_ffff)
}

/// MAC for a bridge, derived from its name: locally administered, unicast,
/// and pinned so the bridge does not take its lowest port's MAC (which
/// changes as ports come and go and breaks ARP for up to ~100 s).
pub fn bridge_mac(bridge: &str) -> [u8; 6] {
    let h = stable_hash(bridge).to_be_bytes();
    [0x02, h[1], h[2], h[3], h[4], h[5]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_ifnamsiz_and_carry_prefixes() {
        let b = bridge_name("a-very-long-project-name_with-a-very-long-network-name");
        assert!(b.len() <= IFNAMSIZ_MAX && b.starts_with("stk-"), "{b}");
        assert_eq!(
            b,
            bridge_name("a-very-long-project-name_with-a-very-long-network-name")
        );
        assert_ne!(bridge_name("p_a"), bridge_name("p_b"));
        let v = host_veth_name("c1", "p_default");
        assert!(v.len() <= IFNAMSIZ_MAX && v.starts_with("stkv"), "{v}");
        assert_ne!(v, host_veth_name("c1", "p_default"));
    }

    #[test]
    fn bridge_mac_is_local_unicast() {
        let mac = bridge_mac("stk-0123");
        assert_eq!(mac[0] & 0x01, 0, "unicast");
        assert_eq!(mac[0] & 0x02, 0x02, "locally administered");
    }
}
