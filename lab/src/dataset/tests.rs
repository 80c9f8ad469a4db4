//! Tests of [`Dataset`] loading, checking and decoding across the supported layouts.

use std::path::{Path, PathBuf};

use super::*;
use motus_core::media::create_video;

fn write(path: &Path, text: &str) -> PathBuf {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// A tiny Y4M video of `frames` frames, decodable without ffmpeg.
fn y4m(path: &Path, frames: usize) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = create_video(path, 8, 6, 25.0).unwrap();
    for _ in 0..frames {
        w.write_frame(&Frame::new(8, 6)).unwrap();
    }
    w.finish().unwrap();
}

/// The layout `motus synth` writes, with two classes.
fn synth_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("classInd.txt"), "1 wave\n2 walk_left\n");
    write(&dir.path().join("train.txt"), "videos/a.y4m 0\r\nvideos/b.y4m 1\r\nvideos/c.y4m 1\r\n");
    y4m(&dir.path().join("videos/a.y4m"), 3);
    y4m(&dir.path().join("videos/b.y4m"), 2);
    y4m(&dir.path().join("videos/c.y4m"), 1);
    dir
}

#[test]
fn opens_a_synth_split_counts_and_decodes() {
    let dir = synth_dir();
    let ds = Dataset::open_split(dir.path(), "train").unwrap().verified().unwrap();
    assert_eq!(ds.classes.names(), ["wave", "walk_left"]);
    assert_eq!(ds.entries.len(), 3);
    assert_eq!(ds.entries[1].path, dir.path().join("videos/b.y4m"));
    assert_eq!(ds.class_counts(), vec![1, 2]);
    let frames = ds.load_frames(&ds.entries[0]).unwrap();
    assert_eq!((frames.len(), frames[0].width, frames[0].height), (3, 8, 6));
    assert_eq!(ds.open_entry(&ds.entries[1]).unwrap().info().width, 8);
}

#[test]
fn open_split_errors() {
    let dir = synth_dir();
    let err = Dataset::open_split(dir.path(), "dev").unwrap_err();
    assert!(
        matches!(err, DatasetError::UnknownSplit { .. })
            && err.to_string().contains("\"dev\"")
            && err.to_string().contains("train, val, test"),
        "{err}"
    );
    write(&dir.path().join("val.txt"), "\n\n");
    let err = Dataset::open_split(dir.path(), "val").unwrap_err();
    assert!(matches!(err, DatasetError::Empty { .. }) && err.to_string().contains("val.txt"), "{err}");
    write(&dir.path().join("test.txt"), "videos/a.y4m 0\nvideos/b.y4m 2\n");
    let err = Dataset::open_split(dir.path(), "test").unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, DatasetError::LabelOutOfRange { line: 2, label: 2, classes: 2, .. })
            && msg.contains("test.txt:2:")
            && msg.contains("0..2"),
        "{msg}"
    );
    std::fs::remove_file(dir.path().join("classInd.txt")).unwrap();
    let err = Dataset::open_split(dir.path(), "train").unwrap_err();
    assert!(matches!(err, DatasetError::Io { .. }) && err.to_string().contains("classInd.txt"), "{err}");
}

#[test]
fn check_files_names_the_first_missing_video_and_its_line() {
    let dir = synth_dir();
    write(&dir.path().join("train.txt"), "videos/a.y4m 0\n\nvideos/gone.y4m 1\nvideos/also_gone.y4m 1\n");
    let ds = Dataset::open_split(dir.path(), "train").unwrap();
    let err = ds.check_files().unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, DatasetError::MissingVideo { line: 3, .. })
            && msg.contains("train.txt:3:")
            && msg.contains("gone.y4m"),
        "{msg}"
    );
    assert!(matches!(ds.verified(), Err(DatasetError::MissingVideo { .. })));
}

#[test]
fn from_list_infers_classes_or_checks_given_ones() {
    let dir = tempfile::tempdir().unwrap();
    let list = write(&dir.path().join("list.txt"), "f/a 10 0\nf/b 20 3\n");
    let ds = Dataset::from_list(&list, Path::new("/frames"), None).unwrap();
    assert_eq!(ds.classes.names(), ["class_0", "class_1", "class_2", "class_3"]);
    assert_eq!(ds.class_counts(), vec![1, 0, 0, 1]);
    assert_eq!((ds.entries[1].path.clone(), ds.entries[1].total_frames), (PathBuf::from("/frames/f/b"), Some(20)));
    let two = ClassIndex::from_names(["x", "y"]).unwrap();
    let err = Dataset::from_list(&list, dir.path(), Some(two)).unwrap_err();
    assert!(matches!(err, DatasetError::LabelOutOfRange { line: 2, label: 3, .. }), "{err}");
}

