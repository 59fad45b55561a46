//! DNS by name: the registry of names, the resolver serving it, and the
//! files a container reads.

pub mod files;
pub mod registry;
pub mod server;
pub mod service;

pub use files::{hosts_file, resolv_conf, upstreams_from_resolv_conf};
pub use registry::{Answer, DnsEntry, DnsRegistry};
pub use server::DnsServer;
pub use service::{load_registry, ResolverFiles};
