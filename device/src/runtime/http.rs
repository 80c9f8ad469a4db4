//! A tiny HTTP/1.x server on std sockets for the preview and the metrics endpoint: GET only,
//! one thread per connection, a small connection cap, prompt shutdown. No web framework: two
//! read-only endpoints do not justify one on the board.
//!
//! Every connection is bounded ([`Limits`]): the request head has a size cap and one deadline
//! for all of it (a client dripping bytes cannot hold a slot), responses have a write timeout
//! (a preview viewer that stops reading is let go), and a slot is given back however its
//! thread ends, a panic included.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Answers one request: the path and the connection to write the response to.
pub type Handler = Arc<dyn Fn(&str, TcpStream, &AtomicBool) + Send + Sync>;

/// A running server; dropping it stops it.
pub struct HttpServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// What one server allows its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; more are closed at once.
    pub max_connections: usize,
    /// Bytes of request line and headers.
    pub max_head_bytes: u64,
    /// Time for the whole request head to arrive.
    pub head_deadline: Duration,
    /// Time a single write may block (a client that stops reading).
    pub write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 8,
            max_head_bytes: 8 << 10,
            head_deadline: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
        }
    }
}

/// Binds `addr` and serves `handler` on a background thread named `name`, with the default
/// [`Limits`].
pub fn serve(addr: SocketAddr, name: &str, handler: Handler) -> std::io::Result<HttpServer> {
    serve_with(addr, name, handler, Limits::default())
}

/// [`serve`] with explicit limits.
pub fn serve_with(addr: SocketAddr, name: &str, handler: Handler, limits: Limits) -> std::io::Result<HttpServer> {
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
            let Some(slot) = Slot::take(&live, limits.max_connections) else {
                log::warn!("{tname}: refusing {peer}: {} connections already open", limits.max_connections);
                continue;
            };
            let (h, s) = (handler.clone(), st.clone());
            let spawned = std::thread::Builder::new().name("motus-http-conn".into()).spawn(move || {
                let _slot = slot;
                if let Some(path) = read_request(&conn, &limits) {
                    if conn.set_write_timeout(Some(limits.write_timeout)).is_ok() {
                        h(&path, conn, &s);
                    }
                }
            });
            if spawned.is_err() {
                log::warn!("{tname}: cannot start a connection thread");
            }
        }
    })?;
    Ok(HttpServer { addr, stop, handle: Some(handle) })
}

/// One of the server's connection slots, given back when dropped (also when the connection's
/// thread panics).
struct Slot(Arc<AtomicUsize>);

impl Slot {
    /// A slot, or `None` when `max` are taken.
    fn take(live: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        live.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1)).ok()?;
        Some(Slot(live.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Reads a connection until a deadline: each read waits at most the time left, so a client
/// sending a byte now and then cannot stretch the request head past it.
struct DeadlineReader<'a> {
    conn: &'a TcpStream,
    deadline: Instant,
}

impl Read for DeadlineReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left =
            self.deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "the request head's deadline passed")
            })?;
        self.conn.set_read_timeout(Some(left))?;
        let mut conn = self.conn;
        conn.read(buf)
    }
}

