//! `motus synth`, `motus dataset check`, `motus bench media` and `motus bench zoo` as users run them.

use std::path::Path;
use std::process::{Command, Output};

fn motus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motus")).args(args).output().expect("motus runs")
}

fn json_of(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "motus failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn stderr_of(out: &Output) -> String {
    assert!(!out.status.success(), "expected failure, got success: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn synth_writes_a_dataset_that_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("synth");
    let out_s = out.to_str().unwrap();
    let report = json_of(&motus(&["synth", "--out", out_s, "--videos-per-class", "2", "--seed", "7", "--json"]));
    crate::golden::assert_fields("synth", &report);
    let classes = report["classes"].as_u64().unwrap();
    assert!(classes >= 10, "{report}");
    assert_eq!(report["videos"].as_u64().unwrap(), 2 * classes);
    let split_total: u64 = ["train", "val", "test"].iter().map(|s| report[*s].as_u64().unwrap()).sum();
    assert_eq!(split_total, 2 * classes);

    let class_ind = std::fs::read_to_string(out.join("classInd.txt")).unwrap();
    assert_eq!(class_ind.lines().count() as u64, classes);
    assert!(class_ind.starts_with("1 "), "UCF101 style is 1-based: {class_ind}");
    for split in ["train.txt", "val.txt", "test.txt"] {
        assert!(out.join(split).exists(), "{split} missing");
    }

    let check = json_of(&motus(&["dataset", "check", "--data", out_s, "--json"]));
    crate::golden::assert_fields("dataset-check", &check);
    assert_eq!(check["unreadable"], 0, "{check}");
    let listed: u64 = ["train", "val", "test"].iter().map(|s| check["splits"][*s]["videos"].as_u64().unwrap()).sum();
    assert_eq!(listed, 2 * classes);
    assert_eq!(check["classes"].as_array().unwrap().len() as u64, classes);
    assert_eq!(check["splits"]["train"]["sizes"], serde_json::json!(["128x128"]));
}

#[test]
fn synth_long_mode_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("long");
    let out_s = out.to_str().unwrap();
    let report = json_of(&motus(&[
        "synth",
        "--out",
        out_s,
        "--videos-per-class",
        "2",
        "--seed",
        "3",
        "--long",
        "--frames",
        "300",
        "--size",
        "64x64",
        "--splits",
        "0,0,100",
        "--json",
    ]));
    assert_eq!(report["videos"], 2);
    let check = json_of(&motus(&["dataset", "check", "--data", out_s, "--splits", "test", "--json"]));
    assert_eq!(check["splits"]["test"]["long_videos"], 2, "{check}");
    assert!(check["splits"]["test"]["segments"].as_u64().unwrap() >= 2, "{check}");
    assert_eq!(check["unreadable"], 0);
}

#[test]
fn contact_sheet_is_a_png() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = dir.path().join("sheet.png");
    let out = motus(&["synth", "--contact-sheet", sheet.to_str().unwrap(), "--size", "64x64"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let img = image::open(&sheet).unwrap();
    assert!(img.width() >= 64 * 4 && img.height() >= 64 * 10, "{}x{}", img.width(), img.height());
}

#[test]
fn bad_synth_arguments_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let out_s = out.to_str().unwrap();
    assert!(stderr_of(&motus(&["synth", "--out", out_s, "--size", "128"])).contains("WIDTHxHEIGHT"));
    assert!(stderr_of(&motus(&["synth", "--out", out_s, "--splits", "70,30"])).contains("three numbers"));
    assert!(stderr_of(&motus(&["synth", "--out", out_s, "--size", "8x8"])).contains("width must be between"));
    assert!(stderr_of(&motus(&["synth"])).contains("nothing to do"));
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn dataset_check_names_bad_lines_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let data_s = data.to_str().unwrap();
    write(&data.join("classInd.txt"), "1 idle\n2 wave\n");
    write(&data.join("train.txt"), "videos/a.y4m 0\nvideos/b.y4m 7\n");
    let err = stderr_of(&motus(&["dataset", "check", "--data", data_s, "--splits", "train"]));
    assert!(err.contains("train.txt") && err.contains('2'), "label out of range names file and line: {err}");

    write(&data.join("train.txt"), "videos/missing.y4m 1\n");
    let err = stderr_of(&motus(&["dataset", "check", "--data", data_s, "--splits", "train"]));
    assert!(err.contains("missing.y4m"), "{err}");

    // A present but corrupt video is listed as unreadable, and the check fails.
    write(&data.join("videos/bad.y4m"), "YUV4MPEG2 W8 H8 F25:1\nFRAME\nshort");
    write(&data.join("train.txt"), "videos/bad.y4m 1\n");
    let out = motus(&["dataset", "check", "--data", data_s, "--splits", "train", "--json"]);
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["unreadable"], 1);
    assert!(report["splits"]["train"]["unreadable"][0]["error"].as_str().unwrap().contains("truncated"), "{report}");

    let err = stderr_of(&motus(&["dataset", "check", "--data", data_s, "--splits", "nosuch"]));
    assert!(err.contains("nosuch.txt"), "{err}");
}

#[test]
fn bench_media_prints_every_reader() {
    let report = json_of(&motus(&["bench", "media", "--reps", "1", "--frames", "16", "--json"]));
    crate::golden::assert_fields("bench-media", &report);
    for key in ["y4m", "png_frames", "jpeg_frames", "mp4_ffmpeg"] {
        assert!(report["decode"][key]["frames_per_s"].as_f64().unwrap() > 0.0, "{key}: {report}");
    }
    for key in ["128x128", "640x480"] {
        assert!(report["generate"][key]["ms_per_frame"].as_f64().unwrap() > 0.0, "{key}: {report}");
    }
}

#[test]
fn bench_zoo_covers_every_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("zoo.md");
    let report = json_of(&motus(&["bench", "zoo", "--reps", "1", "--markdown", md.to_str().unwrap()]));
    crate::golden::assert_fields("bench-zoo", &report);
    let rows = report["architectures"].as_array().unwrap();
    assert_eq!(rows.len(), 7, "{report}");
    for r in rows {
        assert!(r["params"].as_u64().unwrap() > 0 && r["gflops_per_clip"].as_f64().unwrap() > 0.0, "{r}");
        assert!(
            r["latency"]["1_threads_ms"].as_f64().unwrap() > 0.0
                && r["latency"]["2_threads_ms"].as_f64().unwrap() > 0.0,
            "{r}"
        );
    }
    let two = rows.iter().find(|r| r["arch"] == "two-stream").unwrap();
    assert!(
        two["params"].as_u64().unwrap() <= 5_000_000 && two["gflops_per_clip"].as_f64().unwrap() <= 2.0,
        "edge budget: {two}"
    );
    assert_eq!(std::fs::read_to_string(&md).unwrap().matches("\n| ").count(), 8, "header + 7 rows");
}