#[test]
fn opens_ucf101_splits() {
    let dir = tempfile::tempdir().unwrap();
    let splits = dir.path().join("ucfTrainTestlist");
    write(&splits.join("classInd.txt"), "1 ApplyEyeMakeup\r\n2 Archery\r\n");
    write(
        &splits.join("trainlist01.txt"),
        "Archery/v_Archery_g08_c01.avi 2\r\nApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\n",
    );
    write(&splits.join("testlist01.txt"), "Archery/v_Archery_g01_c01.avi\r\n");
    let videos = dir.path().join("UCF-101");
    let train = Dataset::ucf101(&splits, &videos, 1, true).unwrap();
    assert_eq!(train.class_counts(), vec![1, 1]);
    assert_eq!(train.entries[0].path, videos.join("Archery/v_Archery_g08_c01.avi"));
    let test = Dataset::ucf101(&splits, &videos, 1, false).unwrap();
    assert_eq!(test.entries[0].label, 1);
    let err = test.check_files().unwrap_err();
    assert!(err.to_string().contains("testlist01.txt:1:"), "{err}");
    for bad in [0, 4] {
        let err = Dataset::ucf101(&splits, &videos, bad, true).unwrap_err();
        assert!(matches!(err, DatasetError::UnknownSplit { .. }) && err.to_string().contains("1, 2 or 3"), "{err}");
    }
    let err = Dataset::ucf101(&splits, &videos, 2, true).unwrap_err();
    assert!(matches!(err, DatasetError::Io { .. }) && err.to_string().contains("trainlist02.txt"), "{err}");
}

#[test]
fn opens_kinetics_csvs_and_trims_untrimmed_videos() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        &dir.path().join("train.csv"),
        "label,youtube_id,time_start,time_end,split\nwave,abc,0,1,train\nclap,def,2,3,train\n",
    );
    write(&dir.path().join("train/wave/abc_000000_000001.mp4"), "");
    let ds = Dataset::kinetics_csv(&csv, dir.path(), "train").unwrap();
    assert_eq!(ds.classes.names(), ["clap", "wave"]);
    assert_eq!(ds.entries[0].time_range, None);
    assert_eq!(ds.entries[1].time_range, Some((2.0, 3.0)));
    assert_eq!(ds.entries[1].path, dir.path().join("train/clap/def.mp4"));
    let err = ds.check_files().unwrap_err();
    assert!(
        matches!(err, DatasetError::MissingVideo { line: 3, .. }) && err.to_string().contains("train.csv:3:"),
        "{err}"
    );
    // A time range goes through ffmpeg; a missing file (or missing ffmpeg) is an error, never a panic.
    assert!(ds.open_entry(&ds.entries[1]).is_err());
    let err = Dataset::kinetics_csv(&csv, dir.path(), "val").unwrap_err();
    assert!(matches!(err, DatasetError::UnknownSplit { .. }), "{err}");
}

#[test]
fn time_ranges_are_trimmed_at_decode() {
    // ffmpeg is part of the set-up (scripts/setup.sh): its absence fails the test.
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("train/wave/abc.mp4");
    std::fs::create_dir_all(video.parent().unwrap()).unwrap();
    let mut w = create_video(&video, 16, 16, 25.0).expect("ffmpeg writes an mp4");
    for _ in 0..50 {
        w.write_frame(&Frame::new(16, 16)).expect("ffmpeg takes a frame");
    }
    w.finish().expect("ffmpeg finishes the mp4");
    let csv = write(&dir.path().join("k.csv"), "label,youtube_id,time_start,time_end,split\nwave,abc,1,1.4,train\n");
    let ds = Dataset::kinetics_csv(&csv, dir.path(), "train").unwrap().verified().unwrap();
    let frames = ds.load_frames(&ds.entries[0]).unwrap();
    assert!((9..=11).contains(&frames.len()), "0.4 s at 25 fps should be ~10 frames, got {}", frames.len());
}
