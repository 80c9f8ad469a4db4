//! Clip assembly: tensor layouts checked value by value against the preprocessing and flow
//! code called directly, every layout accepted by tract, and every contract refusal.

use super::*;
use crate::flow::{TvL1Cpu, TvL1Params};
use crate::infer::test_models::{card_for, tiny_spec, write_model};
use crate::infer::Classifier;
use crate::preprocess::FramePipeline;

const SIZE: usize = 32;

fn labels(k: usize) -> Vec<String> {
    (0..k).map(|i| format!("c{i}")).collect()
}

/// A textured 40×36 frame whose pattern is shifted right by `shift` px, with blue level
/// `9 t`, so frames differ in content (for flow) and in blue (to tell steps apart) while their
/// luma, which flow reads, barely changes.
fn frame(shift: i32, t: u8) -> Frame {
    let (w, h) = (40u32, 36u32);
    let mut f = Frame::new(w, h);
    for y in 0..h as i32 {
        for x in 0..w as i32 {
            let u = (x - shift) as f32;
            let v = y as f32;
            let g = 110.0 + 60.0 * (u * 0.45).sin() * (v * 0.35).cos() + 30.0 * ((u + v) * 0.2).sin();
            let i = ((y as u32 * w + x as u32) * 3) as usize;
            f.data[i] = g as u8;
            f.data[i + 1] = (255.0 - g) as u8;
            f.data[i + 2] = t.wrapping_mul(9);
        }
    }
    f
}

fn window(n: usize, step_px: i32) -> Vec<Frame> {
    (0..n).map(|i| frame(i as i32 * step_px, i as u8 * 3)).collect()
}

/// Every input tensor of the builder's last build, to compare two builds.
fn snapshot(b: &ClipBuilder) -> Vec<Vec<f32>> {
    b.inputs().iter().map(|t| t.data.to_vec()).collect()
}

fn builder(name: &str) -> (ModelCard, ClipBuilder) {
    let (_, card) = card_for(&tiny_spec(name, 3, SIZE), labels(3));
    let b = ClipBuilder::from_card(&card, Backend::Cpu, 1).unwrap();
    (card, b)
}

/// The processed (resized, centre-cropped) frames and their normalised CTHW tensor, straight
/// from the preprocessing module.
fn reference_rgb(card: &ModelCard, frames: &[Frame]) -> (Vec<Frame>, Vec<f32>) {
    let mut p = FramePipeline::new(card.input.clone());
    let processed: Vec<Frame> = frames
        .iter()
        .map(|f| {
            let mut out = Frame::new(0, 0);
            p.apply(f, CropPosition::Center, false, &mut out).unwrap();
            out
        })
        .collect();
    let mut t = vec![0.0; processed.len() * 3 * SIZE * SIZE];
    normalize_clip(&processed, &card.input.normalization, ClipLayout::Cthw, &mut t).unwrap();
    (processed, t)
}

fn tensor<'a>(b: &'a ClipBuilder, name: &str) -> (Vec<usize>, &'a [f32]) {
    let t = b.inputs().into_iter().find(|t| t.name == name).unwrap();
    (t.shape.to_vec(), t.data)
}

#[test]
fn rgb_layouts_hold_the_normalised_frames() {
    let plane = SIZE * SIZE;
    // c3d: NCTHW, 4 frames.
    let (card, mut b) = builder("c3d");
    assert_eq!((b.window_len(), b.window_spec().frame_stride, b.flow_engine()), (4, 1, None));
    let frames = window(4, 1);
    b.build(&frames, CropPosition::Center).unwrap();
    let (_, want) = reference_rgb(&card, &frames);
    let (shape, data) = tensor(&b, "rgb");
    assert_eq!(shape, vec![1, 3, 4, SIZE, SIZE]);
    assert_eq!(data, &want[..]);
    // single-frame: NTCHW, 3 frames; borrowed frames work the same.
    let (card, mut b) = builder("single-frame");
    let frames = window(3, 1);
    let refs: Vec<&Frame> = frames.iter().collect();
    b.build(&refs, CropPosition::Center).unwrap();
    let (_, cthw) = reference_rgb(&card, &frames);
    let (shape, data) = tensor(&b, "rgb");
    assert_eq!(shape, vec![1, 3, 3, SIZE, SIZE]);
    for t in 0..3 {
        for c in 0..3 {
            assert_eq!(&data[(t * 3 + c) * plane..][..plane], &cthw[(c * 3 + t) * plane..][..plane], "t {t} c {c}");
        }
    }
    // The short side (36) is resized to 32 and the long side to 36, so another crop position
    // along x gives other pixels.
    let centre = data.to_vec();
    b.build(&refs, CropPosition::Start).unwrap();
    assert_ne!(tensor(&b, "rgb").1, &centre[..]);
}

