//! Frame-rate-true clips end to end: one stretch of the synthetic live scene, rendered at
//! 60 fps and re-encoded by ffmpeg at 10, 15, 25 and 30 fps, through `motus eval`'s
//! long-video runner and through the live pipeline with the bundled model (card rate 30 fps).
//! Picked by timestamp at the model's rate, each encoding's windows are compared with the
//! 30 fps run's (matched by the time they stand for): the share with the same top class.
//!
//! The target is 95% at every rate. Frames at or above the model's rate meet it; below it the
//! model itself, trained only on 30 fps clips, is what falls short (a model trained with
//! `motus-train --slow-camera` narrows the gap without closing it), so those rates are held to
//! floors under what was measured: a regression guard for the retiming, not the target.
//! Figures: `docs/results/2026-12-07-real-cameras.md` and `2026-12-07-slow-camera.md`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use motus_core::flow::Backend;
use motus_core::media::{self, VideoReader};
use motus_core::synth::SynthVideo;
use motus_device::runtime::config::{Pace, RunConfig, SinkConfig, SourceConfig};
use motus_device::runtime::pipeline::{run, RunLimits};
use motus_device::runtime::tract_stage::TractStage;
use motus_lab::dataset::GroundTruth;
use motus_lab::eval::{evaluate_long, RunOptions};

const RATES: [f64; 5] = [10.0, 15.0, 25.0, 30.0, 60.0];
/// Seconds of scene: enough for several actions and idle gaps.
const SECONDS: f64 = 12.0;
const SEED: u64 = 31;

/// The scene at 60 fps as Y4M, then ffmpeg's `fps` filter for each lower rate (nearest frames,
/// as a camera at that rate would have caught them).
fn encodings(dir: &Path) -> Vec<(f64, PathBuf)> {
    let src = dir.join("scene-60.y4m");
    let mut scene = SynthVideo::endless(320, 240, 60.0, SEED);
    let mut w = media::create_video(&src, 320, 240, 60.0).unwrap();
    for _ in 0..(SECONDS * 60.0) as usize {
        w.write_frame(&scene.next_frame().unwrap().unwrap()).unwrap();
    }
    w.finish().unwrap();
    RATES
        .iter()
        .map(|&fps| {
            if fps == 60.0 {
                return (fps, src.clone());
            }
            let out = dir.join(format!("scene-{fps}.y4m"));
            let status = Command::new(media::ffmpeg::ffmpeg_program())
                .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
                .arg(&src)
                .args(["-vf", &format!("fps={fps}"), "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe"])
                .arg(&out)
                .status()
                .expect("ffmpeg runs");
            assert!(status.success(), "ffmpeg re-encoding at {fps} fps");
            (fps, out)
        })
        .collect()
}

/// Top class of each window, with the time (s) the window stands for.
type Tops = Vec<(f64, usize)>;

fn argmax(p: &[f32]) -> usize {
    p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).unwrap()
}

/// Share of `tops`' windows whose nearest window of `reference` (within `tolerance` s) has the
/// same top class; windows with no reference that near are not counted.
fn agreement(tops: &Tops, reference: &Tops, tolerance: f64) -> (f64, usize) {
    let mut compared = 0;
    let mut same = 0;
    for &(t, c) in tops {
        let near = reference.iter().min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()));
        if let Some(&(_, rc)) = near.filter(|r| (r.0 - t).abs() <= tolerance) {
            compared += 1;
            same += usize::from(rc == c);
        }
    }
    (if compared == 0 { 0.0 } else { same as f64 / compared as f64 }, compared)
}

fn eval_tops(model: &Path, path: &Path, fps: f64) -> Tops {
    let info = media::open_video(path).unwrap().info();
    let truth = GroundTruth {
        width: info.width,
        height: info.height,
        fps,
        frames: info.frame_count.unwrap_or(0),
        segments: Vec::new(),
    };
    let video = motus_lab::dataset::LongVideo { path: path.to_path_buf(), ground_truth: truth };
    let card = motus_core::infer::Classifier::load(model).unwrap().card().clone();
    let opts = RunOptions { workers: 1, flow_backend: Backend::Cpu, flow_threads: 2 };
    let run = evaluate_long(model, &card, &[video], Some(6), &opts, &mut |_, _| {}).unwrap();
    assert!(run.skipped.is_empty(), "{:?}", run.skipped);
    let (_, scores) = &run.scored[0];
    scores.windows.iter().map(|w| ((w.start_frame + w.end_frame) as f64 / 2.0 / fps, argmax(&w.probs))).collect()
}

