//! The device path end to end with the bundled model: the synthetic camera (640×480, 30 fps)
//! through capture, the frame ring, the shared clip assembly with live TV-L1 flow, tract,
//! smoothing and the default alert rules, into a file sink; the alerts are then scored against
//! the scene's ground truth (temporal IoU ≥ 0.3, the class must match). The scene is read
//! unpaced with a frame limit, so the run covers the same stretch of scene on a slow machine
//! as on a fast one, no frame is dropped, and the result is the same on every run.
//!
//! What this holds, honestly: seed 7 is one of the seven scenes the default alert rules and
//! zoom were chosen on (`DEFAULT_ALERT_THRESHOLD`). The bundled model with the default rules
//! (threshold 0.375, smoothing 0.15 s), the crop following the motion and the 1.3 zoom reaches
//! precision 0.90 and recall 1.00 there (the target is 0.9 for both); over all seven
//! scenes 0.91 and 0.90, from 0.83 / 0.67 (seed 5) to 0.97 / 1.00 (seed 99), and on seven
//! scenes the rules never saw (seeds 101 to 107) 0.92 / 0.83. It is a regression guard for the
//! whole path,
//! not a measure of generalisation. `MOTUS_ALERTS_SEED` runs another scene (then only the
//! plumbing is asserted).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use motus_device::runtime::classify::WindowClassifier;
use motus_device::runtime::config::{Pace, RunConfig, SinkConfig, SourceConfig};
use motus_device::runtime::pipeline::{run, RunLimits};
use motus_device::runtime::tract_stage::TractStage;
use motus_lab::live::score;

/// The live scene the default alert rules were tuned on (also `motus bench pipeline`'s default).
const TUNED_SEED: u64 = 7;

#[test]
fn the_bundled_model_alerts_on_the_live_scene_with_high_precision_and_recall() {
    let seed: u64 = std::env::var("MOTUS_ALERTS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(TUNED_SEED);
    let frames: u64 = std::env::var("MOTUS_ALERTS_FRAMES").ok().and_then(|s| s.parse().ok()).unwrap_or(2700);
    let dir = tempfile::tempdir().unwrap();
    let source =
        SourceConfig::Synthetic { width: 640, height: 480, fps: 30.0, seed, pace: Pace::Fast, frames: Some(frames) };
    let mut cfg = RunConfig { source, ..RunConfig::default() };
    cfg.output.outbox_dir = dir.path().join("outbox");
    cfg.output.status_line = false;
    let sink = dir.path().join("alerts.jsonl");
    cfg.sinks = vec![SinkConfig::File { name: None, path: sink.clone(), max_bytes: 1 << 20, keep: 1 }];
    cfg.validate().unwrap();

    cfg.model.flow_backend = motus_core::flow::Backend::Cpu;
    cfg.model.flow_threads = 2;
    let stage = TractStage::for_run(&motus_e2e::zoo_model("motus-synth-twostream.onnx"), &cfg).unwrap();
    let span = stage.span();
    let report = run(&cfg, Box::new(stage), "bundled", Arc::new(AtomicBool::new(false)), RunLimits::default()).unwrap();
    assert_eq!(report.frames_in, frames, "the whole stretch of scene was read");
    assert_eq!(report.dropped, 0, "an unpaced source never drops: {report:?}");
    assert!(report.undelivered.is_empty(), "{:?}", report.undelivered);
    let delivered = std::fs::read_to_string(&sink).unwrap_or_default().lines().count();
    assert_eq!(delivered, report.fired.len(), "every alert record reached the file sink");

    let truth = report.truth.clone().expect("the synthetic source publishes its ground truth");
    let s = score::score_live_run(&report, &truth, span as u64);
    eprintln!(
        "bundled model, live scene seed {seed}, {frames} frames: {} actions, {} alerts, {} matched: precision {:.3}, recall {:.3}",
        s.true_actions, s.alerts, s.matched, s.precision, s.recall
    );
    assert!(s.true_actions >= 20, "the stretch holds enough actions to score: {s:?}");
    if seed == TUNED_SEED && frames == 2700 {
        // Measured 0.903 / 1.000 (28 of 28 actions, 31 alerts; deterministic: unpaced, no
        // drops; `bench pipeline --frames 2700` gives the same); a drop below these floors
        // (one more false alert, one action missed) means the model, the clip assembly, the
        // crop, the zoom, the flow or the alert path changed for the worse.
        assert!(
            s.precision >= 0.90 && s.recall >= 0.99,
            "alert precision {:.3} / recall {:.3} fell: {s:?}",
            s.precision,
            s.recall
        );
    }
}
