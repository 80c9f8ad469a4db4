//! Graph-level tests of the rewrite on models exported from the zoo's specs (random weights);
//! that the results run in tract and agree with float is tested in `motus` (firmware).

use std::collections::{BTreeSet, HashMap};

use motus_models::onnx::proto::{data_type, ModelProto};
use motus_models::spec::tiny_variants;
use motus_models::{export, ArchSpec, ExportOptions, ModelCard};

use super::*;

fn model(spec: &ArchSpec) -> ModelProto {
    let g = spec.lower().unwrap();
    let card = ModelCard::for_spec(spec, &g, (0..spec.num_classes()).map(|i| format!("c{i}")).collect());
    let bytes = export(&g, &g.random_weights(3), &card, &ExportOptions::default()).unwrap();
    motus_models::read_model(&bytes).unwrap()
}

fn two_stream() -> ModelProto {
    let (_, spec) = tiny_variants().into_iter().find(|(n, _)| *n == "two-stream average").unwrap();
    model(&spec)
}

/// The bundled model's architecture at 32 px: big enough that weights, not per-channel
/// scales and biases, dominate the file (as in every real model).
fn bundled_shape() -> ModelProto {
    use motus_models::spec::{Backbone2d, Fusion, TwoStream};
    let bb = || Backbone2d { stem: 16, widths: vec![16, 32, 64, 128], depth: 1 };
    model(&ArchSpec::TwoStream(TwoStream {
        num_classes: 12,
        input_size: 32,
        flow_stack: 10,
        spatial: bb(),
        temporal: bb(),
        fusion: Fusion::Average,
    }))
}

fn fake_ranges(a: &Analysis) -> HashMap<String, (f32, f32)> {
    a.calibration_values().into_iter().map(|v| (v, (-1.0, 4.0))).collect()
}

fn ops(m: &ModelProto) -> Vec<&str> {
    m.graph.as_ref().unwrap().node.iter().map(|n| n.op_type.as_str()).collect()
}

fn count(m: &ModelProto, op: &str) -> usize {
    ops(m).iter().filter(|&&o| o == op).count()
}

fn opts(format: Format) -> Options {
    Options { format, keep_float: BTreeSet::new() }
}

fn initializer_bytes(m: &ModelProto) -> usize {
    m.graph
        .as_ref()
        .unwrap()
        .initializer
        .iter()
        .map(|t| t.raw_data.len() + 4 * t.float_data.len() + 8 * t.int64_data.len())
        .sum()
}

#[test]
fn analysis_finds_convs_heads_and_fuses_relus() {
    let m = two_stream();
    let a = analyze(&m).unwrap();
    let convs = count(&m, "Conv");
    let gemms = count(&m, "Gemm");
    assert!(convs >= 4 && gemms == 2, "{:?}", ops(&m));
    assert_eq!(a.candidates.iter().filter(|c| c.kind == CandidateKind::Conv).count(), convs);
    assert_eq!(a.candidates.iter().filter(|c| c.kind == CandidateKind::Gemm).count(), gemms);
    // Every conv of this net is followed by a ReLU, which is fused.
    assert!(a.candidates.iter().filter(|c| c.kind == CandidateKind::Conv).all(|c| c.fused_relu.is_some()));
    assert!(a.float_nodes.is_empty(), "{:?}", a.float_nodes);
    assert!(a.calibration_values().contains(&"rgb".to_string()));
}

#[test]
fn qoperator_replaces_every_conv_and_head_and_keeps_float_outputs() {
    let m = two_stream();
    let a = analyze(&m).unwrap();
    let q = quantize(&m, &a, &fake_ranges(&a), &opts(Format::QOperator)).unwrap();
    assert_eq!(count(&q.model, "Conv"), 0);
    assert_eq!(count(&q.model, "QLinearConv"), count(&m, "Conv"));
    assert_eq!(count(&q.model, "MatMulInteger"), 2);
    assert_eq!(count(&q.model, "Relu"), 0, "ReLUs are fused into the QLinearConvs");
    assert_eq!(count(&q.model, "QuantizeLinear"), 2 + 2, "each network input and each head input");
    assert_eq!(q.quantized.len(), a.candidates.len());
    let g = q.model.graph.as_ref().unwrap();
    // The graph's outputs are produced in float by some node.
    for o in &g.output {
        assert!(g.node.iter().any(|n| n.output.contains(&o.name) && n.op_type != "QuantizeLinear"), "{}", o.name);
    }
    // Every node input is produced before it is read (topological order kept).
    let mut known: std::collections::HashSet<&str> =
        g.input.iter().map(|i| i.name.as_str()).chain(g.initializer.iter().map(|t| t.name.as_str())).collect();
    for n in &g.node {
        for i in &n.input {
            assert!(i.is_empty() || known.contains(i.as_str()), "{} reads {i} before it exists", n.name);
        }
        known.extend(n.output.iter().map(String::as_str));
    }
    // Weights are s8, biases i32.
    for n in g.node.iter().filter(|n| n.op_type == "QLinearConv") {
        let t = |name: &str| g.initializer.iter().find(|t| t.name == name).unwrap();
        assert_eq!(t(&n.input[3]).data_type, data_type::INT8);
        assert_eq!(t(&n.input[8]).data_type, data_type::INT32);
        assert_eq!(t(&n.input[4]).dims.len(), 1, "per-channel scales");
    }
}

