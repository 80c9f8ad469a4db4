//! The device pipeline: capture thread → frame ring → frame history → sliding-window
//! classification every `stride` frames → smoothing and rules → alert records → outbox →
//! sink threads; the overlay to the preview, the framebuffer and snapshots; metrics and a
//! status line. Stops on the stop flag (SIGINT/SIGTERM), at the end of a file, or after a
//! time limit, then flushes the sinks.

use super::liveness::Notifier;
use std::collections::VecDeque;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::alert::Outbox;
use motus_core::frame::Frame;

use super::alerting::{AlertEngine, AlertSetup, Fired};
use super::capture::{self, Backoff};
use super::classify::WindowClassifier;
use super::config::{parse_bind, RunConfig};
use super::display::fb::Framebuffer;
use super::display::preview::{self, PreviewHub};
use super::display::{draw_overlay, OverlayInfo};
use super::metrics::{self, Metrics};
use super::model_clock::ModelClock;
use super::ring::frame_ring;
use super::sink::{self, dispatch::Retry, Dispatcher, Doorbell};
use super::source::{self, SharedTruth};

/// Why the pipeline could not start.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    Setup(String),
    /// The capture thread panicked: the run ended without its source.
    #[error("the capture thread panicked; the run stopped")]
    CaptureDied,
}

