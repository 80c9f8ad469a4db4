//! GPU engine tests: parity with the CPU engine (synthetic and Middlebury), bad input, error
//! messages, buffer reuse, batching, and an `#[ignore]`d timing report.
//!
//! GPU tests never skip silently: `MOTUS_SKIP_GPU_TESTS=1` skips them explicitly, otherwise a
//! missing adapter fails them.

use super::super::eval::load_frame;
use super::super::flo::read_flo;
use super::super::tests::{middlebury_dir, synth_frame};
use super::*;
use crate::flow::{StructureTexture, TvL1Cpu, MIN_FRAME_SIDE};
use crate::gpu::{gpu_tests_skipped, GpuError};
use std::time::Instant;

/// The shared device, or `None` when GPU tests are explicitly skipped.
fn gpu() -> Option<Arc<GpuContext>> {
    if gpu_tests_skipped() {
        eprintln!("MOTUS_SKIP_GPU_TESTS=1: skipping");
        return None;
    }
    Some(GpuContext::shared().unwrap_or_else(|e| {
        panic!("GPU test needs a Vulkan adapter (lavapipe in CI): {e}; set MOTUS_SKIP_GPU_TESTS=1 to skip explicitly")
    }))
}

/// Mean and max end-point difference between two fields of the same size.
fn epd(a: &FlowField, b: &FlowField) -> (f64, f64) {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let (mut sum, mut max) = (0.0f64, 0.0f64);
    for i in 0..a.len() {
        let d = (((a.u[i] - b.u[i]) as f64).powi(2) + ((a.v[i] - b.v[i]) as f64).powi(2)).sqrt();
        sum += d;
        max = max.max(d);
    }
    (sum / a.len() as f64, max)
}

/// GPU vs CPU (one thread) on one pair: returns (mean, max) end-point difference.
fn parity(ctx: &Arc<GpuContext>, p: &TvL1Params, a: &Frame, b: &Frame) -> (f64, f64) {
    let mut cpu = TvL1Cpu::new(p.clone(), 1).unwrap();
    let mut gpu = TvL1Gpu::new(ctx.clone(), p.clone()).unwrap();
    let t0 = Instant::now();
    let fc = cpu.compute(a, b).unwrap();
    let tc = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let fg = gpu.compute(a, b).unwrap();
    let tg = t0.elapsed().as_secs_f64();
    assert!(fg.u.iter().chain(&fg.v).all(|x| x.is_finite()), "GPU flow has non-finite values");
    let r = epd(&fc, &fg);
    let same =
        fc.u.iter().chain(&fc.v).zip(fg.u.iter().chain(&fg.v)).filter(|(x, y)| x.to_bits() == y.to_bits()).count();
    let moving = fg.u.iter().chain(&fg.v).filter(|x| x.abs() > 0.01).count();
    eprintln!(
        "{}x{}: mean EPD {:.2e} px, max {:.2e} px, {:.4}% of values bit-identical, {moving} components > 0.01 px (cpu {tc:.2} s, gpu {tg:.2} s, {} dispatches)",
        a.width,
        a.height,
        r.0,
        r.1,
        100.0 * same as f64 / (2 * fc.len()) as f64,
        gpu.dispatches_per_submission()
    );
    assert!(moving > 0, "GPU flow is all zero: the comparison would be meaningless");
    r
}

fn middlebury_pair(seq: &str, size: Option<(u32, u32)>) -> (Frame, Frame) {
    let dir = middlebury_dir().join(seq);
    let load = |n: &str| {
        let f = load_frame(&dir.join(n)).unwrap();
        match size {
            Some((w, h)) => {
                Frame::from_image(image::imageops::resize(&f.to_image(), w, h, image::imageops::FilterType::Triangle))
            }
            None => f,
        }
    };
    (load("frame10.png"), load("frame11.png"))
}

const PARITY: f64 = 0.01;

#[test]
fn synthetic_translation_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    let (w, h) = (128, 128);
    let (dx, dy) = (2.5f32, -1.25f32);
    let a = synth_frame(w, h, 0.0, 0.0);
    let b = synth_frame(w, h, dx, dy);
    for (name, p) in [("edge", TvL1Params::edge()), ("accurate", TvL1Params::accurate())] {
        let (mean, _) = parity(&ctx, &p, &a, &b);
        assert!(mean <= PARITY, "{name}: mean EPD {mean} px > {PARITY}");
        // And the motion itself is recovered.
        let f = TvL1Gpu::new(ctx.clone(), p).unwrap().compute(&a, &b).unwrap();
        let mean = crate::flow::tests::interior_error(&f, dx, dy, 10);
        assert!(mean < 0.1, "{name}: mean interior error {mean} px");
    }
}

