//! Containers through a real ffmpeg process: what users meet with mp4/mkv files. These tests
//! need ffmpeg on PATH (the README's test command installs it); they fail, not skip, without it.

use std::path::Path;

use motus_core::media::{self, ffmpeg::FfmpegReader, MediaError, VideoReader};
use motus_core::Frame;

/// A smooth moving pattern: compresses well, so lossy round trips stay close.
fn moving_pattern(n: usize, w: u32, h: u32) -> Vec<Frame> {
    (0..n)
        .map(|t| {
            let mut f = Frame::new(w, h);
            for y in 0..h {
                for x in 0..w {
                    let i = ((y * w + x) * 3) as usize;
                    f.data[i] = ((x + 2 * t as u32) * 3 % 256) as u8;
                    f.data[i + 1] = (y * 4 % 256) as u8;
                    f.data[i + 2] = 128;
                }
            }
            f
        })
        .collect()
}

fn write(path: &Path, frames: &[Frame], fps: f64) {
    let mut w = media::create_video(path, frames[0].width, frames[0].height, fps).unwrap();
    for f in frames {
        w.write_frame(f).unwrap();
    }
    w.finish().unwrap();
}

fn mean_abs_diff(a: &Frame, b: &Frame) -> f64 {
    a.data.iter().zip(&b.data).map(|(x, y)| (*x as f64 - *y as f64).abs()).sum::<f64>() / a.data.len() as f64
}

#[test]
fn mp4_round_trip_through_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    let frames = moving_pattern(20, 64, 48);
    write(&path, &frames, 25.0);
    let mut reader = media::open_video(&path).unwrap();
    let info = reader.info();
    assert_eq!((info.width, info.height), (64, 48));
    assert!((info.fps - 25.0).abs() < 1e-6, "fps {}", info.fps);
    let back = reader.read_all().unwrap();
    assert_eq!(back.len(), 20);
    for (a, b) in back.iter().zip(&frames) {
        let d = mean_abs_diff(a, b);
        assert!(d < 6.0, "mean abs error {d}");
    }
    assert!(back[10].timestamp > back[9].timestamp);
}

#[test]
fn time_range_decodes_only_that_part() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mkv");
    let frames = moving_pattern(50, 64, 48);
    write(&path, &frames, 25.0);
    // 0.4 s to 1.0 s at 25 fps: frames 10..25.
    let back = FfmpegReader::open_range(&path, Some((0.4, 0.6))).unwrap().read_all().unwrap();
    assert_eq!(back.len(), 15);
    let d_right = mean_abs_diff(&back[0], &frames[10]);
    let d_wrong = mean_abs_diff(&back[0], &frames[0]);
    assert!(d_right < d_wrong, "first decoded frame is frame 10 ({d_right} vs {d_wrong})");
}

#[test]
fn corrupt_and_missing_containers_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.mp4");
    std::fs::write(&bad, b"\x00\x00\x00\x18ftypmp42 this is not a video").unwrap();
    let err = media::open_video(&bad).err().expect("corrupt mp4 refused");
    assert!(matches!(err, MediaError::Ffmpeg { .. }), "{err}");
    assert!(err.to_string().contains("broken.mp4"), "{err}");

    let missing = dir.path().join("nowhere.mp4");
    let err = media::open_video(&missing).err().expect("missing file refused");
    assert!(err.to_string().contains("nowhere.mp4"), "{err}");
}

#[test]
fn truncated_mp4_fails_or_ends_early_but_never_returns_partial_frames() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.mkv");
    let frames = moving_pattern(40, 64, 48);
    write(&path, &frames, 25.0);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    // A cut Matroska file decodes up to the cut: whatever comes back is whole frames.
    match media::open_video(&path).and_then(|mut r| r.read_all()) {
        Ok(back) => {
            assert!(back.len() < 40, "half a file cannot hold every frame");
            assert!(back.iter().all(|f| f.data.len() == 64 * 48 * 3));
        }
        Err(e) => assert!(e.to_string().contains("cut.mkv"), "{e}"),
    }
}

#[test]
fn writer_refuses_odd_sizes_for_420_video() {
    let dir = tempfile::tempdir().unwrap();
    let err = media::create_video(&dir.path().join("odd.mp4"), 63, 48, 25.0).err().unwrap();
    assert!(err.to_string().contains("even sides"), "{err}");
}
