//! The pipeline end to end with real parts: the synthetic live camera or a Y4M file, a
//! random-weight two-stream model through the shared clip assembly and tract, the outbox and a
//! file sink, snapshots, metrics.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use super::classify::StageError;
use super::config::{Pace, RunConfig, SinkConfig, SourceConfig, DEFAULT_IO_TIMEOUT_S};
use super::pipeline::{run, RunLimits};
use super::tract_stage::TractStage;
use crate::alert::AlertRecord;
use motus_core::flow::Backend;
use motus_core::infer::test_models::{tiny_spec, write_model};
use motus_core::synth::CLASS_NAMES;

fn labels() -> Vec<String> {
    CLASS_NAMES.iter().map(|s| s.to_string()).collect()
}

fn config(dir: &Path, source: SourceConfig) -> RunConfig {
    let mut cfg = RunConfig { source, ..RunConfig::default() };
    cfg.window.stride = 2;
    cfg.output.outbox_dir = dir.join("outbox");
    cfg.output.snapshot_dir = Some(dir.join("snaps"));
    cfg.output.status_line = false;
    cfg.sinks = vec![SinkConfig::File { name: None, path: dir.join("alerts.jsonl"), max_bytes: 1 << 20, keep: 1 }];
    // A random model's scores hover near 1/12: a low threshold makes every non-idle class
    // fire on the first window, which is what this test checks the plumbing with.
    cfg.alerts.default_threshold = Some(0.01);
    cfg.alerts.smoothing_s = 0.0;
    cfg
}

fn stage(dir: &Path) -> TractStage {
    let model = write_model(dir, "two", &tiny_spec("two-stream", 12, 32), labels(), 3);
    TractStage::load(&model, None, Backend::Cpu, 1, 1).unwrap()
}

fn lines(path: &Path) -> Vec<AlertRecord> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn the_live_synthetic_camera_raises_alerts_that_reach_the_sink_with_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        SourceConfig::Synthetic { width: 96, height: 64, fps: 30.0, seed: 3, pace: Pace::Realtime, frames: None },
    );
    let s = stage(dir.path());
    let limits = RunLimits { max_duration: Some(Duration::from_secs(2)), ..Default::default() };
    let r = run(&cfg, Box::new(s), "ab", Arc::new(AtomicBool::new(false)), limits).unwrap();
    assert!(r.frames_in >= 30, "{r:?}");
    assert_eq!(r.frames_in, r.frames_processed + r.dropped + r.left_queued, "every frame processed or counted");
    assert!(r.windows >= 5, "{r:?}");
    let starts: Vec<_> = r.fired.iter().filter(|e| !e.fired.ended).collect();
    assert_eq!(starts.len(), 11, "every class but idle fires once: {:?}", r.fired);
    let got = lines(&dir.path().join("alerts.jsonl"));
    assert_eq!(got.len(), r.fired.len(), "the file sink received every record");
    assert!(r.undelivered.is_empty());
    for a in got.iter().filter(|a| a.end_unix_s.is_none()) {
        assert_eq!(a.source, "synthetic:3");
        assert_eq!(a.model_sha256, "ab");
        let snap = a.snapshot.as_ref().expect("a snapshot per alert");
        assert_eq!(image::open(snap).unwrap().to_rgb8().dimensions(), (96, 64));
    }
    let truth = r.truth.expect("synthetic ground truth");
    assert!(truth.fps == 30.0 && truth.frames > 0);
    assert!(r.stages.iter().any(|(s, _, _)| *s == "infer"));
}

#[test]
fn a_file_source_runs_to_its_end_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.y4m");
    let mut w = motus_core::media::create_video(&path, 64, 48, 25.0).unwrap();
    let mut v = motus_core::synth::SynthVideo::endless(64, 48, 25.0, 1);
    for _ in 0..20 {
        let f = motus_core::media::VideoReader::next_frame(&mut v).unwrap().unwrap();
        w.write_frame(&f).unwrap();
    }
    w.finish().unwrap();
    let cfg = config(dir.path(), SourceConfig::File { path, pace: Pace::Fast, looping: false });
    let r =
        run(&cfg, Box::new(stage(dir.path())), "ab", Arc::new(AtomicBool::new(false)), RunLimits::default()).unwrap();
    assert_eq!(r.frames_in, 20);
    assert_eq!((r.frames_processed, r.dropped), (20, 0), "as fast as possible, yet every frame");
    assert!(r.windows >= 1);
    assert!(r.truth.is_none());
}

#[test]
fn a_card_whose_flow_the_engine_cannot_make_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let spec = tiny_spec("two-stream", 12, 32);
    let (g, mut card) = motus_core::infer::test_models::card_for(&spec, labels());
    card.flow.as_mut().unwrap().algorithm = "farneback".into();
    let bytes = motus_models::export(&g, &g.random_weights(1), &card, &Default::default()).unwrap();
    let p = dir.path().join("bad.onnx");
    std::fs::write(&p, bytes).unwrap();
    let e = TractStage::load(&p, None, Backend::Cpu, 1, 1).err().expect("refused");
    assert!(matches!(e, StageError::FlowContract { .. }), "{e}");
    let e = e.to_string();
    // The card's algorithm and the engine's, both named.
    assert!(e.contains("trained on \"farneback\" flow") && e.contains("computes \"tvl1\""), "{e}");
}

#[test]
fn an_absent_source_is_retried_and_stop_ends_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        SourceConfig::Stream { url: "http://127.0.0.1:9/absent".into(), io_timeout_s: DEFAULT_IO_TIMEOUT_S },
    );
    let limits = RunLimits {
        max_duration: Some(Duration::from_millis(1500)),
        backoff: Some(super::capture::Backoff { initial: Duration::from_millis(50), max: Duration::from_millis(100) }),
        ..Default::default()
    };
    let r = run(&cfg, Box::new(stage(dir.path())), "ab", Arc::new(AtomicBool::new(false)), limits).unwrap();
    assert_eq!(r.frames_in, 0);
    assert!(r.fired.is_empty());
}

#[test]
fn an_unpaced_synthetic_scene_with_a_frame_limit_ends_like_a_file_and_drops_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source =
        SourceConfig::Synthetic { width: 96, height: 64, fps: 30.0, seed: 5, pace: Pace::Fast, frames: Some(45) };
    let cfg = config(dir.path(), source);
    let s = stage(dir.path());
    let r = run(&cfg, Box::new(s), "ab", Arc::new(AtomicBool::new(false)), RunLimits::default()).unwrap();
    assert_eq!((r.frames_in, r.frames_processed, r.dropped), (45, 45, 0), "{r:?}");
    let truth = r.truth.expect("ground truth of the stretch read");
    assert!(truth.frames >= 45, "{truth:?}");
    assert!(truth.segments.iter().all(|s| s.start_frame < 45), "{:?}", truth.segments);
}
