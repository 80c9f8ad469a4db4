//! Tests of the synthetic scenes: determinism, config errors, the endless camera, the pair
//! property and a render-time measurement (the files written from them: `motus_lab::benchmark`).

use super::classes::*;
use super::*;
use crate::frame::Frame;
use crate::media::VideoReader;

fn small() -> SynthConfig {
    SynthConfig { width: 64, height: 64, frames: 24, ..SynthConfig::default() }
}

fn all_bytes(v: &mut SynthVideo) -> Vec<u8> {
    v.read_all().unwrap().into_iter().flat_map(|f| f.data).collect()
}

#[test]
fn same_seed_same_bytes_different_seed_different() {
    let cfg = small();
    for class in [WALK_LEFT, SPIN_CW, FALL_DOWN] {
        let a = all_bytes(&mut SynthVideo::new(&cfg, class, 3).unwrap());
        let b = all_bytes(&mut SynthVideo::new(&cfg, class, 3).unwrap());
        assert_eq!(a, b);
        let c = all_bytes(&mut SynthVideo::new(&SynthConfig { seed: 1, ..cfg.clone() }, class, 3).unwrap());
        assert_ne!(a, c);
        let d = all_bytes(&mut SynthVideo::new(&cfg, class, 4).unwrap());
        assert_ne!(a, d);
    }
    let mut e1 = SynthVideo::endless(64, 48, 30.0, 9);
    let mut e2 = SynthVideo::endless(64, 48, 30.0, 9);
    let mut f1 = Frame::new(1, 1);
    let mut f2 = Frame::new(1, 1);
    for _ in 0..60 {
        assert!(e1.read_into(&mut f1).unwrap() && e2.read_into(&mut f2).unwrap());
        assert_eq!(f1, f2);
    }
}

#[test]
fn config_errors_are_clear() {
    let ok = SynthConfig::default();
    assert!(ok.validate().is_ok());
    let cases: Vec<(SynthConfig, &str)> = vec![
        (SynthConfig { width: 16, ..ok.clone() }, "width"),
        (SynthConfig { height: 5000, ..ok.clone() }, "height"),
        (SynthConfig { frames: 8, ..ok.clone() }, "at least 16 frames"),
        (SynthConfig { long: true, ..ok.clone() }, "at least 200 frames"),
        (SynthConfig { fps: f64::NAN, ..ok.clone() }, "fps"),
        (SynthConfig { fps: 0.0, ..ok.clone() }, "fps"),
        (SynthConfig { splits: [0, 0, 0], ..ok.clone() }, "splits"),
        (SynthConfig { videos_per_class: 0, ..ok.clone() }, "videos_per_class"),
        (SynthConfig { videos_per_class: usize::MAX, ..ok.clone() }, "videos_per_class"),
        (SynthConfig { frames: u32::MAX, ..ok.clone() }, "at most"),
        (SynthConfig { width: 0, ..ok.clone() }, "width"),
        (SynthConfig { scenes: 1, long: true, frames: 300, ..ok.clone() }, "not long videos"),
        (SynthConfig { scenes: MAX_SCENES + 1, ..ok.clone() }, "at most"),
        (SynthConfig { scenes: 1, scene_window: 1, ..ok.clone() }, "scene_window"),
        (SynthConfig { scenes: 1, scene_window: 2000, ..ok.clone() }, "1500 frames of a scene"),
    ];
    for (cfg, needle) in cases {
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains(needle), "{err} should mention {needle}");
    }
    assert!(matches!(SynthVideo::new(&ok, 12, 0), Err(SynthError::BadClass(12))));
    assert!(SynthVideo::long(&ok, 0).is_err(), "48 frames is too short for a long video");
    // Extreme but valid splits never panic.
    let cfg = SynthConfig { splits: [u32::MAX, u32::MAX, u32::MAX], ..ok };
    assert!(cfg.validate().is_ok());
}

