//! Shared pieces of the privileged tests: "containers" played by plain
//! network namespaces, real programs run inside them, a loopback DNS stub
//! as the only upstream, and Docker-like firewall rules.

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record};
use stack_net::{AttachRequest, Attachment, ManagerOptions, NetworkManager, PortMapping};
use stack_testkit::Sandbox;

/// The address the upstream stub gives for every name (documentation
/// range: only ever data, never contacted).
pub const STUB_ANSWER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 7);

/// A UDP DNS stub on 127.0.0.1 that answers every A query with
/// [`STUB_ANSWER`]; the resolver's only upstream in tests.
pub fn start_upstream_stub() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind stub");
    let addr = socket.local_addr().expect("stub addr");
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut reply = Message::new();
            reply
                .set_id(query.id())
                .set_message_type(MessageType::Response)
                .set_response_code(ResponseCode::NoError)
                .set_recursion_available(true);
            for q in query.queries() {
                reply.add_query(q.clone());
                if q.query_type() == hickory_proto::rr::RecordType::A {
                    reply.add_answer(Record::from_rdata(
                        q.name().clone(),
                        60,
                        RData::A(A(STUB_ANSWER)),
                    ));
                }
            }
            if let Ok(bytes) = reply.to_vec() {
                let _ = socket.send_to(&bytes, from);
            }
        }
    });
    addr
}

pub async fn manager(sb: &Sandbox) -> NetworkManager {
    let options = ManagerOptions {
        upstreams: vec![start_upstream_stub()],
        ..ManagerOptions::new(&sb.state_root)
    };
    NetworkManager::open(options)
        .await
        .expect("open network manager")
}

/// A "container": a network namespace file plus its /etc files.
pub struct Ctr {
    pub id: String,
    pub netns: PathBuf,
    pub etc: PathBuf,
}

impl Ctr {
    pub fn new(sb: &Sandbox, id: &str) -> Ctr {
        let netns = sb.run_dir.join("netns").join(id);
        stack_net::netns::create(&netns).expect("create netns");
        let etc = sb.dir().join("etc").join(id);
        std::fs::create_dir_all(&etc).expect("etc dir");
        Ctr {
            id: id.into(),
            netns,
            etc,
        }
    }

    pub fn request(&self, networks: &[(&str, &[&str])], ports: Vec<PortMapping>) -> AttachRequest {
        AttachRequest {
            container_id: self.id.clone(),
            netns: self.netns.clone(),
            attachments: networks
                .iter()
                .map(|(network, names)| Attachment {
                    network: network.to_string(),
                    ipv4_address: None,
                    names: names.iter().map(|s| s.to_string()).collect(),
                })
                .collect(),
            ports,
        }
    }

    /// Attaches and writes /etc/resolv.conf and /etc/hosts as the engine would.
    pub async fn attach(
        &self,
        mgr: &NetworkManager,
        networks: &[(&str, &[&str])],
        ports: Vec<PortMapping>,
    ) -> Ipv4Addr {
        let record = mgr
            .attach(&self.request(networks, ports))
            .await
            .expect("attach");
        std::fs::write(self.etc.join("resolv.conf"), mgr.resolv_conf(&record, &[]))
            .expect("resolv.conf");
        std::fs::write(self.etc.join("hosts"), mgr.hosts(&record, &[])).expect("hosts");
        record.endpoints[0].address
    }

    /// A command run inside the namespace with this container's /etc files.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net={}", self.netns.display()))
            .args(["--", "unshare", "--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(
                "mount --bind \"$0/resolv.conf\" /etc/resolv.conf && mount --bind \"$0/hosts\" /etc/hosts && exec \"$@\"",
            )
            .arg(&self.etc)
            .args(args);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run in container")
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn in container")
    }

    /// busybox httpd serving `body` as /index.html on `port`.
    pub fn serve(&self, port: u16, body: &str) -> Server {
        let www = self.etc.join(format!("www{port}"));
        std::fs::create_dir_all(&www).expect("www");
        std::fs::write(www.join("index.html"), body).expect("index");
        let www = www.display().to_string();
        let child = self.spawn(&[
            "busybox",
            "httpd",
            "-f",
            "-p",
            &port.to_string(),
            "-h",
            &www,
        ]);
        let server = Server(child);
        wait_listening(self, port);
        server
    }

