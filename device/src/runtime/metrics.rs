//! Runtime metrics: frames in and out, drops, per-stage latency (p50/p99 over a recent
//! window of samples), alert counts; rendered as Prometheus text for the metrics endpoint and
//! read by the status line and `motus bench pipeline`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::capture::CaptureStats;
use super::ring::RingStats;
use super::sink::SinkStats;

/// The stages whose latency is tracked.
pub const STAGES: [&str; 6] = ["prepare", "preprocess", "flow", "infer", "alert", "window"];

const WINDOW: usize = 1024;

/// The last [`WINDOW`] samples of one latency, in milliseconds.
#[derive(Debug, Default)]
pub struct Latency {
    samples: Vec<f32>,
    next: usize,
    count: u64,
}

impl Latency {
    /// Records one sample.
    pub fn record(&mut self, d: Duration) {
        let ms = d.as_secs_f32() * 1000.0;
        if self.samples.len() < WINDOW {
            self.samples.push(ms);
        } else {
            self.samples[self.next] = ms;
        }
        self.next = (self.next + 1) % WINDOW;
        self.count += 1;
    }

    /// The `q` quantile (0..=1) of the recent samples, nearest rank; `None` without samples.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let mut s: Vec<f64> = self.samples.iter().map(|&ms| f64::from(ms)).collect();
        s.sort_by(f64::total_cmp);
        motus_core::stats::nearest_rank(&s, q.clamp(0.0, 1.0))
    }
}

