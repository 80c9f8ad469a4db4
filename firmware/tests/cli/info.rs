//! `motus info` on exported models: embedded card, sidecar card, and broken files.

use std::path::Path;
use std::process::{Command, Output};

use motus_core::flow::{FlowConfig, TvL1Params};
use motus_models::card::ModelCard;
use motus_models::onnx::{export, ExportOptions};
use motus_models::spec::default_for;

fn motus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motus")).args(args).output().expect("motus runs")
}

/// Writes the default two-stream model with random weights and a TV-L1 flow card.
fn write_model(path: &Path, embed_card: bool) -> ModelCard {
    let labels: Vec<String> = motus_core::synth::class_names().iter().map(|s| s.to_string()).collect();
    let spec = default_for("two-stream", labels.len()).unwrap();
    let graph = spec.lower().unwrap();
    let weights = graph.random_weights(1);
    let mut card = ModelCard::for_spec(&spec, &graph, labels);
    let stack = card.flow.as_ref().unwrap().stack_len;
    card.flow = Some(FlowConfig::tvl1(TvL1Params::edge(), 20.0, stack).to_card());
    let bytes = export(&graph, &weights, &card, &ExportOptions::default()).unwrap();
    let bytes = if embed_card {
        bytes
    } else {
        // Strip the metadata: a model exported by another tool.
        use prost::Message;
        let mut m = motus_models::onnx::read_model(&bytes).unwrap();
        m.metadata_props.clear();
        m.encode_to_vec()
    };
    std::fs::write(path, bytes).unwrap();
    card
}

#[test]
fn info_prints_the_card() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.onnx");
    write_model(&model, true);
    let out = motus(&["info", model.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::golden::assert_fields("info", &r);
    assert_eq!(r["arch"], "two-stream");
    assert_eq!(r["labels"].as_array().unwrap().len(), 12);
    let inputs = r["inputs"].as_array().unwrap();
    assert_eq!(inputs.iter().map(|i| i["name"].as_str().unwrap()).collect::<Vec<_>>(), vec!["rgb", "flow"]);
    for i in inputs {
        assert!(i["layout"].is_string() && i["shape"].is_array() && i["dtype"] == "f32", "{i}");
    }
    for key in ["clip_len", "frame_stride", "input_size", "normalization", "weights_sha256", "producer"] {
        assert!(!r[key].is_null(), "{key} missing: {r}");
    }
    assert_eq!(r["flow"]["algorithm"], "tvl1");
    assert_eq!(r["flow"]["bound"], 20.0);
    assert!(r["flow"]["params"]["lambda"].is_number());
    assert_eq!(r["card"], "embedded");
    let text = motus(&["info", model.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("two-stream"));
}

#[test]
fn a_foreign_model_needs_a_sidecar_card() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("foreign.onnx");
    let card = write_model(&model, false);
    let out = motus(&["info", model.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("foreign.onnx") && err.to_lowercase().contains("card"), "{err}");
    std::fs::write(motus_models::card::sidecar_path(&model), card.to_toml().unwrap()).unwrap();
    let out = motus(&["info", model.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["card"], "sidecar");
    // A card that contradicts the graph (wrong number of labels) is refused.
    let mut wrong = card.clone();
    wrong.labels.pop();
    let bad = dir.path().join("bad.card.toml");
    std::fs::write(&bad, wrong.to_toml().unwrap()).unwrap();
    let out = motus(&["info", model.to_str().unwrap(), "--card", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("contradicts"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn truncated_and_missing_models_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.onnx");
    write_model(&model, true);
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&model, &bytes[..bytes.len() / 3]).unwrap();
    let out = motus(&["info", model.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("m.onnx"));
    let out = motus(&["info", dir.path().join("none.onnx").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("none.onnx"));
}

#[test]
fn card_set_records_the_frame_rate_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.onnx");
    write_model(&model, true);
    let m = model.to_str().unwrap();
    let before = std::fs::read(&model).unwrap();
    let info =
        |path: &str| -> serde_json::Value { serde_json::from_slice(&motus(&["info", path, "--json"]).stdout).unwrap() };
    assert_eq!(info(m)["fps"], serde_json::Value::Null, "a fresh export records no rate");
    let out = motus(&["card", "set", m, "--fps", "12.5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = info(m);
    assert_eq!(after["fps"], 12.5);
    let graph = |bytes: &[u8]| motus_models::onnx::read_model(bytes).unwrap().graph;
    assert_eq!(graph(&std::fs::read(&model).unwrap()), graph(&before), "graph and weights stay byte for byte");
    // Into another file, leaving the model as it is.
    let copy = dir.path().join("copy.onnx");
    assert!(motus(&["card", "set", m, "--fps", "60", "--out", copy.to_str().unwrap()]).status.success());
    assert_eq!(info(copy.to_str().unwrap())["fps"], 60.0);
    assert_eq!(info(m)["fps"], 12.5);
    // Bad requests are refused, the file untouched.
    for (args, needle) in [
        (vec!["--fps", "0"], "fps"),
        (vec!["--fps", "1e6"], "fps"),
        (vec!["--fps", "NaN"], "fps"),
        (vec![], "nothing to set"),
    ] {
        let mut all = vec!["card", "set", m];
        all.extend(args.iter().copied());
        let out = motus(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(needle), "{args:?}: {err}");
    }
    assert_eq!(info(m)["fps"], 12.5);
    // A model without an embedded card has nothing to edit.
    let bare = dir.path().join("bare.onnx");
    write_model(&bare, false);
    let out = motus(&["card", "set", bare.to_str().unwrap(), "--fps", "30"]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("embedded"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
