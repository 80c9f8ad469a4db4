//! `motus eval` as a user runs it: JSON, table and report on a small synthetic split, a
//! comparison, long videos, and every refusal of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use motus_models::card::ModelCard;
use motus_models::onnx::{export, ExportOptions};
use motus_models::spec::{ArchSpec, C3d};

fn motus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motus")).args(args).output().expect("motus runs")
}

fn labels() -> Vec<String> {
    motus_core::synth::class_names().iter().map(|s| s.to_string()).collect()
}

fn c3d(clip_len: usize) -> ArchSpec {
    ArchSpec::C3d(C3d { num_classes: 12, clip_len, input_size: 32, widths: vec![4, 8, 8], depth: 1 })
}

/// A tiny random C3D (4 frames, 32 px) with `labels`; with `embed` false the card is left out
/// of the file (a model from another tool). Returns the card it was made with.
fn write_model(path: &Path, labels: Vec<String>, seed: u64, embed: bool) -> ModelCard {
    let spec = c3d(4);
    let g = spec.lower().unwrap();
    let mut card = ModelCard::for_spec(&spec, &g, labels);
    card.input.resize_short = 32;
    let bytes = export(&g, &g.random_weights(seed), &card, &ExportOptions::default()).unwrap();
    let bytes = if embed {
        bytes
    } else {
        use prost::Message;
        let mut m = motus_models::onnx::read_model(&bytes).unwrap();
        m.metadata_props.clear();
        m.encode_to_vec()
    };
    std::fs::write(path, bytes).unwrap();
    card
}

