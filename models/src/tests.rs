//! Specs, IR counts, ONNX writing/reading and the model card (tract runs are tested in
//! `motus_core::infer`).

use crate::card::{CardError, ModelCard};
use crate::ir::{inflation_source, Builder, OpKind};
use crate::onnx::{self, ExportError, ExportOptions, ReadError};
use crate::spec::*;
use crate::Graph;
use std::collections::HashMap;

fn labels(k: usize) -> Vec<String> {
    (0..k).map(|i| format!("c{i}")).collect()
}

fn small_two_stream() -> ArchSpec {
    let bb = Backbone2d { stem: 4, widths: vec![8], depth: 1 };
    ArchSpec::TwoStream(TwoStream {
        num_classes: 3,
        input_size: 16,
        flow_stack: 2,
        spatial: bb.clone(),
        temporal: bb,
        fusion: Fusion::Average,
    })
}

fn exported(spec: &ArchSpec) -> (Graph, HashMap<String, Vec<f32>>, ModelCard, Vec<u8>) {
    let g = spec.lower().unwrap();
    let w = g.random_weights(1);
    let card = ModelCard::for_spec(spec, &g, labels(spec.num_classes()));
    let bytes = onnx::export(&g, &w, &card, &ExportOptions::default()).unwrap();
    (g, w, card, bytes)
}

#[test]
fn every_default_lowers_and_round_trips_as_json() {
    for name in ARCH_NAMES {
        let spec = default_for(name, 10).unwrap();
        assert_eq!(spec.name(), name);
        let g = spec.lower().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(g.num_classes(), 10, "{name}");
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.contains(&format!("\"arch\":\"{name}\"")), "{json}");
        let back: ArchSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, spec);
        eprintln!("{name:>12}: {:>9} params, {:>6.3} GFLOPs/clip", g.num_params(), g.flops() as f64 / 1e9);
    }
}

#[test]
fn edge_two_stream_fits_budget() {
    let g = default_for("two-stream", 101).unwrap().lower().unwrap();
    assert_eq!(g.inputs[0].shape, vec![1, 3, 112, 112]);
    assert_eq!(g.inputs[1].shape, vec![1, 20, 112, 112]);
    assert!(g.num_params() <= 5_000_000, "{} params", g.num_params());
    assert!(g.flops() <= 2_000_000_000, "{} FLOPs", g.flops());
}

#[test]
fn unknown_arch_lists_known_ones() {
    let e = default_for("resnet-lstm", 3).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("resnet-lstm"), "{msg}");
    for name in ARCH_NAMES {
        assert!(msg.contains(name), "{msg}");
    }
    let e = serde_json::from_str::<ArchSpec>(r#"{"arch": "x3d", "num_classes": 2}"#).unwrap_err();
    assert!(e.to_string().contains("x3d"), "{e}");
}

#[test]
fn too_small_specs_are_refused() {
    let mut s = default_for("c3d", 0).unwrap();
    assert!(matches!(s.lower(), Err(SpecError::TooSmall { field: "num_classes", .. })));
    if let ArchSpec::C3d(c) = &mut s {
        c.num_classes = 2;
        c.input_size = 8;
        c.widths = vec![4; 6];
    }
    // 8 px cannot be halved five times.
    let e = s.lower().unwrap_err();
    assert!(e.to_string().contains("c3d"), "{e}");
}

/// FLOPs and params of a one-conv, one-linear graph, by hand.
#[test]
fn counts_by_hand() {
    let mut b = Builder::new();
    let x = b.input("x", "NCHW", vec![1, 3, 8, 8]);
    let c = b.conv("conv", &x, 4, &[3, 3], &[1, 1], &[1, 1], true).unwrap();
    let f = b.global_pool_flat("head", &c).unwrap();
    let l = b.linear("fc", &f, 5).unwrap();
    let g = b.finish(&l);
    assert_eq!(g.num_params(), 4 * 3 * 9 + 4 + 5 * 4 + 5);
    // conv: 4·8·8 outputs × 27 MACs × 2; fc: 5 outputs × 4 MACs × 2.
    assert_eq!(g.flops(), 2 * 4 * 64 * 27 + 2 * 5 * 4);
}

