//! The trainer end to end on a tiny synthetic dataset: a run leaves checkpoints, metrics and
//! curves; it is repeatable for a seed; an interrupted run resumes to exactly the same weights;
//! bad datasets, bad settings and a diverging loss stop with clear errors.

use clap::Parser;
use motus_core::synth::SynthConfig;
use motus_lab::benchmark::write_dataset;
use motus_models::spec::tiny_variants;
use motus_train::checkpoint::Checkpoint;
use motus_train::train::{train, TrainArgs};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: TrainArgs,
}

/// 12 classes × 2 videos, 40×40, 16 frames: one train and one val video per class.
fn dataset(dir: &Path) -> PathBuf {
    let out = dir.join("synth");
    let cfg = SynthConfig {
        width: 40,
        height: 40,
        frames: 16,
        videos_per_class: 2,
        splits: [50, 50, 0],
        seed: 3,
        ..Default::default()
    };
    write_dataset(&cfg, &out, &mut |_, _| {}).unwrap();
    out
}

/// A tiny spec of `variant` for 12 classes, written as JSON.
fn spec_file(dir: &Path, variant: &str) -> PathBuf {
    let spec = tiny_variants().into_iter().find(|(n, _)| *n == variant).unwrap().1;
    let mut v = serde_json::to_value(&spec).unwrap();
    v["num_classes"] = 12.into();
    let path = dir.join(format!("{}.json", variant.replace(' ', "-")));
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

fn args(extra: &[&str]) -> TrainArgs {
    let mut argv =
        vec!["train", "--batch", "4", "--workers", "2", "--threads", "1", "--device", "cpu", "--val-views", "2"];
    argv.extend_from_slice(extra);
    Cli::try_parse_from(argv).unwrap().args
}

fn run(extra: &[&str]) -> anyhow::Result<motus_train::train::RunSummary> {
    train(&args(extra), Arc::new(AtomicBool::new(false)))
}

#[test]
fn a_two_stream_run_leaves_checkpoints_metrics_curves_and_an_exportable_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path());
    let spec = spec_file(dir.path(), "two-stream average");
    let out = dir.path().join("run");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let summary = run(&["--spec", &s(&spec), "--data", &s(&data), "--out", &s(&out), "--epochs", "2"]).unwrap();
    assert_eq!(summary.epochs_done, 2);
    assert!(!summary.interrupted);
    assert_eq!((summary.train_videos, summary.val_videos), (12, 12));

    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = metrics.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["epoch"], i + 1);
        assert!(l["train_loss"].as_f64().unwrap().is_finite());
        let v = l["val_video_top1"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v));
    }
    let png = image::open(out.join("curves.png")).unwrap();
    assert_eq!(png.width(), 640);
    // The flow cache was filled once (train + val) and is reused by a second run.
    let data_report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("data.json")).unwrap()).unwrap();
    assert_eq!(data_report["train"]["flow_extracted"], 12);
    // The synthetic dataset's actions.txt was read; windows stay anywhere unless asked.
    assert_eq!(data_report["train"]["action_spans"], 12);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["augment"]["action_windows"], false, "{config}");
    assert!(config["augment"]["slow_camera"].is_null(), "no slow camera unless asked: {config}");
    let out2 = dir.path().join("run2");
    run(&["--spec", &s(&spec), "--data", &s(&data), "--out", &s(&out2), "--epochs", "1", "--action-windows"]).unwrap();
    let data_report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out2.join("data.json")).unwrap()).unwrap();
    assert_eq!(data_report["train"]["flow_extracted"], 0);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out2.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["augment"]["action_windows"], true, "{config}");

    // Export the best checkpoint and run it in tract.
    let best = Checkpoint::load(&out.join("best.safetensors")).unwrap();
    assert!(best.state.is_empty(), "best.safetensors carries no optimiser state");
    let last = Checkpoint::load(&out.join("last.safetensors")).unwrap();
    assert!(!last.state.is_empty(), "last.safetensors carries the optimiser state");
    let bytes = motus_train::export::export_checkpoint(&best, true).unwrap();
    let mut model = motus_core::infer::Classifier::from_bytes(&bytes, "trained").unwrap();
    let card = model.card().clone();
    assert_eq!(card.labels.len(), 12);
    assert_eq!(card.input.fps, Some(25.0), "the card records the training videos' rate");
    assert_eq!(data_report["fps"], 25.0, "{data_report}");
    let flow = card.flow.as_ref().unwrap();
    assert!(
        motus_core::flow::FlowConfig::from_card(flow).is_ok(),
        "the card records the flow the model was trained on"
    );
    let rgb = vec![0.0f32; 3 * 32 * 32];
    let fl = vec![0.0f32; 4 * 32 * 32];
    let out = model
        .run(&[
            motus_core::infer::InputTensor { name: "rgb", shape: &[1, 3, 32, 32], data: &rgb },
            motus_core::infer::InputTensor { name: "flow", shape: &[1, 4, 32, 32], data: &fl },
        ])
        .unwrap();
    assert_eq!(out.probs.len(), 12);
}

