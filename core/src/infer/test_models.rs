//! Small random-weight models of every input layout, exported with a complete card (TV-L1
//! `edge` parameters filled in), for the clip-assembly and evaluation tests.

use std::path::{Path, PathBuf};

use motus_models::onnx::ExportOptions;
use motus_models::spec::*;
use motus_models::{export, ArchSpec, ModelCard};

use crate::flow::TvL1Params;

fn bb(stem: usize, widths: &[usize]) -> Backbone2d {
    Backbone2d { stem, widths: widths.to_vec(), depth: 1 }
}

/// One tiny spec per input layout: `c3d` (NCTHW), `single-frame` (NTCHW), `two-stream`
/// (NCHW + NCHW flow, L = 2), `fused-3d` (NTCHW + NTCHW flow, T = 2, L = 2), `i3d` (NCTHW +
/// NCTHW flow, T = 4).
pub fn tiny_spec(name: &str, classes: usize, size: usize) -> ArchSpec {
    match name {
        "c3d" => {
            ArchSpec::C3d(C3d { num_classes: classes, clip_len: 4, input_size: size, widths: vec![4, 8, 8], depth: 1 })
        }
        "single-frame" => ArchSpec::SingleFrame(SingleFrame {
            num_classes: classes,
            clip_len: 3,
            input_size: size,
            backbone: bb(4, &[8]),
        }),
        "two-stream" => ArchSpec::TwoStream(TwoStream {
            num_classes: classes,
            input_size: size,
            flow_stack: 2,
            spatial: bb(4, &[8]),
            temporal: bb(4, &[8]),
            fusion: Fusion::Average,
        }),
        "fused-3d" => ArchSpec::Fused3d(Fused3d {
            num_classes: classes,
            clip_len: 2,
            input_size: size,
            flow_stack: 2,
            rgb: bb(4, &[8]),
            flow: bb(4, &[8]),
            fusion_width: 8,
        }),
        "i3d" => ArchSpec::I3d(I3d {
            num_classes: classes,
            clip_len: 4,
            input_size: size,
            stem: 4,
            stages: vec![vec![Inception { b0: 4, b1_reduce: 4, b1: 4, b2_reduce: 2, b2: 4, b3: 4 }]],
            flow: true,
        }),
        other => panic!("no tiny spec {other}"),
    }
}

/// The card motus would write for `spec`, with TV-L1 `edge` flow settings where it reads flow
/// and raw flow (no mean subtraction), so layout tests can compare with the engine's fields.
pub fn card_for(spec: &ArchSpec, labels: Vec<String>) -> (motus_models::Graph, ModelCard) {
    let g = spec.lower().unwrap();
    let mut card = ModelCard::for_spec(spec, &g, labels);
    card.input.resize_short = spec.input_size() as u32;
    if let Some(f) = card.flow.as_mut() {
        f.params = serde_json::to_value(TvL1Params::edge()).unwrap();
        f.mean_subtraction = false;
    }
    (g, card)
}

/// Exports `spec` with random weights (seed) and its card embedded to `dir/name.onnx`.
pub fn write_model(dir: &Path, name: &str, spec: &ArchSpec, labels: Vec<String>, seed: u64) -> PathBuf {
    let (g, card) = card_for(spec, labels);
    let w = g.random_weights(seed);
    let bytes = export(&g, &w, &card, &ExportOptions::default()).unwrap();
    let path = dir.join(format!("{name}.onnx"));
    std::fs::write(&path, bytes).unwrap();
    path
}
