//! A real registry for tests: Debian's `docker-registry` on a free loopback
//! port, with no auth, htpasswd basic auth, or bearer tokens from a small
//! token server (python3, as Docker Hub's flow), fixture images pushed with
//! skopeo (an independent client), everything stopped on drop. Plus
//! misbehaving servers for failure tests: a proxy that flips one byte or
//! cuts a download short, a server that answers 404 to everything, and a
//! port where nothing listens.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Credentials every authenticating test registry accepts.
pub const USER: &str = "testuser";
pub const PASSWORD: &str = "testpass";

/// How the registry authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryAuth {
    None,
    /// htpasswd basic auth.
    Basic,
    /// Bearer tokens (anonymous pull, authenticated push) from a token server.
    Token,
}

/// A running registry.
pub struct TestRegistry {
    /// `127.0.0.1:<port>`.
    pub addr: String,
    pub auth: RegistryAuth,
    /// With TLS: the CA (PEM) that signed the registry's certificate.
    pub ca_file: Option<PathBuf>,
    dir: PathBuf,
    children: Vec<Child>,
}

/// A loopback port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

/// The fixture images (tests/fixtures/build-images.sh), built once into
/// `target/fixtures` and reused while up to date.
pub fn fixtures() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let out = target.join("fixtures");
    let status = Command::new("bash")
        .arg(workspace.join("tests/fixtures/build-images.sh"))
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("cannot run build-images.sh: {e}"));
    assert!(status.success(), "building fixture images failed");
    out
}

impl TestRegistry {
    /// Starts a registry with storage and config under `dir`.
    pub fn start(dir: &Path, auth: RegistryAuth) -> TestRegistry {
        Self::start_with(dir, auth, false)
    }

    /// Starts a registry serving HTTPS with a certificate for 127.0.0.1
    /// signed by a fresh CA ([`TestRegistry::ca_file`]). A CA plus a leaf,
    /// because rustls refuses a self-signed CA used as the server cert.
    pub fn start_tls(dir: &Path) -> TestRegistry {
        Self::start_with(dir, RegistryAuth::None, true)
    }

    fn start_with(dir: &Path, auth: RegistryAuth, tls: bool) -> TestRegistry {
        let dir = dir.join(format!("registry-{}", free_port()));
        std::fs::create_dir_all(dir.join("data")).expect("registry dir");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut children = Vec::new();
        let auth_section = match auth {
            RegistryAuth::None => String::new(),
            RegistryAuth::Basic => {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", USER, PASSWORD])
                    .output()
                    .expect("htpasswd (apache2-utils)");
                std::fs::write(dir.join("htpasswd"), out.stdout).expect("write htpasswd");
                format!(
                    "auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n",
                    dir.join("htpasswd").display()
                )
            }
            RegistryAuth::Token => {
                let token_port = free_port();
                children.push(start_token_server(&dir, token_port));
                wait_for_port(token_port);
                format!(
                    "auth:\n  token:\n    realm: http://127.0.0.1:{token_port}/token\n    service: test-registry\n    issuer: test-issuer\n    rootcertbundle: {}\n",
                    dir.join("cert.pem").display()
                )
            }
        };
        let tls_section = if tls {
            make_tls_certificates(&dir);
            format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                dir.join("leaf.crt").display(),
                dir.join("leaf.key").display()
            )
        } else {
            String::new()
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n{tls_section}{auth_section}",
            dir.join("data").display()
        );
        std::fs::write(dir.join("config.yml"), config).expect("registry config");
        let log = std::fs::File::create(dir.join("registry.log")).expect("registry log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdout(log.try_clone().expect("log fd"))
            .stderr(log)
            .spawn()
            .expect("docker-registry (Debian package docker-registry)");
        children.push(child);
        wait_for_port(port);
        TestRegistry {
            addr,
            auth,
            ca_file: tls.then(|| dir.join("certs/ca.crt")),
            dir,
            children,
        }
    }

    /// Writes a host config that makes this registry the mirror of Docker
    /// Hub (and lets it be plain HTTP).
    pub fn write_mirror_config(&self, config_file: &std::path::Path) {
        std::fs::write(
            config_file,
            format!(
                "registry-mirrors = [\"{}\"]\ninsecure-registries = [\"{}\"]\n",
                self.url(),
                self.addr
            ),
        )
        .expect("write the mirror config");
    }

