//! Sinks against real peers: a local HTTP server and a mosquitto broker that the tests start,
//! both taken down and brought back, with a restart of the runtime in between.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::dispatch::{pending_count, Dispatcher, Retry};
use super::*;
use crate::alert::Outbox;

/// A test record numbered `i`.
pub(crate) fn record(i: u64) -> AlertRecord {
    AlertRecord {
        id: AlertRecord::make_id(1_700_000_000.0 + i as f64, "wave", i),
        class: "wave".into(),
        score: 0.91,
        start_unix_s: 1_700_000_000.0 + i as f64,
        end_unix_s: None,
        source: "synthetic:7".into(),
        model_sha256: "cd".repeat(32),
        snapshot: None,
    }
}

fn fast_retry() -> Retry {
    Retry {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(200),
        flush_budget: Duration::from_millis(300),
    }
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// A minimal HTTP/1.1 server on a real socket: records POST bodies, answers 200, 503 while
/// `fail` is set, and 422 (refused for good) to the alert whose id is in `refuse`.
struct HttpServer {
    bodies: Arc<Mutex<Vec<String>>>,
    fail: Arc<AtomicBool>,
    refuse: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    fn start(port: u16) -> HttpServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicBool::new(false));
        let refuse = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, f, rf, s) = (bodies.clone(), fail.clone(), refuse.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => Self::serve(conn, &b, &f, &rf),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        HttpServer { bodies, fail, refuse, stop, handle: Some(handle) }
    }

    fn serve(conn: TcpStream, bodies: &Mutex<Vec<String>>, fail: &AtomicBool, refuse: &Mutex<Option<String>>) {
        conn.set_nonblocking(false).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut r = BufReader::new(conn.try_clone().unwrap());
        let mut len = 0usize;
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || !line.starts_with("POST /hook ") {
            return;
        }
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let mut w = conn;
        let id = serde_json::from_slice::<AlertRecord>(&body).map(|r| r.id).ok();
        if id.is_some() && *refuse.lock().unwrap() == id {
            let _ =
                w.write_all(b"HTTP/1.1 422 Unprocessable Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        } else if fail.load(Ordering::Relaxed) {
            let _ = w.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        } else {
            bodies.lock().unwrap().push(String::from_utf8(body).unwrap());
            let _ = w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    }

    fn ids(&self) -> Vec<String> {
        self.bodies.lock().unwrap().iter().map(|b| serde_json::from_str::<AlertRecord>(b).unwrap().id).collect()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn enqueue(dir: &Path, sinks: &[&str], range: std::ops::Range<u64>, bell: &Doorbell) {
    let mut ob = Outbox::open(dir, sinks).unwrap();
    for i in range {
        ob.enqueue(&record(i)).unwrap();
    }
    bell.ring();
}

#[test]
fn webhook_down_then_up_delivers_everything_in_order_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let bell = Arc::new(Doorbell::default());
    // Phase 1: nothing listens. Alerts stay queued; the sink keeps failing.
    let sink = Box::new(webhook::WebhookSink::new("webhook", &url, Duration::from_millis(500)));
    let d = Dispatcher::start(dir.path(), sink, bell.clone(), fast_retry(), crate::alert::QueueCap::default()).unwrap();
    enqueue(dir.path(), &["webhook"], 0..3, &bell);
    assert!(wait_until(Duration::from_secs(5), || d.stats.failures.load(Ordering::Relaxed) >= 2));
    assert_eq!(pending_count(dir.path(), "webhook"), 3);
    d.stop(); // the runtime stops (restart) with alerts still queued

    // Phase 2: the server answers 503: still no loss.
    let server = HttpServer::start(port);
    server.fail.store(true, Ordering::Relaxed);
    let sink = Box::new(webhook::WebhookSink::new("webhook", &url, Duration::from_millis(500)));
    let d = Dispatcher::start(dir.path(), sink, bell.clone(), fast_retry(), crate::alert::QueueCap::default()).unwrap();
    assert!(wait_until(Duration::from_secs(5), || d.stats.failures.load(Ordering::Relaxed) >= 1));
    assert_eq!(pending_count(dir.path(), "webhook"), 3);
    assert!(server.ids().is_empty());

    // Phase 3: the server recovers; queued alerts arrive in order, then new ones.
    server.fail.store(false, Ordering::Relaxed);
    assert!(wait_until(Duration::from_secs(10), || server.ids().len() == 3), "{:?}", server.ids());
    enqueue(dir.path(), &["webhook"], 3..5, &bell);
    assert!(wait_until(Duration::from_secs(10), || server.ids().len() == 5));
    let want: Vec<String> = (0..5).map(|i| record(i).id).collect();
    assert_eq!(server.ids(), want);
    assert_eq!(pending_count(dir.path(), "webhook"), 0);
    d.stop();
}

fn mosquitto(port: u16) -> Child {
    let child = Command::new("mosquitto")
        .args(["-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "mosquitto is not installed (scripts/setup.sh installs it: apt-get install mosquitto mosquitto-clients)",
        );
    assert!(
        wait_until(Duration::from_secs(5), || TcpStream::connect(("127.0.0.1", port)).is_ok()),
        "mosquitto did not start on {port}"
    );
    child
}

/// Subscribes with mosquitto_sub at QoS 1 and collects payloads.
fn subscribe(port: u16, topic: &str) -> (Child, Arc<Mutex<Vec<String>>>) {
    let mut child = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", topic, "-q", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto_sub is not installed (scripts/setup.sh installs mosquitto-clients)");
    let out = child.stdout.take().unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            match line {
                Ok(l) => g.lock().unwrap().push(l),
                Err(_) => break,
            }
        }
    });
    (child, got)
}

