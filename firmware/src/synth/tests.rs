//! Tests of the synthetic benchmark as a whole: determinism, config errors, dataset layout,
//! long-video ground truth, the pair property and a render-time measurement.

use super::classes::*;
use super::*;
use crate::dataset::GroundTruth;
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
fn dataset_is_deterministic() {
    let cfg = SynthConfig { width: 32, height: 32, frames: 16, videos_per_class: 1, ..SynthConfig::default() };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_dataset(&cfg, a.path(), &mut |_, _| {}).unwrap();
    write_dataset(&cfg, b.path(), &mut |_, _| {}).unwrap();
    for name in CLASS_NAMES {
        let rel = format!("videos/{name}/{name}_0000.y4m");
        assert_eq!(std::fs::read(a.path().join(&rel)).unwrap(), std::fs::read(b.path().join(&rel)).unwrap(), "{rel}");
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
    let dir = tempfile::tempdir().unwrap();
    assert!(contact_sheet(&ok, 0, &dir.path().join("s.png")).is_err());
    assert!(contact_sheet(&ok, 49, &dir.path().join("s.png")).is_err());
    // Extreme but valid splits never panic.
    let cfg = SynthConfig { splits: [u32::MAX, u32::MAX, u32::MAX], ..ok };
    assert!(cfg.validate().is_ok());
}

fn read_list(dir: &std::path::Path, name: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(dir.join(name)).unwrap().lines().map(|l| l.split(' ').map(String::from).collect()).collect()
}

#[test]
fn writes_y4m_dataset_with_lists() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        width: 32,
        height: 32,
        frames: 16,
        videos_per_class: 2,
        splits: [50, 0, 50],
        ..SynthConfig::default()
    };
    let mut calls = 0;
    let summary = write_dataset(&cfg, dir.path(), &mut |done, total| {
        calls += 1;
        assert_eq!(total, 24);
        assert_eq!(done, calls);
    })
    .unwrap();
    assert_eq!(
        summary,
        SynthSummary { videos: 24, scene_windows: 0, frames: 24 * 16, per_split: [12, 0, 12], classes: 12 }
    );
    let ind = std::fs::read_to_string(dir.path().join("classInd.txt")).unwrap();
    assert_eq!(ind.lines().count(), 12);
    assert!(ind.starts_with("1 idle\n2 walk_left\n"));
    assert!(ind.ends_with("12 fall_down\n"));
    let train = read_list(dir.path(), "train.txt");
    let test = read_list(dir.path(), "test.txt");
    assert_eq!((train.len(), test.len()), (12, 12));
    assert!(read_list(dir.path(), "val.txt").is_empty());
    for line in train.iter().chain(test.iter()) {
        assert_eq!(line.len(), 2);
        let label: usize = line[1].parse().unwrap();
        let class_dir = line[0].split('/').nth(1).unwrap();
        assert_eq!(class_dir, CLASS_NAMES[label]);
        let mut r = crate::media::open_video(&dir.path().join(&line[0])).unwrap();
        assert_eq!(r.info().frame_count, Some(16));
        assert_eq!(r.read_all().unwrap().len(), 16);
    }
    // Each clip's action frames, as its ground truth has them; idle is action all through.
    let spans = crate::dataset::ActionSpans::find(dir.path()).unwrap().expect("actions.txt");
    assert_eq!(spans.len(), 24);
    for line in train.iter().chain(test.iter()) {
        let label: usize = line[1].parse().unwrap();
        let index: u64 = line[0].rsplit('_').next().unwrap().trim_end_matches(".y4m").parse().unwrap();
        let video = SynthVideo::new(&cfg, label, index).unwrap();
        let seg = &video.ground_truth().segments[0];
        let span = spans.get(&dir.path().join(&line[0])).unwrap();
        assert_eq!(span, (seg.start_frame, seg.end_frame), "{line:?}");
        assert!(span.0 < span.1 && span.1 <= 16, "{line:?}");
    }
    // No temporary files left behind.
    let leftovers = std::fs::read_dir(dir.path().join("videos/idle"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn writes_rawframes_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        width: 32,
        height: 32,
        frames: 16,
        videos_per_class: 1,
        splits: [0, 0, 100],
        format: StorageFormat::Frames,
        ..SynthConfig::default()
    };
    let summary = write_dataset(&cfg, dir.path(), &mut |_, _| {}).unwrap();
    assert_eq!(summary.per_split, [0, 0, 12]);
    assert!(read_list(dir.path(), "train.txt").is_empty());
    let test = read_list(dir.path(), "test.txt");
    assert_eq!(test.len(), 12);
    for (c, line) in test.iter().enumerate() {
        assert_eq!(line, &vec![format!("rawframes/{0}/{0}_0000", CLASS_NAMES[c]), "16".to_string(), c.to_string()]);
        let folder = dir.path().join(&line[0]);
        assert!(folder.join("img_00001.jpg").is_file() && folder.join("img_00016.jpg").is_file());
        assert!(!folder.join("img_00017.jpg").exists());
    }
}