fn live_tops(model: &Path, path: &Path) -> Tops {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = RunConfig {
        source: SourceConfig::File { path: path.to_path_buf(), pace: Pace::Fast, looping: false },
        ..Default::default()
    };
    cfg.output.outbox_dir = dir.path().join("outbox");
    cfg.output.status_line = false;
    cfg.sinks =
        vec![SinkConfig::File { name: None, path: dir.path().join("alerts.jsonl"), max_bytes: 1 << 20, keep: 1 }];
    cfg.model.flow_backend = motus_core::flow::Backend::Cpu;
    cfg.model.flow_threads = 2;
    cfg.validate().unwrap();
    let stage = TractStage::for_run(model, &cfg).unwrap();
    let limits = RunLimits { record_scores: true, ..Default::default() };
    let report = run(&cfg, Box::new(stage), "bundled", Arc::new(AtomicBool::new(false)), limits).unwrap();
    report.window_scores.iter().map(|w| (w.t_s, argmax(&w.probs))).collect()
}

/// The agreement a rate is held to: the target at or above the model's rate, floors under
/// the measured figures below it (see the module docs).
fn floor_at(fps: f64) -> f64 {
    match fps {
        f if f >= motus_e2e::BUNDLED_FPS => 0.95,
        f if f >= 25.0 => 0.80,
        _ => 0.60,
    }
}

#[test]
fn every_camera_rate_gives_the_classes_of_the_models_own_rate() {
    let model = std::env::var_os("MOTUS_FRAME_RATES_MODEL")
        .map_or_else(|| motus_e2e::zoo_model("motus-synth-twostream.onnx"), PathBuf::from);
    let card = motus_core::infer::Classifier::load(&model).unwrap().card().clone();
    if std::env::var_os("MOTUS_FRAME_RATES_MODEL").is_none() {
        assert_eq!(card.input.fps, Some(motus_e2e::BUNDLED_FPS), "the bundled card records the rate it was trained at");
    }
    let dir = tempfile::tempdir().unwrap();
    let videos = encodings(dir.path());
    let mut failures = Vec::new();
    for name in ["eval", "live"] {
        let tops_of =
            |path: &Path, fps: f64| if name == "eval" { eval_tops(&model, path, fps) } else { live_tops(&model, path) };
        let all: Vec<(f64, Tops)> = videos.iter().map(|(fps, p)| (*fps, tops_of(p, *fps))).collect();
        let reference = &all.iter().find(|(fps, _)| *fps == 30.0).unwrap().1;
        assert!(reference.len() >= 20, "{name}: {} windows at 30 fps", reference.len());
        let classes: std::collections::BTreeSet<usize> = reference.iter().map(|t| t.1).collect();
        assert!(classes.len() >= 3, "{name}: the stretch shows several classes: {classes:?}");
        for (fps, tops) in &all {
            let (rate, n) = agreement(tops, reference, 0.1);
            eprintln!("{name}: {fps} fps agrees with 30 fps on {:.1}% of {n} windows", rate * 100.0);
            // Every rate classifies the whole stretch (the live window runs at most once per
            // camera frame, so a 10 fps camera gives fewer windows), and its windows stand for
            // the same times as the reference's.
            if tops.len() < 20 || n * 10 < tops.len() * 9 {
                failures.push(format!(
                    "{name} at {fps} fps: {n} of {} windows matched a 30 fps window in time",
                    tops.len()
                ));
            }
            let floor = floor_at(*fps);
            if rate < floor {
                failures.push(format!(
                    "{name} at {fps} fps: top class agrees with 30 fps on {:.1}% of windows (floor {:.0}%)",
                    rate * 100.0,
                    floor * 100.0
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
