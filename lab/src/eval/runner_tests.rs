//! The evaluation runner end to end on synthetic videos: a hand-set model whose scores are
//! recomputed here from the decoded pixels, a flow model under the multi-view protocol,
//! unreadable videos, and long videos through sliding windows.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use motus_models::ir::Builder;
use motus_models::onnx::ExportOptions;
use motus_models::spec::C3d;
use motus_models::{export, ArchSpec, ModelCard};

use super::*;
use crate::benchmark::write_dataset;
use crate::dataset::{CropMode, Dataset, SamplerConfig};
use motus_core::infer::test_models::{tiny_spec, write_model};
use motus_core::synth::SynthConfig;

fn labels() -> Vec<String> {
    motus_core::synth::class_names().iter().map(|s| s.to_string()).collect()
}

/// 12 classes × `per_class` clips of 16 frames at 32×32 (or `per_class` long videos of 200
/// frames), all in test.txt.
fn synth(dir: &Path, per_class: usize, long: bool) -> PathBuf {
    let cfg = SynthConfig {
        width: 32,
        height: 32,
        frames: if long { 200 } else { 16 },
        videos_per_class: per_class,
        splits: [0, 0, 100],
        seed: 5,
        long,
        ..SynthConfig::default()
    };
    write_dataset(&cfg, dir, &mut |_, _| {}).unwrap();
    dir.join("test.txt")
}

const W: [f32; 3] = [4.0, -2.0, 1.0];

/// rgb `[1, 3, 4, 32, 32]` → global average → linear: logit k = (k − 5.5)·(W · mean) + 0.1 k.
fn mean_colour_model(dir: &Path) -> (PathBuf, ModelCard) {
    let mut b = Builder::new();
    let x = b.input("rgb", "NCTHW", vec![1, 3, 4, 32, 32]);
    let m = b.global_pool_flat("pool", &x).unwrap();
    let l = b.linear("fc", &m, 12).unwrap();
    let g = b.finish(&l);
    let weights: HashMap<String, Vec<f32>> = [
        ("fc.weight".to_string(), (0..12).flat_map(|k| W.map(|w| (k as f32 - 5.5) * w)).collect()),
        ("fc.bias".to_string(), (0..12).map(|k| 0.1 * k as f32).collect()),
    ]
    .into_iter()
    .collect();
    let spec = ArchSpec::C3d(C3d { num_classes: 12, clip_len: 4, input_size: 32, widths: vec![1], depth: 1 });
    let mut card = ModelCard::for_spec(&spec, &g, labels());
    card.input.resize_short = 32;
    let bytes = export(&g, &weights, &card, &ExportOptions::default()).unwrap();
    let path = dir.join("mean.onnx");
    std::fs::write(&path, bytes).unwrap();
    (path, card)
}

fn softmax(x: &[f32]) -> Vec<f32> {
    let m = x.iter().copied().fold(f32::MIN, f32::max);
    let e: Vec<f32> = x.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

fn opts() -> RunOptions {
    RunOptions { workers: 2, ..RunOptions::default() }
}

#[test]
fn scores_match_a_recomputation_from_the_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let list = synth(dir.path(), 1, false);
    let ds = Dataset::from_list(&list, dir.path(), None).unwrap();
    let (model, card) = mean_colour_model(dir.path());
    let run = evaluate_videos(&model, &card, &ds, &SamplerConfig::Random, &opts(), &mut |_, _| {}).unwrap();
    assert_eq!((run.scored.len(), run.skipped.len(), run.flow_engine.as_deref()), (12, 0, None));
    let n = &card.input.normalization;
    let mut acc = Accumulator::new(12);
    let mut hits = 0;
    for (i, scores) in &run.scored {
        // Centre clip of 16 frames, 4 long: frames 6..10; 32×32 needs no resize or crop.
        let frames = ds.load_frames(&ds.entries[*i]).unwrap();
        let mut mean = [0f64; 3];
        for f in &frames[6..10] {
            for px in f.data.chunks_exact(3) {
                for c in 0..3 {
                    mean[c] += ((px[c] as f64 / 255.0) - n.mean[c] as f64) / n.std[c] as f64;
                }
            }
        }
        let dot: f32 = (0..3).map(|c| W[c] * (mean[c] / (4.0 * 1024.0)) as f32).sum();
        let want = softmax(&(0..12).map(|k| (k as f32 - 5.5) * dot + 0.1 * k as f32).collect::<Vec<_>>());
        assert_eq!(scores.probs.len(), 1);
        let diff = scores.probs[0].iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(diff < 1e-4, "video {i}: {:?} vs {want:?}", scores.probs[0]);
        let pred = want.iter().enumerate().fold(0, |b, (k, &v)| if v > want[b] { k } else { b });
        hits += usize::from(pred == ds.entries[*i].label);
        acc.add_video(ds.entries[*i].label, scores.probs.clone()).unwrap();
        let t = scores.times[0];
        assert!(
            t.decode > std::time::Duration::ZERO && t.inference > std::time::Duration::ZERO && t.flow.is_zero(),
            "{t:?}"
        );
    }
    let s = acc.summary(&labels());
    assert!((s.video_top1 - hits as f64 / 12.0).abs() < 1e-12);
}