#[test]
fn long_mode_ground_truth_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        width: 32,
        height: 32,
        frames: 220,
        videos_per_class: 2,
        splits: [1, 0, 1],
        long: true,
        ..SynthConfig::default()
    };
    let summary = write_dataset(&cfg, dir.path(), &mut |_, _| {}).unwrap();
    assert_eq!(summary.videos, 2);
    assert_eq!(read_list(dir.path(), "train.txt"), vec![vec!["long/long_0000.y4m".to_string()]]);
    assert_eq!(read_list(dir.path(), "test.txt"), vec![vec!["long/long_0001.y4m".to_string()]]);
    for i in 0..2 {
        let gt = GroundTruth::load(&dir.path().join(format!("long/long_{i:04}.json"))).unwrap();
        assert_eq!(gt.frames, 220);
        assert!(gt.segments.len() > 1, "{gt:?}");
        assert!(gt.segments.iter().all(|s| s.class_index != BACKGROUND && CLASS_NAMES[s.class_index] == s.class_name));
    }
    // Many long videos: valid, more than one action, state rules respected.
    for i in 0..30 {
        let v = SynthVideo::long(&SynthConfig { width: 64, height: 48, frames: 300, ..cfg.clone() }, i).unwrap();
        let gt = v.ground_truth();
        assert!(gt.segments.len() > 1, "video {i}: {gt:?}");
        let mut prev_end = 0;
        for (k, s) in gt.segments.iter().enumerate() {
            assert!(s.start_frame >= prev_end && s.end_frame > s.start_frame && s.end_frame <= 300);
            prev_end = s.end_frame;
            if s.class_index == FALL_DOWN {
                assert_eq!(k, gt.segments.len() - 1, "fall must be last");
            }
            if s.class_index == SIT_DOWN && k + 1 < gt.segments.len() {
                assert_eq!(gt.segments[k + 1].class_index, STAND_UP);
            }
        }
    }
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

/// `background_videos` gives the background class its own count; the other classes keep
/// `videos_per_class`.
#[test]
fn background_class_gets_its_own_clip_count() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        width: 32,
        height: 32,
        frames: 16,
        videos_per_class: 1,
        background_videos: Some(3),
        splits: [0, 0, 100],
        ..SynthConfig::default()
    };
    let summary = write_dataset(&cfg, dir.path(), &mut |_, _| {}).unwrap();
    assert_eq!(summary.videos, 11 + 3);
    let test = read_list(dir.path(), "test.txt");
    assert_eq!(test.iter().filter(|l| l[1] == "0").count(), 3);
    let bad = SynthConfig { background_videos: Some(0), ..cfg };
    assert!(bad.validate().unwrap_err().to_string().contains("background_videos"));
}

#[test]
fn contact_sheet_has_a_row_per_class() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sheet.png");
    let cfg = SynthConfig { width: 32, height: 32, frames: 16, ..SynthConfig::default() };
    contact_sheet(&cfg, 4, &path).unwrap();
    let img = image::open(&path).unwrap();
    assert_eq!((img.width(), img.height()), (4 * 34 + 2, 12 * 34 + 2));
}

