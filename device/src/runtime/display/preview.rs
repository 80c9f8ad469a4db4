//! The MJPEG-over-HTTP preview: the overlaid frame as a `multipart/x-mixed-replace` JPEG
//! stream any browser shows, bound to 127.0.0.1 by default. Frames are encoded only while a
//! viewer is connected, and at most `max_fps` times a second, so an unwatched preview costs
//! nothing.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::ExtendedColorType;

use crate::runtime::http::{self, HttpServer};
use motus_core::frame::Frame;

/// The latest JPEG and the viewers waiting for the next one.
#[derive(Default)]
pub struct PreviewHub {
    latest: Mutex<(u64, Arc<Vec<u8>>)>,
    cond: Condvar,
    viewers: AtomicUsize,
    last: Mutex<Option<Instant>>,
}

impl PreviewHub {
    /// Whether a frame should be encoded now (a viewer is connected and the rate allows).
    pub fn wants_frame(&self, max_fps: f64) -> bool {
        if self.viewers.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let due = last.is_none_or(|t| t.elapsed().as_secs_f64() >= 1.0 / max_fps.max(0.1));
        if due {
            *last = Some(Instant::now());
        }
        due
    }

    /// Encodes `frame` as JPEG and hands it to the viewers.
    pub fn publish(&self, frame: &Frame) -> Result<(), image::ImageError> {
        let mut jpg = Vec::with_capacity(frame.data.len() / 8);
        JpegEncoder::new_with_quality(&mut jpg, 75).encode(
            &frame.data,
            frame.width,
            frame.height,
            ExtendedColorType::Rgb8,
        )?;
        let mut l = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        *l = (l.0 + 1, Arc::new(jpg));
        self.cond.notify_all();
        Ok(())
    }

    fn next_after(&self, seen: u64, timeout: Duration) -> Option<(u64, Arc<Vec<u8>>)> {
        let l = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        let (l, _) = self.cond.wait_timeout_while(l, timeout, |(n, _)| *n == seen).unwrap_or_else(|p| p.into_inner());
        (l.0 != seen).then(|| l.clone())
    }

    fn stream(&self, mut conn: TcpStream, stop: &AtomicBool) -> std::io::Result<()> {
        conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: multipart/x-mixed-replace; boundary=motusframe\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n")?;
        let mut seen = 0;
        while !stop.load(Ordering::Relaxed) {
            let Some((n, jpg)) = self.next_after(seen, Duration::from_millis(250)) else { continue };
            seen = n;
            write!(conn, "--motusframe\r\ncontent-type: image/jpeg\r\ncontent-length: {}\r\n\r\n", jpg.len())?;
            conn.write_all(&jpg)?;
            conn.write_all(b"\r\n")?;
        }
        Ok(())
    }
}

/// Serves the preview at `/` (the stream) on `addr`.
pub fn serve(addr: SocketAddr, hub: Arc<PreviewHub>) -> std::io::Result<HttpServer> {
    http::serve(
        addr,
        "preview",
        Arc::new(move |path: &str, conn: TcpStream, stop: &AtomicBool| {
            if path != "/" && path != "/stream.mjpg" {
                let _ = http::respond(&conn, "404 Not Found", "text/plain", b"the preview is at /\n");
                return;
            }
            hub.viewers.fetch_add(1, Ordering::Relaxed);
            let _ = hub.stream(conn, stop); // a viewer leaving is an error here: nothing to report
            hub.viewers.fetch_sub(1, Ordering::Relaxed);
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_viewer_receives_jpeg_parts() {
        let hub = Arc::new(PreviewHub::default());
        assert!(!hub.wants_frame(10.0), "no viewer, no encoding");
        let server = serve("127.0.0.1:0".parse().unwrap(), hub.clone()).unwrap();
        assert!(server.addr.ip().is_loopback());
        let mut c = TcpStream::connect(server.addr).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let t = Instant::now();
        while !hub.wants_frame(1000.0) {
            assert!(t.elapsed() < Duration::from_secs(5), "viewer never registered");
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut f = Frame::new(32, 16);
        f.data.fill(90);
        // Publish until the viewer has two parts.
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while got.windows(12).filter(|w| w == b"--motusframe").count() < 2 {
            assert!(t.elapsed() < Duration::from_secs(5));
            hub.publish(&f).unwrap();
            let n = c.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 200 OK") && text.contains("multipart/x-mixed-replace"));
        // Each part holds a JPEG (SOI marker right after the part headers).
        let start = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let part = &got[start + 4..];
        let body = part.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert_eq!(&part[body..body + 2], &[0xff, 0xd8]);
        let mut c2 = TcpStream::connect(server.addr).unwrap();
        c2.write_all(b"GET /nope HTTP/1.1\r\n\r\n").unwrap();
        let mut s = String::new();
        c2.read_to_string(&mut s).unwrap();
        assert!(s.starts_with("HTTP/1.1 404"));
    }
}
