//! `motus flow` as users run it: a pair, the Middlebury evaluation, dataset extraction.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn motus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motus")).args(args).output().expect("motus runs")
}

fn json_of(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "motus failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// `$MOTUS_MIDDLEBURY` or the repository's copy (`tests/data/middlebury`); missing data fails the test.
fn middlebury() -> PathBuf {
    let dir = std::env::var_os("MOTUS_MIDDLEBURY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/middlebury")));
    assert!(
        dir.join("RubberWhale/flow10.flo").is_file(),
        "Middlebury data not found in {} (set MOTUS_MIDDLEBURY)",
        dir.display()
    );
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn one_pair_writes_flo_and_picture() {
    let m = middlebury();
    let dir = tempfile::tempdir().unwrap();
    let (flo, png) = (dir.path().join("out.flo"), dir.path().join("vis.png"));
    let r = json_of(&motus(&[
        "flow",
        s(&m.join("Dimetrodon/frame10.png")),
        s(&m.join("Dimetrodon/frame11.png")),
        "-o",
        s(&flo),
        "--png",
        s(&png),
        "--backend",
        "cpu",
        "--preset",
        "edge",
        "--json",
    ]));
    crate::golden::assert_fields("flow-pair", &r);
    assert_eq!((r["width"].as_u64(), r["height"].as_u64()), (Some(584), Some(388)));
    let field = motus_core::flow::flo::read_flo(&flo).unwrap();
    let truth = motus_core::flow::flo::read_flo(m.join("Dimetrodon/flow10.flo")).unwrap();
    let epe = field.epe(&truth).unwrap();
    assert!(epe < 0.35, "edge preset EPE on Dimetrodon {epe}");
    assert_eq!(image::open(&png).unwrap().width(), 584);
}