#[test]
fn flow_model_under_multi_view_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let list = synth(dir.path(), 1, false);
    let mut ds = Dataset::from_list(&list, dir.path(), None).unwrap();
    ds.entries.truncate(3);
    let model = write_model(dir.path(), "two", &tiny_spec("two-stream", 12, 32), labels(), 3);
    let card = motus_core::infer::Classifier::load(&model).unwrap().card().clone();
    let protocol = SamplerConfig::MultiClip { num_clips: 2, crops: CropMode::Three };
    let mut calls = vec![];
    let run = evaluate_videos(&model, &card, &ds, &protocol, &opts(), &mut |d, t| calls.push((d, t))).unwrap();
    assert_eq!(calls.last(), Some(&(3, 3)));
    assert!(run.flow_engine.as_deref().unwrap().starts_with("tvl1-cpu"));
    for (_, s) in &run.scored {
        assert_eq!(s.probs.len(), 6, "2 clips × 3 crops");
        assert!(s.probs.iter().all(|p| (p.iter().sum::<f32>() - 1.0).abs() < 1e-4));
        assert!(s.times.iter().all(|t| t.flow > std::time::Duration::ZERO));
    }
    let lat = summarize_latency(&run.scored.iter().flat_map(|(_, s)| s.times.clone()).collect::<Vec<_>>());
    assert_eq!(lat.clips, 18);
    assert!(lat.flow.p50 > 0.0 && lat.total.p95 >= lat.total.p50);
}

#[test]
fn unreadable_videos_are_skipped_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let list = synth(dir.path(), 1, false);
    // Truncate one video mid-frame, name a missing one, keep the rest.
    let text = std::fs::read_to_string(&list).unwrap();
    let first = text.lines().next().unwrap().split_whitespace().next().unwrap().to_string();
    let bytes = std::fs::read(dir.path().join(&first)).unwrap();
    std::fs::write(dir.path().join(&first), &bytes[..bytes.len() / 2 + 13]).unwrap();
    std::fs::write(&list, format!("{text}videos/nowhere.y4m 3\n")).unwrap();
    let ds = Dataset::from_list(&list, dir.path(), None).unwrap();
    let model = write_model(dir.path(), "c3d", &tiny_spec("c3d", 12, 32), labels(), 3);
    let card = motus_core::infer::Classifier::load(&model).unwrap().card().clone();
    let run = evaluate_videos(&model, &card, &ds, &SamplerConfig::Random, &opts(), &mut |_, _| {}).unwrap();
    assert_eq!(run.scored.len(), 11);
    assert_eq!(run.skipped.len(), 2, "{:?}", run.skipped);
    assert_eq!(run.skipped[0].line, 1);
    assert!(run.skipped[0].path.ends_with(&first));
    assert_eq!(run.skipped[1].line, 13);
    assert!(run.skipped[1].error.contains("nowhere.y4m"), "{}", run.skipped[1].error);
    // A model file that cannot load is an error for the whole run, not a skipped video.
    let err =
        evaluate_videos(&dir.path().join("none.onnx"), &card, &ds, &SamplerConfig::Random, &opts(), &mut |_, _| {})
            .unwrap_err();
    assert!(err.to_string().contains("none.onnx"), "{err}");
}

#[test]
fn long_videos_by_sliding_windows() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), 2, true);
    let videos = crate::dataset::load_long_split(dir.path(), "test").unwrap();
    let model = write_model(dir.path(), "c3d", &tiny_spec("c3d", 12, 32), labels(), 4);
    let card = motus_core::infer::Classifier::load(&model).unwrap().card().clone();
    let run = evaluate_long(&model, &card, &videos, Some(8), &opts(), &mut |_, _| {}).unwrap();
    assert_eq!((run.window_span, run.window_stride, run.scored.len()), (4, 8, 2));
    for (_, s) in &run.scored {
        assert_eq!(s.frames, 200);
        // Starts 0, 8, …, 192: (200 − 4) / 8 + 1 windows, each 4 frames.
        assert_eq!(s.windows.len(), 25);
        assert_eq!((s.windows[1].start_frame, s.windows[1].end_frame), (8, 12));
        assert_eq!(s.times.len(), 25);
    }
    let per: Vec<_> = run.scored.iter().map(|(i, s)| (&videos[*i].ground_truth, &s.windows[..])).collect();
    let sum = summarize_long(&per, &labels(), 0.0, Some(0), 0.5);
    assert_eq!(sum.windows, 50);
    assert_eq!(sum.ground_truth, videos.iter().map(|v| v.ground_truth.segments.len()).sum::<usize>());
    // A zero window stride is refused before any video is read.
    let err = evaluate_long(&model, &card, &videos, Some(0), &opts(), &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("at least 1"), "{err}");
}

#[test]
fn sliding_flow_windows_match_fresh_builds_across_videos() {
    // Two long videos through one worker: window scores with reuse between windows must equal
    // scoring each window alone, including the first window of the second video.
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), 2, true);
    let videos = crate::dataset::load_long_split(dir.path(), "test").unwrap();
    let model = write_model(dir.path(), "two", &tiny_spec("two-stream", 12, 32), labels(), 6);
    let card = motus_core::infer::Classifier::load(&model).unwrap().card().clone();
    let one = RunOptions { workers: 1, ..RunOptions::default() };
    let run = evaluate_long(&model, &card, &videos, Some(1), &one, &mut |_, _| {}).unwrap();
    let mut c = motus_core::infer::Classifier::load(&model).unwrap();
    let mut b = motus_core::infer::ClipBuilder::from_card(&card, motus_core::flow::Backend::Cpu, 1).unwrap();
    for (i, s) in &run.scored {
        let frames = motus_core::media::open_video(&videos[*i].path).unwrap().read_all().unwrap();
        assert_eq!(s.windows.len(), frames.len() - 2, "span 3, stride 1");
        for w in s.windows.iter().step_by(37).chain(s.windows.first()) {
            let f = w.start_frame as usize;
            b.build(&frames[f..f + 3], motus_core::preprocess::CropPosition::Center).unwrap();
            let want = c.run(&b.inputs()).unwrap().probs;
            assert_eq!(w.probs, want, "video {i}, window at {f}");
        }
    }
}
