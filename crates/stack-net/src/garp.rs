//! MAC addresses of container interfaces, and the gratuitous ARP a
//! container sends when its interface comes up.
//!
//! A recreated container gets its old address back, and its peers still
//! hold a neighbour entry for that address (REACHABLE for up to ~45 s,
//! then probed by unicast to the old MAC). With a random MAC per veth they
//! sent to an interface that was gone: a proxy in front of a recreated
//! service answered 504 for a minute. So, as Docker did, the MAC is derived
//! from the address (`02:42` and the four bytes of the IPv4 address): the
//! same address gets the same MAC, and cached entries stay right.
//!
//! For entries that hold another MAC all the same (made before MACs were
//! derived, or by a container that held the address before), the interface
//! announces itself with a broadcast ARP request for its own address. A
//! peer that has an entry for the address updates it at once from such a
//! "gratuitous" request, whatever its `arp_accept` (which only decides
//! whether an unknown address gets a new entry). The kernel's own
//! announcement (`arp_notify`) is not used: it goes out the moment the
//! interface goes up, before the bridge has moved the host end of the veth
//! to forwarding (that happens later, on the carrier event), and the bridge
//! drops it.

use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};

use crate::error::{NetError, Result};

/// EtherType of ARP.
const ETH_P_ARP: u16 = 0x0806;

/// The MAC of a container interface with address `ip`: `02:42:` and the
/// address's four bytes (locally administered, unicast), as Docker made them.
pub fn container_mac(ip: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = ip.octets();
    [0x02, 0x42, a, b, c, d]
}

/// `02:42:0a:59:00:02`, as `ip link` and `docker inspect` print it.
pub fn mac_text(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The ARP payload of a gratuitous request: sender and target address are
/// both `ip`, the target hardware address is unknown (zero), as the
/// kernel's own announcements are.
pub fn gratuitous_request(mac: [u8; 6], ip: Ipv4Addr) -> [u8; 28] {
    let mut packet = [0u8; 28];
    packet[0..2].copy_from_slice(&1u16.to_be_bytes()); // hardware: Ethernet
    packet[2..4].copy_from_slice(&0x0800u16.to_be_bytes()); // protocol: IPv4
    packet[4] = 6; // hardware address length
    packet[5] = 4; // protocol address length
    packet[6..8].copy_from_slice(&1u16.to_be_bytes()); // operation: request
    packet[8..14].copy_from_slice(&mac);
    packet[14..18].copy_from_slice(&ip.octets());
    packet[24..28].copy_from_slice(&ip.octets());
    packet
}

/// A packet socket inside a container's namespace, to announce its
/// interfaces from (open it once, announce each interface).
pub struct Announcer {
    socket: OwnedFd,
}

impl Announcer {
    /// Opens the socket inside the namespace at `netns` (on a thread of
    /// its own; see [`crate::netns::within`]).
    pub fn open(netns: &Path) -> Result<Announcer> {
        let socket = crate::netns::within(netns, "open a packet socket", || {
            socket(
                AddressFamily::Packet,
                SockType::Datagram,
                SockFlag::SOCK_CLOEXEC,
                None,
            )
            .map_err(std::io::Error::from)
        })?;
        Ok(Announcer { socket })
    }

    /// Broadcasts a gratuitous ARP request for `ip` from interface
    /// `ifindex` (`ifname` for errors), whose MAC is `mac`.
    pub fn announce(&self, ifindex: u32, ifname: &str, mac: [u8; 6], ip: Ipv4Addr) -> Result<()> {
        let packet = gratuitous_request(mac, ip);
        let mut to = nix::libc::sockaddr_ll {
            sll_family: nix::libc::AF_PACKET as u16,
            sll_protocol: ETH_P_ARP.to_be(),
            sll_ifindex: i32::try_from(ifindex).unwrap_or(i32::MAX),
            sll_hatype: 0,
            sll_pkttype: 0,
            sll_halen: 6,
            sll_addr: [0; 8],
        };
        to.sll_addr[..6].copy_from_slice(&[0xff; 6]);
        // SAFETY: the buffer and the address are valid for the lengths
        // given, and the kernel only reads them.
        let sent = unsafe {
            nix::libc::sendto(
                self.socket.as_raw_fd(),
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&to as *const nix::libc::sockaddr_ll).cast(),
                std::mem::size_of::<nix::libc::sockaddr_ll>() as nix::libc::socklen_t,
            )
        };
        if sent < 0 {
            return Err(NetError::io(format!(
                "send a gratuitous ARP for {ip} from {ifname}"
            ))(std::io::Error::last_os_error()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mac_is_the_address_behind_02_42() {
        let mac = container_mac(Ipv4Addr::new(10, 89, 0, 2));
        assert_eq!(mac, [0x02, 0x42, 10, 89, 0, 2]);
        assert_eq!(mac_text(mac), "02:42:0a:59:00:02");
        // Locally administered (bit 1) and unicast (bit 0 clear).
        assert_eq!(mac[0] & 0b11, 0b10);
    }

    #[test]
    fn a_gratuitous_request_names_its_own_address_twice() {
        let ip = Ipv4Addr::new(172, 18, 0, 5);
        let mac = container_mac(ip);
        let p = gratuitous_request(mac, ip);
        assert_eq!(&p[..8], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(&p[8..14], &mac);
        assert_eq!(&p[14..18], &ip.octets());
        assert_eq!(&p[18..24], &[0; 6]);
        assert_eq!(&p[24..28], &ip.octets());
    }
}