/// Reads the request line and headers within the head's size and time limits; the path of a
/// GET, or `None`: a 405 for another method, a 431 for a head over the size cap, no reply to
/// a client that is too slow or leaves before its head is complete.
fn read_request(conn: &TcpStream, limits: &Limits) -> Option<String> {
    conn.set_nonblocking(false).ok()?;
    let deadline = Instant::now() + limits.head_deadline;
    let mut r = BufReader::new(DeadlineReader { conn, deadline }.take(limits.max_head_bytes));
    let too_large = |r: &BufReader<std::io::Take<DeadlineReader<'_>>>| {
        if r.get_ref().limit() == 0 {
            let _ = respond(conn, "431 Request Header Fields Too Large", "text/plain", b"request too large\n");
        }
    };
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    if !line.ends_with('\n') {
        too_large(&r);
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut header = String::new();
    loop {
        header.clear();
        r.read_line(&mut header).ok()?;
        if header == "\r\n" || header == "\n" {
            break;
        }
        if !header.ends_with('\n') {
            too_large(&r);
            return None;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn ok_handler() -> Handler {
        Arc::new(|path: &str, conn: TcpStream, _: &AtomicBool| {
            if path == "/panic" {
                panic!("handler failure (test)");
            }
            let _ = respond(&conn, "200 OK", "text/plain", b"hello\n");
        })
    }

    fn small() -> Limits {
        Limits {
            max_connections: 2,
            max_head_bytes: 256,
            head_deadline: Duration::from_millis(400),
            write_timeout: Duration::from_millis(300),
        }
    }

    /// Sends `head` and returns what the server answered (empty when it just closed).
    fn exchange(addr: SocketAddr, head: &[u8]) -> String {
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = c.write_all(head);
        let mut out = String::new();
        let _ = c.read_to_string(&mut out);
        out
    }

    #[test]
    fn a_get_is_answered_and_other_methods_refused() {
        let s = serve_with("127.0.0.1:0".parse().unwrap(), "t", ok_handler(), small()).unwrap();
        assert!(exchange(s.addr, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").ends_with("hello\n"));
        assert!(exchange(s.addr, b"POST / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
    }

    #[test]
    fn an_oversized_request_line_or_header_is_refused() {
        let s = serve_with("127.0.0.1:0".parse().unwrap(), "t", ok_handler(), small()).unwrap();
        let long_line = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(1000));
        assert!(exchange(s.addr, long_line.as_bytes()).starts_with("HTTP/1.1 431"));
        let long_header = format!("GET / HTTP/1.1\r\nx: {}\r\n\r\n", "b".repeat(1000));
        assert!(exchange(s.addr, long_header.as_bytes()).starts_with("HTTP/1.1 431"));
    }

    #[test]
    fn a_client_dripping_its_request_is_cut_off_at_the_deadline() {
        let s = serve_with("127.0.0.1:0".parse().unwrap(), "t", ok_handler(), small()).unwrap();
        let mut c = TcpStream::connect(s.addr).unwrap();
        let start = Instant::now();
        // One byte every 50 ms of one long request line: each read is quick, the line never
        // ends within the 400 ms deadline, nor for 2 s.
        let line = format!("GET /{} HTTP/1.1\r\n\r\n", "d".repeat(60));
        for b in line.as_bytes() {
            if c.write_all(&[*b]).is_err() || start.elapsed() > Duration::from_secs(2) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut out = String::new();
        c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let _ = c.read_to_string(&mut out);
        assert!(out.is_empty(), "no answer to a head that missed its deadline: {out}");
        // The server closed at the deadline: the drip's later bytes met a closed socket, and
        // its slot is free again.
        assert!(exchange(s.addr, b"GET / HTTP/1.1\r\n\r\n").ends_with("hello\n"));
    }

    #[test]
    fn the_deadline_reader_gives_up_when_time_is_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (conn, _) = listener.accept().unwrap();
        let start = Instant::now();
        let mut r = DeadlineReader { conn: &conn, deadline: Instant::now() + Duration::from_millis(200) };
        let err = r.read(&mut [0u8; 8]).unwrap_err();
        assert!(matches!(err.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut), "{err}");
        assert!(start.elapsed() < Duration::from_secs(2));
        let mut late = DeadlineReader { conn: &conn, deadline: Instant::now() };
        assert_eq!(late.read(&mut [0u8; 8]).unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    }

    #[test]
    fn panicking_handlers_give_their_slots_back() {
        let s = serve_with("127.0.0.1:0".parse().unwrap(), "t", ok_handler(), small()).unwrap();
        for _ in 0..5 {
            exchange(s.addr, b"GET /panic HTTP/1.1\r\n\r\n");
        }
        std::thread::sleep(Duration::from_millis(100));
        assert!(exchange(s.addr, b"GET / HTTP/1.1\r\n\r\n").ends_with("hello\n"), "2 slots, 5 panics, still served");
    }

    #[test]
    fn a_client_that_stops_reading_is_let_go() {
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let endless: Handler = Arc::new(move |_: &str, mut conn: TcpStream, _: &AtomicBool| {
            let chunk = vec![0u8; 64 << 10];
            while conn.write_all(&chunk).is_ok() {}
            d.store(true, Ordering::Relaxed);
        });
        let s = serve_with("127.0.0.1:0".parse().unwrap(), "t", endless, small()).unwrap();
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        // The client never reads: the socket buffers fill, the write times out.
        let start = Instant::now();
        while !done.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(done.load(Ordering::Relaxed), "the handler's write gave up");
        drop(c);
    }
}