#[test]
fn lstm_flops_and_names() {
    let spec = ArchSpec::CnnLstm(CnnLstm {
        num_classes: 2,
        clip_len: 4,
        input_size: 16,
        backbone: Backbone2d { stem: 4, widths: vec![8], depth: 1 },
        hidden: 6,
    });
    let g = spec.lower().unwrap();
    for n in [
        "lstm.weight_ih_l0",
        "lstm.weight_hh_l0",
        "lstm.bias_ih_l0",
        "lstm.bias_hh_l0",
        "backbone.stem.conv.weight",
        "backbone.stem.bn.running_var",
        "fc.weight",
    ] {
        assert!(g.param(n).is_some(), "missing {n}");
    }
    assert_eq!(g.param("lstm.weight_ih_l0").unwrap().shape, vec![24, 8]);
    let lstm_op = g.ops.iter().find(|o| matches!(o.kind, OpKind::Lstm { .. })).unwrap();
    assert_eq!(lstm_op.shape, vec![1, 4, 6]);
}

#[test]
fn i3d_parameters_map_to_2d() {
    let g = default_for("i3d", 5).unwrap().lower().unwrap();
    let p = g.param("rgb.mixed3a.b1b.conv.weight").unwrap();
    assert_eq!(p.shape.len(), 5);
    let (shape2d, kt) = inflation_source(p).unwrap();
    assert_eq!((shape2d, kt), (vec![p.shape[0], p.shape[1], 3, 3], 3));
    assert!(inflation_source(g.param("rgb.fc.weight").unwrap()).is_none());
    assert!(g.inputs.iter().any(|i| i.name == "flow" && i.shape == vec![1, 2, 16, 112, 112]));
}

#[test]
fn weights_mismatch_names_the_parameter() {
    let spec = small_two_stream();
    let g = spec.lower().unwrap();
    let card = ModelCard::for_spec(&spec, &g, labels(3));
    let opts = ExportOptions::default();
    let mut w = g.random_weights(3);
    w.remove("temporal.stem.conv.weight");
    match onnx::export(&g, &w, &card, &opts) {
        Err(e @ ExportError::MissingWeight { .. }) => assert!(e.to_string().contains("temporal.stem.conv.weight")),
        other => panic!("{other:?}"),
    }
    let mut w = g.random_weights(3);
    w.get_mut("spatial.fc.bias").unwrap().push(0.0);
    match onnx::export(&g, &w, &card, &opts) {
        Err(e @ ExportError::WrongSize { .. }) => assert!(e.to_string().contains("spatial.fc.bias"), "{e}"),
        other => panic!("{other:?}"),
    }
    let mut w = g.random_weights(3);
    w.insert("spatial.fc2.weight".into(), vec![0.0]);
    match onnx::export(&g, &w, &card, &opts) {
        Err(e @ ExportError::UnexpectedWeight { .. }) => assert!(e.to_string().contains("spatial.fc2.weight")),
        other => panic!("{other:?}"),
    }
    let mut w = g.random_weights(3);
    w.get_mut("spatial.fc.weight").unwrap()[2] = f32::NAN;
    assert!(matches!(onnx::export(&g, &w, &card, &opts), Err(ExportError::NonFinite { index: 2, .. })));
}

#[test]
fn export_and_read_back() {
    let spec = small_two_stream();
    let (g, w, card, bytes) = exported(&spec);
    let m = onnx::read_model(&bytes).unwrap();
    assert_eq!(m.opset_import[0].version, 17);
    let graph = m.graph.as_ref().unwrap();
    let outs: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outs, ["logits", "probs"]);
    assert_eq!(
        onnx::graph_inputs(&m),
        vec![("rgb".to_string(), vec![-1, 3, 16, 16]), ("flow".to_string(), vec![-1, 4, 16, 16])]
    );
    assert_eq!(
        graph.input[0].r#type.as_ref().unwrap().tensor_type.as_ref().unwrap().shape.as_ref().unwrap().dim[0]
            .dim_param
            .as_deref(),
        Some("N")
    );
    assert!(graph.node.iter().any(|n| n.name == "spatial.stage0.unit0.conv" && n.op_type == "Conv"));
    let back = onnx::model_card(&m).unwrap();
    let mut want = card.clone();
    want.weights_sha256 = crate::card::weights_sha256(&g.params, &w);
    assert_eq!(back, want);
    assert_eq!(back.weights_sha256.len(), 64);
    // Different weights, different hash.
    assert_ne!(crate::card::weights_sha256(&g.params, &g.random_weights(2)), back.weights_sha256);
}

