//! What a run shows while it runs: the metrics endpoint, the MJPEG preview and the Linux
//! framebuffer (both the newest frame with the overlay), and the status line.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use motus_core::frame::Frame;

use super::{copy_frame, PipelineError};
use crate::runtime::config::RunConfig;
use crate::runtime::display::fb::Framebuffer;
use crate::runtime::display::preview::{self, PreviewHub};
use crate::runtime::display::{draw_overlay, OverlayInfo};
use crate::runtime::http::HttpServer;
use crate::runtime::metrics::{self, Metrics};
use crate::runtime::ring::RingStats;

/// The endpoints and screens of a run; the servers stop when this is dropped.
pub(super) struct Outputs {
    _metrics_server: Option<HttpServer>,
    _preview_server: Option<HttpServer>,
    /// Hands overlaid frames to preview viewers; also what draws alert snapshots.
    pub(super) hub: Arc<PreviewHub>,
    fb: Option<Framebuffer>,
    /// Scratch frame the overlay is drawn on (also for alert snapshots).
    pub(super) overlay: Frame,
}

/// What the overlay shows besides the frame.
pub(super) struct OverlayState<'a> {
    pub(super) labels: &'a [String],
    pub(super) scores: &'a [f32],
    pub(super) alerts: Vec<(&'a str, f32)>,
    pub(super) ring: &'a RingStats,
}

impl Outputs {
    /// Starts the metrics and preview endpoints and opens the framebuffer the config names.
    pub(super) fn start(cfg: &RunConfig, metrics: &Arc<Metrics>) -> Result<Self, PipelineError> {
        let metrics_server = match cfg.output.metrics {
            Some(addr) => {
                let s = metrics::serve(addr, metrics.clone()).map_err(|source| PipelineError::Serve {
                    what: "metrics endpoint",
                    addr,
                    source,
                })?;
                log::info!("metrics: http://{}/metrics", s.addr);
                Some(s)
            }
            None => None,
        };
        let hub = Arc::new(PreviewHub::default());
        let preview_server = match cfg.output.preview {
            Some(addr) => {
                let s = preview::serve(addr, hub.clone()).map_err(|source| PipelineError::Serve {
                    what: "preview",
                    addr,
                    source,
                })?;
                log::info!("preview: http://{}/", s.addr);
                Some(s)
            }
            None => None,
        };
        let fb = match &cfg.output.framebuffer {
            Some(p) => Some(Framebuffer::open(p)?),
            None => None,
        };
        Ok(Outputs {
            _metrics_server: metrics_server,
            _preview_server: preview_server,
            hub,
            fb,
            overlay: Frame::new(0, 0),
        })
    }

    /// Shows `newest` with the overlay on the preview (when a viewer wants a frame) and the
    /// framebuffer; a framebuffer that fails is switched off with an error in the log.
    pub(super) fn show(&mut self, newest: &Frame, state: OverlayState<'_>, metrics: &Metrics) {
        let want_preview = self.hub.wants_frame(10.0);
        if !want_preview && self.fb.is_none() {
            return;
        }
        draw(&mut self.overlay, newest, state, metrics);
        if want_preview {
            if let Err(e) = self.hub.publish(&self.overlay) {
                log::warn!("preview: {e}");
            }
        }
        if let Some(f) = self.fb.as_mut() {
            if let Err(e) = f.show(&self.overlay) {
                log::error!("{e}; framebuffer output disabled");
                self.fb = None;
            }
        }
    }
}

/// Copies `newest` into `overlay` and draws scores, running alerts and rates on it.
pub(super) fn draw(overlay: &mut Frame, newest: &Frame, state: OverlayState<'_>, metrics: &Metrics) {
    let (fps_in, fps_out) = metrics.rates();
    copy_frame(overlay, newest);
    let info = OverlayInfo {
        labels: state.labels,
        scores: state.scores,
        alerts: state.alerts,
        fps_in,
        fps_out,
        dropped: state.ring.dropped(),
    };
    draw_overlay(overlay, &info);
}

/// Frame rates once a second, and the status line (every second on a terminal, every ten in
/// a log).
pub(super) struct StatusLine {
    enabled: bool,
    tty: bool,
    /// When the rates were last computed, with the captured and processed counts then.
    last_tick: (Instant, u64, u64),
    last_line: Instant,
}

impl StatusLine {
    pub(super) fn new(enabled: bool) -> Self {
        StatusLine {
            enabled,
            tty: std::io::stderr().is_terminal(),
            last_tick: (Instant::now(), 0, 0),
            last_line: Instant::now(),
        }
    }

    /// Updates the rates when a second has passed, and prints the line when it is due;
    /// `top` is the best smoothed class and its score.
    pub(super) fn tick(&mut self, metrics: &Metrics, ring: &RingStats, top: impl FnOnce() -> String) {
        let dt = self.last_tick.0.elapsed().as_secs_f64();
        if dt >= 1.0 {
            let cin = ring.captured.load(Ordering::Relaxed);
            let cout = metrics.processed.load(Ordering::Relaxed);
            metrics.set_rates((cin - self.last_tick.1) as f64 / dt, (cout - self.last_tick.2) as f64 / dt);
            self.last_tick = (Instant::now(), cin, cout);
        }
        let every = Duration::from_secs(if self.tty { 1 } else { 10 });
        if !self.enabled || self.last_line.elapsed() < every {
            return;
        }
        self.last_line = Instant::now();
        let (fin, fout) = metrics.rates();
        let line = format!(
            "in {fin:.1} fps | out {fout:.1} fps | dropped {} | top {} | alerts {}",
            ring.dropped(),
            top(),
            metrics.alert_counts().values().sum::<u64>()
        );
        if self.tty {
            eprint!("\r{line}\x1b[K");
        } else {
            log::info!("status: {line}");
        }
    }

    /// Ends the terminal's status line.
    pub(super) fn finish(&self) {
        if self.tty && self.enabled {
            eprintln!();
        }
    }
}
