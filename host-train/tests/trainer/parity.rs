//! The trainer's libtorch networks and the device's tract runtime compute the same function:
//! for every architecture (edge defaults and every small variant), random weights run through
//! tch and through tract on the exported ONNX agree to |Δlogit| ≤ 1e-4 at batch 1 and 3.
//! Also: checkpoints round-trip, bad checkpoints are refused, training mode back-propagates,
//! and 2D→3D inflation keeps a static clip's response.

use motus_core::infer::{Classifier, InputTensor};
use motus_models::ir::{random_input, Builder, Graph};
use motus_models::spec::{default_for, tiny_variants, ArchSpec, ARCH_NAMES};
use motus_models::ModelCard;
use motus_train::checkpoint::{Checkpoint, CheckpointError};
use motus_train::export::export_checkpoint;
use motus_train::inflate::inflate;
use motus_train::net::{IrNet, NetError};
use std::collections::HashMap;
use tch::{Device, Kind, Tensor};

const TOLERANCE: f32 = 1e-4;

fn labels(k: usize) -> Vec<String> {
    (0..k).map(|i| format!("action{i}")).collect()
}

/// A checkpoint as training would leave it: the card with the flow engine's real parameters.
fn checkpoint(spec: &ArchSpec, weights: HashMap<String, Vec<f32>>) -> Checkpoint {
    let graph = spec.lower().unwrap();
    let mut card = ModelCard::for_spec(spec, &graph, labels(spec.num_classes()));
    if let Some(flow) = &mut card.flow {
        let engine = motus_core::flow::FlowConfig {
            algorithm: motus_core::flow::config::TVL1.into(),
            params: motus_core::flow::TvL1Params::edge(),
            bound: flow.bound,
            stack_len: flow.stack_len,
            mean_subtraction: flow.mean_subtraction,
        };
        *flow = engine.to_card();
    }
    Checkpoint { card, graph: Default::default(), weights, state: HashMap::new(), train: serde_json::Value::Null }
}

/// Random inputs for `batch` clips, per graph input: (name, shape with batch, data).
fn inputs(graph: &Graph, batch: usize, seed: u64) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    graph
        .inputs
        .iter()
        .enumerate()
        .map(|(i, decl)| {
            let mut shape = decl.shape.clone();
            shape[0] = batch;
            let n = shape.iter().product();
            (decl.name.clone(), shape, random_input(n, seed + i as u64))
        })
        .collect()
}