#[test]
fn every_form_stores_under_30_percent_of_the_float_bytes() {
    let m = bundled_shape();
    let a = analyze(&m).unwrap();
    for f in [Format::QOperator, Format::Qdq, Format::Weights] {
        let q = quantize(&m, &a, &fake_ranges(&a), &opts(f)).unwrap();
        let (qb, fb) = (initializer_bytes(&q.model), initializer_bytes(&m));
        assert!(qb * 10 < fb * 3, "{f:?}: {qb} of {fb} bytes");
    }
}

#[test]
fn keep_float_leaves_that_layer_in_float_and_names_it() {
    let m = two_stream();
    let a = analyze(&m).unwrap();
    let first = a.candidates[0].name.clone();
    let o = Options { format: Format::QOperator, keep_float: [first.clone()].into() };
    let q = quantize(&m, &a, &fake_ranges(&a), &o).unwrap();
    assert_eq!(count(&q.model, "Conv"), 1);
    assert_eq!(count(&q.model, "Relu"), 1, "the kept conv's ReLU runs in float");
    assert!(q.float_nodes.iter().any(|f| f.node == first && f.reason.contains("accuracy guard")));
    assert!(!q.quantized.contains(&first));
    let bad = Options { format: Format::QOperator, keep_float: ["nope".to_string()].into() };
    let err = quantize(&m, &a, &fake_ranges(&a), &bad).unwrap_err();
    assert!(matches!(err, QuantizeError::UnknownNode { .. }), "{err}");
    assert!(err.to_string().contains(&first), "the error lists the candidates: {err}");
}

#[test]
fn qdq_keeps_float_ops_between_quantize_pairs() {
    let m = two_stream();
    let a = analyze(&m).unwrap();
    let q = quantize(&m, &a, &fake_ranges(&a), &opts(Format::Qdq)).unwrap();
    assert_eq!(count(&q.model, "Conv"), count(&m, "Conv"));
    assert_eq!(count(&q.model, "QLinearConv"), 0);
    let g = q.model.graph.as_ref().unwrap();
    for n in g.node.iter().filter(|n| n.op_type == "Conv") {
        for i in &n.input {
            let p = g.node.iter().find(|p| p.output.contains(i)).unwrap_or_else(|| panic!("{i} has no producer"));
            assert_eq!(p.op_type, "DequantizeLinear", "conv {} reads {i} from {}", n.name, p.op_type);
        }
    }
}

#[test]
fn weight_only_needs_no_ranges_and_stores_int8() {
    let m = two_stream();
    let a = analyze(&m).unwrap();
    let q = quantize(&m, &a, &HashMap::new(), &opts(Format::Weights)).unwrap();
    assert_eq!(count(&q.model, "Conv"), count(&m, "Conv"));
    assert_eq!(count(&q.model, "Relu"), count(&m, "Relu"));
    assert_eq!(count(&q.model, "QuantizeLinear"), 0);
    assert_eq!(count(&q.model, "DequantizeLinear"), a.candidates.len());
}

#[test]
fn a_missing_range_is_named() {
    let m = two_stream();
    let a = analyze(&m).unwrap();
    let mut r = fake_ranges(&a);
    r.remove("flow");
    assert_eq!(quantize(&m, &a, &r, &opts(Format::QOperator)).unwrap_err(), QuantizeError::MissingRange("flow".into()));
    r.insert("flow".into(), (f32::NAN, 1.0));
    assert!(matches!(quantize(&m, &a, &r, &opts(Format::QOperator)), Err(QuantizeError::BadRange { .. })));
}

#[test]
fn an_already_quantized_model_is_refused() {
    let m = two_stream();
    let a = analyze(&m).unwrap();
    for f in [Format::QOperator, Format::Qdq, Format::Weights] {
        let q = quantize(&m, &a, &fake_ranges(&a), &opts(f)).unwrap();
        let err = analyze(&q.model).unwrap_err();
        assert!(matches!(err, QuantizeError::AlreadyQuantized(_)), "{f:?}: {err}");
        assert!(err.to_string().contains("float source"), "{err}");
    }
}