#[test]
fn truncated_onnx_is_refused() {
    let (_, _, _, bytes) = exported(&small_two_stream());
    assert_eq!(onnx::read_model(&[]), Err(ReadError::Empty));
    for cut in [3, 100, bytes.len() / 2, bytes.len() - 300] {
        match onnx::read_model(&bytes[..cut]) {
            Err(e @ (ReadError::Corrupt(_) | ReadError::NoGraph)) => assert!(!e.to_string().is_empty()),
            Ok(m) => {
                // Cut between top-level fields: the card is then incomplete.
                assert!(onnx::model_card(&m).is_err(), "cut at {cut} parsed with a whole card");
            }
            Err(e) => panic!("cut at {cut}: {e}"),
        }
    }
    let err = onnx::read_model(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(err.to_string().contains("truncated or corrupt"), "{err}");
}

fn meta() -> (ModelCard, Vec<(String, String)>) {
    let spec = small_two_stream();
    let g = spec.lower().unwrap();
    let card = ModelCard::for_spec(&spec, &g, labels(3));
    let m = card.to_metadata();
    (card, m)
}

fn with(m: &[(String, String)], key: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut m: Vec<_> = m.iter().filter(|(k, _)| k != key).cloned().collect();
    if let Some(v) = value {
        m.push((key.to_string(), v.to_string()));
    }
    m
}

#[test]
fn card_round_trip() {
    let (card, m) = meta();
    assert!(m.iter().all(|(k, _)| k.starts_with("motus.")));
    assert_eq!(ModelCard::from_metadata(&m).unwrap(), card);
    // Foreign keys are ignored.
    let mut m2 = m.clone();
    m2.push(("author".into(), "someone".into()));
    assert_eq!(ModelCard::from_metadata(&m2).unwrap(), card);
    // Also usable as a JSON sidecar.
    let j = serde_json::to_string(&card).unwrap();
    assert_eq!(serde_json::from_str::<ModelCard>(&j).unwrap(), card);
}

#[test]
fn card_errors() {
    let (_, m) = meta();
    assert_eq!(ModelCard::from_metadata(&[]), Err(CardError::NoCard));
    assert_eq!(ModelCard::from_metadata(&[("author".into(), "x".into())]), Err(CardError::NoCard));
    assert_eq!(ModelCard::from_metadata(&with(&m, "motus.labels", None)), Err(CardError::MissingKey("motus.labels")));
    match ModelCard::from_metadata(&with(&m, "motus.arch", Some("{\"arch\": \"two-stream\""))) {
        Err(e @ CardError::BadValue { key: "motus.arch", .. }) => assert!(e.to_string().contains("motus.arch")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        ModelCard::from_metadata(&with(&m, "motus.clip_len", Some("sixteen"))),
        Err(CardError::BadValue { key: "motus.clip_len", .. })
    ));
    assert!(matches!(ModelCard::from_metadata(&with(&m, "motus.card_version", Some("9"))), Err(CardError::Version(_))));
    assert!(matches!(
        ModelCard::from_metadata(&with(&m, "motus.frame_stride", Some("0"))),
        Err(CardError::Contract(_))
    ));
    // Contradictions within the card.
    let e = ModelCard::from_metadata(&with(&m, "motus.labels", Some("[\"a\", \"b\"]"))).unwrap_err();
    assert!(matches!(e, CardError::Contradiction(_)) && e.to_string().contains("2 labels"), "{e}");
    let e = ModelCard::from_metadata(&with(&m, "motus.flow", Some("null"))).unwrap_err();
    assert!(e.to_string().contains("flow"), "{e}");
    let e = ModelCard::from_metadata(&with(&m, "motus.input_size", Some("224"))).unwrap_err();
    assert!(matches!(e, CardError::Contradiction(_)), "{e}");
    // Class names reach logs, file names and metric series: hostile ones are refused.
    let long = format!("[\"a\", \"b\", \"{}\"]", "x".repeat(201));
    for (labels, why) in [
        ("[\"a\", \"\", \"c\"]", "is empty"),
        ("[\"a\", \"b\\nc\", \"d\"]", "control character"),
        ("[\"a\", \"b\", \"a\"]", "appears twice"),
        (long.as_str(), "longer than 200"),
    ] {
        let e = ModelCard::from_metadata(&with(&m, "motus.labels", Some(labels))).unwrap_err();
        assert!(matches!(e, CardError::BadValue { key: "motus.labels", .. }) && e.to_string().contains(why), "{e}");
    }
    // Spaces, punctuation and non-ASCII letters are ordinary class names.
    let fine = "[\"passing American football (in game)\", \"Pretending to put [something] on/into it\", \"café\"]";
    assert!(ModelCard::from_metadata(&with(&m, "motus.labels", Some(fine))).is_ok());
}

#[test]
fn card_contradicting_its_graph() {
    let (card, _) = meta();
    let good = vec![("rgb".to_string(), vec![-1, 3, 16, 16]), ("flow".to_string(), vec![-1, 4, 16, 16])];
    assert_eq!(card.check_graph(&good, 3), Ok(()));
    let e = card.check_graph(&good, 4).unwrap_err();
    assert!(e.to_string().contains("outputs 4 classes"), "{e}");
    let e = card.check_graph(&[good[0].clone(), ("flow".into(), vec![-1, 6, 16, 16])], 3).unwrap_err();
    assert!(e.to_string().contains("\"flow\""), "{e}");
    let e = card.check_graph(&[good[0].clone()], 3).unwrap_err();
    assert!(e.to_string().contains("not a graph input"), "{e}");
    let e = card.check_graph(&[good[0].clone(), good[1].clone(), ("depth".into(), vec![-1, 1])], 3).unwrap_err();
    assert!(e.to_string().contains("depth"), "{e}");

    // The same through a file: a card from another model attached to this graph.
    let (_, _, _, bytes) = exported(&small_two_stream());
    let mut m = onnx::read_model(&bytes).unwrap();
    let other = ArchSpec::TwoStream(match small_two_stream() {
        ArchSpec::TwoStream(mut t) => {
            t.num_classes = 7;
            t
        }
        _ => unreachable!(),
    });
    let g7 = other.lower().unwrap();
    let card7 = ModelCard::for_spec(&other, &g7, labels(7));
    m.metadata_props = card7
        .to_metadata()
        .into_iter()
        .map(|(key, value)| crate::onnx::proto::StringStringEntryProto { key, value })
        .collect();
    let e = onnx::model_card(&m).unwrap_err();
    assert!(e.to_string().contains("7 labels but the model outputs 3"), "{e}");

    // Exporting with a card that does not fit the graph is refused too.
    let g = small_two_stream().lower().unwrap();
    let w = g.random_weights(0);
    assert!(matches!(onnx::export(&g, &w, &card7, &ExportOptions::default()), Err(ExportError::Card(_))));
}

#[test]
fn ir_serialises() {
    let g = small_two_stream().lower().unwrap();
    let j = serde_json::to_string(&g).unwrap();
    assert!(j.contains("\"op\":\"conv\""), "{}", &j[..200]);
    assert_eq!(serde_json::from_str::<Graph>(&j).unwrap(), g);
}

#[test]
fn sidecar_round_trip_and_errors() {
    for name in ARCH_NAMES {
        let spec = default_for(name, 4).unwrap();
        let g = spec.lower().unwrap();
        let mut card = ModelCard::for_spec(&spec, &g, labels(4));
        if let Some(f) = &mut card.flow {
            f.params = serde_json::json!({"preset": "fast", "levels": 3});
        }
        let text = card.to_toml().unwrap();
        assert_eq!(ModelCard::from_toml(&text).unwrap(), card, "{name}:\n{text}");
    }
    let (card, _) = meta();
    let text = card.to_toml().unwrap();
    let e = ModelCard::from_toml(&text.replace("labels", "classes")).unwrap_err();
    assert!(matches!(e, CardError::Sidecar(_)) && e.to_string().contains("labels"), "{e}");
    let e = ModelCard::from_toml("this is = = not toml").unwrap_err();
    assert!(matches!(e, CardError::Sidecar(_)), "{e}");
    assert_eq!(
        crate::card::sidecar_path(std::path::Path::new("/m/x3d.onnx")),
        std::path::PathBuf::from("/m/x3d.card.toml")
    );
}

#[test]
fn i3d_2d_twin_has_the_i3d_parameter_names_with_2d_kernels() {
    for flow in [true, false] {
        let ArchSpec::I3d(mut s) = default_for("i3d", 10).unwrap() else { panic!("i3d default is not I3d") };
        s.flow = flow;
        let g3 = ArchSpec::I3d(s.clone()).lower().unwrap();
        let g2 = s.lower_2d_twin().unwrap();
        assert_eq!(g2.params.len(), g3.params.len());
        for p3 in &g3.params {
            let p2 = g2.param(&p3.name).unwrap_or_else(|| panic!("2D twin lacks {}", p3.name));
            match crate::ir::inflation_source(p3) {
                Some((shape2d, kt)) => {
                    assert_eq!(p2.shape, shape2d, "{}", p3.name);
                    assert!(kt == 1 || kt == 3, "{}: kt {kt}", p3.name);
                }
                None => assert_eq!(p2.shape, p3.shape, "{}", p3.name),
            }
        }
        assert_eq!(g2.num_classes(), 10);
        let names: Vec<&str> = g2.inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, if flow { vec!["rgb", "flow"] } else { vec!["rgb"] });
        assert_eq!(g2.inputs[0].shape, vec![1, s.clip_len, 3, s.input_size, s.input_size]);
    }
}