/// Mean of one plane.
fn plane_mean(data: &[f32], index: usize) -> f32 {
    let plane = SIZE * SIZE;
    data[index * plane..(index + 1) * plane].iter().sum::<f32>() / plane as f32
}

#[test]
fn two_stream_reads_the_centre_frame_and_stacked_flow() {
    let (card, mut b) = builder("two-stream");
    assert_eq!(b.window_len(), 3, "L = 2 fields need 3 frames");
    assert!(b.flow_engine().unwrap().starts_with("tvl1-cpu"));
    // Window frames shift right by 2 px, then 0 px: field 0 moves +2 (scaled by the resize
    // 36 → 32), field 1 does not move.
    let frames = vec![frame(0, 0), frame(2, 0), frame(2, 0)];
    b.build(&frames, CropPosition::Center).unwrap();
    let (processed, _) = reference_rgb(&card, &frames);
    let mut centre = vec![0.0; 3 * SIZE * SIZE];
    normalize_clip(&processed[1..2], &card.input.normalization, ClipLayout::Cthw, &mut centre).unwrap();
    let (shape, rgb) = tensor(&b, "rgb");
    assert_eq!(shape, vec![1, 3, SIZE, SIZE]);
    assert_eq!(rgb, &centre[..], "RGB is window frame L/2 = 1");
    // Flow exactly as the engine computes it on the processed frames, scaled by the bound.
    let mut engine = TvL1Cpu::new(TvL1Params::edge(), 1).unwrap();
    let f0 = engine.compute(&processed[0], &processed[1]).unwrap();
    let (shape, flow) = tensor(&b, "flow");
    assert_eq!(shape, vec![1, 4, SIZE, SIZE]);
    let plane = SIZE * SIZE;
    for (i, &u) in f0.u.iter().enumerate() {
        assert_eq!(flow[i], to_unit(u, 20.0));
    }
    let moved = plane_mean(flow, 0) * 20.0;
    assert!((1.0..2.6).contains(&moved), "x₁ mean {moved} px, 1.8 expected");
    assert!(plane_mean(flow, 1).abs() * 20.0 < 0.2, "y₁ is still");
    assert!(plane_mean(flow, 2).abs() * 20.0 < 0.2, "x₂ is still");
    assert_eq!(flow[plane..2 * plane].len(), plane);
}

#[test]
fn mean_subtraction_removes_the_camera_shift_as_the_card_asks() {
    let (_, mut card) = card_for(&tiny_spec("two-stream", 3, SIZE), labels(3));
    card.flow.as_mut().unwrap().mean_subtraction = true;
    let mut b = ClipBuilder::from_card(&card, Backend::Cpu, 1).unwrap();
    // The whole frame shifts 2 px: a panning camera and nothing else.
    let frames = vec![frame(0, 0), frame(2, 0), frame(2, 0)];
    b.build(&frames, CropPosition::Center).unwrap();
    let (processed, _) = reference_rgb(&card, &frames);
    let mut engine = TvL1Cpu::new(TvL1Params::edge(), 1).unwrap();
    let f0 = engine.compute(&processed[0], &processed[1]).unwrap();
    let mean = f0.u.iter().sum::<f32>() / f0.u.len() as f32;
    assert!(mean > 1.0, "the raw field moves ({mean} px)");
    let (_, flow) = tensor(&b, "flow");
    for (i, &u) in f0.u.iter().enumerate() {
        assert!((flow[i] - to_unit(u - mean, 20.0)).abs() < 1e-6);
    }
    assert!(plane_mean(flow, 0).abs() * 20.0 < 1e-3, "the shift is gone: {}", plane_mean(flow, 0) * 20.0);
    // A card that says otherwise than the engine settings is refused at the builder.
    let mut raw = FlowConfig::from_card(card.flow.as_ref().unwrap()).unwrap();
    raw.mean_subtraction = false;
    let engine: Box<dyn crate::flow::FlowEngine> = Box::new(TvL1Cpu::new(TvL1Params::edge(), 1).unwrap());
    let e = ClipBuilder::new(&card, Some((engine, raw))).unwrap_err();
    assert!(e.to_string().contains("mean subtraction"), "{e}");
}