fn setup<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> PipelineError + '_ {
    move |e| PipelineError::Setup(format!("{what}: {e}"))
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
    mut classifier: Box<dyn WindowClassifier>,
    model_sha256: &str,
    stop: Arc<AtomicBool>,
    limits: RunLimits,
) -> Result<RunReport, PipelineError> {
    let labels = classifier.labels().to_vec();
    let rules = cfg.alerts.rules_for(&labels).map_err(setup("alert rules"))?;
    let (opener, truth): (source::Opener, Option<SharedTruth>) =
        source::opener(&cfg.source).map_err(setup("source"))?;
    log::info!(
        "pipeline: {} | source {} | window every {} frames",
        classifier.describe(),
        cfg.source.describe(),
        cfg.window.stride
    );

    // Sinks: the outbox first (it must exist before any alert), then one thread per sink.
    let names: Vec<String> = cfg.sinks.iter().map(|s| s.name()).collect();
    let name_refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let outbox = Outbox::open(&cfg.output.outbox_dir, &name_refs).map_err(setup("outbox"))?;
    let bell = Arc::new(Doorbell::default());
    let mut dispatchers = Vec::new();
    for s in &cfg.sinks {
        let sink = sink::build(s).map_err(setup("sink"))?;
        let d = Dispatcher::start(&cfg.output.outbox_dir, sink, bell.clone(), limits.retry.unwrap_or_default())
            .map_err(setup("outbox"))?;
        dispatchers.push(d);
    }

    // Capture.
    let (cap, mut ring, ring_stats) = frame_ring(cfg.window.ring_slots, 0, 0);
    let cap_stop = Arc::new(AtomicBool::new(false));
    let (cap_handle, cap_stats) = capture::spawn(opener, cap, cap_stop.clone(), limits.backoff.unwrap_or_default());
    let metrics = Arc::new(Metrics::new(ring_stats.clone(), cap_stats.clone()));

    // Outputs.
    let _metrics_server = match &cfg.output.metrics {
        Some(a) => {
            let addr = parse_bind("output.metrics", a).map_err(setup("metrics"))?;
            let s = metrics::serve(addr, metrics.clone()).map_err(setup(&format!("metrics endpoint {addr}")))?;
            log::info!("metrics: http://{}/metrics", s.addr);
            Some(s)
        }
        None => None,
    };
    let hub = Arc::new(PreviewHub::default());
    let _preview_server = match &cfg.output.preview {
        Some(a) => {
            let addr = parse_bind("output.preview", a).map_err(setup("preview"))?;
            let s = preview::serve(addr, hub.clone()).map_err(setup(&format!("preview {addr}")))?;
            log::info!("preview: http://{}/", s.addr);
            Some(s)
        }
        None => None,
    };
    let mut fb = match &cfg.output.framebuffer {
        Some(p) => Some(Framebuffer::open(p).map_err(PipelineError::Setup)?),
        None => None,
    };

    let mut alerts = AlertEngine::new(AlertSetup {
        labels: labels.clone(),
        rules,
        smoothing_s: cfg.alerts.smoothing_s,
        outbox,
        bell: bell.clone(),
        source: cfg.source.describe(),
        model_sha256: model_sha256.to_string(),
        snapshot_dir: cfg.output.snapshot_dir.clone(),
        metrics: metrics.clone(),
    });

    // A file or synthetic scene read as fast as possible is an offline run: every frame
    // counts, none is skipped.
    let max_lag = if cfg.source.is_unpaced() { usize::MAX } else { cfg.window.max_lag };
    let span = classifier.span().max(1);
    let stride = cfg.window.stride;
    let mut history: VecDeque<Frame> = VecDeque::with_capacity(span + 1);
    let mut spare_slots: Vec<Frame> = Vec::new();
    let mut clock = ModelClock::new(classifier.frame_rate(), span).map_err(setup("model frame rate"))?;
    let mut overlay = Frame::new(0, 0);
    let mut newest_raw = Frame::new(0, 0);
    let mut since_window = 0usize;
    let mut fired_all = Vec::new();
    let mut window_scores = Vec::new();
    let start = Instant::now();
    let mut first_frame: Option<Instant> = None;
    let mut last_tick = (Instant::now(), 0u64, 0u64);
    let mut last_status = Instant::now();
    let tty = std::io::stderr().is_terminal();
    let mut last_opens = 0;
    let mut service = Notifier::from_env();
    service.ready(&format!("classifying {}", cfg.source.describe()));

    let mut attempts_seen = 0;
    loop {
        if stop.load(Ordering::Relaxed) || limits.max_duration.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
        // A source that is away but being retried is progress too: wait for the camera
        // rather than have the service restarted over it.
        let attempts = cap_stats.failures.load(Ordering::Relaxed) + cap_stats.opens.load(Ordering::Relaxed);
        if attempts != attempts_seen {
            attempts_seen = attempts;
            service.progress();
        }
        let frame = match ring.next_timeout(max_lag, Duration::from_millis(100)) {
            Some(f) => f,
            // The capture thread finished: take what it queued last, then stop.
            None if cap_stats.finished.load(Ordering::Acquire) => match ring.try_next(max_lag) {
                Some(f) => f,
                None => break,
            },
            None => continue,
        };
        first_frame.get_or_insert_with(Instant::now);
        // A re-opened source starts a new stream: old frames must not join its windows.
        let opens = cap_stats.opens.load(Ordering::Relaxed);
        if opens != last_opens {
            if last_opens != 0 {
                log::info!("pipeline: source re-opened; window history cleared");
                spare_slots.extend(history.drain(..));
                clock.restart();
                alerts.reset_smoothing();
            }
            last_opens = opens;
        }
        let t_prep = Instant::now();
        let prepared = classifier.prepare(&frame, &mut clock.current);
        metrics.stage("prepare", t_prep.elapsed());
        // The newest camera frame, full size, for the overlay outputs and snapshots.
        copy_frame(&mut newest_raw, &frame);
        ring.recycle(frame);
        if let Err(e) = prepared {
            let n = metrics.errors.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                log::error!("pipeline: frame preparation failed: {e} ({n} failures so far; frame skipped)");
            }
            continue;
        }
        metrics.processed.fetch_add(1, Ordering::Relaxed);
        let picks = clock.feed();
        if picks.restart && !history.is_empty() {
            log::info!(
                "pipeline: the stream's time jumped (a gap over {:?} or a reset); window history cleared",
                motus_core::retime::MAX_GAP
            );
            spare_slots.extend(history.drain(..));
            alerts.reset_smoothing();
        }
        // Each pick is one model-rate frame: the previous source frame for the instants it was
        // nearest, then this one (none for a frame a faster source gives between instants).
        for pick in 0..picks.total() {
            let mut slot = if history.len() >= span {
                history.pop_front().expect("full")
            } else {
                spare_slots.pop().unwrap_or_else(|| Frame::new(0, 0))
            };
            copy_frame(&mut slot, if pick < picks.previous { &clock.previous } else { &clock.current });
            history.push_back(slot);
            since_window += 1;
        }
        clock.advance();
        // At most one window per camera frame, the newest: however many model frames a slow
        // camera's frame (or a late one after a stall) settles, a lagging device does not fall
        // further behind by classifying windows nobody will see.
        if history.len() == span && since_window >= stride {
            since_window = 0;
            let t_window = Instant::now();
            let frames: Vec<&Frame> = history.iter().collect();
            match classifier.classify(&frames) {
                Ok((probs, times)) => {
                    metrics.windows.fetch_add(1, Ordering::Relaxed);
                    service.progress();
                    metrics.stage("preprocess", times.preprocess);
                    metrics.stage("flow", times.flow);
                    metrics.stage("infer", times.infer);
                    let newest = &newest_raw;
                    // The window's scores describe what happens across it: stamp them with its
                    // middle frame (the frame the RGB stream sees), so alert start and end
                    // times sit on the action rather than half a window after it. How late the
                    // alert is in wall time is measured separately (`wall` below).
                    let t_s = clock.instant(span, span / 2).unwrap_or(history[span / 2].timestamp).as_secs_f64();
                    if limits.record_scores {
                        window_scores.push(WindowScores { t_s, probs: probs.clone() });
                    }
                    let t_alert = Instant::now();
                    let (fin, fout) = metrics.rates();
                    let dropped = ring_stats.dropped();
                    let fired = alerts.update(t_s, &probs, |scores, running| {
                        copy_frame(&mut overlay, newest);
                        draw_overlay(
                            &mut overlay,
                            &OverlayInfo {
                                labels: &labels,
                                scores,
                                alerts: running.to_vec(),
                                fps_in: fin,
                                fps_out: fout,
                                dropped,
                            },
                        );
                        Some(overlay.clone())
                    });
                    metrics.stage("alert", t_alert.elapsed());
                    let wall_s = first_frame.map_or(0.0, |t| t.elapsed().as_secs_f64());
                    let stream_s = history.back().map_or(t_s, |f| f.timestamp.as_secs_f64());
                    fired_all.extend(fired.into_iter().map(|fired| Emitted { fired, wall_s, stream_s }));
                }
                Err(e) => {
                    let n = metrics.errors.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_power_of_two() {
                        log::error!(
                            "pipeline: classification failed: {e} ({n} failures so far; the pipeline keeps running)"
                        );
                    }
                }
            }
            metrics.stage("window", t_window.elapsed());
        }

        // Preview and framebuffer show the newest frame with the overlay.
        let want_preview = hub.wants_frame(10.0);
        if want_preview || fb.is_some() {
            let (fin, fout) = metrics.rates();
            copy_frame(&mut overlay, &newest_raw);
            draw_overlay(
                &mut overlay,
                &OverlayInfo {
                    labels: &labels,
                    scores: alerts.smoothed(),
                    alerts: alerts.running(),
                    fps_in: fin,
                    fps_out: fout,
                    dropped: ring_stats.dropped(),
                },
            );
            if want_preview {
                if let Err(e) = hub.publish(&overlay) {
                    log::warn!("preview: {e}");
                }
            }
            if let Some(f) = fb.as_mut() {
                if let Err(e) = f.show(&overlay) {
                    log::error!("{e}; framebuffer output disabled");
                    fb = None;
                }
            }
        }

        // Rates once a second; the status line.
        let dt = last_tick.0.elapsed().as_secs_f64();
        if dt >= 1.0 {
            let cin = ring_stats.captured.load(Ordering::Relaxed);
            let cout = metrics.processed.load(Ordering::Relaxed);
            metrics.set_rates((cin - last_tick.1) as f64 / dt, (cout - last_tick.2) as f64 / dt);
            last_tick = (Instant::now(), cin, cout);
        }
        if cfg.output.status_line && last_status.elapsed() >= Duration::from_secs(if tty { 1 } else { 10 }) {
            last_status = Instant::now();
            let (fin, fout) = metrics.rates();
            let top = alerts
                .smoothed()
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, s)| format!("{} {s:.2}", labels[i]))
                .unwrap_or_default();
            let line = format!(
                "in {fin:.1} fps | out {fout:.1} fps | dropped {} | top {top} | alerts {}",
                ring_stats.dropped(),
                metrics.alert_counts().values().sum::<u64>()
            );
            if tty {
                eprint!("\r{line}\x1b[K");
            } else {
                log::info!("status: {line}");
            }
        }
    }
    if tty && cfg.output.status_line {
        eprintln!();
    }
    let seconds = start.elapsed().as_secs_f64();
    service.stopping();
    cap_stop.store(true, Ordering::Relaxed);
    let capture_died = cap_handle.join().is_err();
    let mut left_queued = 0;
    while let Some(f) = ring.try_next(usize::MAX) {
        ring.recycle(f);
        left_queued += 1;
    }
    history.clear();
    // Flush the sinks (bounded), then count what stays queued for the next start.
    for d in dispatchers {
        d.stop();
    }
    let undelivered: Vec<(String, usize)> = names
        .iter()
        .map(|n| (n.clone(), sink::dispatch::pending_count(&cfg.output.outbox_dir, n)))
        .filter(|(_, c)| *c > 0)
        .collect();
    for (n, c) in &undelivered {
        log::warn!(
            "shutdown: {c} alerts for sink {n} stay in {} until the next start",
            cfg.output.outbox_dir.display()
        );
    }
    if capture_died {
        return Err(PipelineError::CaptureDied);
    }
    let frames_in = ring_stats.captured.load(Ordering::Relaxed);
    let frames_processed = metrics.processed.load(Ordering::Relaxed);
    Ok(RunReport {
        seconds,
        frames_in,
        frames_processed,
        dropped: ring_stats.dropped(),
        left_queued,
        windows: metrics.windows.load(Ordering::Relaxed),
        labels,
        fired: fired_all,
        truth: truth.map(|t| t.lock().unwrap_or_else(|p| p.into_inner()).clone()),
        stages: metrics::STAGES.iter().filter_map(|s| metrics.percentiles(s).map(|(a, b)| (*s, a, b))).collect(),
        undelivered,
        window_scores,
    })
}
