//! Every architecture exported with random weights and run by tract; error paths of loading
//! and running; one hand-computed network.

use super::*;
use motus_models::ir::{random_input, Builder, OpKind};
use motus_models::onnx::{self as mo, ExportOptions};
use motus_models::spec::*;
use motus_models::{export, ArchSpec, Graph, ModelCard};
use prost::Message as _;

fn bb(stem: usize, widths: &[usize]) -> Backbone2d {
    Backbone2d { stem, widths: widths.to_vec(), depth: 1 }
}

fn labels(k: usize) -> Vec<String> {
    (0..k).map(|i| format!("class{i}")).collect()
}

fn export_spec(spec: &ArchSpec, fold: bool) -> (Graph, Vec<u8>) {
    let g = spec.lower().unwrap();
    let w = g.random_weights(7);
    let card = ModelCard::for_spec(spec, &g, labels(spec.num_classes()));
    let bytes = export(&g, &w, &card, &ExportOptions { fold_batchnorm: fold }).unwrap();
    (g, bytes)
}

/// One input's name, per-sample shape and per-sample data.
type Samples = Vec<(String, Vec<usize>, Vec<Vec<f32>>)>;

/// Per-sample random inputs (one Vec per card input) for `batch` samples.
fn samples(card: &ModelCard, batch: usize, seed: u64) -> Samples {
    card.inputs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let shape: Vec<usize> = d.shape[1..].iter().map(|&x| x as usize).collect();
            let n: usize = shape.iter().product();
            let per = (0..batch).map(|b| random_input(n, seed * 1000 + (i * 100 + b) as u64)).collect();
            (d.name.clone(), shape, per)
        })
        .collect()
}