#[test]
fn endless_camera_keeps_going() {
    let mut v = SynthVideo::endless(48, 32, 25.0, 1);
    assert_eq!(v.info().frame_count, None);
    let mut f = Frame::new(1, 1);
    for _ in 0..1500 {
        assert!(v.read_into(&mut f).unwrap());
    }
    let gt = v.ground_truth();
    assert!(gt.segments.len() >= 5, "{}", gt.segments.len());
    assert!(gt.segments.windows(2).all(|w| w[0].end_frame <= w[1].start_frame));
    assert!(gt.segments.iter().all(|s| s.start_frame < 1500));
    // Out-of-range arguments are clamped, never a panic.
    let mut bad = SynthVideo::endless(0, 100_000, f64::NAN, 0);
    assert!(bad.read_into(&mut f).unwrap());
    assert_eq!((f.width, f.height), (32, 4096));
}

/// Normalised histogram of `values` in `bins` bins over `[lo, hi]`.
fn histogram(values: &[f32], lo: f32, hi: f32, bins: usize) -> Vec<f32> {
    let mut h = vec![0f32; bins];
    for &v in values {
        let b = (((v - lo) / (hi - lo)) * bins as f32).floor().clamp(0.0, bins as f32 - 1.0) as usize;
        h[b] += 1.0;
    }
    h.iter().map(|c| c / values.len() as f32).collect()
}