#[test]
fn fused_and_i3d_flow_layouts() {
    // fused-3d: T = 2, L = 2 → 4 frames; step t stacks fields t, t+1 and reads frame t + 1.
    let (card, mut b) = builder("fused-3d");
    assert_eq!(b.window_len(), 4);
    let frames = vec![frame(0, 0), frame(3, 1), frame(3, 2), frame(3, 3)];
    b.build(&frames, CropPosition::Center).unwrap();
    let (_, cthw) = reference_rgb(&card, &frames);
    let plane = SIZE * SIZE;
    let (shape, rgb) = tensor(&b, "rgb");
    assert_eq!(shape, vec![1, 2, 3, SIZE, SIZE]);
    // NTCHW step t, channel c = window frame t + 1.
    for t in 0..2 {
        for c in 0..3 {
            assert_eq!(&rgb[(t * 3 + c) * plane..][..plane], &cthw[(c * 4 + t + 1) * plane..][..plane]);
        }
    }
    let (shape, flow) = tensor(&b, "flow");
    assert_eq!(shape, vec![1, 2, 4, SIZE, SIZE]);
    // Only field 0 moves: it sits in step 0 slot 0 (x plane 0) and nowhere in step 1.
    assert!(plane_mean(flow, 0) * 20.0 > 1.5, "{}", plane_mean(flow, 0) * 20.0);
    for p in 1..8 {
        if p != 1 {
            assert!(plane_mean(flow, p).abs() * 20.0 < 0.3, "plane {p}: {}", plane_mean(flow, p) * 20.0);
        }
    }
    // i3d: T = 4, L = 1 → 5 frames, NCTHW flow [1, 2, 4, H, W]; field 2 moves.
    let (_, mut b) = builder("i3d");
    assert_eq!(b.window_len(), 5);
    let frames = vec![frame(0, 0), frame(0, 0), frame(0, 0), frame(3, 0), frame(3, 0)];
    b.build(&frames, CropPosition::Center).unwrap();
    let (shape, flow) = tensor(&b, "flow");
    assert_eq!(shape, vec![1, 2, 4, SIZE, SIZE]);
    for t in 0..4 {
        let x = plane_mean(flow, t) * 20.0;
        assert!(if t == 2 { x > 1.5 } else { x.abs() < 0.3 }, "x at step {t}: {x}");
    }
}