/// Render speed (run in release: `cargo test --release -p motus --lib synth -- --ignored --nocapture`).
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

/// Writes a contact sheet to the temp dir for a look by eye (`--ignored --nocapture`).
#[test]
#[ignore]
fn contact_sheet_for_review() {
    let path = std::env::temp_dir().join("motus_synth_sheet.png");
    let cfg = SynthConfig { width: 96, height: 96, frames: 48, ..SynthConfig::default() };
    contact_sheet(&cfg, 8, &path).unwrap();
    println!("contact sheet: {}", path.display());
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

#[test]
fn scene_windows_are_cut_labelled_listed_and_split_by_scene() {
    use super::scene_windows::{label_windows, TAG_SCENES};
    let cfg = SynthConfig {
        width: 40,
        height: 32,
        frames: 16,
        fps: 5.0,
        videos_per_class: 1,
        scenes: 2,
        scene_window: 6,
        splits: [50, 50, 0],
        seed: 5,
        ..SynthConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let summary = write_dataset(&cfg, dir.path(), &mut |_, _| {}).unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let (train, val, actions) = (read("train.txt"), read("val.txt"), read(crate::dataset::ACTIONS_FILE));
    // What each scene's windows must be, from the scene rendered again and its ground truth.
    for (scene, list) in [(0u64, &train), (1, &val)] {
        let mut video = SynthVideo::endless(40, 32, 5.0, mix_seed(&[5, TAG_SCENES, scene]));
        let n = cfg.scene_frames();
        let frames: Vec<Frame> = (0..n)
            .map(|_| {
                let mut f = Frame::new(1, 1);
                assert!(video.read_into(&mut f).unwrap());
                f
            })
            .collect();
        let expected = label_windows(&video.ground_truth().segments, n, 6, 3);
        assert!(expected.iter().any(|w| w.label == 0) && expected.iter().any(|w| w.label != 0), "{expected:?}");
        let listed: Vec<&str> = list.lines().filter(|l| l.contains(&format!("scene{scene:04}_"))).collect();
        assert_eq!(listed.len(), expected.len(), "every window of scene {scene} is in its one split");
        for (line, w) in listed.iter().zip(&expected) {
            let name = CLASS_NAMES[w.label];
            let rel = format!("videos/{name}/scene{scene:04}_{:06}.y4m", w.start);
            assert_eq!(*line, format!("{rel} {}", w.label));
            assert!(actions.lines().any(|l| l == format!("{rel} {} {}", w.span.0, w.span.1)), "{rel} in actions.txt");
            // The file holds exactly the scene's frames of the window.
            let got = crate::media::open_video(&dir.path().join(&rel)).unwrap().read_all().unwrap();
            assert_eq!(got.len(), 6);
            // Y4M keeps luma whole (chroma is subsampled), so compare luma: each frame of the
            // file is closest to the scene's frame at its place (every frame has its own noise).
            let luma = |f: &Frame| -> Vec<f64> {
                f.data.chunks(3).map(|p| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64).collect()
            };
            let diff = |a: &Frame, b: &Frame| luma(a).iter().zip(luma(b)).map(|(x, y)| (x - y).abs()).sum::<f64>();
            for (k, g) in got.iter().enumerate() {
                let nearest =
                    (0..n as usize).min_by(|&i, &j| diff(g, &frames[i]).total_cmp(&diff(g, &frames[j]))).unwrap();
                assert_eq!(nearest, w.start as usize + k, "{rel}: frame {k}");
            }
        }
    }
    let scene_lines = |t: &str| t.lines().filter(|l| l.contains("/scene")).count();
    assert_eq!(summary.scene_windows, scene_lines(&train) + scene_lines(&val));
    assert_eq!(summary.videos, CLASS_NAMES.len(), "clips are counted apart from scene windows");
    assert_eq!(summary.per_split.iter().sum::<usize>(), summary.videos + summary.scene_windows);
}