#[test]
fn replacing_the_card_records_evaluations_and_keeps_the_graph() {
    let spec = default_for("two-stream", 4).unwrap();
    let g = spec.lower().unwrap();
    let w = g.random_weights(2);
    let mut card = ModelCard::for_spec(&spec, &g, (0..4).map(|i| format!("c{i}")).collect());
    card.flow.as_mut().unwrap().params = serde_json::json!({"tau": 0.25});
    let bytes = onnx::export(&g, &w, &card, &ExportOptions::default()).unwrap();
    let stamped = onnx::model_card(&onnx::read_model(&bytes).unwrap()).unwrap();
    let mut with_eval = stamped.clone();
    with_eval.evaluations.push(crate::card::CardEvaluation {
        data: "synthetic test split, seed 9".into(),
        method: "tract, centre crop".into(),
        n_videos: 36,
        clip_top1: 0.9,
        video_top1: 0.97,
        video_top5: 1.0,
    });
    let out = onnx::replace_card(&bytes, &with_eval).unwrap();
    let m = onnx::read_model(&out).unwrap();
    assert_eq!(onnx::model_card(&m).unwrap(), with_eval);
    assert_eq!(m.graph, onnx::read_model(&bytes).unwrap().graph);
    // The TOML sidecar form keeps them too.
    assert_eq!(ModelCard::from_toml(&with_eval.to_toml().unwrap()).unwrap(), with_eval);

    let mut other_weights = with_eval.clone();
    other_weights.weights_sha256 = "00".repeat(32);
    assert!(matches!(onnx::replace_card(&bytes, &other_weights), Err(ReadError::Card(CardError::Contradiction(_)))));
    let mut other_labels = with_eval;
    other_labels.labels.pop();
    assert!(onnx::replace_card(&bytes, &other_labels).is_err());
}