#[test]
fn mqtt_broker_down_then_up_delivers_queued_alerts_at_qos1_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let bell = Arc::new(Doorbell::default());
    let mk = || {
        Box::new(mqtt::MqttSink::new("mqtt", "127.0.0.1", port, "motus/test", "motus-test", Duration::from_millis(800)))
    };
    // Broker down: deliveries fail, alerts stay.
    let d = Dispatcher::start(dir.path(), mk(), bell.clone(), fast_retry(), crate::alert::QueueCap::default()).unwrap();
    enqueue(dir.path(), &["mqtt"], 0..3, &bell);
    assert!(wait_until(Duration::from_secs(5), || d.stats.failures.load(Ordering::Relaxed) >= 2));
    assert_eq!(pending_count(dir.path(), "mqtt"), 3);
    d.stop();

    // The broker comes up; a subscriber listens; a restarted runtime delivers the backlog.
    let mut broker = mosquitto(port);
    let (mut sub, got) = subscribe(port, "motus/test");
    std::thread::sleep(Duration::from_millis(400)); // let the subscription reach the broker
    let d = Dispatcher::start(dir.path(), mk(), bell.clone(), fast_retry(), crate::alert::QueueCap::default()).unwrap();
    let ok = wait_until(Duration::from_secs(10), || got.lock().unwrap().len() >= 3);
    enqueue(dir.path(), &["mqtt"], 3..4, &bell);
    let ok = ok && wait_until(Duration::from_secs(10), || got.lock().unwrap().len() >= 4);
    d.stop();
    let _ = sub.kill();
    let _ = broker.kill();
    let _ = sub.wait();
    let _ = broker.wait();
    let ids: Vec<String> =
        got.lock().unwrap().iter().map(|l| serde_json::from_str::<AlertRecord>(l).unwrap().id).collect();
    assert!(ok, "received {ids:?}");
    assert_eq!(ids, (0..4).map(|i| record(i).id).collect::<Vec<_>>());
    assert_eq!(pending_count(dir.path(), "mqtt"), 0);
}