/// A label value as the exposition format writes it: `\`, `"` and line feeds escaped.
fn label_value(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// One per-sink metric family: name, type, help, and the counter it reads.
type SinkFamily = (&'static str, &'static str, &'static str, fn(&SinkStats) -> &AtomicU64);

/// Everything the endpoint and the status line report.
#[derive(Default)]
pub struct Metrics {
    pub ring: Arc<RingStats>,
    pub capture: Arc<CaptureStats>,
    /// Frames the processing thread finished.
    pub processed: AtomicU64,
    /// Windows classified.
    pub windows: AtomicU64,
    /// Frames whose processing failed (logged, skipped).
    pub errors: AtomicU64,
    /// Snapshots that could not be saved.
    pub snapshot_errors: AtomicU64,
    /// Old snapshots removed to keep within `output.snapshot_keep` / `snapshot_max_mb`.
    pub snapshots_evicted: AtomicU64,
    /// Alerts the outbox refused (a full disk), held in memory and retried with every window.
    pub alerts_held: AtomicU64,
    latency: Mutex<BTreeMap<&'static str, Latency>>,
    alerts: Mutex<BTreeMap<String, u64>>,
    sinks: Mutex<Vec<(String, Arc<SinkStats>)>>,
    rates: Mutex<(f64, f64)>,
}

impl Metrics {
    /// Metrics over the ring's and the capture thread's counters.
    pub fn new(ring: Arc<RingStats>, capture: Arc<CaptureStats>) -> Self {
        Metrics { ring, capture, ..Default::default() }
    }

    /// Records a stage's latency.
    pub fn stage(&self, stage: &'static str, d: Duration) {
        self.latency.lock().unwrap_or_else(|p| p.into_inner()).entry(stage).or_default().record(d);
    }

    /// p50 and p99 of a stage, in ms.
    pub fn percentiles(&self, stage: &str) -> Option<(f64, f64)> {
        let l = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let s = l.get(stage)?;
        Some((s.quantile(0.5)?, s.quantile(0.99)?))
    }

    /// Counts an alert of `class`.
    pub fn alert(&self, class: &str) {
        *self.alerts.lock().unwrap_or_else(|p| p.into_inner()).entry(class.to_string()).or_default() += 1;
    }

    /// Reports `stats` under `sink` (its delivery counters and queue depth).
    pub fn add_sink(&self, sink: &str, stats: Arc<SinkStats>) {
        self.sinks.lock().unwrap_or_else(|p| p.into_inner()).push((sink.to_string(), stats));
    }

    /// The per-sink families of the exposition.
    fn sink_lines(&self, s: &mut String) {
        use std::fmt::Write;
        let sinks = self.sinks.lock().unwrap_or_else(|p| p.into_inner());
        let r = Ordering::Relaxed;
        let families: [SinkFamily; 5] = [
            ("motus_sink_delivered_total", "counter", "Alerts a sink delivered.", |t| &t.delivered),
            ("motus_sink_failures_total", "counter", "Failed deliveries, each retried.", |t| &t.failures),
            (
                "motus_sink_dead_letters_total",
                "counter",
                "Alerts a destination refused for good, set aside in the sink's dead/ folder.",
                |t| &t.dead_letters,
            ),
            (
                "motus_sink_evicted_total",
                "counter",
                "Alerts removed undelivered to keep a sink's queue within output.outbox_keep / outbox_max_mb.",
                |t| &t.evicted,
            ),
            ("motus_sink_queue_depth", "gauge", "Alerts waiting in a sink's queue.", |t| &t.queued),
        ];
        for (name, kind, help, field) in families {
            let _ = write!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
            for (sink, stats) in sinks.iter() {
                let _ = writeln!(s, "{name}{{sink=\"{sink}\"}} {}", field(stats).load(r));
            }
        }
    }

    /// Alert counts per class.
    pub fn alert_counts(&self) -> BTreeMap<String, u64> {
        self.alerts.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sets the current input and output frame rates (computed by the pipeline).
    pub fn set_rates(&self, fps_in: f64, fps_out: f64) {
        *self.rates.lock().unwrap_or_else(|p| p.into_inner()) = (fps_in, fps_out);
    }

    /// Current input and output frame rates.
    pub fn rates(&self) -> (f64, f64) {
        *self.rates.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The Prometheus text exposition of every metric.
    pub fn prometheus(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let r = Ordering::Relaxed;
        let mut counter = |name: &str, help: &str, v: u64| {
            let _ = write!(s, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n");
        };
        counter("motus_frames_captured_total", "Frames read from the source.", self.ring.captured.load(r));
        counter("motus_frames_processed_total", "Frames the pipeline processed.", self.processed.load(r));
        counter("motus_frames_dropped_total", "Frames dropped because processing lagged.", self.ring.dropped());
        counter("motus_windows_total", "Clip windows classified.", self.windows.load(r));
        counter("motus_frame_errors_total", "Frames whose processing failed.", self.errors.load(r));
        counter("motus_source_failures_total", "Source open failures and disconnects.", self.capture.failures.load(r));
        counter("motus_bad_frames_total", "Frames the source could not decode.", self.capture.bad_frames.load(r));
        counter(
            "motus_snapshot_errors_total",
            "Alert snapshots that could not be saved.",
            self.snapshot_errors.load(r),
        );
        counter(
            "motus_snapshots_evicted_total",
            "Old alert snapshots removed to stay within the configured count and size.",
            self.snapshots_evicted.load(r),
        );
        let held = self.alerts_held.load(r);
        let _ = write!(s, "# HELP motus_alerts_held Alerts the outbox refused (a full disk), held in memory and retried.\n# TYPE motus_alerts_held gauge\nmotus_alerts_held {held}\n");
        self.sink_lines(&mut s);
        let (fin, fout) = self.rates();
        let _ = write!(s, "# HELP motus_fps Frame rate.\n# TYPE motus_fps gauge\nmotus_fps{{direction=\"in\"}} {fin:.3}\nmotus_fps{{direction=\"out\"}} {fout:.3}\n");
        let _ = write!(s, "# HELP motus_stage_latency_ms Per-stage latency over recent frames.\n# TYPE motus_stage_latency_ms gauge\n");
        for stage in STAGES {
            if let Some((p50, p99)) = self.percentiles(stage) {
                let _ = writeln!(s, "motus_stage_latency_ms{{stage=\"{stage}\",quantile=\"0.5\"}} {p50:.3}");
                let _ = writeln!(s, "motus_stage_latency_ms{{stage=\"{stage}\",quantile=\"0.99\"}} {p99:.3}");
            }
        }
        let _ = write!(s, "# HELP motus_alerts_total Alerts raised per class.\n# TYPE motus_alerts_total counter\n");
        for (class, n) in self.alert_counts() {
            let _ = writeln!(s, "motus_alerts_total{{class=\"{}\"}} {n}", label_value(&class));
        }
        s
    }
}

/// Serves `/metrics` on `addr`.
pub fn serve(addr: std::net::SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<super::http::HttpServer> {
    super::http::serve(
        addr,
        "metrics",
        Arc::new(move |path: &str, conn, _stop: &std::sync::atomic::AtomicBool| {
            let _ = if path == "/metrics" {
                super::http::respond(&conn, "200 OK", "text/plain; version=0.0.4", metrics.prometheus().as_bytes())
            } else {
                super::http::respond(&conn, "404 Not Found", "text/plain", b"try /metrics\n")
            };
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn quantiles_of_a_known_sample() {
        let mut l = Latency::default();
        assert_eq!(l.quantile(0.5), None);
        for ms in 1..=100 {
            l.record(Duration::from_millis(ms));
        }
        assert!((l.quantile(0.5).unwrap() - 50.0).abs() < 0.01);
        assert!((l.quantile(0.99).unwrap() - 99.0).abs() < 0.01);
        // The window keeps the recent samples only.
        for _ in 0..WINDOW {
            l.record(Duration::from_millis(7));
        }
        assert!((l.quantile(0.99).unwrap() - 7.0).abs() < 0.01);
    }

    #[test]
    fn prometheus_endpoint_on_loopback() {
        let m = Arc::new(Metrics::default());
        m.ring.captured.fetch_add(12, Ordering::Relaxed);
        m.ring.dropped_stale.fetch_add(2, Ordering::Relaxed);
        m.stage("infer", Duration::from_millis(40));
        m.alert("wave");
        m.set_rates(30.0, 28.5);
        let server = serve("127.0.0.1:0".parse().unwrap(), m).unwrap();
        let get = |path: &str| {
            let mut c = std::net::TcpStream::connect(server.addr).unwrap();
            write!(c, "GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
            let mut s = String::new();
            c.read_to_string(&mut s).unwrap();
            s
        };
        let body = get("/metrics");
        assert!(body.starts_with("HTTP/1.1 200"), "{body}");
        for needle in [
            "motus_frames_captured_total 12",
            "motus_frames_dropped_total 2",
            "motus_stage_latency_ms{stage=\"infer\",quantile=\"0.99\"} 40.000",
            "motus_alerts_total{class=\"wave\"} 1",
            "motus_fps{direction=\"out\"} 28.500",
        ] {
            assert!(body.contains(needle), "{needle} missing from\n{body}");
        }
        assert!(get("/other").starts_with("HTTP/1.1 404"));
    }

    #[test]
    fn class_names_are_escaped_as_label_values() {
        let m = Metrics::default();
        m.alert("say \"hi\" \\ wave");
        let text = m.prometheus();
        assert!(text.contains("motus_alerts_total{class=\"say \\\"hi\\\" \\\\ wave\"} 1"), "{text}");
    }
}