#[test]
fn structure_texture_and_median7_match_cpu() {
    let Some(ctx) = gpu() else { return };
    let a = synth_frame(96, 80, 0.0, 0.0);
    let b = synth_frame(96, 80, 1.5, 0.75);
    let st = Some(StructureTexture { alpha: 0.8, theta: 16.0, iterations: 20 });
    let p = TvL1Params { warps: 2, iterations: 10, median: 7, structure_texture: st, ..TvL1Params::accurate() };
    let (mean, _) = parity(&ctx, &p, &a, &b);
    assert!(mean <= PARITY, "mean EPD {mean} px > {PARITY}");
    // Odd sizes (not multiples of the workgroup, RGB bytes not a multiple of 4), no median.
    let a = synth_frame(37, 29, 0.0, 0.0);
    let b = synth_frame(37, 29, -1.0, 0.5);
    let p = TvL1Params { median: 0, ..TvL1Params::edge() };
    let (mean, _) = parity(&ctx, &p, &a, &b);
    assert!(mean <= PARITY, "37x29: mean EPD {mean} px > {PARITY}");
}

#[test]
fn middlebury_edge_full_size_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    for seq in ["RubberWhale", "Dimetrodon"] {
        let (a, b) = middlebury_pair(seq, None);
        let (mean, _) = parity(&ctx, &TvL1Params::edge(), &a, &b);
        eprintln!("edge {seq} full size: mean EPD {mean:.2e}");
        assert!(mean <= PARITY, "edge {seq}: mean EPD {mean} px > {PARITY}");
        // The GPU flow is also right in absolute terms (ground truth end-point error).
        let truth = read_flo(middlebury_dir().join(seq).join("flow10.flo")).unwrap();
        let est = TvL1Gpu::new(ctx.clone(), TvL1Params::edge()).unwrap().compute(&a, &b).unwrap();
        let epe = est.epe(&truth).unwrap();
        eprintln!("edge {seq} full size: GPU EPE vs ground truth {epe:.3} px");
        assert!(epe <= 1.0, "edge {seq}: GPU EPE {epe} px");
    }
}

#[test]
fn middlebury_accurate_downscaled_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    for seq in ["RubberWhale", "Dimetrodon"] {
        let (a, b) = middlebury_pair(seq, Some((192, 128)));
        let (mean, _) = parity(&ctx, &TvL1Params::accurate(), &a, &b);
        eprintln!("accurate {seq} 192x128: mean EPD {mean:.2e}");
        assert!(mean <= PARITY, "accurate {seq}: mean EPD {mean} px > {PARITY}");
    }
}

/// Full-size parity with the CPU (about 11 s on lavapipe in the test profile).
#[test]
fn middlebury_accurate_full_size_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    for seq in ["RubberWhale", "Dimetrodon", "Urban2"] {
        let (a, b) = middlebury_pair(seq, None);
        let (mean, _) = parity(&ctx, &TvL1Params::accurate(), &a, &b);
        eprintln!("accurate {seq} full size: mean EPD {mean:.2e}");
        assert!(mean <= PARITY, "accurate {seq}: mean EPD {mean} px > {PARITY}");
    }
}