    /// `http://127.0.0.1:<port>` (`https://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.ca_file.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// Pushes `layout:tag` (an OCI layout) as `repository:dest_tag` with
    /// skopeo; `--all` keeps image indexes whole, `--preserve-digests`
    /// keeps each layer as the fixture has it (skopeo's host-wide blob
    /// cache would otherwise send an already-pushed gzip blob in place of
    /// an uncompressed one with the same content).
    pub fn push(&self, layout: &Path, tag: &str, destination: &str) {
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--all", "--preserve-digests", "--quiet"]);
        match &self.ca_file {
            // skopeo takes a directory; only ca.crt may be in it.
            Some(ca) => cmd
                .arg("--dest-cert-dir")
                .arg(ca.parent().unwrap_or(Path::new("."))),
            None => cmd.arg("--dest-tls-verify=false"),
        };
        if self.auth != RegistryAuth::None {
            cmd.arg(format!("--dest-creds={USER}:{PASSWORD}"));
        }
        cmd.arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{destination}", self.addr));
        let out = cmd.output().expect("skopeo");
        assert!(
            out.status.success(),
            "skopeo push of {tag} to {destination} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The registry's log, for assertion messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default()
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `certs/ca.crt` plus `leaf.crt`/`leaf.key` for 127.0.0.1 in `dir`.
fn make_tls_certificates(dir: &Path) {
    std::fs::create_dir_all(dir.join("certs")).expect("certs dir");
    let ext = dir.join("leaf.ext");
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("leaf.ext");
    let steps: [Vec<String>; 3] = [
        "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out certs/ca.crt",
        "req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout leaf.key -out leaf.csr",
        "x509 -req -in leaf.csr -CA certs/ca.crt -CAkey ca.key -CAcreateserial -out leaf.crt -days 2 -extfile leaf.ext",
    ]
    .map(|s| s.split(' ').map(str::to_string).collect());
    for args in steps {
        let status = Command::new("openssl")
            .args(&args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success(), "openssl {args:?} failed");
    }
}

const TOKEN_SERVER: &str = include_str!("tokenserver.py");

fn start_token_server(dir: &Path, port: u16) -> Child {
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=test-token-issuer", "-keyout"])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl could not make the token key");
    std::fs::write(dir.join("tokenserver.py"), TOKEN_SERVER).expect("token server script");
    let log = std::fs::File::create(dir.join("token.log")).expect("token log");
    // Debian's python3 has python3-jwt and python3-cryptography.
    Command::new("/usr/bin/python3")
        .arg(dir.join("tokenserver.py"))
        .arg(dir)
        .arg(port.to_string())
        .stdout(log.try_clone().expect("log fd"))
        .stderr(log)
        .spawn()
        .expect("python3 token server")
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port} after 20 s");
}

/// How a [`FaultyProxy`] misbehaves on blob downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Flip one byte in the middle of every blob body.
    FlipByte,
    /// Close the connection after this many body bytes, on the first
    /// full blob download only.
    CutOnce(usize),
}

/// An HTTP proxy in front of a registry that damages blob downloads.
pub struct FaultyProxy {
    pub addr: String,
    stop: Arc<AtomicBool>,
    /// Blob requests seen, and how many carried a `Range` header.
    pub blob_requests: Arc<AtomicUsize>,
    pub range_requests: Arc<AtomicUsize>,
}

impl FaultyProxy {
    pub fn start(upstream: &str, fault: Fault) -> FaultyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
        let addr = listener.local_addr().expect("proxy addr").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let blob_requests = Arc::new(AtomicUsize::new(0));
        let range_requests = Arc::new(AtomicUsize::new(0));
        let cut_done = Arc::new(AtomicBool::new(false));
        let (s, b, r, upstream) = (
            stop.clone(),
            blob_requests.clone(),
            range_requests.clone(),
            upstream.to_string(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (upstream, b, r, cut_done) =
                    (upstream.clone(), b.clone(), r.clone(), cut_done.clone());
                std::thread::spawn(move || {
                    let _ = proxy_one(conn, &upstream, fault, &b, &r, &cut_done);
                });
            }
        });
        FaultyProxy {
            addr,
            stop,
            blob_requests,
            range_requests,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(&self.addr);
    }
}

/// Serves one request per connection (`Connection: close` upstream).
fn proxy_one(
    mut client: TcpStream,
    upstream: &str,
    fault: Fault,
    blobs: &AtomicUsize,
    ranges: &AtomicUsize,
    cut_done: &AtomicBool,
) -> std::io::Result<()> {
    let head = read_head(&mut client)?;
    let text = String::from_utf8_lossy(&head).into_owned();
    let is_blob = text
        .lines()
        .next()
        .is_some_and(|l| l.contains("/blobs/sha256:"));
    let has_range = text.to_ascii_lowercase().contains("\r\nrange:");
    if is_blob {
        blobs.fetch_add(1, Ordering::Relaxed);
        if has_range {
            ranges.fetch_add(1, Ordering::Relaxed);
        }
    }
    let mut request = String::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            request.push_str(line);
            request.push_str("\r\n");
        }
    }
    request.push_str("Connection: close\r\n\r\n");
    let mut server = TcpStream::connect(upstream)?;
    server.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    server.read_to_end(&mut response)?;
    let body_start = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(response.len());
    let ok_status = response.starts_with(b"HTTP/1.1 200");
    match fault {
        Fault::FlipByte if is_blob && ok_status && response.len() > body_start => {
            let middle = body_start + (response.len() - body_start) / 2;
            response[middle] ^= 0xff;
            client.write_all(&response)?;
        }
        Fault::CutOnce(after)
            if is_blob
                && ok_status
                && !has_range
                && response.len() - body_start > after
                && !cut_done.swap(true, Ordering::SeqCst) =>
        {
            client.write_all(&response[..body_start + after])?;
            client.flush()?;
            let _ = client.shutdown(Shutdown::Both);
        }
        _ => client.write_all(&response)?,
    }
    Ok(())
}

fn read_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(head)
}

/// A server that answers every request with 404 (a mirror without the image).
pub struct NotFoundServer {
    pub addr: String,
    stop: Arc<AtomicBool>,
}

impl NotFoundServer {
    pub fn start() -> NotFoundServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = read_head(&mut conn);
                let body =
                    br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
                let _ = write!(
                    conn,
                    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(body);
            }
        });
        NotFoundServer { addr, stop }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for NotFoundServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(&self.addr);
    }
}