fn weights_of(run_dir: &Path) -> std::collections::HashMap<String, Vec<f32>> {
    Checkpoint::load(&run_dir.join("last.safetensors")).unwrap().weights
}

#[test]
fn runs_repeat_for_a_seed_and_an_interrupted_run_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path());
    let spec = spec_file(dir.path(), "c3d");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let base = |out: &Path| {
        vec![
            "--spec".to_string(),
            s(&spec),
            "--data".into(),
            s(&data),
            "--out".into(),
            s(out),
            "--epochs".into(),
            "2".into(),
            "--optimizer".into(),
            "sgd".into(),
        ]
    };
    let strs = |v: &[String]| v.iter().map(String::as_str).collect::<Vec<_>>().join("\u{0}");
    let call = |v: Vec<String>| {
        let joined = strs(&v);
        let parts: Vec<&str> = joined.split('\u{0}').collect();
        run(&parts)
    };

    let a = dir.path().join("a");
    let b = dir.path().join("b");
    call(base(&a)).unwrap();
    call(base(&b)).unwrap();
    assert_eq!(weights_of(&a), weights_of(&b), "same seed, same weights");

    // Stop after 4 of the 6 steps (3 per epoch), then resume.
    let c = dir.path().join("c");
    let mut first = base(&c);
    first.extend(["--max-steps".into(), "4".into()]);
    let summary = call(first).unwrap();
    assert!(summary.interrupted);
    assert_eq!(summary.epochs_done, 1);
    // Without --resume the folder is refused.
    let e = call(base(&c)).unwrap_err();
    assert!(e.to_string().contains("--resume"), "{e}");
    let mut resumed = base(&c);
    resumed.push("--resume".into());
    let summary = call(resumed.clone()).unwrap();
    assert_eq!(summary.epochs_done, 2);
    assert_eq!(weights_of(&a), weights_of(&c), "resumed run ends with the uninterrupted run's weights");
    let lines = std::fs::read_to_string(c.join("metrics.jsonl")).unwrap().lines().count();
    assert_eq!(lines, 2);

    // Resuming with other settings is refused.
    let mut other = resumed;
    other.extend(["--lr".into(), "0.5".into()]);
    let e = call(other).unwrap_err();
    assert!(e.to_string().contains("differ"), "{e}");
}

