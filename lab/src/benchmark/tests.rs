//! Tests of the benchmark as files: determinism, the dataset layout and lists, long-video
//! ground truth, scene windows and the contact sheet.

use motus_core::frame::Frame;
use motus_core::media::VideoReader;
use motus_core::synth::classes::*;
use motus_core::synth::{mix_seed, StorageFormat, SynthConfig, SynthVideo};
use motus_core::truth::GroundTruth;

use super::*;

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
        let mut r = motus_core::media::open_video(&dir.path().join(&line[0])).unwrap();
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
    assert!(contact_sheet(&cfg, 0, &dir.path().join("s.png")).is_err());
    assert!(contact_sheet(&cfg, 49, &dir.path().join("s.png")).is_err());
    let img = image::open(&path).unwrap();
    assert_eq!((img.width(), img.height()), (4 * 34 + 2, 12 * 34 + 2));
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
fn scene_windows_are_cut_labelled_listed_and_split_by_scene() {
    use motus_core::synth::scene_windows::{label_windows, TAG_SCENES};
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
            let got = motus_core::media::open_video(&dir.path().join(&rel)).unwrap().read_all().unwrap();
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
