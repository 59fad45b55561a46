//! A registry that misbehaves on demand, for the attacks a real registry
//! never makes: answers that trickle, never end, stop half-way or are far
//! too large. Plain HTTP/1.1 on 127.0.0.1, one thread per connection, one
//! request per connection.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How one path is answered.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with the whole body, honestly.
    Full { content_type: String, body: Vec<u8> },
    /// 200 whose body comes one byte per `every`.
    Drip {
        content_type: String,
        body: Vec<u8>,
        every: Duration,
    },
    /// 200 with a head, then silence until the client gives up.
    Stall,
    /// 200, chunked (no length announced), `total` bytes of filler sent as
    /// fast as the client takes them.
    Flood { content_type: String, total: u64 },
    /// An error `status` (`"404 Not Found"`) whose body is a flood as above
    /// (a proxy's endless error page).
    ErrorFlood { status: String, total: u64 },
    /// 200 announcing the whole body but closing after `after` bytes.
    Cut { body: Vec<u8>, after: usize },
}

/// The hostile server; stops on drop.
pub struct HostileRegistry {
    pub addr: String,
    stop: Arc<AtomicBool>,
    /// Body bytes the server managed to send, over all requests.
    pub sent: Arc<AtomicU64>,
}

impl HostileRegistry {
    /// Serves `routes` (request path -> reply); anything else is a 404.
    pub fn start(routes: BTreeMap<String, Reply>) -> HostileRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("hostile registry bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let routes = Arc::new(routes);
        let (s, counter) = (stop.clone(), sent.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (routes, counter, s) = (routes.clone(), counter.clone(), s.clone());
                std::thread::spawn(move || {
                    let _ = answer(conn, &routes, &counter, &s);
                });
            }
        });
        HostileRegistry { addr, stop, sent }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for HostileRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(&self.addr);
    }
}

fn head(status: &str, content_type: &str, length: Option<usize>) -> String {
    let length = match length {
        Some(n) => format!("Content-Length: {n}\r\n"),
        None => "Transfer-Encoding: chunked\r\n".to_string(),
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{length}Connection: close\r\n\r\n"
    )
}

fn answer(
    mut conn: TcpStream,
    routes: &BTreeMap<String, Reply>,
    sent: &AtomicU64,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte)? == 0 {
            return Ok(());
        }
        request.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split(' ').nth(1).unwrap_or_default().to_string();
    let count = |n: usize| {
        sent.fetch_add(n as u64, Ordering::Relaxed);
    };
    match routes.get(&path) {
        None => {
            conn.write_all(head("404 Not Found", "text/plain", Some(0)).as_bytes())?;
        }
        Some(Reply::Full { content_type, body }) => {
            conn.write_all(head("200 OK", content_type, Some(body.len())).as_bytes())?;
            conn.write_all(body)?;
            count(body.len());
        }
        Some(Reply::Drip {
            content_type,
            body,
            every,
        }) => {
            conn.write_all(head("200 OK", content_type, Some(body.len())).as_bytes())?;
            for b in body {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                conn.write_all(&[*b])?;
                count(1);
                std::thread::sleep(*every);
            }
        }
        Some(Reply::Stall) => {
            conn.write_all(head("200 OK", "application/json", Some(100)).as_bytes())?;
            // Wait for the client to hang up (a read returns 0 or fails).
            conn.set_read_timeout(Some(Duration::from_secs(60)))?;
            let _ = conn.read(&mut byte);
        }
        Some(Reply::Flood {
            content_type,
            total,
        }) => {
            conn.write_all(head("200 OK", content_type, None).as_bytes())?;
            flood(&mut conn, *total, &count)?;
        }
        Some(Reply::ErrorFlood { status, total }) => {
            conn.write_all(head(status, "text/html", None).as_bytes())?;
            flood(&mut conn, *total, &count)?;
        }
        Some(Reply::Cut { body, after }) => {
            conn.write_all(
                head("200 OK", "application/octet-stream", Some(body.len())).as_bytes(),
            )?;
            let n = (*after).min(body.len());
            conn.write_all(&body[..n])?;
            count(n);
            conn.flush()?;
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
    Ok(())
}

/// `total` bytes of filler, chunked, as fast as the client takes them.
fn flood(conn: &mut TcpStream, total: u64, count: &dyn Fn(usize)) -> std::io::Result<()> {
    let chunk = vec![b' '; 64 * 1024];
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        conn.write_all(format!("{n:x}\r\n").as_bytes())?;
        conn.write_all(&chunk[..n])?;
        conn.write_all(b"\r\n")?;
        count(n);
        left -= n as u64;
    }
    conn.write_all(b"0\r\n\r\n")
}