#[test]
fn eval_reports_the_documented_fields() {
    let m = middlebury();
    let dir = tempfile::tempdir().unwrap();
    for seq in ["RubberWhale", "Dimetrodon"] {
        std::os::unix::fs::symlink(m.join(seq), dir.path().join(seq)).unwrap();
    }
    let r = json_of(&motus(&[
        "flow",
        "eval",
        "--middlebury",
        s(dir.path()),
        "--backend",
        "cpu",
        "--preset",
        "edge",
        "--json",
    ]));
    crate::golden::assert_fields("flow-eval", &r);
    assert_eq!(r["per_sequence"].as_object().unwrap().len(), 2, "{r}");
    let mean = r["mean_epe"].as_f64().unwrap();
    assert!(mean > 0.0 && mean < 0.35, "{r}");
    assert!(r["ms_per_pair"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_pairs_are_explained() {
    let m = middlebury();
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.png");
    image::RgbImage::new(40, 30).save(&small).unwrap();
    let out = motus(&[
        "flow",
        s(&m.join("Venus/frame10.png")),
        s(&small),
        "-o",
        s(&dir.path().join("x.flo")),
        "--backend",
        "cpu",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("420") && err.contains("40"), "size mismatch names both sizes: {err}");
    let out = motus(&["flow", s(&dir.path().join("none.png")), s(&small), "-o", s(&dir.path().join("x.flo"))]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("none.png"));
    let out = motus(&["flow", "eval", "--middlebury", s(dir.path()), "--backend", "cpu"]);
    assert!(!out.status.success(), "a folder without sequences is an error");
}

#[test]
fn extract_is_resumable_and_reports_broken_videos() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let flows = dir.path().join("flow");
    let synth = motus(&[
        "synth",
        "--out",
        s(&data),
        "--videos-per-class",
        "1",
        "--seed",
        "2",
        "--frames",
        "16",
        "--size",
        "64x64",
        "--splits",
        "0,0,100",
    ]);
    assert!(synth.status.success(), "{}", String::from_utf8_lossy(&synth.stderr));
    let list = data.join("test.txt");
    let args = ["flow", "extract", "--data", s(&list), "--out", s(&flows), "--backend", "cpu", "--json"];
    let r = json_of(&motus(&args));
    crate::golden::assert_fields("flow-extract", &r);
    let videos = r["videos"].as_u64().unwrap();
    assert_eq!(r["extracted"].as_u64().unwrap(), videos);
    assert_eq!(r["pairs"].as_u64().unwrap(), videos * 15);
    let (meta, fields) =
        motus_core::flow::store::read_folder(&flows.join("videos/walk_right/walk_right_0000")).unwrap();
    assert_eq!((meta.fields, fields.len(), meta.width), (15, 15, 64));
    assert!(fields.iter().any(|f| f.u.iter().any(|u| u.abs() > 0.5)), "a walking actor produces motion");

    // Second run: nothing to do.
    let r = json_of(&motus(&args));
    assert_eq!(r["skipped_complete"].as_u64().unwrap(), videos);
    assert_eq!(r["extracted"], 0);

    // A broken video is reported and fails the run; the others stay done.
    let first =
        std::fs::read_to_string(&list).unwrap().lines().next().unwrap().split_whitespace().next().unwrap().to_string();
    std::fs::write(data.join(&first), "YUV4MPEG2 W64 H64 F25:1\nFRAME\ncut").unwrap();
    let stale = flows.join(Path::new(&first).with_extension(""));
    std::fs::remove_dir_all(&stale).unwrap();
    let out = motus(&args);
    assert!(!out.status.success());
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["failed"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["skipped_complete"].as_u64().unwrap(), videos - 1);
    assert!(!stale.exists(), "a failed video leaves no folder that looks complete");

    let out = motus(&["flow", "extract", "--data", s(&list), "--out", s(&flows), "--bound", "0"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bound"));
}

#[test]
fn gpu_backend_matches_the_cpu_from_the_command_line() {
    if motus_core::gpu::gpu_tests_skipped() {
        eprintln!("MOTUS_SKIP_GPU_TESTS=1: skipping");
        return;
    }
    let m = middlebury();
    let dir = tempfile::tempdir().unwrap();
    let mut fields = Vec::new();
    for backend in ["cpu", "gpu"] {
        let flo = dir.path().join(format!("{backend}.flo"));
        let r = json_of(&motus(&[
            "flow",
            s(&m.join("RubberWhale/frame10.png")),
            s(&m.join("RubberWhale/frame11.png")),
            "-o",
            s(&flo),
            "--backend",
            backend,
            "--preset",
            "edge",
            "--threads",
            "1",
            "--json",
        ]));
        assert!(r["engine"].as_str().unwrap().starts_with(&format!("tvl1-{backend}")), "{r}");
        fields.push(motus_core::flow::flo::read_flo(&flo).unwrap());
    }
    let (c, g) = (&fields[0], &fields[1]);
    let n = c.u.len() as f64;
    let mean_epd =
        c.u.iter()
            .zip(&c.v)
            .zip(g.u.iter().zip(&g.v))
            .map(|((a, b), (x, y))| (((a - x).powi(2) + (b - y).powi(2)) as f64).sqrt())
            .sum::<f64>()
            / n;
    assert!(mean_epd <= 0.01, "GPU and CPU differ by {mean_epd} px on average");
}

#[test]
fn probing_for_a_gpu_prints_no_display_noise() {
    // Mesa's Vulkan loader says "XDG_RUNTIME_DIR is invalid or not set" when a process without
    // one (a service, an ssh session) opens Vulkan; motus gives itself a private one first.
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
    for (path, shift) in [(&a, 0u32), (&b, 2)] {
        let mut f = motus_core::Frame::new(64, 48);
        for (i, px) in f.data.chunks_exact_mut(3).enumerate() {
            let (x, y) = ((i as u32 % 64 + 64 - shift) % 64, i as u32 / 64);
            px.fill(((x * 7 + y * 13) % 251) as u8);
        }
        f.to_image().save(path).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_motus"))
        .args(["flow", s(&a), s(&b), "-o", s(&dir.path().join("f.flo")), "--backend", "auto"])
        .env_remove("XDG_RUNTIME_DIR")
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
}

/// A Middlebury-style folder with one small sequence: a smooth texture moved by (2, 1) px.
fn shifted_sequence(root: &Path) {
    let (w, h, (dx, dy)) = (96u32, 64u32, (2u32, 1u32));
    let seq = root.join("Shift");
    std::fs::create_dir_all(&seq).unwrap();
    let texture = |x: u32, y: u32| {
        let (x, y) = (x as f32, y as f32);
        (128.0 + 60.0 * (x * 0.31).sin() * (y * 0.23).cos() + 40.0 * ((x + 2.0 * y) * 0.11).sin()) as u8
    };
    let frame =
        |sx: u32, sy: u32| image::GrayImage::from_fn(w, h, |x, y| image::Luma([texture(x + 8 - sx, y + 8 - sy)]));
    frame(0, 0).save(seq.join("frame10.png")).unwrap();
    frame(dx, dy).save(seq.join("frame11.png")).unwrap();
    let n = (w * h) as usize;
    let truth = motus_core::flow::FlowField { width: w, height: h, u: vec![dx as f32; n], v: vec![dy as f32; n] };
    motus_core::flow::flo::write_flo(seq.join("flow10.flo"), &truth).unwrap();
}

#[test]
fn bench_flow_reports_cpu_gpu_and_the_opencv_peer_side_by_side() {
    if motus_core::gpu::gpu_tests_skipped() {
        eprintln!("skipped: MOTUS_SKIP_GPU_TESTS=1 (the report's GPU part needs an adapter)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    shifted_sequence(dir.path());
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let r = json_of(&motus(&[
        "bench",
        "flow",
        "--middlebury",
        s(dir.path()),
        "--reps",
        "1",
        "--peer-tvl1-pairs",
        "1",
        "--peer-python",
        s(&repo.join(".venv/bin/python")),
        "--peer-script",
        s(&repo.join("scripts/peers/opencv_flow.py")),
    ]));
    // `gpu.accurate` holds a native size only on a hardware adapter; the peer prints its own fields.
    crate::golden::assert_fields_except("bench-flow", &r, &["peer", "gpu.accurate"]);
    let native = &r["cpu"]["accurate"]["1_threads"]["native"];
    assert!(native["mean_epe"].as_f64().unwrap() < 0.5, "a plain shift is easy: {native}");
    assert_eq!(native["per_sequence"]["Shift"], native["mean_epe"]);
    assert!(r["gpu"]["edge"]["128"]["ms_per_pair"].as_f64().unwrap() > 0.0, "lavapipe measured: {}", r["gpu"]);
    let ratios = &r["ratios"];
    assert_eq!(ratios["dual_tvl1_native_pairs"], 1);
    for k in
        ["accurate_speedup_vs_dual_tvl1_native", "accurate_epe_over_dis_medium_epe", "edge_128_ms_over_dis_fast_128_ms"]
    {
        assert!(ratios[k].as_f64().is_some_and(|x| x > 0.0), "{k}: {ratios}");
    }
}