#[test]
fn lstm_and_activation_matmuls_stay_float_and_are_named() {
    for (name, spec) in tiny_variants() {
        let m = model(&spec);
        let a = analyze(&m).unwrap();
        let q = quantize(&m, &a, &fake_ranges(&a), &opts(Format::QOperator)).unwrap();
        assert_eq!(count(&q.model, "Conv"), 0, "{name}: every conv quantized");
        if name == "cnn-lstm" {
            assert!(a.unhandled_ops.contains("LSTM"), "{name}: {:?}", a.unhandled_ops);
            assert!(q.float_nodes.iter().any(|f| f.op == "LSTM" && f.reason.contains("no int8 form")));
            // ... from int8-stored weights: W and R come out of per-row DequantizeLinear nodes,
            // and no f32 copy of them is left in the file.
            let g = q.model.graph.as_ref().unwrap();
            let lstm = g.node.iter().find(|n| n.op_type == "LSTM").unwrap();
            let source = m.graph.as_ref().unwrap().node.iter().find(|n| n.op_type == "LSTM").unwrap();
            for k in [1, 2] {
                let dq = g.node.iter().find(|n| n.output.first() == Some(&lstm.input[k])).unwrap();
                assert_eq!(dq.op_type, "DequantizeLinear", "{name}: LSTM input {k}");
                assert!(
                    g.initializer.iter().all(|t| t.name != source.input[k]),
                    "{name}: the f32 {} is gone",
                    source.input[k]
                );
                let q_init = g.initializer.iter().find(|t| t.name == dq.input[0]).unwrap();
                assert_eq!(q_init.data_type, 3, "{name}: stored as int8");
            }
        }
        if name.contains("netvlad") {
            assert!(
                q.float_nodes.iter().any(|f| f.op == "MatMul" && f.reason.contains("activations"))
                    || count(&q.model, "QLinearMatMul") > 0,
                "{name}"
            );
        }
    }
}

#[test]
fn weights_are_rounded_per_row_within_half_a_step() {
    let w = [0.01, -0.02, 0.0, 0.0, 5.0, -2.5];
    let (q, s) = rewrite::quantize_rows(&w, 3).unwrap();
    assert_eq!(s[1], 1.0, "an all-zero row gets scale 1");
    assert_eq!(&q[2..4], &[0, 0]);
    for (i, (&w, &q)) in w.iter().zip(&q).enumerate() {
        assert!((w - q as f32 * s[i / 2]).abs() <= s[i / 2] / 2.0 + 1e-7);
    }
}

#[test]
fn calibration_refuses_empty_sets_and_wrong_tensor_counts() {
    let mut c = Calibration::new(vec!["a".into(), "b".into()], ObserverKind::MinMax);
    assert_eq!(c.ranges().unwrap_err(), CalibrationError::Empty);
    let a = [1.0f32, -1.0];
    assert_eq!(c.observe([&a[..]]).unwrap_err(), CalibrationError::TensorCount { given: 1, observed: 2 });
    c.observe([&a[..], &[2.0f32][..]]).unwrap();
    let r = c.ranges().unwrap();
    assert_eq!(r["a"], (-1.0, 1.0));
    assert_eq!(r["b"], (2.0, 2.0));
    let mut nan = Calibration::new(vec!["x".into()], ObserverKind::MinMax);
    nan.observe([&[f32::NAN][..]]).unwrap();
    assert!(nan.ranges().unwrap_err().to_string().contains("\"x\""));
}

#[test]
fn tap_outputs_appends_values_once() {
    let m = two_stream();
    let t = tap_outputs(&m, &["rgb".into(), "logits".into(), "x".into()]);
    let names: Vec<&str> = t.graph.as_ref().unwrap().output.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["logits", "probs", "rgb", "x"]);
}

#[test]
fn node_names_are_unique_and_never_an_initializer_name() {
    for (name, spec) in tiny_variants() {
        let m = model(&spec);
        let a = analyze(&m).unwrap();
        for f in [Format::QOperator, Format::Qdq, Format::Weights] {
            let q = quantize(&m, &a, &fake_ranges(&a), &opts(f)).unwrap();
            let g = q.model.graph.unwrap();
            let mut seen: std::collections::HashSet<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
            for n in &g.node {
                assert!(seen.insert(n.name.as_str()), "{name} {f:?}: node name {:?} used twice", n.name);
            }
        }
    }
}
