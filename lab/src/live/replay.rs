//! Replays recorded window scores (`motus bench pipeline --trace`) through the alert engine
//! with other alert settings, and scores the alerts against the scene's ground truth exactly
//! as a live run is scored ([`super::score::score_live_run`]).
//!
//! Choosing a default threshold and smoothing means trying many settings on several scenes;
//! re-running the model and the flow for each costs minutes, replaying the windows it
//! produced costs milliseconds. The replayed alerts are those a live run with the same
//! windows would raise: the same [`AlertEngine`] (smoothing, rules, hysteresis, cooldowns)
//! runs over the same `(time, probabilities)` sequence.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::score::{score_live_run, RunScore};
use crate::dataset::{GroundTruth, Segment};
use motus_device::alert::{Outbox, OutboxError};
use motus_device::runtime::alerting::{AlertEngine, AlertSetup};
use motus_device::runtime::config::{AlertsConfig, ConfigError};
use motus_device::runtime::metrics::Metrics;
use motus_device::runtime::pipeline::{Emitted, RunReport, WindowScores};
use motus_device::runtime::sink::Doorbell;

/// A trace file: what `motus bench pipeline --trace` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trace {
    pub labels: Vec<String>,
    /// The scene's frame rate (ground truth is in frames).
    pub fps: f64,
    pub truth: Vec<Segment>,
    pub windows: Vec<WindowScores>,
    /// Frames the run read; absent in older traces (then: up to the last window).
    #[serde(default)]
    pub frames_in: Option<u64>,
    /// The model's window in scene frames; absent in older traces (then: 25).
    #[serde(default)]
    pub span: Option<u64>,
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("the alert settings do not fit the trace's labels: {0}")]
    Config(#[from] ConfigError),
    #[error("outbox: {0}")]
    Outbox(#[from] OutboxError),
    #[error("the trace has no windows to replay")]
    Empty,
    #[error("the trace's frame rate {0} is not a positive number")]
    BadFps(f64),
    #[error("window at {t_s} s has {got} scores for {labels} labels")]
    Shape { t_s: f64, got: usize, labels: usize },
}

/// The window length assumed for traces that do not record it (the bundled model's 25 frames).
const DEFAULT_SPAN: u64 = 25;

/// Replays `trace` through `alerts` and scores the alerts as a live run is scored
/// ([`score_live_run`]); records go to an outbox with no sinks, which stores nothing.
pub fn replay(trace: &Trace, alerts: &AlertsConfig) -> Result<RunScore, ReplayError> {
    let last = trace.windows.last().ok_or(ReplayError::Empty)?;
    if !(trace.fps.is_finite() && trace.fps > 0.0) {
        return Err(ReplayError::BadFps(trace.fps));
    }
    let labels = trace.labels.clone();
    let span = trace.span.unwrap_or(DEFAULT_SPAN);
    let rules = alerts.rules_for(&labels)?;
    let mut engine = AlertEngine::new(AlertSetup {
        labels: labels.clone(),
        rules,
        smoothing_s: alerts.smoothing_s,
        outbox: Outbox::open(Path::new("replay"), &[])?,
        bell: Arc::new(Doorbell::default()),
        source: "replay".into(),
        model_sha256: String::new(),
        snapshot_dir: None,
        snapshot_retention: Default::default(),
        metrics: Arc::new(Metrics::new(Default::default(), Default::default())),
    });
    // A live window is stamped with its frame `span / 2` and emits once its newest frame,
    // `span - 1`, is in: that is when its alerts reach the stream clock.
    let lag = (span.saturating_sub(1) - span / 2) as f64 / trace.fps;
    let mut fired = Vec::new();
    for w in &trace.windows {
        if w.probs.len() != labels.len() {
            return Err(ReplayError::Shape { t_s: w.t_s, got: w.probs.len(), labels: labels.len() });
        }
        for f in engine.update(w.t_s, &w.probs, |_, _| None) {
            fired.push(Emitted { fired: f, wall_s: w.t_s + lag, stream_s: w.t_s + lag });
        }
    }
    let frames_in = trace.frames_in.unwrap_or(((last.t_s + lag) * trace.fps).ceil() as u64);
    let report = RunReport { frames_in, labels, fired, ..RunReport::default() };
    let truth = GroundTruth { width: 0, height: 0, fps: trace.fps, frames: frames_in, segments: trace.truth.clone() };
    Ok(score_live_run(&report, &truth, span))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start: u64, end: u64, class: usize) -> Segment {
        Segment { start_frame: start, end_frame: end, class_index: class, class_name: format!("c{class}") }
    }

    /// 30 fps, one action of class 1 over frames 60..120; windows every 4 frames scoring it
    /// `hit` during the action and a false class-2 blip of `blip` at 6 s.
    fn trace(hit: f32, blip: f32) -> Trace {
        let windows = (0..300)
            .step_by(4)
            .map(|f| {
                let t_s = f as f64 / 30.0;
                let mut p = vec![0.9, 0.05, 0.05];
                if (60..120).contains(&f) {
                    p = vec![1.0 - hit, hit, 0.0];
                } else if (180..196).contains(&f) {
                    p = vec![1.0 - blip, 0.0, blip];
                }
                WindowScores { t_s, probs: p }
            })
            .collect();
        Trace {
            labels: vec!["background".into(), "a".into(), "b".into()],
            fps: 30.0,
            truth: vec![seg(60, 120, 1)],
            windows,
            frames_in: Some(300),
            span: Some(16),
        }
    }

    fn alerts(threshold: f32) -> AlertsConfig {
        AlertsConfig { default_threshold: Some(threshold), ..AlertsConfig::default() }
    }

    #[test]
    fn a_threshold_between_the_true_score_and_the_blip_gives_a_clean_run() {
        let s = replay(&trace(0.8, 0.5), &alerts(0.6)).unwrap();
        assert_eq!((s.true_actions, s.alerts, s.matched), (1, 1, 1), "{s:?}");
        let low = replay(&trace(0.8, 0.5), &alerts(0.4)).unwrap();
        assert_eq!((low.alerts, low.matched, low.false_alerts.in_gap), (2, 1, 1), "the blip fires: {low:?}");
        let high = replay(&trace(0.8, 0.5), &alerts(0.9)).unwrap();
        assert_eq!((high.alerts, high.recall), (0, 0.0), "{high:?}");
    }

    #[test]
    fn bad_traces_are_refused() {
        let mut t = trace(0.8, 0.5);
        t.windows[3].probs.pop();
        assert!(matches!(replay(&t, &alerts(0.5)), Err(ReplayError::Shape { .. })));
        let mut z = trace(0.8, 0.5);
        z.fps = 0.0;
        assert!(matches!(replay(&z, &alerts(0.5)), Err(ReplayError::BadFps(_))));
        t.windows.clear();
        assert!(matches!(replay(&t, &alerts(0.5)), Err(ReplayError::Empty)));
    }
}