fn synth(dir: &Path, long: bool) -> PathBuf {
    let mut args =
        vec!["synth", "--out", dir.to_str().unwrap(), "--size", "32x32", "--splits", "0,0,100", "--seed", "2"];
    if long {
        args.extend(["--long", "--videos-per-class", "1", "--frames", "200"]);
    } else {
        args.extend(["--videos-per-class", "1", "--frames", "16"]);
    }
    let out = motus(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir.join("test.txt")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

fn failure(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure, got: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn json_table_report_and_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let list = synth(&dir.path().join("data"), false);
    let (a, b) = (dir.path().join("a.onnx"), dir.path().join("b.onnx"));
    write_model(&a, labels(), 1, true);
    write_model(&b, labels(), 2, true);
    let report = dir.path().join("report");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = motus(&[
        "eval",
        "--model",
        &s(&a),
        "--data",
        &s(&list),
        "--protocol",
        "clips=2",
        "--json",
        "--report",
        &s(&report),
        "--compare",
        &s(&b),
        "--workers",
        "2",
    ]);
    let r = json(&out);
    crate::golden::assert_fields("eval-compare", &r);
    assert_eq!(
        (r["n_videos"].as_u64(), r["n_clips"].as_u64(), r["n_unreadable"].as_u64()),
        (Some(12), Some(24), Some(0))
    );
    for key in ["clip_top1", "video_top1", "video_top5", "mean_class_acc"] {
        let v = r[key].as_f64().unwrap_or_else(|| panic!("{key}: {r}"));
        assert!((0.0..=1.0).contains(&v), "{key} {v}");
    }
    assert!(r["video_top5"].as_f64() >= r["video_top1"].as_f64());
    assert_eq!(r["per_class"].as_array().unwrap().len(), 12);
    assert_eq!(
        r["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).sum::<u64>())
            .sum::<u64>(),
        12
    );
    let videos = r["videos"].as_array().unwrap();
    assert_eq!(videos.len(), 12);
    for v in videos {
        let (l, p) = (v["label"].as_u64().unwrap() as usize, v["predicted"].as_u64().unwrap() as usize);
        assert!(r["confusion"][l][p].as_u64().unwrap() >= 1, "{v}");
        assert_eq!(v["clips"], 2);
        assert!((0.0..=1.0).contains(&v["confidence"].as_f64().unwrap()));
    }
    for stage in ["decode", "preprocess", "inference", "total"] {
        assert!(r["latency_ms"][stage]["p50"].as_f64().unwrap() > 0.0, "{stage}: {}", r["latency_ms"]);
    }
    assert_eq!(r["latency_ms"]["flow"]["p95"], 0.0, "an RGB model computes no flow");
    let c = &r["compare"];
    assert_eq!(c["n_videos"], 12);
    assert!((0.0..=1.0).contains(&c["agreement"].as_f64().unwrap()));
    assert_eq!(c["per_class"].as_array().unwrap().len(), 12);
    let diff = c["b"]["video_top1"].as_f64().unwrap() - c["a"]["video_top1"].as_f64().unwrap();
    assert!((c["video_top1_diff"].as_f64().unwrap() - diff).abs() < 1e-12);
    for f in ["report.json", "report.md", "confusion.png", "per_class.png"] {
        assert!(report.join(f).is_file(), "{f} missing");
    }
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("## Confusion matrix") && md.contains("walk_left") && md.contains("## Compared with"), "{md}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap()).unwrap();
    assert_eq!(saved, r);

    // A model compared with itself agrees everywhere; the table names the metrics.
    let out = motus(&["eval", "--model", &s(&a), "--data", &s(&list), "--compare", &s(&a)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("video Hit@1") && text.contains("inference") && text.contains("agreement  100.0 % of videos"),
        "{text}"
    );
}

#[test]
fn bad_input_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let list = synth(&data, false);
    let s = |p: &Path| p.to_str().unwrap().to_string();

    // Labels in another order than classInd.txt.
    let mut swapped = labels();
    swapped.swap(1, 2);
    let m = dir.path().join("swapped.onnx");
    write_model(&m, swapped, 1, true);
    let err = failure(&motus(&["eval", "--model", &s(&m), "--data", &s(&list)]));
    assert!(
        err.contains("class 1 is \"walk_right\" in the model and \"walk_left\" in the dataset")
            && err.contains("another order"),
        "{err}"
    );

    // A model from another tool whose sidecar card claims 8-frame clips for a 4-frame input.
    let m = dir.path().join("foreign.onnx");
    let mut card = write_model(&m, labels(), 1, false);
    card.arch = c3d(8);
    card.input.clip.clip_len = 8;
    let card_path = dir.path().join("wrong.card.toml");
    std::fs::write(&card_path, card.to_toml().unwrap()).unwrap();
    let err = failure(&motus(&["eval", "--model", &s(&m), "--card", &s(&card_path), "--data", &s(&list)]));
    assert!(err.contains("\"rgb\": 4 time steps, the card's clip_len is 8"), "{err}");
    // Without any card it is refused too, saying what to supply.
    let err = failure(&motus(&["eval", "--model", &s(&m), "--data", &s(&list)]));
    assert!(err.contains("sidecar card"), "{err}");

    // An empty list and a missing one.
    let good = dir.path().join("good.onnx");
    write_model(&good, labels(), 1, true);
    std::fs::write(data.join("empty.txt"), "\n").unwrap();
    let err = failure(&motus(&["eval", "--model", &s(&good), "--data", &s(&data.join("empty.txt"))]));
    assert!(err.contains("empty.txt") && err.contains("no videos"), "{err}");
    let err = failure(&motus(&["eval", "--model", &s(&good), "--data", &s(&data.join("nope.txt"))]));
    assert!(err.contains("nope.txt") && err.contains("no such list"), "{err}");
    let err = failure(&motus(&["eval", "--model", &s(&good), "--data", &s(&list), "--protocol", "clips=0"]));
    assert!(err.contains("clips must be"), "{err}");

    // An unreadable video is skipped, counted and listed; the rest are scored.
    let text = std::fs::read_to_string(&list).unwrap();
    let first = text.split_whitespace().next().unwrap();
    std::fs::write(data.join(first), b"YUV4MPEG2 W32 H32 F25:1 C420jpeg\nFRAME\n\x10\x10").unwrap();
    let out = motus(&["eval", "--model", &s(&good), "--data", &s(&list), "--json"]);
    let r = json(&out);
    assert_eq!((r["n_videos"].as_u64(), r["n_unreadable"].as_u64()), (Some(11), Some(1)));
    assert!(r["unreadable"][0]["path"].as_str().unwrap().ends_with(first));
    assert_eq!(r["unreadable"][0]["line"], 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unreadable (skipped)") && stderr.contains("1 unreadable video(s) were skipped"),
        "{stderr}"
    );
}

#[test]
fn long_videos_are_scored_as_events() {
    let dir = tempfile::tempdir().unwrap();
    let list = synth(&dir.path().join("long"), true);
    let m = dir.path().join("m.onnx");
    write_model(&m, labels(), 1, true);
    let report = dir.path().join("rep");
    let out = motus(&[
        "eval",
        "--model",
        m.to_str().unwrap(),
        "--data",
        list.to_str().unwrap(),
        "--window-stride",
        "4",
        "--threshold",
        "0.0",
        "--compare",
        m.to_str().unwrap(),
        "--json",
        "--report",
        report.to_str().unwrap(),
    ]);
    let r = json(&out);
    crate::golden::assert_fields("eval-long", &r);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap()).unwrap();
    assert_eq!(written, r, "report.json is what --json prints");
    assert_eq!(r["compare"]["recall_diff"], 0.0, "the same model compared with itself");
    assert_eq!(r["kind"], "long");
    assert_eq!(r["n_videos"], 1);
    assert_eq!(r["n_clips"], 50, "(200 − 4) / 4 + 1 windows");
    let d = &r["detection"];
    assert!(d["ground_truth"].as_u64().unwrap() >= 1, "{d}");
    assert_eq!(d["background"], "idle");
    for k in ["precision", "recall", "window_top1"] {
        assert!((0.0..=1.0).contains(&d[k].as_f64().unwrap()), "{k}: {d}");
    }
    assert!(r["video_top1"].is_null());
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("Detection on long videos"), "{md}");
    assert!(md.contains("## Compared with") && md.contains("+0.0 pt"), "the comparison table: {md}");
}

#[test]
fn record_appends_the_measurement_to_the_embedded_card_and_keeps_the_weights() {
    let dir = tempfile::tempdir().unwrap();
    let list = synth(&dir.path().join("d"), false);
    let model = dir.path().join("m.onnx");
    write_model(&model, labels(), 3, true);
    let before = motus_models::onnx::read_model(&std::fs::read(&model).unwrap()).unwrap();
    let r = json(&motus(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        list.to_str().unwrap(),
        "--json",
        "--record",
        "synthetic test, seed 2",
    ]));
    let after = motus_models::onnx::read_model(&std::fs::read(&model).unwrap()).unwrap();
    assert_eq!(before.graph, after.graph, "graph and weights unchanged");
    let card = motus_models::onnx::model_card(&after).unwrap();
    assert_eq!(card.evaluations.len(), 1);
    let e = &card.evaluations[0];
    assert_eq!(e.data, "synthetic test, seed 2");
    assert_eq!(e.video_top1, r["video_top1"].as_f64().unwrap());
    assert_eq!(e.n_videos, 12);
    assert!(e.method.contains("protocol center"), "{}", e.method);
    // `motus info --json` shows it.
    let info = json(&motus(&["info", model.to_str().unwrap(), "--json"]));
    assert_eq!(info["evaluations"][0]["data"], "synthetic test, seed 2");

    // A model whose card lives beside it cannot take a record.
    let side = dir.path().join("side.onnx");
    let card = write_model(&side, labels(), 3, false);
    std::fs::write(dir.path().join("side.card.toml"), card.to_toml().unwrap()).unwrap();
    let err = failure(&motus(&[
        "eval",
        "--model",
        side.to_str().unwrap(),
        "--data",
        list.to_str().unwrap(),
        "--record",
        "x",
    ]));
    assert!(err.contains("embedded card"), "{err}");
}