#[test]
fn bad_frames_are_rejected_like_the_cpu() {
    let Some(ctx) = gpu() else { return };
    let mut e = TvL1Gpu::new(ctx.clone(), TvL1Params::edge()).unwrap();
    let a = Frame::new(32, 32);
    assert!(matches!(e.compute(&a, &Frame::new(32, 31)), Err(FlowError::SizeMismatch(32, 32, 32, 31))));
    let small = Frame::new(15, 40);
    let err = e.compute(&small, &small).unwrap_err();
    assert!(matches!(err, FlowError::TooSmall { min: MIN_FRAME_SIDE, .. }), "{err}");
    assert!(matches!(e.compute(&Frame::new(0, 0), &Frame::new(0, 0)), Err(FlowError::EmptyFrame { which: "a", .. })));
    let mut bad = Frame::new(32, 32);
    bad.data.pop();
    assert!(matches!(e.compute(&a, &bad), Err(FlowError::BadFrameBuffer { which: "b", .. })));
    let err = TvL1Gpu::new(ctx.clone(), TvL1Params { warps: 0, ..TvL1Params::edge() }).unwrap_err();
    assert!(err.to_string().contains("warps"), "{err}");
    // Batches: every pair is checked, all pairs must share one size, outs must match.
    let m = synth_frame(16, 16, 0.0, 0.0);
    let big = synth_frame(24, 16, 0.0, 0.0);
    let mut outs = vec![FlowField::zeros(0, 0), FlowField::zeros(0, 0)];
    assert!(matches!(
        e.compute_batch(&[(&m, &m), (&big, &big)], &mut outs),
        Err(FlowError::SizeMismatch(16, 16, 24, 16))
    ));
    assert!(matches!(e.compute_batch(&[(&m, &m), (&small, &small)], &mut outs), Err(FlowError::TooSmall { .. })));
    assert!(matches!(e.compute_batch(&[(&m, &m)], &mut outs), Err(FlowError::BadField(_))));
    // The smallest accepted size works.
    e.compute(&m, &m).unwrap();
}

#[test]
fn gpu_errors_are_clear() {
    // An adapter exists here, so the error paths are checked on constructed errors.
    let e = FlowError::from(GpuError::NoAdapter("no Vulkan ICD".into()));
    let s = e.to_string();
    assert!(
        s.contains("no GPU (Vulkan) adapter") && s.contains("mesa-vulkan-drivers") && s.contains("CPU backend"),
        "{s}"
    );
    let e = FlowError::GpuTooLarge {
        width: 8000,
        height: 8000,
        needed: 5 << 30,
        limit: 1 << 30,
        adapter: "llvmpipe".into(),
    };
    let s = e.to_string();
    assert!(s.contains("8000x8000") && s.contains("llvmpipe") && s.contains("CPU engine"), "{s}");
}

#[test]
fn buffers_are_allocated_once_per_size() {
    let Some(ctx) = gpu() else { return };
    let mut e = TvL1Gpu::new(ctx, TvL1Params::edge()).unwrap();
    assert!(e.name().starts_with("tvl1-gpu"), "{}", e.name());
    let a = synth_frame(64, 48, 0.0, 0.0);
    let b = synth_frame(64, 48, 1.0, 0.5);
    let c = synth_frame(64, 48, 2.0, 1.0);
    let mut out = FlowField::zeros(0, 0);
    e.compute_into(&a, &b, &mut out).unwrap();
    let allocs = e.buffer_allocations();
    let subs = e.submissions();
    assert!(allocs > 0);
    let first = out.clone();
    e.compute_into(&b, &c, &mut out).unwrap();
    e.compute_into(&a, &b, &mut out).unwrap();
    assert_eq!(e.buffer_allocations(), allocs, "a second pair of the same size allocated GPU buffers");
    assert_eq!(e.submissions(), subs + 2, "one submission per pair");
    assert_eq!(out, first, "same pair, same engine: identical flow");
    // A new size builds a new workspace once.
    let s = synth_frame(40, 40, 0.0, 0.0);
    e.compute_into(&s, &s, &mut out).unwrap();
    let allocs2 = e.buffer_allocations();
    assert!(allocs2 > allocs);
    e.compute_into(&s, &s, &mut out).unwrap();
    assert_eq!(e.buffer_allocations(), allocs2);
}