fn l1(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

/// Per-frame pose samples of `videos` clips of `class`.
fn pose_samples(cfg: &SynthConfig, class: usize, videos: u64, f: impl Fn(&actor::Pose) -> f32) -> Vec<f32> {
    let mut out = Vec::new();
    for i in 0..videos {
        let mut v = SynthVideo::new(cfg, class, i).unwrap();
        for fr in 0..cfg.frames as u64 {
            out.push(f(&v.pose_at(fr)));
        }
    }
    out
}

#[test]
fn twin_classes_match_frame_by_frame_in_distribution() {
    let cfg = SynthConfig { width: 32, height: 32, frames: 40, ..SynthConfig::default() };
    let n = 300;
    let w = cfg.width as f32;
    let base = 32.0;
    let tol = 0.12;
    // Time-reversed pairs: same histograms of the varying pose parameter.
    let a = histogram(&pose_samples(&cfg, SIT_DOWN, n, |p| p.sit), 0.0, 1.0, 8);
    let b = histogram(&pose_samples(&cfg, STAND_UP, n, |p| p.sit), 0.0, 1.0, 8);
    assert!(l1(&a, &b) < tol, "sit {a:?} vs {b:?}");
    let a = histogram(&pose_samples(&cfg, APPROACH, n, |p| p.scale / base), 0.25, 0.75, 8);
    let b = histogram(&pose_samples(&cfg, RECEDE, n, |p| p.scale / base), 0.25, 0.75, 8);
    assert!(l1(&a, &b) < tol, "scale {a:?} vs {b:?}");
    // Mirrored pairs: same histograms of position and of rotation angle.
    let a = histogram(&pose_samples(&cfg, WALK_LEFT, n, |p| p.x / w), 0.0, 1.0, 8);
    let b = histogram(&pose_samples(&cfg, WALK_RIGHT, n, |p| p.x / w), 0.0, 1.0, 8);
    assert!(l1(&a, &b) < tol, "walk x {a:?} vs {b:?}");
    let a = histogram(&pose_samples(&cfg, WALK_LEFT, n, |p| p.swing.abs()), 0.0, 0.5, 5);
    let b = histogram(&pose_samples(&cfg, WALK_RIGHT, n, |p| p.swing.abs()), 0.0, 0.5, 5);
    assert!(l1(&a, &b) < tol, "walk swing {a:?} vs {b:?}");
    let tau = std::f32::consts::TAU;
    let a = histogram(
        &pose_samples(&cfg, SPIN_CW, n, |p| p.spin.rem_euclid(tau).min(tau - p.spin.rem_euclid(tau))),
        0.0,
        3.2,
        8,
    );
    let b = histogram(
        &pose_samples(&cfg, SPIN_CCW, n, |p| p.spin.rem_euclid(tau).min(tau - p.spin.rem_euclid(tau))),
        0.0,
        3.2,
        8,
    );
    assert!(l1(&a, &b) < tol, "spin {a:?} vs {b:?}");
}

#[test]
fn actions_move_the_way_their_names_say() {
    let cfg = SynthConfig { width: 128, height: 96, frames: 48, ..SynthConfig::default() };
    let last = cfg.frames as u64 - 1;
    for i in 0..5 {
        let mut v = SynthVideo::new(&cfg, WALK_RIGHT, i).unwrap();
        let (x0, x1) = (v.actor_centre(0).0, v.actor_centre(last).0);
        assert!(x1 > x0 + 10.0, "walk_right {x0} -> {x1}");
        let mut v = SynthVideo::new(&cfg, WALK_LEFT, i).unwrap();
        assert!(v.actor_centre(last).0 < v.actor_centre(0).0 - 10.0);
        let mut v = SynthVideo::new(&cfg, APPROACH, i).unwrap();
        assert!(v.pose_at(last).scale > v.pose_at(0).scale * 1.3);
        let mut v = SynthVideo::new(&cfg, SPIN_CW, i).unwrap();
        let seg = v.ground_truth().segments[0].clone();
        let spins: Vec<f32> = (seg.start_frame..seg.end_frame).map(|f| v.pose_at(f).spin).collect();
        assert!(spins.windows(2).all(|w| w[1] >= w[0]) && *spins.last().unwrap() > 6.0, "{spins:?}");
        let mut v = SynthVideo::new(&cfg, FALL_DOWN, i).unwrap();
        assert!((v.pose_at(last).fall.abs() - std::f32::consts::FRAC_PI_2).abs() < 1e-3, "ends lying");
        let mut v = SynthVideo::new(&cfg, JUMP, i).unwrap();
        assert!((0..=last).any(|f| v.pose_at(f).lift > 0.15));
    }
    // The rendered actor is really there and moves: pixels around its centre change.
    let mut v = SynthVideo::new(&cfg, WALK_RIGHT, 0).unwrap();
    let frames = v.read_all().unwrap();
    assert_eq!(frames.len(), 48);
    let diff: u64 =
        frames[0].data.iter().zip(&frames[47].data).map(|(a, b)| (*a as i32 - *b as i32).unsigned_abs() as u64).sum();
    assert!(diff > 48 * 96 * 3 * 10, "frames barely differ: {diff}");
    let gt = v.ground_truth();
    assert_eq!(gt.segments.len(), 1);
    assert_eq!(gt.segments[0].class_index, WALK_RIGHT);
    assert_eq!(v.label(), Some(WALK_RIGHT));
    let idle = SynthVideo::new(&cfg, BACKGROUND, 0).unwrap().ground_truth();
    assert_eq!((idle.segments[0].start_frame, idle.segments[0].end_frame), (0, 48));
}

#[test]
fn still_background_holds_every_still_posture_without_moving() {
    use rand::SeedableRng;
    let stage = Stage::new(96, 96, 25.0);
    let (mut standing, mut sitting, mut lying) = (0, 0, 0);
    for i in 0..60 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(i);
        let app = super::actor::Appearance::random(&mut rng, false);
        let acts = short_clip(BACKGROUND, &mut rng, &stage, 48);
        assert_eq!(acts.len(), 1, "one still act over the whole clip");
        let (first, last) = (acts[0].pose(0, &stage, &app), acts[0].pose(47, &stage, &app));
        // Still: the posture is the same at both ends of the clip.
        assert_eq!((first.sit, first.fall), (last.sit, last.fall), "video {i}");
        match (first.sit > 0.5, first.fall.abs() > 1.0) {
            (false, false) => standing += 1,
            (true, false) => sitting += 1,
            (false, true) => lying += 1,
            _ => panic!("video {i}: sitting and lying at once"),
        }
    }
    assert!(standing >= 20 && sitting >= 8 && lying >= 4, "standing {standing}, sitting {sitting}, lying {lying}");
}