/// `motus card calibrate` fits a temperature on labelled clips, stores it with its figures,
/// keeps graph and weights, and `motus eval` then reports calibrated probabilities (same
/// ranking); a model whose scores carry no information cannot be calibrated, and refusals
/// name the problem.
#[test]
fn card_calibrate_stores_a_temperature_that_eval_then_applies() {
    let dir = tempfile::tempdir().unwrap();
    // The bundled model on one 30 fps clip per class: informative, not perfect.
    let data = dir.path().join("b");
    let out = motus(&[
        "synth",
        "--out",
        data.to_str().unwrap(),
        "--splits",
        "0,0,100",
        "--seed",
        "2",
        "--videos-per-class",
        "1",
        "--fps",
        "30",
        "--frames",
        "58",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bl = data.join("test.txt");
    let model = dir.path().join("bundled.onnx");
    std::fs::copy(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/zoo/motus-synth-twostream.onnx"), &model)
        .unwrap();
    let (m, l) = (model.to_str().unwrap(), bl.to_str().unwrap());
    let raw = json(&motus(&["eval", "--model", m, "--data", l, "--json"]));
    let before = motus_models::onnx::read_model(&std::fs::read(&model).unwrap()).unwrap();
    let out = motus(&["card", "calibrate", m, "--data", l, "--protocol", "clips=2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("temperature") && text.contains("24 clips"), "{text}");
    let after = motus_models::onnx::read_model(&std::fs::read(&model).unwrap()).unwrap();
    assert_eq!(before.graph, after.graph, "graph and weights unchanged");
    let c = motus_models::onnx::model_card(&after).unwrap().calibration.expect("a calibration");
    let (lo, hi) = motus_models::TEMPERATURE_RANGE;
    assert!(c.temperature > lo * 1.01 && c.temperature < hi * 0.99 && c.nll_after < c.nll_before, "{c:?}");
    assert!(c.data.contains("12 videos") && c.data.contains("clips=2"), "{}", c.data);
    let cal = json(&motus(&["eval", "--model", m, "--data", l, "--json"]));
    assert_eq!(cal["clip_top1"], raw["clip_top1"], "a temperature never changes the ranking");
    let info = json(&motus(&["info", m, "--json"]));
    assert_eq!(info["calibration"]["temperature"].as_f64().unwrap() as f32, c.temperature);
    // Calibrating again fits on raw scores, not on the already calibrated ones.
    assert!(motus(&["card", "calibrate", m, "--data", l, "--protocol", "clips=2"]).status.success());
    let again =
        motus_models::onnx::model_card(&motus_models::onnx::read_model(&std::fs::read(&model).unwrap()).unwrap())
            .unwrap();
    assert!((again.calibration.unwrap().temperature - c.temperature).abs() < 1e-4);

    // A random model's scores say nothing: the fit runs to the edge and the card is left alone.
    let list = synth(&dir.path().join("d"), false);
    let random = dir.path().join("m.onnx");
    write_model(&random, labels(), 3, true);
    let (m, l) = (random.to_str().unwrap(), list.to_str().unwrap());
    let err = failure(&motus(&["card", "calibrate", m, "--data", l, "--protocol", "clips=2"]));
    assert!(err.contains("edge of the allowed temperatures"), "{err}");
    let card =
        motus_models::onnx::model_card(&motus_models::onnx::read_model(&std::fs::read(&random).unwrap()).unwrap())
            .unwrap();
    assert!(card.calibration.is_none());
    // A folder without val.txt: the error asks for a validation list.
    let err = failure(&motus(&["card", "calibrate", m, "--data", dir.path().to_str().unwrap()]));
    assert!(err.contains("val.txt") && err.contains("never the test set"), "{err}");
    // One class only: nothing to fit on.
    let one = dir.path().join("d/one.txt");
    let first = std::fs::read_to_string(&list).unwrap().lines().next().unwrap().to_string();
    std::fs::write(&one, format!("{first}\n")).unwrap();
    let err = failure(&motus(&["card", "calibrate", m, "--data", one.to_str().unwrap()]));
    assert!(err.contains("one class"), "{err}");
    // A sidecar card is edited as the TOML it is.
    let side = dir.path().join("side.onnx");
    let card = write_model(&side, labels(), 3, false);
    std::fs::write(dir.path().join("side.card.toml"), card.to_toml().unwrap()).unwrap();
    let err = failure(&motus(&["card", "calibrate", side.to_str().unwrap(), "--data", l]));
    assert!(err.contains("embedded card"), "{err}");
}

#[test]
fn consistency_checks_mirror_and_reversal_without_labels() {
    let dir = tempfile::tempdir().unwrap();
    let list = synth(&dir.path().join("s"), false);
    let model = dir.path().join("m.onnx");
    write_model(&model, labels(), 3, true);
    let (m, l) = (model.to_str().unwrap(), list.to_str().unwrap());
    let r = json(&motus(&["eval", "--model", m, "--data", l, "--consistency", "mirror,reverse", "--json"]));
    crate::golden::assert_fields("eval-consistency", &r);
    assert_eq!(r["videos"], 12, "{r}");
    let transforms = r["transforms"].as_array().unwrap();
    assert_eq!(
        transforms.iter().map(|t| t["transform"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["mirror", "reverse"]
    );
    for t in transforms {
        let clips = t["per_clip"].as_array().unwrap();
        assert_eq!(clips.len(), 12);
        // Every tally is what its clips say.
        let comparable = clips.iter().filter(|c| !c["expected"].is_null()).count();
        let agree = clips.iter().filter(|c| !c["expected"].is_null() && c["expected"] == c["transformed"]).count();
        assert_eq!(
            (t["comparable"].as_u64().unwrap() as usize, t["agree"].as_u64().unwrap() as usize),
            (comparable, agree),
            "{t}"
        );
        for c in clips {
            let top = c["top"].as_str().unwrap();
            let expected = c["expected"].as_str();
            match (t["transform"].as_str().unwrap(), top) {
                ("mirror", "walk_left") => assert_eq!(expected, Some("walk_right")),
                ("reverse", "approach") => assert_eq!(expected, Some("recede")),
                ("reverse", "fall_down") => assert_eq!(expected, None),
                ("mirror", other) if !other.starts_with("walk") && !other.starts_with("spin") => {
                    assert_eq!(expected, Some(other))
                }
                _ => {}
            }
        }
    }
    // A plain list of paths (no labels) works too; bad transforms and lists are refused.
    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, "# two clips\ns/videos/idle/idle_0000.y4m\ns/videos/jump/jump_0000.y4m\n").unwrap();
    let r =
        json(&motus(&["eval", "--model", m, "--data", plain.to_str().unwrap(), "--consistency", "mirror", "--json"]));
    assert_eq!(r["transforms"][0]["clips"], 2, "{r}");
    assert!(failure(&motus(&["eval", "--model", m, "--data", l, "--consistency", "upside-down"]))
        .contains("unknown transform \"upside-down\" (expected mirror or reverse)"));
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "# nothing\n").unwrap();
    assert!(failure(&motus(&["eval", "--model", m, "--data", empty.to_str().unwrap(), "--consistency", "mirror"]))
        .contains("names no videos"));
    // A video that cannot be read is named, not fatal.
    std::fs::write(&plain, "s/videos/idle/idle_0000.y4m\nmissing.y4m\n").unwrap();
    let r =
        json(&motus(&["eval", "--model", m, "--data", plain.to_str().unwrap(), "--consistency", "reverse", "--json"]));
    assert_eq!(r["unreadable"].as_array().unwrap().len(), 1, "{r}");
}

#[test]
fn bench_alerts_counts_false_alerts_and_names_bad_lists() {
    let dir = tempfile::tempdir().unwrap();
    synth(&dir.path().join("s"), false);
    let model = dir.path().join("m.onnx");
    write_model(&model, labels(), 5, true);
    let list = dir.path().join("clips.tsv");
    std::fs::write(
        &list,
        "path\tscene\tallowed\ns/videos/jump/jump_0000.y4m\ta jump\t-\ns/videos/wave/wave_0000.y4m\ta wave\twave\n",
    )
    .unwrap();
    let (m, l) = (model.to_str().unwrap(), list.to_str().unwrap());
    let r = json(&motus(&["bench", "alerts", "--clips", l, "--model", m, "--json"]));
    // Which classes a random-weight model fires on may differ between CPUs' kernels.
    crate::golden::assert_fields_except("bench-alerts", &r, &["by_class", "allowed_fired", "per_clip[].alerts"]);
    assert_eq!(r["clips"], 2, "{r}");
    let per_clip = r["per_clip"].as_array().unwrap();
    let minutes: f64 = per_clip.iter().map(|c| c["seconds"].as_f64().unwrap()).sum::<f64>() / 60.0;
    assert!((r["minutes"].as_f64().unwrap() - minutes).abs() < 1e-9);
    assert!(per_clip.iter().all(|c| c["frames"] == 16), "{r}");
    // Every alert on the first clip is false; on the second only non-wave ones are.
    let false_alerts: usize =
        per_clip.iter().map(|c| c["alerts"].as_array().unwrap().iter().filter(|a| a["allowed"] == false).count()).sum();
    assert_eq!(r["false_alerts"].as_u64().unwrap() as usize, false_alerts);
    for a in per_clip[0]["alerts"].as_array().unwrap() {
        assert_eq!(a["allowed"], false, "{a}");
    }
    assert_eq!(r["model_sha256"].as_str().unwrap().len(), 64);
    // A config's rules are what is measured: every class above 1% fires on a random model,
    // so the jump clip (nothing allowed) raises false alerts; then the budget gate, which
    // prints the report first and the verdict after.
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, "[alerts]\ndefault_threshold = 0.01\n").unwrap();
    let c = cfg.to_str().unwrap();
    let r = json(&motus(&["bench", "alerts", "--clips", l, "--model", m, "--config", c, "--json"]));
    let rate = r["false_alerts_per_minute"].as_f64().unwrap();
    assert!(rate > 0.0 && (r["threshold"].as_f64().unwrap() - 0.01).abs() < 1e-6, "{r}");
    let out = motus(&[
        "bench",
        "alerts",
        "--clips",
        l,
        "--model",
        m,
        "--config",
        c,
        "--json",
        "--max-false-per-minute",
        &format!("{}", rate + 0.01),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = motus(&[
        "bench",
        "alerts",
        "--clips",
        l,
        "--model",
        m,
        "--config",
        c,
        "--json",
        "--max-false-per-minute",
        &format!("{}", rate * 0.9),
    ]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("exceed the budget"));
    assert!(serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok(), "the report is still printed");
    assert!(failure(&motus(&["bench", "alerts", "--clips", l, "--model", m, "--max-false-per-minute=-1"]))
        .contains("must be a number"));
    // Bad lists and missing clips are named.
    std::fs::write(&list, "file\tok\n").unwrap();
    assert!(failure(&motus(&["bench", "alerts", "--clips", l, "--model", m]))
        .contains("must name the columns `path` and `allowed`"));
    std::fs::write(&list, "path\tallowed\nnot-there.mp4\t-\n").unwrap();
    assert!(failure(&motus(&["bench", "alerts", "--clips", l, "--model", m])).contains("not-there.mp4"));
}

#[test]
fn bench_pipeline_scores_a_scene_and_replaying_its_trace_gives_the_same_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.json");
    let t = trace.to_str().unwrap();
    // The bundled model, which finds the scene's actions, so the alerts compared are not none.
    let r = json(&motus(&["bench", "pipeline", "--frames", "300", "--size", "160x120", "--trace", t, "--json"]));
    assert!(r["alerts"].as_u64().unwrap() > 0, "{r}");
    // Class names key `per_class`: the scene's, not the report's shape.
    crate::golden::assert_fields_except("bench-pipeline", &r, &["per_class"]);
    assert_eq!(r["offline_frames"], 300);
    assert!(r["alert_latency_p95_ms"].is_null(), "an unpaced run has no camera clock: {r}");
    assert_eq!(r["drop_rate"], 0.0, "offline runs drop nothing");
    let replay = json(&motus(&["bench", "replay", "--trace", t, "--json"]));
    crate::golden::assert_fields("bench-replay", &replay);
    let setting = &replay["settings"][0];
    for k in ["alerts", "matched"] {
        assert_eq!(setting[k], r[k], "{k}: the replay runs the run's own alert rules on its recorded scores");
    }
    assert_eq!(setting["actions"], r["true_actions"]);
}
