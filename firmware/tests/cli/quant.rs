//! `motus quant` end to end on the bundled model with a small synthetic dataset, and its
//! refusals (already-quantized model, missing calibration list, bad budget or clip count).

use std::path::PathBuf;
use std::process::{Command, Output};

fn motus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motus")).args(args).output().expect("motus runs")
}

fn bundled() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/zoo/motus-synth-twostream.onnx")
}

/// Convolutions in the bundled float model, counted in its graph: `motus quant` makes every
/// one int8, so the expectation follows the model when it is retrained.
fn bundled_convs() -> usize {
    let proto = motus_models::read_model(&std::fs::read(bundled()).unwrap()).unwrap();
    proto.graph.unwrap().node.iter().filter(|n| n.op_type == "Conv").count()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn quant_writes_an_int8_model_with_its_card_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let o = motus(&[
        "synth",
        "--out",
        d,
        "--videos-per-class",
        "1",
        "--seed",
        "5",
        "--splits",
        "0,0,100",
        "--frames",
        "24",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list = data.join("test.txt");
    let out = dir.path().join("int8.onnx");
    let o = motus(&[
        "quant",
        "--model",
        bundled().to_str().unwrap(),
        "--calib",
        list.to_str().unwrap(),
        "--calib-clips",
        "4",
        "--val",
        list.to_str().unwrap(),
        "--max-drop",
        "100",
        "--out",
        out.to_str().unwrap(),
        "--workers",
        "2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    crate::golden::assert_fields("quant", &j);
    assert_eq!(j["format"], "qoperator");
    assert_eq!(j["observer"], "percentile(99.99)");
    assert!(j["size_ratio"].as_f64().unwrap() < 0.30, "{}", j["size_ratio"]);
    assert_eq!(j["quantized_nodes"].as_array().unwrap().len(), bundled_convs() + 2, "every conv and the 2 heads");
    assert_eq!(j["guard"]["int8"]["n_videos"], 12);
    assert!(j["calibration"].as_str().unwrap().contains("4 clips"));
    assert_eq!(std::fs::metadata(&out).unwrap().len(), j["int8_bytes"].as_u64().unwrap());
    let o = motus(&["info", out.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let info: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(info["quantization"]["format"], "qoperator");
    assert_eq!(info["quantization"]["int8_accuracy"]["n_videos"], 12);
    assert!(info["evaluations"].as_array().is_none_or(|e| e.is_empty()), "the float file's evaluations are not copied");

    // The same model again: refused before any clip is built.
    let again = motus(&[
        "quant",
        "--model",
        out.to_str().unwrap(),
        "--calib",
        list.to_str().unwrap(),
        "--out",
        dir.path().join("x.onnx").to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already quantized"), "{}", stderr(&again));
}

#[test]
fn quant_refuses_bad_arguments_with_a_clear_message() {
    let m = bundled();
    let m = m.to_str().unwrap();
    for (args, needle) in [
        (vec!["quant", "--model", m, "--out", "/tmp/never.onnx"], "--calib LIST is needed"),
        (vec!["quant", "--model", m, "--out", "/tmp/never.onnx", "--calib", "x", "--max-drop=-1"], "--max-drop"),
        (
            vec!["quant", "--model", m, "--out", "/tmp/never.onnx", "--calib", "x", "--calib-clips", "0"],
            "empty calibration set",
        ),
        (
            vec!["quant", "--model", m, "--out", "/tmp/never.onnx", "--calib", "/nonexistent/list.txt"],
            "no such list file",
        ),
        (vec!["quant", "--model", m, "--out", "/tmp/never.onnx", "--observer", "kl"], "expected minmax"),
    ] {
        let o = motus(&args);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
}