#[test]
fn a_diverging_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path());
    let spec = spec_file(dir.path(), "single-frame");
    let out = dir.path().join("run");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    // One sane epoch, then resume the same run with a rate that blows up.
    run(&["--spec", &s(&spec), "--data", &s(&data), "--out", &s(&out), "--epochs", "1"]).unwrap();
    let good = std::fs::read(out.join("last.safetensors")).unwrap();
    let out2 = dir.path().join("run2");
    let e = run(&[
        "--spec",
        &s(&spec),
        "--data",
        &s(&data),
        "--out",
        &s(&out2),
        "--epochs",
        "2",
        "--lr",
        "1e30",
        "--clip-grad",
        "0",
        "--optimizer",
        "sgd",
        "--warmup-epochs",
        "0",
    ])
    .unwrap_err();
    let msg = format!("{e:#}");
    assert!(msg.contains("became") && msg.contains("last good checkpoint"), "{msg}");
    // The first run's checkpoint is untouched, the diverged run wrote none.
    assert_eq!(std::fs::read(out.join("last.safetensors")).unwrap(), good);
    assert!(!out2.join("last.safetensors").exists() || Checkpoint::load(&out2.join("last.safetensors")).is_ok());
}

/// Two classes one frame tells apart (dark or bright scenes with pixel noise), `per_class`
/// videos of each in the train and val splits.
fn dark_or_bright(dir: &Path, per_class: usize) -> PathBuf {
    use rand::{Rng, SeedableRng};
    let data = dir.join("dark-or-bright");
    std::fs::create_dir_all(data.join("videos")).unwrap();
    std::fs::write(data.join("classInd.txt"), "1 dark\n2 bright\n").unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    for split in ["train", "val"] {
        let mut list = String::new();
        for (label, level) in [(0usize, 50u8), (1, 190)] {
            for i in 0..per_class {
                let rel = format!("videos/{split}_{label}_{i}.y4m");
                let mut w = motus_core::media::create_video(&data.join(&rel), 32, 32, 25.0).unwrap();
                for _ in 0..8 {
                    let px =
                        (0..32 * 32 * 3).map(|_| level.saturating_add_signed(rng.random_range(-30i8..=30))).collect();
                    w.write_frame(&motus_core::frame::Frame::from_rgb(32, 32, px).unwrap()).unwrap();
                }
                w.finish().unwrap();
                list.push_str(&format!("{rel} {label}\n"));
            }
        }
        std::fs::write(data.join(format!("{split}.txt")), list).unwrap();
    }
    data
}

#[test]
fn a_separable_toy_task_is_learnt_well_above_chance() {
    let dir = tempfile::tempdir().unwrap();
    let data = dark_or_bright(dir.path(), 8);
    let spec = tiny_variants().into_iter().find(|(n, _)| *n == "single-frame").unwrap().1;
    let mut v = serde_json::to_value(&spec).unwrap();
    v["num_classes"] = 2.into();
    let spec = dir.path().join("two-class.json");
    std::fs::write(&spec, v.to_string()).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    // Mean training loss of the last 4 of 12 epochs (one epoch's is noisy at batch 4).
    let train_with = |lr: &str, name: &str| {
        let out = dir.path().join(name);
        let flags =
            ["--spec", &s(&spec), "--data", &s(&data), "--out", &s(&out), "--epochs", "12", "--clips-per-video", "4"];
        let summary = run(&[&flags[..], &["--lr", lr]].concat()).unwrap();
        let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
        let losses: Vec<f64> = metrics
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["train_loss"].as_f64().unwrap())
            .collect();
        (summary, losses[8..].iter().sum::<f64>() / 4.0)
    };
    let (learnt, loss) = train_with("0.01", "learnt");
    // The control: the same run whose steps change nothing. Brightness is what a random
    // network's output varies with most, so its accuracy can be high by luck of the
    // initialisation; what learning adds is confidence, so the loss must fall well below the
    // control's (label smoothing keeps it above about 0.2).
    let (_, control_loss) = train_with("1e-12", "control");
    let best = learnt.best_video_top1.expect("validated");
    assert!(best >= 0.9, "best validation video accuracy {best} (chance 0.5)");
    assert!(loss < 0.75 * control_loss, "training loss {loss} over the last 4 epochs, untrained {control_loss}");
}

