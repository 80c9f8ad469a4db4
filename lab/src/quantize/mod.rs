//! `motus quant`'s machinery: calibrated post-training int8 quantization of a motus model.
//!
//! The graph math (observers, the rewrite into `qoperator`, `qdq` or `weights` form) is
//! `motus-quant`'s; this module supplies what needs the device code: calibration clips made by
//! the shared clip assembly ([`clips`]), the float model run in tract with its intermediate
//! values tapped ([`calibrate`]), and the accuracy guard that scores float and int8 on the
//! same validation clips and keeps the most sensitive layers in float ([`guard`]).
//! [`quantize_model`] joins them and writes the result's card.

pub mod calibrate;
pub mod clips;
pub mod guard;
pub mod kernels;
pub mod npy;

use std::collections::{BTreeSet, HashMap};

use motus_models::onnx::proto::StringStringEntryProto;
use motus_models::{onnx, CardEvaluation, ModelCard, QuantizationRecord};
use motus_quant::{CalibrationError, Format, ObserverKind, QuantizeError};
use prost::Message;

pub use clips::{Clip, ClipSet, OwnedInput};
pub use guard::{Accuracy, GuardReport};

/// Why `motus quant` could not produce a model.
#[derive(Debug, thiserror::Error)]
pub enum QuantRunError {
    #[error("the {0} set is empty: no clip could be built (check the list and that its videos decode)")]
    EmptySet(String),
    #[error("{what} clip {clip}: input {input:?} {}", shape_msg(got, expected))]
    Shape { what: String, clip: usize, input: String, got: Option<Vec<usize>>, expected: Vec<i64> },
    #[error("model: {0}")]
    Model(#[from] onnx::ReadError),
    #[error(transparent)]
    Quantize(#[from] QuantizeError),
    #[error("calibration: {0}")]
    Calibration(CalibrationError),
    #[error("tract: {0}")]
    Tract(String),
    #[error("clips: {0}")]
    Clips(String),
}

fn shape_msg(got: &Option<Vec<usize>>, expected: &[i64]) -> String {
    match got {
        None => format!("is missing (the model takes shape {expected:?}, -1 = batch)"),
        Some(g) if expected.is_empty() => format!("(shape {g:?}) is not an input of this model"),
        Some(g) => format!("has shape {g:?}; the model takes {expected:?} (-1 = batch, calibration runs batch 1)"),
    }
}

/// How to quantize.
#[derive(Debug, Clone)]
pub struct QuantConfig {
    pub format: Format,
    pub observer: ObserverKind,
    /// Largest allowed video Hit@1 drop on the validation clips, in points.
    pub max_drop: Option<f64>,
    /// Layers to keep in float from the start.
    pub keep_float: BTreeSet<String>,
    /// Threads scoring validation clips.
    pub workers: usize,
}

/// A labelled clip set and a description of it for the card (list, protocol, clip count).
pub struct Described<'a> {
    pub clips: &'a ClipSet,
    pub description: String,
}

/// The result: the int8 file's bytes (card included) and what was done.
pub struct Outcome {
    pub bytes: Vec<u8>,
    pub card: ModelCard,
    pub quantized: motus_quant::Quantized,
    pub analysis: motus_quant::Analysis,
    pub ranges: HashMap<String, (f32, f32)>,
    pub guard: Option<GuardReport>,
}

fn card_eval(a: &Accuracy, data: &str, format: &str) -> CardEvaluation {
    CardEvaluation {
        data: data.to_string(),
        method: format!(
            "motus quant accuracy guard {}: tract, the device's clip assembly, {format}",
            env!("CARGO_PKG_VERSION")
        ),
        n_videos: a.n_videos,
        clip_top1: a.clip_top1,
        video_top1: a.video_top1,
        video_top5: a.video_top5,
    }
}

/// Quantizes the float model in `float_bytes` (its card embedded, or `card`): calibrates on
/// `calib` (not needed for weight-only), runs the accuracy guard on `val` when given, and
/// returns the int8 model with a card recording the method, the calibration set and both
/// accuracies. The float file's own evaluations are not carried over (they were measured on
/// another file).
pub fn quantize_model(
    float_bytes: &[u8],
    card: Option<ModelCard>,
    calib: Option<Described<'_>>,
    val: Option<Described<'_>>,
    cfg: &QuantConfig,
    log: &mut dyn FnMut(&str),
) -> Result<Outcome, QuantRunError> {
    let proto = onnx::read_model(float_bytes)?;
    let analysis = motus_quant::analyze(&proto)?;
    let card = match card {
        Some(c) => c,
        None => onnx::model_card(&proto)?,
    };
    let ranges = if cfg.format == Format::Weights {
        HashMap::new()
    } else {
        let c = calib.as_ref().ok_or_else(|| QuantRunError::EmptySet("calibration".into()))?;
        calibrate::calibrate(&proto, &card, &analysis, &c.clips.clips, cfg.observer, &mut |_, _| {})?
    };
    if let Some(v) = &val {
        calibrate::check_clips(&card, &v.clips.clips, "validation")?;
    }
    let (quantized, guard) = match &val {
        Some(v) => {
            let g = guard::GuardInput {
                model: &proto,
                analysis: &analysis,
                ranges: &ranges,
                format: cfg.format,
                keep_float: cfg.keep_float.clone(),
                classes: card.labels.len(),
                workers: cfg.workers,
            };
            let (q, r) = guard::guard(&g, &v.clips.clips, cfg.max_drop, log)?;
            (q, Some(r))
        }
        None => (
            motus_quant::quantize(
                &proto,
                &analysis,
                &ranges,
                &motus_quant::Options { format: cfg.format, keep_float: cfg.keep_float.clone() },
            )?,
            None,
        ),
    };
    let mut out_card = card.clone();
    out_card.evaluations.clear();
    let val_desc = val.as_ref().map(|v| v.description.clone()).unwrap_or_default();
    out_card.quantization = Some(QuantizationRecord {
        format: cfg.format.name().into(),
        observer: if cfg.format == Format::Weights { "none".into() } else { cfg.observer.to_string() },
        scheme: match cfg.format {
            Format::Weights => "s8 symmetric per-channel weights dequantized at load; f32 compute".into(),
            _ => "s8 symmetric per-channel weights, u8 asymmetric per-tensor activations, i32 bias (scale s_x·s_w)"
                .into(),
        },
        calibration: calib.as_ref().map(|c| c.description.clone()).unwrap_or_else(|| "none (weight-only)".into()),
        source_sha256: motus_core::digest::sha256_hex(float_bytes),
        quantized_nodes: quantized.quantized.clone(),
        float_nodes: quantized.float_nodes.clone(),
        max_drop: cfg.max_drop,
        float_accuracy: guard.as_ref().map(|g| card_eval(&g.float, &val_desc, "float source")),
        int8_accuracy: guard.as_ref().map(|g| card_eval(&g.int8, &val_desc, cfg.format.name())),
    });
    let mut model = quantized.model.clone();
    model.metadata_props.retain(|e| !e.key.starts_with(motus_models::card::KEY_PREFIX));
    model
        .metadata_props
        .extend(out_card.to_metadata().into_iter().map(|(key, value)| StringStringEntryProto { key, value }));
    model.doc_string = format!("{} ({} int8 by motus quant)", model.doc_string, cfg.format.name());
    let bytes = model.encode_to_vec();
    Ok(Outcome { bytes, card: out_card, quantized, analysis, ranges, guard })
}

#[cfg(test)]
mod tests;