    pub fn remove(&self) {
        stack_net::netns::remove(&self.netns).expect("remove netns");
    }
}

/// Waits until something listens on TCP `port` in the container.
fn wait_listening(ctr: &Ctr, port: u16) {
    let needle = format!(":{port:04X}");
    for _ in 0..100 {
        let out = Command::new("nsenter")
            .arg(format!("--net={}", ctr.netns.display()))
            .args(["cat", "/proc/net/tcp", "/proc/net/tcp6"])
            .output()
            .expect("read /proc/net/tcp");
        if String::from_utf8_lossy(&out.stdout).lines().any(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(&needle))
        }) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("nothing listens on port {port} in {}", ctr.id);
}

/// A background server, killed on drop.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `wget` of `url` from inside `ctr`; the body on success. GNU wget, as
/// Debian's static busybox crashes in glibc's resolver when given a name.
pub fn wget(ctr: &Ctr, url: &str) -> Result<String, String> {
    let out = ctr.run(&[
        "wget",
        "-q",
        "--no-proxy",
        "-t",
        "1",
        "-T",
        "3",
        "-O",
        "-",
        url,
    ]);
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `wget` from the sandbox's own namespace (the host).
pub fn host_wget(url: &str) -> Result<String, String> {
    let out = Command::new("wget")
        .args(["-q", "--no-proxy", "-t", "1", "-T", "3", "-O", "-", url])
        .output()
        .expect("busybox wget");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Addresses `name` resolves to inside `ctr` (through its resolv.conf).
pub fn resolve(ctr: &Ctr, name: &str) -> Vec<Ipv4Addr> {
    let out = ctr.run(&["busybox", "nslookup", name]);
    let text = String::from_utf8_lossy(&out.stdout);
    // Answers follow the "Name:" line; the server's own address precedes it.
    text.split_once("Name:")
        .map(|(_, answers)| {
            answers
                .lines()
                .filter_map(|l| l.trim().strip_prefix("Address:"))
                .filter_map(|a| a.split_whitespace().next()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

pub fn sh(cmd: &str) {
    let out = Command::new("sh").args(["-c", cmd]).output().expect("sh");
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What Docker leaves on a host: FORWARD policy DROP and its chains.
pub fn add_docker_like_rules() {
    sh(
        "iptables -N DOCKER-USER && iptables -A DOCKER-USER -j RETURN \
        && iptables -N DOCKER-ISOLATION-STAGE-1 && iptables -A DOCKER-ISOLATION-STAGE-1 -j RETURN \
        && iptables -N DOCKER && iptables -A FORWARD -j DOCKER-USER \
        && iptables -A FORWARD -j DOCKER-ISOLATION-STAGE-1 \
        && iptables -A FORWARD -o docker0 -j DOCKER && iptables -P FORWARD DROP \
        && iptables -t nat -N DOCKER \
        && iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
    );
}

/// A second namespace playing another host, wired to the sandbox by a veth
/// (`ext0` here, 172.31.250.1/30; the other host is .2).
pub fn other_host(sb: &Sandbox) -> Ctr {
    let host = Ctr::new(sb, "otherhost");
    std::fs::write(host.etc.join("resolv.conf"), "").expect("resolv");
    std::fs::write(host.etc.join("hosts"), "").expect("hosts");
    let ns = host.netns.display().to_string();
    sh(&format!(
        "ip link add ext0 type veth peer name eth0 netns {ns} \
         && ip addr add 172.31.250.1/30 dev ext0 && ip link set ext0 up \
         && nsenter --net={ns} sh -c 'ip link set lo up && ip addr add 172.31.250.2/30 dev eth0 && ip link set eth0 up'"
    ));
    host
}

pub fn netns_files(sb: &Sandbox) -> Vec<PathBuf> {
    std::fs::read_dir(sb.run_dir.join("netns"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}