fn run_rows(c: &mut Classifier, s: &Samples, rows: &[usize]) -> Scores {
    let data: Vec<(Vec<usize>, Vec<f32>)> = s
        .iter()
        .map(|(_, shape, per)| {
            let mut full = vec![rows.len()];
            full.extend(shape);
            (full, rows.iter().flat_map(|&r| per[r].iter().copied()).collect())
        })
        .collect();
    let inputs: Vec<InputTensor> =
        s.iter().zip(&data).map(|((name, _, _), (shape, d))| InputTensor { name, shape, data: d }).collect();
    c.run(&inputs).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn every_architecture_runs_in_tract() {
    for (label, spec) in motus_models::spec::tiny_variants() {
        let (g, folded) = export_spec(&spec, true);
        let (_, unfolded) = export_spec(&spec, false);
        let k = spec.num_classes();
        let mut c = Classifier::from_bytes(&folded, label).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(c.card().arch, spec, "{label}");
        let s = samples(c.card(), 3, 11);
        let b3 = run_rows(&mut c, &s, &[0, 1, 2]);
        assert_eq!((b3.batch, b3.num_classes, b3.logits.len(), b3.probs.len()), (3, k, 3 * k, 3 * k), "{label}");
        assert!(b3.logits.iter().chain(&b3.probs).all(|v| v.is_finite()), "{label}: non-finite output {b3:?}");
        for r in 0..3 {
            let sum: f32 = b3.probs_row(r).iter().sum();
            assert!((sum - 1.0).abs() < 1e-5, "{label}: probs row {r} sums to {sum}");
            let b1 = run_rows(&mut c, &s, &[r]);
            let d = max_abs_diff(b1.logits_row(0), b3.logits_row(r));
            assert!(d <= 1e-5, "{label}: batch row {r} differs from its batch-1 run by {d}");
            assert!(max_abs_diff(b1.probs_row(0), b3.probs_row(r)) <= 1e-5, "{label}");
        }
        // Rows are different inputs, so they should not all give the same answer.
        assert!(max_abs_diff(b3.logits_row(0), b3.logits_row(1)) > 0.0, "{label}: rows identical");
        assert_eq!(c.planned_batches(), vec![1, 3]);

        let mut u = Classifier::from_bytes(&unfolded, label).unwrap();
        let u3 = run_rows(&mut u, &s, &[0, 1, 2]);
        let d = max_abs_diff(&u3.logits, &b3.logits);
        eprintln!("{label:>26}: {} params, max |Δlogit| folded vs unfolded {d:.2e}", g.num_params());
        assert!(d <= 1e-4, "{label}: BatchNorm folding changed logits by {d}");

        // Folding removed every BatchNormalization node; the unfolded file keeps them.
        let count = |bytes: &[u8]| {
            mo::read_model(bytes)
                .unwrap()
                .graph
                .unwrap()
                .node
                .iter()
                .filter(|n| n.op_type == "BatchNormalization")
                .count()
        };
        let n_bn = g.ops.iter().filter(|o| matches!(o.kind, OpKind::BatchNorm { .. })).count();
        assert_eq!(count(&folded), 0, "{label}");
        assert_eq!(count(&unfolded), n_bn, "{label}");
    }
}

/// conv 2×2 (all weights 0.1, bias −1.5) → ReLU → flatten → linear, on a 3×3 image 1..9.
#[test]
fn hand_computed_network() {
    let mut b = Builder::new();
    let x = b.input("x", "NCHW", vec![1, 1, 3, 3]);
    let c = b.conv("conv", &x, 1, &[2, 2], &[1, 1], &[0, 0], true).unwrap();
    let r = b.unary("relu", OpKind::Relu, &c).unwrap();
    let f = b.flatten("flatten", &r, 1).unwrap();
    let l = b.linear("fc", &f, 2).unwrap();
    let g = b.finish(&l);
    let w: HashMap<String, Vec<f32>> = [
        ("conv.weight", vec![0.1; 4]),
        ("conv.bias", vec![-1.5]),
        ("fc.weight", vec![1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 2.0, 0.0]),
        ("fc.bias", vec![0.0, 1.0]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    // Any spec with 2 classes, 1 frame and input size 3 can carry this graph's card.
    let spec = ArchSpec::SingleFrame(SingleFrame { num_classes: 2, clip_len: 1, input_size: 3, backbone: bb(1, &[1]) });
    let card = ModelCard::for_spec(&spec, &g, vec!["a".into(), "b".into()]);
    let bytes = export(&g, &w, &card, &ExportOptions::default()).unwrap();
    let mut cl = Classifier::from_bytes(&bytes, "hand").unwrap();
    let img: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let out = cl.run(&[InputTensor { name: "x", shape: &[1, 1, 3, 3], data: &img }]).unwrap();
    // Windows sum to 12, 16, 24, 28 → ×0.1 − 1.5 → ReLU → [0, 0.1, 0.9, 1.3].
    // logits = [0 + 0.1 + 0.9 + 1.3, 0 − 0.1 + 1.8 + 0 + 1] = [2.3, 2.7].
    let want = [2.3f32, 2.7];
    assert!(max_abs_diff(&out.logits, &want) < 1e-5, "{:?}", out.logits);
    let p1 = 1.0 / (1.0 + 0.4f32.exp());
    assert!(max_abs_diff(&out.probs, &[p1, 1.0 - p1]) < 1e-5, "{:?}", out.probs);
}

fn two_stream_bytes() -> (ArchSpec, Vec<u8>) {
    let spec = motus_models::spec::tiny_variants().into_iter().find(|(n, _)| *n == "two-stream average").unwrap().1;
    let (_, bytes) = export_spec(&spec, true);
    (spec, bytes)
}

#[test]
fn truncated_or_corrupt_model_is_refused() {
    let (_, bytes) = two_stream_bytes();
    for cut in [10, bytes.len() / 3, bytes.len() / 2 + 7] {
        let err = Classifier::from_bytes(&bytes[..cut], "cut.onnx").unwrap_err();
        assert!(matches!(err, InferError::Model { .. }), "cut at {cut}: {err}");
        assert!(err.to_string().contains("cut.onnx"), "{err}");
    }
    let err = Classifier::from_bytes(&[], "empty.onnx").unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    let err = Classifier::from_bytes(b"this is not protobuf at all \xff\xff\xff", "junk").unwrap_err();
    assert!(matches!(err, InferError::Model { .. }), "{err}");
    let err = Classifier::load("/nonexistent/model.onnx").unwrap_err();
    assert!(matches!(err, InferError::Io { .. }) && err.to_string().contains("/nonexistent/model.onnx"), "{err}");
}

#[test]
fn model_without_card_is_refused() {
    let (_, bytes) = two_stream_bytes();
    let mut m = mo::proto::ModelProto::decode(&bytes[..]).unwrap();
    m.metadata_props.clear();
    let bare = m.encode_to_vec();
    let err = Classifier::from_bytes(&bare, "bare.onnx").unwrap_err();
    assert!(err.to_string().contains("no motus card"), "{err}");

    // From a file: refused alone, accepted with a sidecar card, refused with a wrong one.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bare.onnx");
    std::fs::write(&path, &bare).unwrap();
    let err = Classifier::load(&path).unwrap_err();
    assert!(err.to_string().contains("no motus card"), "{err}");
    let full = mo::model_card(&mo::read_model(&bytes).unwrap()).unwrap();
    std::fs::write(dir.path().join("bare.card.toml"), full.to_toml().unwrap()).unwrap();
    let c = Classifier::load(&path).unwrap();
    assert_eq!(c.card(), &full);
    let mut wrong = full.clone();
    wrong.inputs[1].shape[1] = 6;
    std::fs::write(dir.path().join("bare.card.toml"), wrong.to_toml().unwrap()).unwrap();
    let err = Classifier::load(&path).unwrap_err();
    assert!(err.to_string().contains("\"flow\""), "{err}");
    std::fs::write(dir.path().join("bare.card.toml"), "labels = 3").unwrap();
    let err = Classifier::load(&path).unwrap_err();
    assert!(err.to_string().contains("bare.card.toml") && err.to_string().contains("sidecar"), "{err}");
    let err = Classifier::load_with_card(&path, wrong).unwrap_err();
    assert!(err.to_string().contains("contradicts"), "{err}");
    assert!(Classifier::load_with_card(&path, full).is_ok());
}

#[test]
fn load_from_file_and_bad_inputs() {
    let (_, bytes) = two_stream_bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.onnx");
    std::fs::write(&path, &bytes).unwrap();
    let mut c = Classifier::load(&path).unwrap();
    let rgb = vec![0.0f32; 3 * 32 * 32];
    let flow = vec![0.0f32; 4 * 32 * 32];
    let ok = c.run(&[
        InputTensor { name: "rgb", shape: &[1, 3, 32, 32], data: &rgb },
        InputTensor { name: "flow", shape: &[1, 4, 32, 32], data: &flow },
    ]);
    assert!(ok.is_ok(), "{ok:?}");
    let cases: Vec<(Vec<InputTensor>, &str)> = vec![
        (vec![InputTensor { name: "rgb", shape: &[1, 3, 32, 32], data: &rgb }], "\"flow\": missing"),
        (
            vec![
                InputTensor { name: "rgb", shape: &[1, 3, 16, 16], data: &rgb[..768] },
                InputTensor { name: "flow", shape: &[1, 4, 32, 32], data: &flow },
            ],
            "does not fit",
        ),
        (
            vec![
                InputTensor { name: "rgb", shape: &[1, 3, 32, 32], data: &rgb[1..] },
                InputTensor { name: "flow", shape: &[1, 4, 32, 32], data: &flow },
            ],
            "values for shape",
        ),
        (
            vec![
                InputTensor { name: "rgb", shape: &[1, 3, 32, 32], data: &rgb },
                InputTensor { name: "flow", shape: &[1, 4, 32, 32], data: &flow },
                InputTensor { name: "depth", shape: &[1], data: &[0.0] },
            ],
            "not an input",
        ),
    ];
    for (inputs, want) in cases {
        let err = c.run(&inputs).unwrap_err();
        assert!(err.to_string().contains(want), "want {want:?}, got {err}");
    }
    let rgb2 = vec![0.0f32; 2 * 3 * 32 * 32];
    let err = c
        .run(&[
            InputTensor { name: "rgb", shape: &[2, 3, 32, 32], data: &rgb2 },
            InputTensor { name: "flow", shape: &[1, 4, 32, 32], data: &flow },
        ])
        .unwrap_err();
    assert!(err.to_string().contains("batch"), "{err}");
}

/// The edge default two-stream model at full size (112×112, L = 10) exports and runs.
#[test]
fn default_two_stream_runs() {
    let spec = motus_models::default_for("two-stream", 4).unwrap();
    let (_, bytes) = export_spec(&spec, true);
    let mut c = Classifier::from_bytes(&bytes, "two-stream").unwrap();
    let s = samples(c.card(), 1, 5);
    let t = std::time::Instant::now();
    let out = run_rows(&mut c, &s, &[0]);
    eprintln!("default two-stream: {} bytes, first run (with planning) {:?}", bytes.len(), t.elapsed());
    assert!(out.probs.iter().all(|p| p.is_finite()));
    assert!((out.probs.iter().sum::<f32>() - 1.0).abs() < 1e-5);
}

/// The LSTM export (PyTorch gate order `i, f, g, o` in the weight file, reordered for ONNX)
/// against a direct evaluation of PyTorch's LSTM equations.
#[test]
fn lstm_matches_pytorch_equations() {
    let (t, f, h) = (3usize, 2usize, 2usize);
    let mut b = Builder::new();
    let x = b.input("x", "NTC", vec![1, t, f]);
    let y = b.lstm("lstm", &x, h).unwrap();
    let m = b.reduce("mean", motus_models::ir::reduce_mean, &y, 1, false).unwrap();
    let g = b.finish(&m);
    let w = g.random_weights(42);
    let spec = ArchSpec::SingleFrame(SingleFrame { num_classes: h, clip_len: t, input_size: 8, backbone: bb(1, &[1]) });
    let card = ModelCard::for_spec(&spec, &g, labels(h));
    let bytes = export(&g, &w, &card, &ExportOptions::default()).unwrap();
    let mut c = Classifier::from_bytes(&bytes, "lstm").unwrap();
    let xs = random_input(t * f, 9);
    let out = c.run(&[InputTensor { name: "x", shape: &[1, t, f], data: &xs }]).unwrap();

    let (wi, wh, bi, bh) =
        (&w["lstm.weight_ih_l0"], &w["lstm.weight_hh_l0"], &w["lstm.bias_ih_l0"], &w["lstm.bias_hh_l0"]);
    let sig = |v: f32| 1.0 / (1.0 + (-v).exp());
    let (mut hs, mut cs) = (vec![0.0f32; h], vec![0.0f32; h]);
    let mut mean = vec![0.0f32; h];
    for step in 0..t {
        let xt = &xs[step * f..(step + 1) * f];
        let gate = |r: usize| -> f32 {
            bi[r]
                + bh[r]
                + (0..f).map(|j| wi[r * f + j] * xt[j]).sum::<f32>()
                + (0..h).map(|j| wh[r * h + j] * hs[j]).sum::<f32>()
        };
        let pre: Vec<f32> = (0..4 * h).map(gate).collect();
        for u in 0..h {
            let (i, fg, gg, o) = (sig(pre[u]), sig(pre[h + u]), pre[2 * h + u].tanh(), sig(pre[3 * h + u]));
            cs[u] = fg * cs[u] + i * gg;
            hs[u] = o * cs[u].tanh(); // `pre` already holds this step's gates
            mean[u] += hs[u] / t as f32;
        }
    }
    let d = max_abs_diff(&out.logits, &mean);
    assert!(d < 1e-5, "tract {:?} vs equations {mean:?}", out.logits);
}

/// NetVLAD lowering against its definition, evaluated directly.
#[test]
fn netvlad_matches_definition() {
    let (t, d, k) = (4usize, 3usize, 2usize);
    let mut b = Builder::new();
    let x = b.input("x", "NTC", vec![1, t, d]);
    let feats = b.reshape("feats", &x, &[d]).unwrap();
    let v = netvlad(&mut b, "pool", &feats, t, d, k).unwrap();
    let g = b.finish(&v);
    let w = g.random_weights(5);
    let spec =
        ArchSpec::SingleFrame(SingleFrame { num_classes: k * d, clip_len: t, input_size: 8, backbone: bb(1, &[1]) });
    let card = ModelCard::for_spec(&spec, &g, labels(k * d));
    let bytes = export(&g, &w, &card, &ExportOptions::default()).unwrap();
    let mut c = Classifier::from_bytes(&bytes, "netvlad").unwrap();
    let xs = random_input(t * d, 3);
    let out = c.run(&[InputTensor { name: "x", shape: &[1, t, d], data: &xs }]).unwrap();

    let (wa, ba, cen) = (&w["pool.assign.weight"], &w["pool.assign.bias"], &w["pool.centers"]);
    let mut vlad = vec![0.0f32; k * d];
    for i in 0..t {
        let xi = &xs[i * d..(i + 1) * d];
        let s: Vec<f32> = (0..k).map(|kk| ba[kk] + (0..d).map(|j| wa[kk * d + j] * xi[j]).sum::<f32>()).collect();
        let mx = s.iter().cloned().fold(f32::MIN, f32::max);
        let z: f32 = s.iter().map(|v| (v - mx).exp()).sum();
        for kk in 0..k {
            let a = (s[kk] - mx).exp() / z;
            for j in 0..d {
                vlad[kk * d + j] += a * (xi[j] - cen[kk * d + j]);
            }
        }
    }
    for kk in 0..k {
        let n = vlad[kk * d..(kk + 1) * d].iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        vlad[kk * d..(kk + 1) * d].iter_mut().for_each(|v| *v /= n);
    }
    let n = vlad.iter().map(|v| v * v).sum::<f32>().sqrt();
    vlad.iter_mut().for_each(|v| *v /= n);
    let diff = max_abs_diff(&out.logits, &vlad);
    assert!(diff < 1e-5, "tract {:?} vs definition {vlad:?}", out.logits);
}

/// Writes every tiny model, its batch-3 inputs and tract's logits under `$MOTUS_ZOO_DUMP`, for
/// cross-checking with the ONNX checker and onnxruntime outside Rust.
#[test]
#[ignore]
fn dump_for_other_runtimes() {
    let Ok(dir) = std::env::var("MOTUS_ZOO_DUMP") else { return };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (label, spec) in motus_models::spec::tiny_variants() {
        let (_, bytes) = export_spec(&spec, true);
        let file = label.replace([' ', '+'], "_");
        std::fs::write(dir.join(format!("{file}.onnx")), &bytes).unwrap();
        let mut c = Classifier::from_bytes(&bytes, label).unwrap();
        let s = samples(c.card(), 3, 11);
        let out = run_rows(&mut c, &s, &[0, 1, 2]);
        let inputs: serde_json::Map<String, serde_json::Value> = s
            .iter()
            .map(|(name, shape, per)| {
                let mut full = vec![3];
                full.extend(shape);
                let data: Vec<f32> = per.iter().flatten().copied().collect();
                (name.clone(), serde_json::json!({"shape": full, "data": data}))
            })
            .collect();
        let j = serde_json::json!({"inputs": inputs, "logits": out.logits, "probs": out.probs});
        std::fs::write(dir.join(format!("{file}.json")), j.to_string()).unwrap();
    }
}

/// Every edge default at full size through tract, batch 1: prints plan and run times.
/// `cargo test -p motus-core --release --lib infer::tests::defaults -- --ignored --nocapture`
#[test]
#[ignore]
fn defaults_run_at_full_size() {
    for name in motus_models::ARCH_NAMES {
        let spec = motus_models::default_for(name, 10).unwrap();
        let (g, bytes) = export_spec(&spec, true);
        let t0 = std::time::Instant::now();
        let mut c = Classifier::from_bytes(&bytes, name).unwrap();
        let s = samples(c.card(), 1, 1);
        let _ = run_rows(&mut c, &s, &[0]);
        let first = t0.elapsed();
        let t1 = std::time::Instant::now();
        let out = run_rows(&mut c, &s, &[0]);
        let run = t1.elapsed();
        assert!((out.probs.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{name}");
        eprintln!(
            "{name:>12}: {:>5.2} GFLOPs, load+plan+run {first:>9.1?}, run {run:>9.1?} ({:.1} GFLOP/s)",
            g.flops() as f64 / 1e9,
            g.flops() as f64 / 1e9 / run.as_secs_f64()
        );
    }
}

#[test]
fn softmax_of_logits_only_models() {
    let p = softmax_rows(&[0.0, 0.0, 1000.0, 2f32.ln(), 0.0, 2f32.ln()], 3);
    assert!(max_abs_diff(&p[..3], &[0.0, 0.0, 1.0]) < 1e-6, "{p:?}");
    assert!(max_abs_diff(&p[3..], &[2.0 / 5.0, 1.0 / 5.0, 2.0 / 5.0]) < 1e-6, "{p:?}");
}

#[test]
fn temperature_keeps_the_ranking_and_softens_or_sharpens() {
    let p = [0.7f32, 0.2, 0.1];
    assert!(max_abs_diff(&temperature_scaled(&p, 3, 1.0), &p) < 1e-6);
    let soft = temperature_scaled(&p, 3, 2.0);
    let sharp = temperature_scaled(&p, 3, 0.5);
    assert!(soft[0] < 0.7 && sharp[0] > 0.7, "{soft:?} {sharp:?}");
    assert!(soft[0] > soft[1] && soft[1] > soft[2], "the ranking stays: {soft:?}");
    // p^(1/T) renormalised: T = 0.5 squares.
    let sq: f32 = p.iter().map(|v| v * v).sum();
    assert!(max_abs_diff(&sharp, &p.map(|v| v * v / sq)) < 1e-6, "{sharp:?}");
    assert!(temperature_scaled(&[1.0, 0.0], 2, 3.0).iter().all(|v| v.is_finite()), "a zero probability stays finite");
    assert!(temperature_scaled(&[f32::NAN, 0.5], 2, 2.0).iter().any(|v| v.is_nan()), "a broken score is not hidden");
}

/// A card's calibration is applied by the classifier itself, so eval and the live pipeline
/// see the same calibrated scores; the raw logits are left as the graph made them.
#[test]
fn the_cards_temperature_is_applied_to_every_run() {
    let (_, bytes) = two_stream_bytes();
    let mut raw = Classifier::from_bytes(&bytes, "ts.onnx").unwrap();
    let mut card = raw.card().clone();
    let s = samples(&card, 2, 9);
    let before = run_rows(&mut raw, &s, &[0, 1]);
    card.calibration = Some(motus_models::Calibration {
        temperature: 2.0,
        data: "test".into(),
        nll_before: 1.0,
        nll_after: 0.9,
        ece_before: 0.2,
        ece_after: 0.1,
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ts.onnx");
    std::fs::write(&path, &bytes).unwrap();
    let mut calibrated = Classifier::load_with_card(&path, card.clone()).unwrap();
    let after = run_rows(&mut calibrated, &s, &[0, 1]);
    assert_eq!(after.logits, before.logits);
    let k = before.num_classes;
    assert!(max_abs_diff(&after.probs, &temperature_scaled(&before.probs, k, 2.0)) < 1e-6);
    // Cut into towers, it still gives the calibrated scores (the check at the cut compares
    // the graph's own scores, which the towers reproduce).
    calibrated.split_streams().unwrap();
    assert!(calibrated.streams_split());
    let towers = run_rows(&mut calibrated, &s, &[0, 1]);
    assert!(max_abs_diff(&towers.probs, &after.probs) < 1e-4, "{:?} vs {:?}", towers.probs, after.probs);
    card.calibration.as_mut().unwrap().temperature = 0.0;
    assert!(Classifier::load_with_card(&path, card).unwrap_err().to_string().contains("temperature"));
}

/// The runtime is chosen by config: asking for CUDA in a build without it is refused with how
/// to get it, and leaves the CPU plans working; on a build with it but no driver (CI), the
/// refusal names the missing driver instead of failing on the first clip.
#[test]
fn cuda_runtime_is_refused_with_a_reason_when_unavailable() {
    let (label, spec) = motus_models::spec::tiny_variants().into_iter().next().unwrap();
    let (_, bytes) = export_spec(&spec, true);
    let mut c = Classifier::from_bytes(&bytes, label).unwrap();
    let s = samples(c.card(), 1, 3);
    let before = run_rows(&mut c, &s, &[0]);
    assert_eq!("cuda".parse::<InferRuntime>(), Ok(InferRuntime::Cuda));
    assert!("tpu".parse::<InferRuntime>().unwrap_err().to_string().contains("\"tpu\""));
    match c.set_runtime(InferRuntime::Cuda) {
        Ok(()) => {
            if !cfg!(feature = "cuda") {
                panic!("CUDA accepted by a build without the feature");
            }
        }
        Err(e) => {
            let e = e.to_string();
            let why = if cfg!(feature = "cuda") { "CUDA driver" } else { "cuda-XXXXX" };
            assert!(e.contains("runtime cuda") && e.contains(why), "{e}");
            assert_eq!(c.runtime(), InferRuntime::Cpu);
            assert_eq!(run_rows(&mut c, &s, &[0]), before);
        }
    }
    c.set_runtime(InferRuntime::Cpu).unwrap();
    assert_eq!(run_rows(&mut c, &s, &[0]), before);
}

#[test]
fn two_stream_towers_run_apart_and_score_as_the_whole_graph() {
    let (spec, bytes) = two_stream_bytes();
    let mut whole = Classifier::from_bytes(&bytes, "ts.onnx").unwrap();
    let mut split = Classifier::from_bytes(&bytes, "ts.onnx").unwrap();
    split.split_streams().unwrap();
    assert!(split.streams_split() && !whole.streams_split());
    let s = samples(whole.card(), 3, 5);
    // Batch 1 and 3, each row alone and together: the towers' fusion is the graph's.
    for rows in [vec![0], vec![2], vec![0, 1, 2]] {
        let a = run_rows(&mut whole, &s, &rows);
        let b = run_rows(&mut split, &s, &rows);
        assert_eq!(b.batch, rows.len());
        assert!(max_abs_diff(&a.probs, &b.probs) < 1e-5, "{:?} vs {:?}", a.probs, b.probs);
        assert!(max_abs_diff(&a.logits, &b.logits) < 1e-4, "{:?} vs {:?}", a.logits, b.logits);
    }
    assert_eq!(split.planned_batches(), vec![1, 3], "the towers' plans");
    // Bad input is refused as before, with the input named.
    let n = spec.num_classes();
    let err = split.run(&[InputTensor { name: "rgb", shape: &[1, 3, 2, 2], data: &[0.0; 12] }]).unwrap_err();
    assert!(err.to_string().contains("rgb"), "{err} ({n} classes)");
}

#[test]
fn graphs_without_an_average_fusion_stay_whole() {
    for name in ["two-stream learned", "c3d", "fused-3d", "single-frame"] {
        let spec = motus_models::spec::tiny_variants().into_iter().find(|(n, _)| *n == name).unwrap().1;
        let (_, bytes) = export_spec(&spec, true);
        let mut c = Classifier::from_bytes(&bytes, "m.onnx").unwrap();
        let err = c.split_streams().unwrap_err();
        assert!(!c.streams_split(), "{name}");
        assert!(matches!(err, SplitError::NoFusion | SplitError::OneInput(1)), "{name}: {err}");
        // It still runs whole.
        let s = samples(c.card(), 1, 3);
        let out = run_rows(&mut c, &s, &[0]);
        assert_eq!(out.probs.len(), spec.num_classes());
    }
}

#[test]
fn the_hash_names_the_bytes_that_were_parsed() {
    use sha2::Digest;
    let spec = motus_models::spec::tiny_variants().into_iter().next().unwrap().1;
    let (_, bytes) = export_spec(&spec, true);
    let c = Classifier::from_bytes(&bytes, "m.onnx").unwrap();
    let want: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(c.model_sha256(), want);
    // A file replaced after loading does not change what the running classifier names.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.onnx");
    std::fs::write(&path, &bytes).unwrap();
    let loaded = Classifier::load(&path).unwrap();
    std::fs::write(&path, b"replaced").unwrap();
    assert_eq!(loaded.model_sha256(), want);
}

#[test]
fn the_engine_named_in_reports_is_the_one_the_workspace_pins() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap();
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"tract-onnx\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .map(|v| v.trim_end_matches('"'))
        .expect("tract-onnx in Cargo.lock");
    assert_eq!(super::ENGINE, format!("tract-onnx {version}"));
}