#[test]
fn quantization_record_round_trips_and_old_cards_have_none() {
    let spec = default_for("c3d", 3).unwrap();
    let g = spec.lower().unwrap();
    let w = g.random_weights(4);
    let card = ModelCard::for_spec(&spec, &g, (0..3).map(|i| format!("c{i}")).collect());
    let bytes = onnx::export(&g, &w, &card, &ExportOptions::default()).unwrap();
    let stamped = onnx::model_card(&onnx::read_model(&bytes).unwrap()).unwrap();
    assert_eq!(stamped.quantization, None, "a float export has no quantization section");
    assert!(!onnx::metadata(&onnx::read_model(&bytes).unwrap()).iter().any(|(k, _)| k == "motus.quantization"));
    let mut q = stamped.clone();
    q.quantization = Some(crate::QuantizationRecord {
        format: "qoperator".into(),
        observer: "minmax".into(),
        scheme: "s8 per-channel weights, u8 activations".into(),
        calibration: "calib.txt, 8 clips".into(),
        source_sha256: "ab".repeat(32),
        quantized_nodes: vec!["conv1".into()],
        float_nodes: vec![crate::FloatNode { node: "fc".into(), op: "Gemm".into(), reason: "sensitive".into() }],
        max_drop: Some(1.0),
        float_accuracy: None,
        int8_accuracy: None,
    });
    let out = onnx::replace_card(&bytes, &q).unwrap();
    assert_eq!(onnx::model_card(&onnx::read_model(&out).unwrap()).unwrap(), q);
    assert_eq!(ModelCard::from_toml(&q.to_toml().unwrap()).unwrap(), q);
    // A malformed section is refused with its key named.
    let mut m = onnx::read_model(&out).unwrap();
    m.metadata_props.iter_mut().find(|e| e.key == "motus.quantization").unwrap().value = "{".into();
    let err = onnx::model_card(&m).unwrap_err().to_string();
    assert!(err.contains("motus.quantization"), "{err}");
}

