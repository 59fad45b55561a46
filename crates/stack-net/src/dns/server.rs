//! One resolver for every network, embedded in the calling process.
//!
//! It listens on one UDP and one TCP socket in the host namespace; the
//! firewall redirects `<gateway>:53` of each bridge there, keeping the
//! container's source address. That address tells which container asks and
//! so which networks' names it may see ([`DnsRegistry::lookup`]). Queries
//! from unknown sources are refused, so listening on all host addresses
//! answers nobody else. Other names go to the upstream resolvers (the
//! host's `/etc/resolv.conf`), asked from the host namespace, where a
//! loopback resolver such as 127.0.0.53 is reachable.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Header, Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};
use hickory_server::authority::MessageResponseBuilder;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::ServerFuture;
use tokio::net::{TcpListener, UdpSocket};

use super::registry::{Answer, DnsRegistry};
use crate::error::{NetError, Result};

/// How long one upstream gets before the next is tried.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);
/// Idle timeout of TCP clients.
const TCP_TIMEOUT: Duration = Duration::from_secs(3);

/// A running resolver; stops when dropped.
#[derive(Debug)]
pub struct DnsServer {
    local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl DnsServer {
    /// Starts serving on `bind` (port 0 picks a free port, the same for UDP
    /// and TCP). Must be called inside a tokio runtime.
    pub async fn start(
        bind: SocketAddr,
        registry: DnsRegistry,
        upstreams: Vec<SocketAddr>,
    ) -> Result<DnsServer> {
        let (udp, tcp) = bind_pair(bind).await?;
        let local_addr = udp
            .local_addr()
            .map_err(NetError::io("dns socket address"))?;
        let mut server = ServerFuture::new(Resolver {
            registry,
            upstreams: Arc::new(upstreams),
        });
        server.register_socket(udp);
        server.register_listener(tcp, TCP_TIMEOUT);
        let task = tokio::spawn(async move {
            // Returns only when the server fails or is shut down.
            let _ = server.block_until_done().await;
        });
        Ok(DnsServer { local_addr, task })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        // Dropping the server future aborts its listener tasks.
        self.task.abort();
    }
}

/// Binds UDP, then TCP on the same port; with port 0 retries a few times
/// in case the kernel's UDP pick is taken for TCP.
async fn bind_pair(bind: SocketAddr) -> Result<(UdpSocket, TcpListener)> {
    let mut last_err = None;
    for _ in 0..8 {
        let udp = UdpSocket::bind(bind)
            .await
            .map_err(NetError::io(format!("bind dns udp {bind}")))?;
        let port = udp
            .local_addr()
            .map_err(NetError::io("dns socket address"))?
            .port();
        match TcpListener::bind(SocketAddr::new(bind.ip(), port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(err) if bind.port() == 0 => last_err = Some(err),
            Err(err) => return Err(NetError::io(format!("bind dns tcp {bind}"))(err)),
        }
    }
    Err(NetError::io(format!("bind dns tcp {bind}"))(
        last_err.unwrap_or_else(|| std::io::Error::other("no free port")),
    ))
}

struct Resolver {
    registry: DnsRegistry,
    upstreams: Arc<Vec<SocketAddr>>,
}

#[async_trait::async_trait]
impl RequestHandler for Resolver {
    async fn handle_request<R: ResponseHandler>(
        &self,
        request: &Request,
        mut response: R,
    ) -> ResponseInfo {
        let builder = MessageResponseBuilder::from_message_request(request);
        let mut header = Header::response_from_request(request.header());
        header.set_recursion_available(true);
        let none: [Record; 0] = [];
        let Some(query) = request.queries().first() else {
            header.set_response_code(ResponseCode::FormErr);
            let sent = response
                .send_response(builder.build_no_records(header))
                .await;
            return sent.unwrap_or_else(|_| header.into());
        };
        let name = query.name().to_string();
        let sent = match self.registry.lookup(request.src().ip(), &name) {
            Answer::Addresses(addresses) => {
                header.set_authoritative(true);
                let records = address_records(query.original(), &addresses);
                let message = builder.build(
                    header,
                    records.iter(),
                    none.iter(),
                    none.iter(),
                    none.iter(),
                );
                response.send_response(message).await
            }
            Answer::NotFound => {
                header.set_response_code(ResponseCode::NXDomain);
                response
                    .send_response(builder.build_no_records(header))
                    .await
            }
            Answer::UnknownQuerier => {
                header.set_response_code(ResponseCode::Refused);
                response
                    .send_response(builder.build_no_records(header))
                    .await
            }
            Answer::Forward => match forward(&self.upstreams, query.original()).await {
                Some(upstream) => {
                    header.set_response_code(upstream.response_code());
                    let message = builder.build(
                        header,
                        upstream.answers().iter(),
                        upstream.name_servers().iter(),
                        none.iter(),
                        upstream.additionals().iter(),
                    );
                    response.send_response(message).await
                }
                None => {
                    header.set_response_code(ResponseCode::ServFail);
                    response
                        .send_response(builder.build_no_records(header))
                        .await
                }
            },
        };
        sent.unwrap_or_else(|_| header.into())
    }
}

/// A records with TTL 0 (addresses change when containers restart); other
/// query types for our names get an empty, successful answer.
fn address_records(query: &Query, addresses: &[Ipv4Addr]) -> Vec<Record> {
    if query.query_type() != RecordType::A {
        return Vec::new();
    }
    addresses
        .iter()
        .map(|a| Record::from_rdata(query.name().clone(), 0, RData::A(A(*a))))
        .collect()
}

/// Asks each upstream in turn over UDP; the first answer wins.
async fn forward(upstreams: &[SocketAddr], query: &Query) -> Option<Message> {
    let mut message = Message::new();
    message
        .set_id(rand_id())
        .set_message_type(MessageType::Query)
        .set_recursion_desired(true)
        .add_query(query.clone());
    let bytes = message.to_vec().ok()?;
    for upstream in upstreams {
        if let Ok(Some(reply)) =
            tokio::time::timeout(UPSTREAM_TIMEOUT, ask(*upstream, &bytes, message.id())).await
        {
            return Some(reply);
        }
    }
    None
}

async fn ask(upstream: SocketAddr, bytes: &[u8], id: u16) -> Option<Message> {
    let local: SocketAddr = match upstream.ip() {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).await.ok()?;
    socket.connect(upstream).await.ok()?;
    socket.send(bytes).await.ok()?;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = socket.recv(&mut buf).await.ok()?;
        if let Ok(reply) = Message::from_vec(&buf[..n]) {
            if reply.id() == id {
                return Some(reply);
            }
        }
    }
}

/// A query id that is hard to guess (spoofed upstream answers must match it).
fn rand_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    (h.finish() & 0xffff) as u16
}
