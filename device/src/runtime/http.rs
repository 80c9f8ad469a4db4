//! A tiny HTTP/1.x server on std sockets for the preview and the metrics endpoint: GET only,
//! one thread per connection, a small connection cap, prompt shutdown. No web framework: two
//! read-only endpoints do not justify one on the board.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Answers one request: the path and the connection to write the response to.
pub type Handler = Arc<dyn Fn(&str, TcpStream, &AtomicBool) + Send + Sync>;

/// A running server; dropping it stops it.
pub struct HttpServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

const MAX_CONNECTIONS: usize = 8;

/// Binds `addr` and serves `handler` on a background thread named `name`.
pub fn serve(addr: SocketAddr, name: &str, handler: Handler) -> std::io::Result<HttpServer> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    let live = Arc::new(AtomicUsize::new(0));
    let tname = name.to_string();
    let handle = std::thread::Builder::new().name(format!("motus-http-{name}")).spawn(move || {
        while !st.load(Ordering::Relaxed) {
            let (conn, peer) = match listener.accept() {
                Ok(c) => c,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            };
            if live.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
                log::warn!("{tname}: refusing {peer}: {MAX_CONNECTIONS} connections already open");
                continue;
            }
            live.fetch_add(1, Ordering::Relaxed);
            let (h, l, s) = (handler.clone(), live.clone(), st.clone());
            let spawned = std::thread::Builder::new().name("motus-http-conn".into()).spawn(move || {
                if let Some(path) = read_request(&conn) {
                    h(&path, conn, &s);
                }
                l.fetch_sub(1, Ordering::Relaxed);
            });
            if spawned.is_err() {
                log::warn!("{tname}: cannot start a connection thread");
            }
        }
    })?;
    Ok(HttpServer { addr, stop, handle: Some(handle) })
}

/// Reads the request line and headers; the path of a GET, or `None` (and a 405) otherwise.
fn read_request(conn: &TcpStream) -> Option<String> {
    conn.set_nonblocking(false).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut r = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?, parts.next()?.to_string());
    let mut header = String::new();
    for _ in 0..100 {
        header.clear();
        if r.read_line(&mut header).ok()? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    if method != "GET" {
        let _ = respond(conn, "405 Method Not Allowed", "text/plain", b"GET only\n");
        return None;
    }
    Some(path)
}

/// Writes a complete response with a body.
pub fn respond(mut conn: &TcpStream, status: &str, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    write!(
        conn,
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )?;
    conn.write_all(body)?;
    conn.flush()
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
