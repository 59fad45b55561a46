//! Container networking: bridges, veth pairs, IPAM, firewall rules,
//! published ports and DNS by service name.