#[test]
fn build_makes_each_configured_sink() {
    let dir = tempfile::tempdir().unwrap();
    let cfgs = [
        crate::runtime::config::SinkConfig::Stdout { name: None },
        crate::runtime::config::SinkConfig::File {
            name: Some("log".into()),
            path: dir.path().join("a.jsonl"),
            max_bytes: 4096,
            keep: 2,
        },
    ];
    for c in &cfgs {
        let mut s = build(c).unwrap();
        assert_eq!(s.name(), c.name());
        s.deliver(&record(1)).unwrap();
    }
    let line = std::fs::read_to_string(dir.path().join("a.jsonl")).unwrap();
    assert_eq!(serde_json::from_str::<AlertRecord>(line.trim()).unwrap(), record(1));
}

#[test]
fn a_webhooks_credentials_never_reach_its_errors() {
    // Nothing listens: the delivery fails, and the error (what the dispatcher logs) names the
    // endpoint without its password or token.
    let url = format!("http://alerts:s3cret@127.0.0.1:{}/hook?token=t0ken", free_port());
    let mut sink = webhook::WebhookSink::new("webhook", &url, Duration::from_millis(500));
    let e = sink.deliver(&record(1)).unwrap_err().to_string();
    assert!(!e.contains("s3cret") && !e.contains("t0ken"), "{e}");
    assert!(e.contains("http://alerts:***@127.0.0.1"), "{e}");
}

#[test]
fn a_record_the_webhook_refuses_is_set_aside_and_the_queue_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = HttpServer::start(port);
    *server.refuse.lock().unwrap() = Some(record(1).id);
    let bell = Arc::new(Doorbell::default());
    let url = format!("http://127.0.0.1:{port}/hook");
    let sink = Box::new(webhook::WebhookSink::new("webhook", &url, Duration::from_millis(500)));
    let d = Dispatcher::start(dir.path(), sink, bell.clone(), fast_retry(), crate::alert::QueueCap::default()).unwrap();
    enqueue(dir.path(), &["webhook"], 0..4, &bell);
    assert!(wait_until(Duration::from_secs(10), || server.ids().len() == 3), "{:?}", server.ids());
    assert_eq!(server.ids(), [0, 2, 3].map(|i| record(i).id), "in order, without the refused one");
    assert_eq!(d.stats.dead_letters.load(Ordering::Relaxed), 1);
    assert_eq!(d.stats.failures.load(Ordering::Relaxed), 0, "a refusal is not retried");
    let dead = dir.path().join("webhook/dead/00000000000000000001.json");
    assert_eq!(serde_json::from_slice::<AlertRecord>(&std::fs::read(dead).unwrap()).unwrap(), record(1));
    assert_eq!(pending_count(dir.path(), "webhook"), 0);
    d.stop();
}

#[test]
fn a_sink_that_stays_down_keeps_only_its_newest_alerts_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let bell = Arc::new(Doorbell::default());
    let url = format!("http://127.0.0.1:{}/hook", free_port()); // nothing listens
    let sink = Box::new(webhook::WebhookSink::new("webhook", &url, Duration::from_millis(200)));
    let cap = crate::alert::QueueCap { keep: 2, max_bytes: u64::MAX };
    let d = Dispatcher::start(dir.path(), sink, bell.clone(), fast_retry(), cap).unwrap();
    enqueue(dir.path(), &["webhook"], 0..5, &bell);
    assert!(wait_until(Duration::from_secs(5), || d.stats.evicted.load(Ordering::Relaxed) == 3));
    let left: Vec<u64> =
        Outbox::open(dir.path(), &["webhook"]).unwrap().pending("webhook").unwrap().iter().map(|p| p.seq).collect();
    assert_eq!(left, [3, 4], "the newest stay");
    assert!(wait_until(Duration::from_secs(5), || d.stats.queued.load(Ordering::Relaxed) == 2));
    let metrics = crate::runtime::metrics::Metrics::default();
    metrics.add_sink(&d.name, d.stats.clone());
    let text = metrics.prometheus();
    for line in ["motus_sink_evicted_total{sink=\"webhook\"} 3", "motus_sink_queue_depth{sink=\"webhook\"} 2"] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    assert!(text.contains("# TYPE motus_sink_queue_depth gauge"));
    d.stop();
}