#[test]
fn every_layout_runs_through_the_classifier() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["c3d", "single-frame", "two-stream", "fused-3d", "i3d"] {
        let spec = tiny_spec(name, 3, SIZE);
        let path = write_model(dir.path(), name, &spec, labels(3), 1);
        let mut c = Classifier::load(&path).unwrap();
        let mut b = ClipBuilder::from_card(c.card(), Backend::Cpu, 1).unwrap();
        let frames = window(b.window_len(), 1);
        b.build(&frames, CropPosition::End).unwrap();
        let s = c.run(&b.inputs()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.probs.len(), 3, "{name}");
        assert!((s.probs.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{name}");
    }
}

#[test]
fn contract_refusals() {
    let (_, card) = card_for(&tiny_spec("c3d", 3, SIZE), labels(3));
    let msg = |card: &ModelCard| ClipBuilder::from_card(card, Backend::Cpu, 1).unwrap_err().to_string();
    let mut bad = card.clone();
    bad.input.clip.clip_len = 8;
    assert!(msg(&bad).contains("4 time steps, the card's clip_len is 8"), "{}", msg(&bad));
    let mut bad = card.clone();
    bad.input.input_size = 28;
    assert!(msg(&bad).contains("input size is 28×28"), "{}", msg(&bad));
    let mut bad = card.clone();
    bad.inputs[0].layout = "NHWC".into();
    assert!(msg(&bad).contains("not NCTHW, NTCHW or NCHW"), "{}", msg(&bad));
    let mut bad = card.clone();
    bad.inputs[0].shape[1] = 1;
    assert!(msg(&bad).contains("1 channels, RGB needs 3"), "{}", msg(&bad));
    let mut bad = card.clone();
    bad.inputs[0].shape.pop();
    assert!(msg(&bad).contains("4 axes"), "{}", msg(&bad));

    let (_, flow_card) = card_for(&tiny_spec("two-stream", 3, SIZE), labels(3));
    let err = ClipBuilder::new(&flow_card, None).unwrap_err().to_string();
    assert!(err.contains("no flow engine was given"), "{err}");
    let engine = flow::make_engine(Backend::Cpu, TvL1Params::accurate(), 1).unwrap();
    let err = ClipBuilder::new(&flow_card, Some((engine, FlowConfig::tvl1(TvL1Params::accurate(), 20.0, 2))))
        .unwrap_err()
        .to_string();
    assert!(err.contains("flow parameters differ"), "{err}");
    let engine = flow::make_engine(Backend::Cpu, TvL1Params::edge(), 1).unwrap();
    let err =
        ClipBuilder::new(&card, Some((engine, FlowConfig::tvl1(TvL1Params::edge(), 20.0, 2)))).unwrap_err().to_string();
    assert!(err.contains("reads no flow"), "{err}");
    let mut bad = flow_card.clone();
    bad.flow.as_mut().unwrap().stack_len = 3;
    assert!(msg(&bad).contains("2 × 3 stacked flow fields needs 6"), "{}", msg(&bad));
    let mut bad = flow_card.clone();
    bad.inputs[1].name = "motion".into();
    assert!(msg(&bad).contains("\"motion\": shape [-1, 4, 32, 32] has 4 channels, RGB needs 3"), "{}", msg(&bad));

    let (_, mut b) = builder("c3d");
    let err = b.build(&window(3, 1), CropPosition::Center).unwrap_err();
    assert!(matches!(err, ClipError::WindowLength { got: 3, want: 4 }), "{err}");
    let mut frames = window(4, 1);
    frames[2] = Frame::new(0, 0);
    let err = b.build(&frames, CropPosition::Center).unwrap_err();
    assert!(matches!(err, ClipError::Preprocess { index: 2, .. }), "{err}");
}

#[test]
fn sliding_windows_reuse_shared_frames_and_fields_exactly() {
    // i3d: 5-frame windows; a stream of 9 frames with motion.
    let stream: Vec<Frame> = (0..9).map(|i| frame(i * i / 3, i as u8)).collect();
    let (_, mut fresh) = builder("i3d");
    let (_, mut sliding) = builder("i3d");
    sliding.build(&stream[0..5], CropPosition::Center).unwrap();
    for (start, advance) in [(2, 2), (3, 1), (4, 1)] {
        let t = sliding.build_advanced(&stream[start..start + 5], CropPosition::Center, advance).unwrap();
        fresh.build(&stream[start..start + 5], CropPosition::Center).unwrap();
        assert_eq!(snapshot(&sliding), snapshot(&fresh), "window at {start}");
        assert!(t.flow > std::time::Duration::ZERO);
    }
    // Another crop, a jump as long as the window, or a failed build: nothing is reused, and
    // the result is still a plain build's.
    for (start, crop, advance) in [(4, CropPosition::Start, 1), (0, CropPosition::Start, 5)] {
        sliding.build_advanced(&stream[start..start + 5], crop, advance).unwrap();
        fresh.build(&stream[start..start + 5], crop).unwrap();
        assert_eq!(snapshot(&sliding), snapshot(&fresh), "window at {start}");
    }
    let mut broken: Vec<Frame> = stream[1..6].to_vec();
    broken[4] = Frame::new(0, 0);
    assert!(sliding.build_advanced(&broken, CropPosition::Start, 1).is_err());
    sliding.build_advanced(&stream[2..7], CropPosition::Start, 1).unwrap();
    fresh.build(&stream[2..7], CropPosition::Start).unwrap();
    assert_eq!(snapshot(&sliding), snapshot(&fresh));
}

#[test]
fn a_moving_crop_reuses_the_shared_fields_shifted_and_computes_only_new_pairs() {
    // i3d: 5-frame windows over 36x32 resized frames, so a 32-pixel crop has 4 pixels of room.
    let stream: Vec<Frame> = (0..9).map(|i| frame(i * i / 3, i as u8)).collect();
    let (_, mut fresh) = builder("i3d");
    let (_, mut sliding) = builder("i3d");
    // A crop that stays put: exactly a plain build.
    sliding.build(&stream[0..5], CropPosition::At(1)).unwrap();
    sliding.build_sliding(&stream[1..6], CropPosition::At(1), 1).unwrap();
    fresh.build(&stream[1..6], CropPosition::At(1)).unwrap();
    assert_eq!(snapshot(&sliding), snapshot(&fresh));

    // The crop moves 2 pixels right while the window advances one frame.
    let before = sliding.fields.clone();
    sliding.build_sliding(&stream[2..7], CropPosition::At(3), 1).unwrap();
    fresh.build(&stream[2..7], CropPosition::At(3)).unwrap();
    // The one new pair is computed on the new crop.
    assert_eq!(sliding.fields[3], fresh.fields[3]);
    // The three shared pairs are the old fields moved 2 pixels left, with zero flow in the
    // 2 columns the old crop did not cover.
    let w = SIZE;
    for (k, field) in sliding.fields[..3].iter().enumerate() {
        let old = &before[k + 1];
        for y in 0..w {
            for x in 0..w {
                let want = if x + 2 < w { (old.u[y * w + x + 2], old.v[y * w + x + 2]) } else { (0.0, 0.0) };
                assert_eq!((field.u[y * w + x], field.v[y * w + x]), want, "field {k} at ({x}, {y})");
            }
        }
    }
    // The frames themselves are all cropped anew: the RGB input is a plain build's.
    let rgb =
        |b: &ClipBuilder| b.slots.iter().filter(|s| s.role == Role::Rgb).map(|s| s.data.clone()).collect::<Vec<_>>();
    assert_eq!(rgb(&sliding), rgb(&fresh));
    // Without anything to continue from (a jump as long as the window), a plain build.
    sliding.build_sliding(&stream[3..8], CropPosition::At(0), 5).unwrap();
    fresh.build(&stream[3..8], CropPosition::At(0)).unwrap();
    assert_eq!(snapshot(&sliding), snapshot(&fresh));
}

#[test]
fn a_zoom_builds_what_a_card_with_the_larger_resize_builds() {
    let frames = window(5, 1);
    for zoom in [1.0f32, 1.3, 2.0] {
        let (card, mut zoomed) = builder("i3d");
        zoomed.set_zoom(zoom).unwrap();
        let mut bigger = card.clone();
        bigger.input.resize_short = (card.input.resize_short as f32 * zoom).round() as u32;
        let mut plain = ClipBuilder::from_card(&bigger, Backend::Cpu, 1).unwrap();
        assert_eq!(zoomed.resize_short(), bigger.input.resize_short);
        zoomed.build(&frames, CropPosition::Center).unwrap();
        plain.build(&frames, CropPosition::Center).unwrap();
        assert_eq!(snapshot(&zoomed), snapshot(&plain), "zoom {zoom}");
        // The input size is the card's: only the view changed.
        assert_eq!(zoomed.processed[0].width as usize, SIZE);
    }
    // A zoom out, a NaN or an absurd zoom is refused with the value named.
    let (_, mut b) = builder("i3d");
    for bad in [0.5f32, f32::NAN, 9.0] {
        let e = b.set_zoom(bad).unwrap_err().to_string();
        assert!(e.contains("zoom"), "{bad}: {e}");
    }
}

/// `frames` stamped with `times` (seconds), as a retimed window carries them.
fn stamped(frames: Vec<Frame>, times: &[f64]) -> Vec<Frame> {
    frames
        .into_iter()
        .zip(times)
        .map(|(mut f, &t)| {
            f.timestamp = Duration::from_secs_f64(t);
            f
        })
        .collect()
}

#[test]
fn a_card_rate_spreads_a_slow_sources_motion_over_its_repeated_frames() {
    let (_, mut card) = card_for(&tiny_spec("two-stream", 3, SIZE), labels(3));
    card.input.fps = Some(30.0);
    let mut b = ClipBuilder::from_card(&card, Backend::Cpu, 1).unwrap();
    // The same motion, 1 px per 1/30 s, seen by a 30 fps camera ...
    let at30 = stamped(vec![frame(0, 0), frame(1, 0), frame(2, 0)], &[0.0, 1.0 / 30.0, 2.0 / 30.0]);
    b.build(&at30, CropPosition::Center).unwrap();
    let (_, flow30) = tensor(&b, "flow");
    let flow30 = flow30.to_vec();
    // ... and by a 10 fps one, whose frames the retimer repeats: 0 px, 0 px (again), 3 px.
    let at10 = stamped(vec![frame(0, 0), frame(0, 0), frame(3, 0)], &[0.0, 0.0, 0.1]);
    b.build(&at10, CropPosition::Center).unwrap();
    let (_, flow10) = tensor(&b, "flow");
    // Both steps take the field between the distinct frames, scaled to one model period.
    let (processed, _) = reference_rgb(&card, &at10);
    let mut engine = TvL1Cpu::new(TvL1Params::edge(), 1).unwrap();
    let f = engine.compute(&processed[1], &processed[2]).unwrap();
    let plane = SIZE * SIZE;
    for (i, &u) in f.u.iter().enumerate() {
        assert_eq!(flow10[i], to_unit(u * (1.0 / 3.0), 20.0), "x₁ at {i}");
        assert_eq!(flow10[2 * plane + i], to_unit(u * (1.0 / 3.0), 20.0), "x₂ at {i}");
    }
    for (step, x) in [(0, 0), (1, 2)] {
        let (slow, fast) = (plane_mean(flow10, x) * 20.0, plane_mean(&flow30, x) * 20.0);
        assert!(
            fast > 0.5 && (slow - fast).abs() < 0.25 * fast,
            "step {step}: {slow} px at 10 fps, {fast} px at 30 fps"
        );
    }
    // Without a card rate the repeat is a still step, as before rates were honoured.
    card.input.fps = None;
    let mut b = ClipBuilder::from_card(&card, Backend::Cpu, 1).unwrap();
    b.build(&at10, CropPosition::Center).unwrap();
    assert!(plane_mean(tensor(&b, "flow").1, 0).abs() * 20.0 < 0.05);
}

#[test]
fn a_card_rate_leaves_frames_at_that_rate_bit_identical() {
    let (_, mut card) = card_for(&tiny_spec("fused-3d", 3, SIZE), labels(3));
    let frames = window(4, 1);
    let mut b = ClipBuilder::from_card(&card, Backend::Cpu, 1).unwrap();
    b.build(&frames, CropPosition::Center).unwrap();
    let before = snapshot(&b);
    card.input.fps = Some(25.0);
    let mut b = ClipBuilder::from_card(&card, Backend::Cpu, 1).unwrap();
    let at25 = stamped(frames.clone(), &[0.0, 0.04, 0.08, 0.12]);
    b.build(&at25, CropPosition::Center).unwrap();
    assert_eq!(snapshot(&b), before);
    // With a frame stride, window frames sit that many model frames apart: still one step each.
    card.input.clip.frame_stride = 2;
    let mut b = ClipBuilder::from_card(&card, Backend::Cpu, 1).unwrap();
    b.build(&stamped(frames, &[0.0, 0.08, 0.16, 0.24]), CropPosition::Center).unwrap();
    assert_eq!(snapshot(&b), before);
}