/// `negatives` changes class 0's clips only: every action class renders byte for byte as
/// without it.
#[test]
fn negatives_change_only_the_background_clips() {
    let plain = SynthConfig { width: 48, height: 48, frames: 16, ..SynthConfig::default() };
    let neg = SynthConfig { negatives: true, ..plain.clone() };
    let differ = (0..4)
        .filter(|&i| {
            all_bytes(&mut SynthVideo::new(&plain, BACKGROUND, i).unwrap())
                != all_bytes(&mut SynthVideo::new(&neg, BACKGROUND, i).unwrap())
        })
        .count();
    assert_eq!(differ, 4, "background clips come from the negative scenes");
    for class in [WALK_LEFT, WAVE, FALL_DOWN] {
        assert_eq!(
            all_bytes(&mut SynthVideo::new(&plain, class, 1).unwrap()),
            all_bytes(&mut SynthVideo::new(&neg, class, 1).unwrap())
        );
    }
}

/// Render speed (run in release: `cargo test --release -p motus-core --lib synth -- --ignored --nocapture`).
#[test]
#[ignore]
fn render_speed() {
    for (w, h, n) in [(128u32, 128u32, 400u64), (640, 480, 200)] {
        let cfg = SynthConfig { width: w, height: h, frames: n as u32, ..SynthConfig::default() };
        let mut frame = Frame::new(w, h);
        let mut total = std::time::Duration::ZERO;
        let mut worst = std::time::Duration::ZERO;
        for class in 0..CLASS_NAMES.len() {
            let mut v = SynthVideo::new(&cfg, class, 0).unwrap();
            for f in 0..n / 12 {
                let t = std::time::Instant::now();
                v.render(f * 12 % n, &mut frame);
                let d = t.elapsed();
                total += d;
                worst = worst.max(d);
            }
        }
        let count = (n / 12) * 12;
        let t = std::time::Instant::now();
        let _ = SynthVideo::new(&cfg, 0, 1).unwrap();
        let setup = t.elapsed();
        let mut live = SynthVideo::endless(w, h, 30.0, 0);
        let t = std::time::Instant::now();
        for _ in 0..300 {
            live.read_into(&mut frame).unwrap();
        }
        let live_ms = t.elapsed().as_secs_f64() * 1000.0 / 300.0;
        println!(
            "{w}x{h}: {:.3} ms/frame mean, {:.3} ms worst, {:.2} ms per-video setup, endless {:.3} ms/frame",
            total.as_secs_f64() * 1000.0 / count as f64,
            worst.as_secs_f64() * 1000.0,
            setup.as_secs_f64() * 1000.0,
            live_ms
        );
    }
}

#[test]
fn odd_and_extreme_sizes_render() {
    for (w, h) in [(33, 47), (4096, 32), (32, 4096), (32, 32)] {
        let cfg = SynthConfig { width: w, height: h, frames: 16, fps: 7.5, ..SynthConfig::default() };
        let mut frame = Frame::new(1, 1);
        for class in 0..CLASS_NAMES.len() {
            let mut v = SynthVideo::new(&cfg, class, 0).unwrap();
            for f in [0, 8, 15] {
                v.render(f, &mut frame);
                assert_eq!((frame.width, frame.height, frame.data.len()), (w, h, (w * h * 3) as usize));
            }
        }
        let long = SynthVideo::long(&SynthConfig { frames: 200, ..cfg }, 0).unwrap();
        assert!(!long.ground_truth().segments.is_empty());
    }
}