#[test]
fn the_frame_rate_round_trips_and_a_bad_or_missing_one_is_handled() {
    let spec = default_for("two-stream", 3).unwrap();
    let g = spec.lower().unwrap();
    let w = g.random_weights(5);
    let mut card = ModelCard::for_spec(&spec, &g, (0..3).map(|i| format!("c{i}")).collect());
    card.flow.as_mut().unwrap().params = serde_json::json!({"tau": 0.25});
    let bytes = onnx::export(&g, &w, &card, &ExportOptions::default()).unwrap();
    let stamped = onnx::model_card(&onnx::read_model(&bytes).unwrap()).unwrap();
    // A card without a rate (every card before rates were recorded) has no key and reads as None.
    assert_eq!(stamped.input.fps, None);
    assert!(!onnx::metadata(&onnx::read_model(&bytes).unwrap()).iter().any(|(k, _)| k == "motus.fps"));
    let mut at30 = stamped.clone();
    at30.input.fps = Some(29.97);
    let out = onnx::replace_card(&bytes, &at30).unwrap();
    let m = onnx::read_model(&out).unwrap();
    assert_eq!(onnx::model_card(&m).unwrap().input.fps, Some(29.97));
    // The sidecar says it as `[input] fps = …`.
    let toml = at30.to_toml().unwrap();
    assert!(toml.contains("fps = 29.97"), "{toml}");
    assert_eq!(ModelCard::from_toml(&toml).unwrap(), at30);
    // Invalid rates are refused with the key or the field named, in both forms.
    for bad in ["0", "-25", "1000", "\"thirty\""] {
        let mut m = onnx::read_model(&out).unwrap();
        m.metadata_props.iter_mut().find(|e| e.key == "motus.fps").unwrap().value = bad.into();
        let err = onnx::model_card(&m).unwrap_err().to_string();
        assert!(err.contains("fps"), "{bad}: {err}");
    }
    let err = ModelCard::from_toml(&toml.replace("fps = 29.97", "fps = 0.0")).unwrap_err().to_string();
    assert!(err.contains("fps"), "{err}");
    let mut bad = at30.clone();
    bad.input.fps = Some(f64::NAN);
    assert!(onnx::replace_card(&bytes, &bad).is_err());

    // False-alert measurements ride along the same way, and old cards have none.
    assert!(at30.alert_benchmarks.is_empty());
    let mut measured = at30;
    measured.alert_benchmarks.push(crate::AlertBenchmark {
        data: "real clips, 28 clips".into(),
        method: "motus bench alerts, device defaults".into(),
        minutes: 2.24,
        alerts: 11,
        false_alerts: 10,
        false_alerts_per_minute: 4.46,
    });
    let out = onnx::replace_card(&bytes, &measured).unwrap();
    assert_eq!(onnx::model_card(&onnx::read_model(&out).unwrap()).unwrap(), measured);
    assert_eq!(ModelCard::from_toml(&measured.to_toml().unwrap()).unwrap(), measured);
}