fn tch_logits(net: &IrNet, xs: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<f32> {
    let tensors: Vec<(String, Tensor)> = xs
        .iter()
        .map(|(n, s, d)| (n.clone(), Tensor::from_slice(d).reshape(s.iter().map(|&v| v as i64).collect::<Vec<_>>())))
        .collect();
    let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let out = tch::no_grad(|| net.forward(&refs, false)).unwrap();
    Vec::<f32>::try_from(&out.contiguous().view(-1)).unwrap()
}

fn tract_logits(model: &mut Classifier, xs: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<f32> {
    let ins: Vec<InputTensor> = xs.iter().map(|(n, s, d)| InputTensor { name: n, shape: s, data: d }).collect();
    model.run(&ins).unwrap().logits
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn check_parity(label: &str, spec: &ArchSpec) {
    let graph = spec.lower().unwrap();
    let weights = graph.random_weights(11);
    let net = IrNet::with_weights(graph.clone(), &weights, Device::Cpu).unwrap();
    let bytes = export_checkpoint(&checkpoint(spec, weights), true).unwrap();
    let mut model = Classifier::from_bytes(&bytes, label).unwrap();
    for batch in [1, 3] {
        let xs = inputs(&graph, batch, 100 + batch as u64);
        let (a, b) = (tch_logits(&net, &xs), tract_logits(&mut model, &xs));
        assert_eq!(a.len(), batch * spec.num_classes(), "{label}");
        assert!(a.iter().all(|v| v.is_finite()), "{label}: non-finite logits {a:?}");
        let d = max_abs_diff(&a, &b);
        eprintln!(
            "{label:<28} batch {batch}: max |Δlogit| {d:.2e} (logit range ±{:.1})",
            a.iter().fold(0f32, |m, v| m.max(v.abs()))
        );
        assert!(d <= TOLERANCE, "{label} batch {batch}: tch and tract differ by {d}\ntch   {a:?}\ntract {b:?}");
    }
}

#[test]
fn every_edge_default_agrees_between_tch_and_tract() {
    tch::set_num_threads(2);
    for name in ARCH_NAMES {
        check_parity(name, &default_for(name, 10).unwrap());
    }
}

#[test]
fn every_variant_agrees_between_tch_and_tract() {
    tch::set_num_threads(2);
    for (label, spec) in tiny_variants() {
        check_parity(label, &spec);
    }
}

#[test]
fn unfolded_batchnorm_export_agrees_too() {
    let spec = tiny_variants().into_iter().find(|(n, _)| *n == "c3d").unwrap().1;
    let graph = spec.lower().unwrap();
    let weights = graph.random_weights(5);
    let net = IrNet::with_weights(graph.clone(), &weights, Device::Cpu).unwrap();
    let bytes = export_checkpoint(&checkpoint(&spec, weights), false).unwrap();
    let mut model = Classifier::from_bytes(&bytes, "c3d-bn").unwrap();
    let xs = inputs(&graph, 2, 3);
    assert!(max_abs_diff(&tch_logits(&net, &xs), &tract_logits(&mut model, &xs)) <= TOLERANCE);
}

#[test]
fn training_mode_backpropagates_into_every_trainable_parameter() {
    tch::manual_seed(0);
    for (label, spec) in tiny_variants() {
        let graph = spec.lower().unwrap();
        let net = IrNet::new(graph.clone(), Device::Cpu, 0);
        let xs = inputs(&graph, 2, 9);
        let tensors: Vec<(String, Tensor)> = xs
            .iter()
            .map(|(n, s, d)| {
                (n.clone(), Tensor::from_slice(d).reshape(s.iter().map(|&v| v as i64).collect::<Vec<_>>()))
            })
            .collect();
        let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let logits = net.forward(&refs, true).unwrap();
        let target = Tensor::from_slice(&[0i64, 1]);
        let loss = logits.cross_entropy_for_logits(&target);
        loss.backward();
        for (name, var) in net.var_store().variables() {
            if name.ends_with("running_mean") || name.ends_with("running_var") {
                assert!(!var.requires_grad(), "{label}: {name} must not train");
                continue;
            }
            let g = var.grad();
            assert!(g.defined(), "{label}: {name} got no gradient");
            assert!(g.isfinite().all().int64_value(&[]) == 1, "{label}: {name} gradient not finite");
        }
        // Training mode moved the BatchNorm running statistics off their initial values.
        let moved = net
            .var_store()
            .variables()
            .iter()
            .filter(|(n, _)| n.ends_with("running_mean"))
            .any(|(_, v)| v.abs().sum(Kind::Float).double_value(&[]) > 0.0);
        assert!(moved, "{label}: running statistics not updated in training mode");
    }
}

#[test]
fn weights_read_back_are_the_weights_loaded() {
    let spec = default_for("two-stream", 4).unwrap();
    let graph = spec.lower().unwrap();
    let w = graph.random_weights(1);
    let net = IrNet::with_weights(graph, &w, Device::Cpu).unwrap();
    assert_eq!(net.weights(), w);
}

#[test]
fn weights_that_do_not_match_the_spec_are_refused() {
    let spec = default_for("c3d", 4).unwrap();
    let graph = spec.lower().unwrap();
    let good = graph.random_weights(1);

    let mut missing = good.clone();
    missing.remove("conv1.conv.weight");
    let e = IrNet::with_weights(graph.clone(), &missing, Device::Cpu).unwrap_err();
    assert!(matches!(&e, NetError::MissingWeight(n) if n == "conv1.conv.weight"), "{e}");

    let mut short = good.clone();
    short.get_mut("fc.bias").unwrap().pop();
    let e = IrNet::with_weights(graph.clone(), &short, Device::Cpu).unwrap_err();
    assert!(e.to_string().contains("fc.bias") && e.to_string().contains("3 values"), "{e}");

    let mut extra = good;
    extra.insert("fc2.weight".into(), vec![0.0; 4]);
    let e = IrNet::with_weights(graph, &extra, Device::Cpu).unwrap_err();
    assert!(matches!(&e, NetError::UnknownWeight(n) if n == "fc2.weight"), "{e}");
}

#[test]
fn wrong_input_shapes_are_refused() {
    let spec = tiny_variants().into_iter().find(|(n, _)| *n == "two-stream average").unwrap().1;
    let net = IrNet::new(spec.lower().unwrap(), Device::Cpu, 0);
    let rgb = Tensor::zeros([1, 3, 32, 32], (Kind::Float, Device::Cpu));
    let bad_flow = Tensor::zeros([1, 2, 32, 32], (Kind::Float, Device::Cpu));
    let e = net.forward(&[("rgb", &rgb), ("flow", &bad_flow)], false).unwrap_err();
    assert!(e.to_string().contains("flow") && e.to_string().contains("does not fit"), "{e}");
    let e = net.forward(&[("rgb", &rgb)], false).unwrap_err();
    assert!(e.to_string().contains("not given"), "{e}");
}

#[test]
fn checkpoints_round_trip_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spec = tiny_variants().into_iter().find(|(n, _)| *n == "cnn-lstm").unwrap().1;
    let graph = spec.lower().unwrap();
    let mut ckpt = checkpoint(&spec, graph.random_weights(3));
    ckpt.state.insert("momentum/fc.bias".into(), (vec![5], vec![0.5; 5]));
    ckpt.train = serde_json::json!({"epoch": 3, "best_video_top1": 0.75});
    let path = dir.path().join("run.safetensors");
    ckpt.save(&path).unwrap();
    let back = Checkpoint::load(&path).unwrap();
    assert_eq!(back.card, ckpt.card);
    assert_eq!(back.weights, ckpt.weights);
    assert_eq!(back.state, ckpt.state);
    assert_eq!(back.train, ckpt.train);
    // No temporary file left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let bytes = std::fs::read(&path).unwrap();
    let truncated = dir.path().join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = Checkpoint::load(&truncated).unwrap_err();
    assert!(matches!(e, CheckpointError::Format { .. }), "{e}");

    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"not a checkpoint at all").unwrap();
    assert!(matches!(Checkpoint::load(&garbage).unwrap_err(), CheckpointError::Format { .. }));

    // A plain safetensors file from elsewhere: tensors, but no card.
    let plain = dir.path().join("plain.safetensors");
    let t = Tensor::zeros([2], (Kind::Float, Device::Cpu));
    Tensor::write_safetensors(&[("w", &t)], &plain).unwrap();
    let e = Checkpoint::load(&plain).unwrap_err();
    assert!(matches!(e, CheckpointError::NoCard { .. }), "{e}");

    // A card whose architecture the weights do not fit.
    let mut other = ckpt.clone();
    other.card.arch = default_for("c3d", 5).unwrap();
    let e = other.save(&dir.path().join("mismatch.safetensors")).unwrap_err();
    assert!(e.to_string().contains("missing weight"), "{e}");

    assert!(matches!(Checkpoint::load(&dir.path().join("absent")).unwrap_err(), CheckpointError::Read { .. }));
}

#[test]
fn export_refuses_a_card_with_flow_the_runtime_cannot_compute() {
    let spec = tiny_variants().into_iter().find(|(n, _)| *n == "two-stream average").unwrap().1;
    let graph = spec.lower().unwrap();
    let mut ckpt = checkpoint(&spec, graph.random_weights(1));
    ckpt.card.flow.as_mut().unwrap().algorithm = "farneback".into();
    let e = export_checkpoint(&ckpt, true).unwrap_err();
    assert!(format!("{e:#}").contains("farneback"), "{e:#}");
}

#[test]
fn inflated_3d_conv_answers_a_static_clip_like_its_2d_source() {
    let (c, o, t, n) = (2, 4, 5, 8);
    let mut b2 = Builder::new();
    let x2 = b2.input("x", "NCHW", vec![1, c, n, n]);
    let y2 = b2.conv("c", &x2, o, &[3, 3], &[1, 1], &[1, 1], true).unwrap();
    let g2 = b2.finish(&y2);
    let mut b3 = Builder::new();
    let x3 = b3.input("x", "NCTHW", vec![1, c, t, n, n]);
    let y3 = b3.conv("c", &x3, o, &[3, 3, 3], &[1, 1, 1], &[1, 1, 1], true).unwrap();
    let g3 = b3.finish(&y3);

    let w2 = g2.random_weights(4);
    let w3 = inflate(&g3.params, &w2).unwrap();
    let net2 = IrNet::with_weights(g2, &w2, Device::Cpu).unwrap();
    let net3 = IrNet::with_weights(g3, &w3, Device::Cpu).unwrap();

    let frame = Tensor::from_slice(&random_input(c * n * n, 8)).reshape([1, c as i64, n as i64, n as i64]);
    let clip = frame.unsqueeze(2).repeat([1, 1, t as i64, 1, 1]);
    let y2 = tch::no_grad(|| net2.forward(&[("x", &frame)], false)).unwrap();
    let y3 = tch::no_grad(|| net3.forward(&[("x", &clip)], false)).unwrap();
    // Interior time steps see three identical frames: exactly the 2D response.
    for step in 1..t as i64 - 1 {
        let d = (y3.select(2, step) - &y2).abs().max().double_value(&[]);
        assert!(d < 1e-5, "time step {step}: {d}");
    }
    // Edge steps see a zero-padded frame: two thirds of it (minus the bias share).
    assert!((y3.select(2, 0) - &y2).abs().max().double_value(&[]) > 1e-3);

    let mut bad = w2.clone();
    bad.insert("c.weight".into(), vec![0.0; 3]);
    assert!(matches!(inflate(&net3.graph().params, &bad), Err(NetError::WeightShape { .. })));
}

#[test]
fn a_trained_2d_twin_inflates_into_a_runnable_i3d() {
    let spec = tiny_variants().into_iter().find(|(n, _)| *n == "i3d two-stream").unwrap().1;
    let ArchSpec::I3d(i3d) = &spec else { panic!() };
    let twin = i3d.lower_2d_twin().unwrap();
    let w2 = twin.random_weights(2);
    let g3 = spec.lower().unwrap();
    let w3 = inflate(&g3.params, &w2).unwrap();
    let net = IrNet::with_weights(g3.clone(), &w3, Device::Cpu).unwrap();
    let logits = tch_logits(&net, &inputs(&g3, 1, 1));
    assert!(logits.iter().all(|v| v.is_finite()));
    // And the twin itself trains through the same interpreter.
    let twin_net = IrNet::with_weights(twin.clone(), &w2, Device::Cpu).unwrap();
    assert!(tch_logits(&twin_net, &inputs(&twin, 2, 1)).iter().all(|v| v.is_finite()));
}