#[test]
fn bad_datasets_and_settings_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path());
    let spec = spec_file(dir.path(), "single-frame");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = dir.path().join("run");

    // A train split without any video of some classes.
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::copy(data.join("classInd.txt"), bad.join("classInd.txt")).unwrap();
    let train = std::fs::read_to_string(data.join("train.txt")).unwrap();
    let first: String = train
        .lines()
        .take(1)
        .map(|l| format!("{}\n", l.replacen("train/", &format!("{}/train/", s(&data)), 1)))
        .collect();
    std::fs::write(bad.join("train.txt"), &first).unwrap();
    let e = run(&["--spec", &s(&spec), "--data", &s(&bad), "--out", &s(&out), "--epochs", "1"]).unwrap_err();
    assert!(format!("{e:#}").contains("no training video"), "{e:#}");

    // Empty train split.
    std::fs::write(bad.join("train.txt"), "").unwrap();
    let e = run(&["--spec", &s(&spec), "--data", &s(&bad), "--out", &s(&out), "--epochs", "1"]).unwrap_err();
    assert!(format!("{e:#}").contains("no entries"), "{e:#}");

    // Labels outside the class index.
    std::fs::write(bad.join("train.txt"), "x.y4m 99\n").unwrap();
    let e = run(&["--spec", &s(&spec), "--data", &s(&bad), "--out", &s(&out), "--epochs", "1"]).unwrap_err();
    assert!(format!("{e:#}").contains("99"), "{e:#}");

    // A spec for another number of classes.
    let wrong = dir.path().join("wrong.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&spec).unwrap()).unwrap();
    v["num_classes"] = 5.into();
    std::fs::write(&wrong, v.to_string()).unwrap();
    let e = run(&["--spec", &s(&wrong), "--data", &s(&data), "--out", &s(&out), "--epochs", "1"]).unwrap_err();
    assert!(format!("{e:#}").contains("12 classes"), "{e:#}");

    // A crop that keeps nothing, or more than the frame.
    for bad in ["0", "1.5"] {
        let e = run(&[
            "--spec",
            &s(&spec),
            "--data",
            &s(&data),
            "--out",
            &s(&out),
            "--epochs",
            "1",
            "--min-crop-scale",
            bad,
        ])
        .unwrap_err();
        assert!(format!("{e:#}").contains("--min-crop-scale must be in (0, 1]"), "{e:#}");
    }

    // A slow-camera share or factor out of range.
    for (share, factor) in [("0", "3"), ("1.5", "3"), ("0.5", "1"), ("0.5", "7")] {
        let flags = ["--slow-camera", share, "--slow-camera-max-factor", factor];
        let e =
            run(&[&["--spec", &s(&spec), "--data", &s(&data), "--out", &s(&out), "--epochs", "1"][..], &flags[..]]
                .concat())
            .unwrap_err();
        assert!(format!("{e:#}").contains("--slow-camera: the slow"), "{e:#}");
    }

    // Unknown architecture, unknown device.
    let e = run(&["--arch", "resnet", "--data", &s(&data), "--out", &s(&out)]).unwrap_err();
    assert!(format!("{e:#}").contains("unknown architecture"), "{e:#}");
    let e = motus_train::train::parse_device("tpu").unwrap_err();
    assert!(format!("{e:#}").contains("unknown device"), "{e:#}");
    assert!(motus_train::train::parse_device("cuda:x").is_err());
}

#[test]
fn unreadable_videos_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path());
    let spec = spec_file(dir.path(), "single-frame");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    // Truncate one training video.
    let train = std::fs::read_to_string(data.join("train.txt")).unwrap();
    let victim = data.join(train.lines().next().unwrap().split_whitespace().next().unwrap());
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..40]).unwrap();
    let out = dir.path().join("run");
    let summary = run(&["--spec", &s(&spec), "--data", &s(&data), "--out", &s(&out), "--epochs", "1"]).unwrap();
    assert_eq!(summary.train_videos, 11);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("data.json")).unwrap()).unwrap();
    let unreadable = report["train"]["unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 1);
    assert!(unreadable[0][0].as_str().unwrap().ends_with(victim.file_name().unwrap().to_str().unwrap()));
}
