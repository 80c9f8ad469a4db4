//! The quantized models run in tract and agree with float within quantization error, for every
//! architecture of the zoo (tiny random-weight variants, random clips); bad inputs are refused.

use std::collections::BTreeSet;

use motus_models::spec::tiny_variants;
use motus_models::{export, ArchSpec, ExportOptions, ModelCard};
use motus_quant::{Format, ObserverKind, QuantizeError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use motus_core::infer::test_models::card_for;
use motus_core::infer::Classifier;

fn float_model(spec: &ArchSpec) -> (Vec<u8>, ModelCard) {
    let (g, card) = card_for(spec, (0..spec.num_classes()).map(|i| format!("c{i}")).collect());
    let bytes = export(&g, &g.random_weights(11), &card, &ExportOptions::default()).unwrap();
    let card = motus_models::onnx::model_card(&motus_models::read_model(&bytes).unwrap()).unwrap();
    (bytes, card)
}

/// Clips of roughly normalised pixels / flow: each input a smooth field plus noise, with an
/// offset and gain per input that every seed shares (calibration and test clips come from one
/// distribution, as a calibration set and the device's clips do).
fn random_clips(card: &ModelCard, n: usize, seed: u64) -> ClipSet {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut shared = ChaCha8Rng::seed_from_u64(99);
    let gains: Vec<(f32, f32)> =
        card.inputs.iter().map(|_| (shared.random_range(-0.5f32..0.5), shared.random_range(0.5f32..1.2))).collect();
    let clips = (0..n)
        .map(|k| {
            let inputs = card
                .inputs
                .iter()
                .zip(&gains)
                .map(|(d, &(a, b))| {
                    let shape: Vec<usize> =
                        std::iter::once(1).chain(d.shape[1..].iter().map(|&x| x as usize)).collect();
                    let len: usize = shape.iter().product();
                    let phase = rng.random_range(0.0f32..6.3);
                    let data = (0..len)
                        .map(|i| a + b * ((i as f32 * 0.013 + phase).sin() + rng.random_range(-1.0f32..1.0)))
                        .collect();
                    OwnedInput { name: d.name.clone(), shape, data }
                })
                .collect();
            Clip { video: k, label: k % card.labels.len(), inputs }
        })
        .collect();
    ClipSet { clips, skipped: vec![] }
}

fn cfg(format: Format) -> QuantConfig {
    QuantConfig { format, observer: ObserverKind::MinMax, max_drop: None, keep_float: BTreeSet::new(), workers: 2 }
}

fn logits(bytes: &[u8], clips: &ClipSet) -> Vec<Vec<f32>> {
    let mut c = Classifier::from_bytes(bytes, "test").unwrap();
    clips.clips.iter().map(|clip| c.run(&clip.tensors()).unwrap().logits_row(0).to_vec()).collect()
}

/// ‖q − f‖ / ‖f − mean f‖ over all clips' logits: 0 for identical outputs, ~1 or more for
/// unrelated ones (a wrong scale, a transposed weight).
fn relative_error(f: &[Vec<f32>], q: &[Vec<f32>]) -> f64 {
    let all: Vec<f64> = f.iter().flatten().map(|&x| x as f64).collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let spread: f64 = all.iter().map(|x| (x - mean).powi(2)).sum::<f64>().sqrt();
    let err: f64 =
        f.iter().flatten().zip(q.iter().flatten()).map(|(&a, &b)| (a as f64 - b as f64).powi(2)).sum::<f64>().sqrt();
    err / spread.max(1e-12)
}

#[test]
fn every_zoo_architecture_runs_in_int8_in_tract_and_agrees_with_float() {
    for (name, spec) in tiny_variants() {
        let (bytes, card) = float_model(&spec);
        let calib = random_clips(&card, 8, 1);
        let test = random_clips(&card, 6, 2);
        let f = logits(&bytes, &test);
        for format in [Format::QOperator, Format::Qdq, Format::Weights] {
            let d = Described { clips: &calib, description: "random".into() };
            let out = quantize_model(&bytes, None, Some(d), None, &cfg(format), &mut |_| {})
                .unwrap_or_else(|e| panic!("{name} {format:?}: {e}"));
            let q = logits(&out.bytes, &test);
            let err = relative_error(&f, &q);
            // 8-bit grids on every layer of a random net: 0.4-2.7% here; a broken rewrite (a
            // misread scale, axis or transpose) is ~100%. Weight-only rounds weights alone.
            let bound = if format == Format::Weights { 0.02 } else { 0.06 };
            assert!(err < bound, "{name} {format:?}: relative logit error {err:.4}");
            assert!(err > 0.0, "{name} {format:?}: identical logits, so nothing was quantized");
            let rec = out.card.quantization.as_ref().unwrap();
            assert_eq!(rec.format, format.name());
            assert!(!rec.quantized_nodes.is_empty());
            if format == Format::QOperator {
                let ops: Vec<String> = motus_models::read_model(&out.bytes)
                    .unwrap()
                    .graph
                    .unwrap()
                    .node
                    .iter()
                    .map(|n| n.op_type.clone())
                    .collect();
                assert!(ops.iter().any(|o| o == "QLinearConv"), "{name}: {ops:?}");
                assert!(!ops.iter().any(|o| o == "Conv"), "{name}: a conv left in float");
            }
        }
    }
}

#[test]
fn tract_runs_the_int8_kernels_for_qlinearconv() {
    // The optimised plan of a qoperator model holds integer matrix products (i32 accumulators),
    // not an f32 conv: tract really computes in int8.
    let (_, spec) = tiny_variants().into_iter().find(|(n, _)| *n == "c3d").unwrap();
    let (bytes, card) = float_model(&spec);
    let calib = random_clips(&card, 3, 5);
    let out = quantize_model(
        &bytes,
        None,
        Some(Described { clips: &calib, description: "r".into() }),
        None,
        &cfg(Format::QOperator),
        &mut |_| {},
    )
    .unwrap();
    let kernels = crate::quantize::kernels::plan_kernels(&out.bytes, &card).unwrap();
    assert!(kernels.iter().any(|k| k.contains("i32")), "{kernels:?}");
    let fk = crate::quantize::kernels::plan_kernels(&bytes, &card).unwrap();
    assert!(fk.iter().all(|k| !k.contains("i32")) && !fk.is_empty(), "{fk:?}");
}

#[test]
fn calibration_refuses_empty_sets_and_clips_of_the_wrong_shape() {
    let (_, spec) = tiny_variants().into_iter().find(|(n, _)| *n == "two-stream average").unwrap();
    let (bytes, card) = float_model(&spec);
    let empty = ClipSet::default();
    let err = quantize_model(
        &bytes,
        None,
        Some(Described { clips: &empty, description: "e".into() }),
        None,
        &cfg(Format::QOperator),
        &mut |_| {},
    )
    .err()
    .unwrap();
    assert!(matches!(err, QuantRunError::EmptySet(_)), "{err}");
    assert!(err.to_string().contains("calibration set is empty"), "{err}");
    // Clips made for a model with another input size.
    let mut other = spec.clone();
    if let ArchSpec::TwoStream(t) = &mut other {
        t.input_size = 48;
    }
    let (_, other_card) = float_model(&other);
    let wrong = random_clips(&other_card, 2, 3);
    let err = quantize_model(
        &bytes,
        None,
        Some(Described { clips: &wrong, description: "w".into() }),
        None,
        &cfg(Format::QOperator),
        &mut |_| {},
    )
    .err()
    .unwrap();
    let msg = err.to_string();
    assert!(
        matches!(err, QuantRunError::Shape { .. })
            && msg.contains("calibration clip 0")
            && msg.contains("[1, 3, 48, 48]"),
        "{msg}"
    );
    // A clip missing an input.
    let mut missing = random_clips(&card, 1, 4);
    missing.clips[0].inputs.pop();
    let err = quantize_model(
        &bytes,
        None,
        Some(Described { clips: &missing, description: "m".into() }),
        None,
        &cfg(Format::QOperator),
        &mut |_| {},
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("is missing"), "{err}");
    // The validation set is checked the same way.
    let calib = random_clips(&card, 2, 5);
    let err = quantize_model(
        &bytes,
        None,
        Some(Described { clips: &calib, description: "c".into() }),
        Some(Described { clips: &wrong, description: "v".into() }),
        &cfg(Format::QOperator),
        &mut |_| {},
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("validation clip 0"), "{err}");
}

#[test]
fn an_already_quantized_model_is_refused() {
    let (_, spec) = tiny_variants().into_iter().find(|(n, _)| *n == "single-frame").unwrap();
    let (bytes, card) = float_model(&spec);
    let calib = random_clips(&card, 2, 1);
    let out = quantize_model(
        &bytes,
        None,
        Some(Described { clips: &calib, description: "c".into() }),
        None,
        &cfg(Format::QOperator),
        &mut |_| {},
    )
    .unwrap();
    let again = quantize_model(
        &out.bytes,
        None,
        Some(Described { clips: &calib, description: "c".into() }),
        None,
        &cfg(Format::QOperator),
        &mut |_| {},
    );
    assert!(matches!(again, Err(QuantRunError::Quantize(QuantizeError::AlreadyQuantized(_)))), "{:?}", again.err());
}

#[test]
fn the_lstm_stays_float_and_is_named_in_the_card() {
    let (_, spec) = tiny_variants().into_iter().find(|(n, _)| *n == "cnn-lstm").unwrap();
    let (bytes, card) = float_model(&spec);
    let calib = random_clips(&card, 2, 1);
    let out = quantize_model(
        &bytes,
        None,
        Some(Described { clips: &calib, description: "c".into() }),
        None,
        &cfg(Format::QOperator),
        &mut |_| {},
    )
    .unwrap();
    let rec = out.card.quantization.unwrap();
    assert!(
        rec.float_nodes.iter().any(|f| f.op == "LSTM" && f.reason.contains("no int8 form")),
        "{:?}",
        rec.float_nodes
    );
    assert!(out.analysis.unhandled_ops.contains("LSTM"));
}

#[test]
fn the_guard_records_both_accuracies_and_falls_back_layer_by_layer() {
    let (_, spec) = tiny_variants().into_iter().find(|(n, _)| *n == "two-stream average").unwrap();
    let (bytes, card) = float_model(&spec);
    let calib = random_clips(&card, 4, 1);
    let val = random_clips(&card, 10, 2);
    // A generous budget: accepted at once, nothing kept in float.
    let mut c = cfg(Format::QOperator);
    c.max_drop = Some(100.0);
    let out = quantize_model(
        &bytes,
        None,
        Some(Described { clips: &calib, description: "calib".into() }),
        Some(Described { clips: &val, description: "val".into() }),
        &c,
        &mut |_| {},
    )
    .unwrap();
    let g = out.guard.as_ref().unwrap();
    assert!(g.within_budget && g.sensitivity.is_empty() && g.steps.len() == 1);
    let rec = out.card.quantization.as_ref().unwrap();
    assert_eq!(rec.float_accuracy.as_ref().unwrap().n_videos, 10);
    assert_eq!(rec.int8_accuracy.as_ref().unwrap().video_top1, g.int8.video_top1);
    assert_eq!(rec.float_accuracy.as_ref().unwrap().video_top1, g.float.video_top1);
    // An impossible budget (the int8 model must beat float by a point): every layer is ranked,
    // they go back to float one by one, and the result says the budget was not met.
    c.max_drop = Some(-1.0);
    let out = quantize_model(
        &bytes,
        None,
        Some(Described { clips: &calib, description: "calib".into() }),
        Some(Described { clips: &val, description: "val".into() }),
        &c,
        &mut |_| {},
    )
    .unwrap();
    let g = out.guard.unwrap();
    let n = out.analysis.candidates.len();
    assert_eq!(g.sensitivity.len(), n);
    assert!(g.sensitivity.windows(2).all(|w| w[0].1 >= w[1].1), "ranked most sensitive first");
    assert_eq!(g.steps.len(), n + 1);
    assert!(!g.within_budget);
    assert_eq!(g.drop_points, 0.0, "all-float equals float");
    assert!(out.quantized.quantized.is_empty());
}

/// Writes every zoo architecture (tiny, random weights) in each int8 form, with random clips
/// and tract's logits on them, for `tests/python/quant_crosscheck_onnxruntime.py`:
/// `MOTUS_QUANT_DUMP=DIR cargo test -p motus-lab --lib quantize::tests::dump_for_onnxruntime -- --ignored --exact`
#[test]
#[ignore]
fn dump_for_onnxruntime() {
    let Ok(dir) = std::env::var("MOTUS_QUANT_DUMP") else { return };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (label, spec) in tiny_variants() {
        let (bytes, card) = float_model(&spec);
        let file = label.replace([' ', '+'], "_");
        let calib = random_clips(&card, 6, 1);
        let test = random_clips(&card, 3, 2);
        std::fs::write(dir.join(format!("{file}.float.onnx")), &bytes).unwrap();
        for format in [Format::QOperator, Format::Qdq, Format::Weights] {
            let out = quantize_model(
                &bytes,
                None,
                Some(Described { clips: &calib, description: "random".into() }),
                None,
                &cfg(format),
                &mut |_| {},
            )
            .unwrap();
            let name = format!("{file}.{}", format.name());
            std::fs::write(dir.join(format!("{name}.onnx")), &out.bytes).unwrap();
            let clips: Vec<serde_json::Value> = test
                .clips
                .iter()
                .zip(logits(&out.bytes, &test))
                .zip(logits(&bytes, &test))
                .map(|((c, q), f)| {
                    let inputs: serde_json::Map<String, serde_json::Value> = c
                        .inputs
                        .iter()
                        .map(|i| (i.name.clone(), serde_json::json!({"shape": i.shape, "data": i.data})))
                        .collect();
                    serde_json::json!({"inputs": inputs, "tract_logits": q, "float_logits": f})
                })
                .collect();
            std::fs::write(
                dir.join(format!("{name}.json")),
                serde_json::json!({"arch": label, "format": format.name(), "clips": clips}).to_string(),
            )
            .unwrap();
        }
    }
}
