//! The device pipeline: capture thread → frame ring → frame history → sliding-window
//! classification every `stride` frames → smoothing and rules → alert records → outbox →
//! sink threads; the overlay to the preview, the framebuffer and snapshots; metrics and a
//! status line. Stops on the stop flag (SIGINT/SIGTERM), at the end of a file, or after a
//! time limit, then flushes the sinks.

mod history;
mod outputs;
mod sinks;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::alert::OutboxError;
use motus_core::frame::Frame;
use motus_core::retime::RetimeError;

use super::alerting::{AlertEngine, AlertSetup, Fired};
use super::capture::{self, Backoff, CaptureStats};
use super::classify::WindowClassifier;
use super::config::{ConfigError, RunConfig};
use super::display::fb::FbError;
use super::display::snapshot;
use super::liveness::Notifier;
use super::metrics::{self, Metrics};
use super::model_clock::ModelClock;
use super::ring::{frame_ring, ProcessEnd, RingStats};
use super::sink::{dispatch::Retry, Doorbell, SinkError};
use super::source::{self, SharedTruth, SourceError};
use history::History;
use outputs::{draw, Outputs, OverlayState, StatusLine};
use sinks::Sinks;

/// Why the pipeline could not start (each part it starts, with its own error kept as the
/// cause), or why a run ended early.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("alert rules: {0}")]
    AlertRules(#[source] ConfigError),
    #[error("source: {0}")]
    Source(#[source] SourceError),
    #[error("outbox: {0}")]
    Outbox(#[source] OutboxError),
    #[error("sink: {0}")]
    Sink(#[source] SinkError),
    /// The metrics or preview endpoint could not listen.
    #[error("{what} {addr}: {source}")]
    Serve { what: &'static str, addr: std::net::SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Framebuffer(#[from] FbError),
    #[error("model frame rate: {0}")]
    ModelRate(#[source] RetimeError),
    /// The capture thread panicked: the run ended without its source.
    #[error("the capture thread panicked; the run stopped")]
    CaptureDied,
}

/// What a run did, for `motus bench pipeline` and the tests.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub seconds: f64,
    pub frames_in: u64,
    pub frames_processed: u64,
    pub dropped: u64,
    /// Frames still queued when a stop or time limit ended the run (not processed, not dropped).
    pub left_queued: u64,
    pub windows: u64,
    pub labels: Vec<String>,
    /// Every alert start and end, with when it was emitted.
    pub fired: Vec<Emitted>,
    /// Ground truth of a synthetic source, at the end of the run.
    pub truth: Option<motus_core::truth::GroundTruth>,
    /// Per-stage (p50, p99) latency in ms.
    pub stages: Vec<(&'static str, f64, f64)>,
    /// Alerts still in the outbox after the flush, per sink.
    pub undelivered: Vec<(String, usize)>,
    /// Every window's class probabilities, when [`RunLimits::record_scores`] asked for them.
    pub window_scores: Vec<WindowScores>,
}

/// One classified window: what the alert rules were given, for tuning them offline.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WindowScores {
    /// Stream time (s) the scores are stamped with: the window's middle frame.
    pub t_s: f64,
    /// The model's class probabilities (before smoothing).
    pub probs: Vec<f32>,
}

/// An alert transition and when the pipeline emitted it, on two clocks: the wall clock
/// (everything included, what a user waits) and the stream's own (the newest frame's
/// timestamp, so the part of the delay due to windowing, smoothing and the model can be
/// measured in an unpaced run, where wall time says nothing about a camera).
#[derive(Debug, Clone)]
pub struct Emitted {
    pub fired: Fired,
    /// Seconds since the first frame arrived.
    pub wall_s: f64,
    /// Stream timestamp (s) of the newest frame when the alert was emitted.
    pub stream_s: f64,
}

/// Extra knobs for runs driven by code (bench, tests).
#[derive(Debug, Clone, Default)]
pub struct RunLimits {
    /// Stop after this long.
    pub max_duration: Option<Duration>,
    /// Reconnect backoff of the capture thread.
    pub backoff: Option<Backoff>,
    /// Delivery retry policy of the sinks.
    pub retry: Option<Retry>,
    /// Keep every window's probabilities in the report (offline analysis; memory grows with
    /// the run, so never for a service).
    pub record_scores: bool,
}

/// Copies `src` into `dst` without allocating when `dst` is large enough.
fn copy_frame(dst: &mut Frame, src: &Frame) {
    dst.width = src.width;
    dst.height = src.height;
    dst.timestamp = src.timestamp;
    dst.data.clear();
    dst.data.extend_from_slice(&src.data);
}

/// Runs the pipeline until `stop`, the end of a file source, or `limits.max_duration`.
pub fn run(
    cfg: &RunConfig,
    classifier: Box<dyn WindowClassifier>,
    model_sha256: &str,
    stop: Arc<AtomicBool>,
    limits: RunLimits,
) -> Result<RunReport, PipelineError> {
    let mut pipeline = Pipeline::start(cfg, classifier, model_sha256, limits)?;
    while !pipeline.should_stop(&stop) {
        match pipeline.next_frame() {
            // A frame that could not be prepared is skipped, outputs included.
            Next::Frame(frame) => {
                if pipeline.on_frame(frame) {
                    pipeline.show();
                }
            }
            Next::Wait => continue,
            Next::End => break,
        }
    }
    pipeline.shutdown()
}

/// The capture thread and the ring it fills.
struct Capture {
    ring: ProcessEnd,
    ring_stats: Arc<RingStats>,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
    stats: Arc<CaptureStats>,
    /// How many frames the processing side may lag before the oldest are dropped.
    max_lag: usize,
    /// Opens and failed attempts seen so far (a new open is a new stream; any attempt is
    /// progress for the watchdog).
    opens_seen: u64,
    attempts_seen: u64,
}

/// What the loop got from the ring.
enum Next {
    Frame(Frame),
    /// Nothing yet (the source is slow or away).
    Wait,
    /// The capture thread finished and everything it queued was taken.
    End,
}

/// A running pipeline: started by [`Pipeline::start`], fed by [`Pipeline::on_frame`] one
/// camera frame at a time, ended by [`Pipeline::shutdown`] with its report.
struct Pipeline<'a> {
    cfg: &'a RunConfig,
    limits: RunLimits,
    classifier: Box<dyn WindowClassifier>,
    labels: Vec<String>,
    truth: Option<SharedTruth>,
    sinks: Sinks,
    capture: Capture,
    metrics: Arc<Metrics>,
    outputs: Outputs,
    alerts: AlertEngine,
    history: History,
    /// The newest camera frame, full size, for the overlay outputs and snapshots.
    newest_raw: Frame,
    fired: Vec<Emitted>,
    window_scores: Vec<WindowScores>,
    start: Instant,
    first_frame: Option<Instant>,
    status: StatusLine,
    service: Notifier,
}

impl<'a> Pipeline<'a> {
    /// Starts every part a run needs, in the order the data flows backwards: the sinks (so no
    /// alert is lost), capture, outputs, the alert engine; then tells the service manager it
    /// is ready.
    fn start(
        cfg: &'a RunConfig,
        classifier: Box<dyn WindowClassifier>,
        model_sha256: &str,
        limits: RunLimits,
    ) -> Result<Self, PipelineError> {
        let labels = classifier.labels().to_vec();
        let rules = cfg.alerts.rules_for(&labels).map_err(PipelineError::AlertRules)?;
        let (opener, truth) = source::opener(&cfg.source).map_err(PipelineError::Source)?;
        log::info!(
            "pipeline: {} | source {} | window every {} frames",
            classifier.describe(),
            cfg.source.describe(),
            cfg.window.stride
        );
        let bell = Arc::new(Doorbell::default());
        let (sinks, outbox) = Sinks::start(cfg, &limits, &bell)?;
        let (cap, ring, ring_stats) = frame_ring(cfg.window.ring_slots, 0, 0);
        let cap_stop = Arc::new(AtomicBool::new(false));
        let (handle, stats) = capture::spawn(opener, cap, cap_stop.clone(), limits.backoff.unwrap_or_default());
        let metrics = Arc::new(Metrics::new(ring_stats.clone(), stats.clone()));
        sinks.register(&metrics);
        let outputs = Outputs::start(cfg, &metrics)?;
        if let Some(dir) = &cfg.output.snapshot_dir {
            match snapshot::remove_stale_temporaries(dir) {
                Ok(0) => {}
                Ok(n) => log::info!("snapshots: removed {n} half-written files left in {}", dir.display()),
                Err(e) => log::warn!("snapshots: cleaning {}: {e}", dir.display()),
            }
        }
        let alerts = AlertEngine::new(AlertSetup {
            labels: labels.clone(),
            rules,
            smoothing_s: cfg.alerts.smoothing_s,
            outbox,
            bell,
            source: cfg.source.describe(),
            model_sha256: model_sha256.to_string(),
            snapshot_dir: cfg.output.snapshot_dir.clone(),
            snapshot_retention: snapshot::Retention {
                keep: cfg.output.snapshot_keep,
                max_bytes: cfg.output.snapshot_max_mb << 20,
            },
            metrics: metrics.clone(),
        });
        let span = classifier.span().max(1);
        let clock = ModelClock::new(classifier.frame_rate(), span).map_err(PipelineError::ModelRate)?;
        // A file or synthetic scene read as fast as possible is an offline run: every frame
        // counts, none is skipped.
        let max_lag = if cfg.source.is_unpaced() { usize::MAX } else { cfg.window.max_lag };
        let capture =
            Capture { ring, ring_stats, stop: cap_stop, handle, stats, max_lag, opens_seen: 0, attempts_seen: 0 };
        let mut service = Notifier::from_env();
        service.ready(&format!("classifying {}", cfg.source.describe()));
        Ok(Pipeline {
            cfg,
            classifier,
            labels,
            truth,
            sinks,
            capture,
            metrics,
            outputs,
            alerts,
            history: History::new(clock, span, cfg.window.stride),
            newest_raw: Frame::new(0, 0),
            fired: Vec::new(),
            window_scores: Vec::new(),
            start: Instant::now(),
            first_frame: None,
            status: StatusLine::new(cfg.output.status_line),
            service,
            limits,
        })
    }

    /// Whether the stop flag is up or the time limit has passed.
    fn should_stop(&self, stop: &AtomicBool) -> bool {
        stop.load(Ordering::Relaxed) || self.limits.max_duration.is_some_and(|d| self.start.elapsed() >= d)
    }

    /// The next camera frame, waiting up to 100 ms. A source that is away but being retried
    /// counts as progress for the watchdog: the camera is waited for rather than the service
    /// restarted over it.
    fn next_frame(&mut self) -> Next {
        let c = &mut self.capture;
        let attempts = c.stats.failures.load(Ordering::Relaxed) + c.stats.opens.load(Ordering::Relaxed);
        if attempts != c.attempts_seen {
            c.attempts_seen = attempts;
            self.service.progress();
        }
        match c.ring.next_timeout(c.max_lag, Duration::from_millis(100)) {
            Some(f) => Next::Frame(f),
            // The capture thread finished: take what it queued last, then stop.
            None if c.stats.finished.load(Ordering::Acquire) => match c.ring.try_next(c.max_lag) {
                Some(f) => Next::Frame(f),
                None => Next::End,
            },
            None => Next::Wait,
        }
    }

    /// One camera frame: prepared into the history at the model's rate, then a window
    /// classified when one is due. Returns false for a frame that could not be prepared
    /// (counted, logged sparsely, skipped).
    fn on_frame(&mut self, frame: Frame) -> bool {
        self.first_frame.get_or_insert_with(Instant::now);
        self.on_reopen();
        let t_prep = Instant::now();
        let prepared = self.classifier.prepare(&frame, &mut self.history.clock.current);
        self.metrics.stage("prepare", t_prep.elapsed());
        copy_frame(&mut self.newest_raw, &frame);
        self.capture.ring.recycle(frame);
        if let Err(e) = prepared {
            let n = self.metrics.errors.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                log::error!("pipeline: frame preparation failed: {e} ({n} failures so far; frame skipped)");
            }
            return false;
        }
        self.metrics.processed.fetch_add(1, Ordering::Relaxed);
        if self.history.take_prepared() {
            log::info!(
                "pipeline: the stream's time jumped (a gap over {:?} or a reset); window history cleared",
                motus_core::retime::MAX_GAP
            );
            self.alerts.reset_smoothing();
        }
        if self.history.window_due() {
            let t_window = Instant::now();
            self.classify_window();
            self.metrics.stage("window", t_window.elapsed());
        }
        true
    }

    /// A re-opened source starts a new stream: old frames must not join its windows.
    fn on_reopen(&mut self) {
        let opens = self.capture.stats.opens.load(Ordering::Relaxed);
        if opens == self.capture.opens_seen {
            return;
        }
        if self.capture.opens_seen != 0 {
            log::info!("pipeline: source re-opened; window history cleared");
            self.history.clear();
            self.history.clock.restart();
            self.alerts.reset_smoothing();
        }
        self.capture.opens_seen = opens;
    }

    /// Classifies the window the history holds and feeds its scores to the alert rules; a
    /// failure is counted and logged (sparsely), and the pipeline keeps running.
    fn classify_window(&mut self) {
        let frames: Vec<&Frame> = self.history.frames.iter().collect();
        let (probs, times) = match self.classifier.classify(&frames) {
            Ok(r) => r,
            Err(e) => {
                let n = self.metrics.errors.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    log::error!(
                        "pipeline: classification failed: {e} ({n} failures so far; the pipeline keeps running)"
                    );
                }
                return;
            }
        };
        self.metrics.windows.fetch_add(1, Ordering::Relaxed);
        self.service.progress();
        self.metrics.stage("preprocess", times.preprocess);
        self.metrics.stage("flow", times.flow);
        self.metrics.stage("infer", times.infer);
        // How late the alert is in wall time is measured apart (`wall_s` below).
        let t_s = self.history.window_time();
        if self.limits.record_scores {
            self.window_scores.push(WindowScores { t_s, probs: probs.clone() });
        }
        let t_alert = Instant::now();
        let (labels, newest, metrics, ring) = (&self.labels, &self.newest_raw, &self.metrics, &self.capture.ring_stats);
        let overlay = &mut self.outputs.overlay;
        let fired = self.alerts.update(t_s, &probs, |scores, running| {
            draw(overlay, newest, OverlayState { labels, scores, alerts: running.to_vec(), ring }, metrics);
            Some(overlay.clone())
        });
        self.metrics.stage("alert", t_alert.elapsed());
        let wall_s = self.first_frame.map_or(0.0, |t| t.elapsed().as_secs_f64());
        let stream_s = self.history.frames.back().map_or(t_s, |f| f.timestamp.as_secs_f64());
        self.fired.extend(fired.into_iter().map(|fired| Emitted { fired, wall_s, stream_s }));
    }

    /// The preview and framebuffer (the newest frame with the overlay), the rates and the
    /// status line.
    fn show(&mut self) {
        let state = OverlayState {
            labels: &self.labels,
            scores: self.alerts.smoothed(),
            alerts: self.alerts.running(),
            ring: &self.capture.ring_stats,
        };
        self.outputs.show(&self.newest_raw, state, &self.metrics);
        let (labels, alerts) = (&self.labels, &self.alerts);
        self.status.tick(&self.metrics, &self.capture.ring_stats, || {
            alerts
                .smoothed()
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, s)| format!("{} {s:.2}", labels[i]))
                .unwrap_or_default()
        });
    }

    /// Stops capture, counts what stayed queued, flushes the sinks and reports the run; a
    /// capture thread that panicked makes the run an error.
    fn shutdown(mut self) -> Result<RunReport, PipelineError> {
        self.status.finish();
        let seconds = self.start.elapsed().as_secs_f64();
        self.service.stopping();
        self.capture.stop.store(true, Ordering::Relaxed);
        let capture_died = self.capture.handle.join().is_err();
        let mut left_queued = 0;
        while let Some(f) = self.capture.ring.try_next(usize::MAX) {
            self.capture.ring.recycle(f);
            left_queued += 1;
        }
        self.history.clear();
        let held = self.alerts.flush_held();
        if held > 0 {
            log::error!(
                "shutdown: {held} alerts could not be stored in the outbox; their records are in the log above"
            );
        }
        let undelivered = self.sinks.stop(self.cfg);
        if capture_died {
            return Err(PipelineError::CaptureDied);
        }
        let ring_stats = &self.capture.ring_stats;
        let metrics = &self.metrics;
        Ok(RunReport {
            seconds,
            frames_in: ring_stats.captured.load(Ordering::Relaxed),
            frames_processed: metrics.processed.load(Ordering::Relaxed),
            dropped: ring_stats.dropped(),
            left_queued,
            windows: metrics.windows.load(Ordering::Relaxed),
            labels: self.labels,
            fired: self.fired,
            truth: self.truth.map(|t| t.lock().unwrap_or_else(|p| p.into_inner()).clone()),
            stages: metrics::STAGES.iter().filter_map(|s| metrics.percentiles(s).map(|(a, b)| (*s, a, b))).collect(),
            undelivered,
            window_scores: self.window_scores,
        })
    }
}