#[test]
fn batch_equals_single_pairs_with_one_submission() {
    let Some(ctx) = gpu() else { return };
    let frames: Vec<Frame> = (0..4).map(|i| synth_frame(80, 64, 0.7 * i as f32, -0.4 * i as f32)).collect();
    let pairs: Vec<(&Frame, &Frame)> = frames.windows(2).map(|w| (&w[0], &w[1])).collect();
    let mut e = TvL1Gpu::new(ctx, TvL1Params::edge()).unwrap();
    let singles: Vec<FlowField> = pairs.iter().map(|(a, b)| e.compute(a, b).unwrap()).collect();
    let mut outs = vec![FlowField::zeros(0, 0); pairs.len()];
    let subs = e.submissions();
    e.compute_batch(&pairs, &mut outs).unwrap();
    assert_eq!(e.submissions(), subs + 1, "one submission per batch");
    assert_eq!(outs, singles, "batched flow differs from pair-by-pair flow");
    let allocs = e.buffer_allocations();
    e.compute_batch(&pairs, &mut outs).unwrap();
    e.compute_batch(&pairs[..2], &mut outs[..2]).unwrap();
    assert_eq!(e.buffer_allocations(), allocs, "a batch no larger than before allocated");
    // A cap on pairs per submission splits the batch; results are unchanged.
    e.set_max_pairs_per_submission(2);
    let subs = e.submissions();
    let mut outs2 = vec![FlowField::zeros(0, 0); pairs.len()];
    e.compute_batch(&pairs, &mut outs2).unwrap();
    assert_eq!(e.submissions(), subs + 2, "3 pairs with at most 2 per submission");
    assert_eq!(outs2, singles);
}

#[test]
#[ignore = "timing report; run in release with --nocapture"]
fn gpu_timing_report() {
    let Some(ctx) = gpu() else { return };
    eprintln!("adapter: {} (software: {})", ctx.adapter_name(), ctx.is_software());
    let median_ms = |e: &mut TvL1Gpu, a: &Frame, b: &Frame, reps: usize| {
        let mut out = FlowField::zeros(0, 0);
        e.compute_into(a, b, &mut out).unwrap();
        let mut t: Vec<f64> = (0..reps)
            .map(|_| {
                let t0 = Instant::now();
                e.compute_into(a, b, &mut out).unwrap();
                t0.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        t.sort_by(f64::total_cmp);
        eprintln!("  ({}x{}: min {:.1} ms over {reps})", a.width, a.height, t[0]);
        t[reps / 2]
    };
    let (a128, b128) = middlebury_pair("RubberWhale", Some((128, 128)));
    let (a, b) = middlebury_pair("RubberWhale", None);
    for (name, p) in [("edge", TvL1Params::edge()), ("accurate", TvL1Params::accurate())] {
        let mut e = TvL1Gpu::new(ctx.clone(), p.clone()).unwrap();
        let ms = median_ms(&mut e, &a128, &b128, 11);
        eprintln!("128x128 {name}: {ms:.1} ms/pair ({} dispatches, 1 submission)", e.dispatches_per_submission());
        if std::env::var_os("MOTUS_GPU_TIMING_QUICK").is_some() {
            return;
        }
        for batch in [4usize, 16] {
            let pairs: Vec<(&Frame, &Frame)> = (0..batch).map(|_| (&a128, &b128)).collect();
            let mut outs = vec![FlowField::zeros(0, 0); batch];
            e.compute_batch(&pairs, &mut outs).unwrap();
            let t0 = Instant::now();
            let reps = 3;
            for _ in 0..reps {
                e.compute_batch(&pairs, &mut outs).unwrap();
            }
            let s = t0.elapsed().as_secs_f64();
            eprintln!("128x128 {name}: batch {batch}: {:.1} pairs/s", (reps * batch) as f64 / s);
        }
        let ms = median_ms(&mut e, &a, &b, 3);
        eprintln!("{}x{} {name}: {ms:.0} ms/pair ({} dispatches)", a.width, a.height, e.dispatches_per_submission());
        let mut cpu = TvL1Cpu::new(p, 1).unwrap();
        let t0 = Instant::now();
        cpu.compute(&a, &b).unwrap();
        eprintln!("{}x{} {name}: cpu 1 thread {:.0} ms/pair", a.width, a.height, t0.elapsed().as_secs_f64() * 1e3);
    }
}

#[test]
fn device_errors_become_flow_errors() {
    let Some(ctx) = gpu() else { return };
    // A buffer over the device's limit is a wgpu validation error: it must come back as a
    // FlowError naming the step and the adapter, not as wgpu's default panic.
    let too_big = ctx.device.limits().max_buffer_size.saturating_add(4);
    let r = scoped(&ctx, "allocating a test buffer", || {
        ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("too big"),
            size: too_big,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        })
    });
    let err = r.unwrap_err();
    assert!(matches!(err, FlowError::GpuSetup(_)), "{err}");
    let s = err.to_string();
    assert!(s.contains("allocating a test buffer") && s.contains(ctx.adapter_name()), "{s}");
}
