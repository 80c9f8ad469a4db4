//! The accuracy guard: float and int8 scored on the same validation clips; when the int8
//! model loses more than the budget, a per-layer sensitivity analysis (each layer quantized
//! alone, its output distribution compared with float's) ranks the layers, and the most
//! sensitive ones go back to float one by one until the drop is within budget.

use std::collections::BTreeSet;
use std::collections::HashMap;

use motus_models::onnx::proto::ModelProto;
use motus_quant::{Analysis, Format, Options, Quantized};
use prost::Message;
use serde::Serialize;

use crate::eval::parallel::par_map;
use crate::eval::Accumulator;
use motus_core::infer::Classifier;

use super::clips::Clip;
use super::QuantRunError;

/// Accuracy on a clip set (fractions, not points).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Accuracy {
    pub clip_top1: f64,
    pub video_top1: f64,
    pub video_top5: f64,
    pub n_videos: usize,
    pub n_clips: usize,
}

/// Class probabilities of every clip under the model in `bytes`, on `workers` threads.
pub fn predict(bytes: &[u8], clips: &[Clip], workers: usize) -> Result<Vec<Vec<f32>>, QuantRunError> {
    let out = par_map(
        clips.len(),
        workers,
        || Classifier::from_bytes(bytes, "candidate model").map_err(|e| QuantRunError::Tract(e.to_string())),
        |c, i| c.run(&clips[i].tensors()).map(|s| s.probs_row(0).to_vec()),
        &mut |_, _| {},
    )?;
    out.into_iter().collect::<Result<Vec<_>, _>>().map_err(|e| QuantRunError::Tract(e.to_string()))
}

/// Clip and video accuracy (a video's score: the mean of its clips' probabilities).
pub fn accuracy(probs: &[Vec<f32>], clips: &[Clip], classes: usize) -> Result<Accuracy, QuantRunError> {
    let mut by_video: Vec<(usize, usize, Vec<Vec<f32>>)> = Vec::new();
    let mut slot: HashMap<usize, usize> = HashMap::new();
    for (p, c) in probs.iter().zip(clips) {
        let s = *slot.entry(c.video).or_insert_with(|| {
            by_video.push((c.video, c.label, Vec::new()));
            by_video.len() - 1
        });
        by_video[s].2.push(p.clone());
    }
    let mut acc = Accumulator::new(classes);
    for (_, label, ps) in by_video {
        acc.add_video(label, ps).map_err(|e| QuantRunError::Clips(e.to_string()))?;
    }
    let s = acc.summary(&(0..classes).map(|i| i.to_string()).collect::<Vec<_>>());
    Ok(Accuracy {
        clip_top1: s.clip_top1,
        video_top1: s.video_top1,
        video_top5: s.video_top5,
        n_videos: s.n_videos,
        n_clips: s.n_clips,
    })
}

/// Mean KL(float ‖ int8) over clips: how far a layer's rounding moves the output distribution.
pub fn mean_kl(p: &[Vec<f32>], q: &[Vec<f32>]) -> f64 {
    let n = p.len().max(1) as f64;
    p.iter()
        .zip(q)
        .map(|(a, b)| {
            a.iter()
                .zip(b)
                .filter(|(&x, _)| x > 0.0)
                .map(|(&x, &y)| x as f64 * (x as f64 / (y as f64).max(1e-12)).ln())
                .sum::<f64>()
        })
        .sum::<f64>()
        / n
}

/// One step of the guard: which layers were float and what accuracy that gave.
#[derive(Debug, Clone, Serialize)]
pub struct GuardStep {
    pub keep_float: Vec<String>,
    pub accuracy: Accuracy,
}

/// What the guard measured and decided.
#[derive(Debug, Clone, Serialize)]
pub struct GuardReport {
    pub float: Accuracy,
    pub int8: Accuracy,
    /// Float minus int8 video Hit@1, in points.
    pub drop_points: f64,
    pub max_drop_points: Option<f64>,
    /// Mean KL per candidate quantized alone (most sensitive first); empty when the first
    /// attempt was within budget.
    pub sensitivity: Vec<(String, f64)>,
    pub steps: Vec<GuardStep>,
    pub within_budget: bool,
}

/// Everything the guard needs to rebuild candidates.
pub struct GuardInput<'a> {
    pub model: &'a ModelProto,
    pub analysis: &'a Analysis,
    pub ranges: &'a HashMap<String, (f32, f32)>,
    pub format: Format,
    pub keep_float: BTreeSet<String>,
    pub classes: usize,
    pub workers: usize,
}

fn build(g: &GuardInput<'_>, keep: &BTreeSet<String>) -> Result<(Quantized, Vec<u8>), QuantRunError> {
    let q =
        motus_quant::quantize(g.model, g.analysis, g.ranges, &Options { format: g.format, keep_float: keep.clone() })?;
    let bytes = q.model.encode_to_vec();
    Ok((q, bytes))
}

/// Quantizes with `g.keep_float`, scores float and int8 on `val`, and when the video Hit@1
/// drop exceeds `max_drop_points` (if set) keeps the most sensitive layers in float until it
/// does not (or until every layer is float). Returns the chosen model and the report.
pub fn guard(
    g: &GuardInput<'_>,
    val: &[Clip],
    max_drop_points: Option<f64>,
    log: &mut dyn FnMut(&str),
) -> Result<(Quantized, GuardReport), QuantRunError> {
    let float_bytes = g.model.encode_to_vec();
    let float_probs = predict(&float_bytes, val, g.workers)?;
    let float = accuracy(&float_probs, val, g.classes)?;
    let mut keep = g.keep_float.clone();
    let (mut q, bytes) = build(g, &keep)?;
    let mut int8 = accuracy(&predict(&bytes, val, g.workers)?, val, g.classes)?;
    let drop = |a: &Accuracy| 100.0 * (float.video_top1 - a.video_top1);
    let mut steps = vec![GuardStep { keep_float: keep.iter().cloned().collect(), accuracy: int8 }];
    log(&format!(
        "float video Hit@1 {:.2}%, int8 {:.2}% (drop {:.2} points)",
        100.0 * float.video_top1,
        100.0 * int8.video_top1,
        drop(&int8)
    ));
    let mut sensitivity = Vec::new();
    if let Some(budget) = max_drop_points {
        if drop(&int8) > budget {
            for c in &g.analysis.candidates {
                if keep.contains(&c.name) {
                    continue;
                }
                let alone: BTreeSet<String> =
                    g.analysis.candidates.iter().filter(|o| o.name != c.name).map(|o| o.name.clone()).collect();
                let (_, b) = build(g, &alone)?;
                let kl = mean_kl(&float_probs, &predict(&b, val, g.workers)?);
                sensitivity.push((c.name.clone(), kl));
            }
            sensitivity.sort_by(|a, b| b.1.total_cmp(&a.1));
            log(&format!(
                "sensitivity (mean KL, layer alone in int8): {}",
                sensitivity.iter().map(|(n, k)| format!("{n} {k:.2e}")).collect::<Vec<_>>().join(", ")
            ));
            for (name, _) in &sensitivity {
                keep.insert(name.clone());
                let (q2, b2) = build(g, &keep)?;
                let a = accuracy(&predict(&b2, val, g.workers)?, val, g.classes)?;
                log(&format!(
                    "  + {name} in float: int8 video Hit@1 {:.2}% (drop {:.2} points)",
                    100.0 * a.video_top1,
                    drop(&a)
                ));
                steps.push(GuardStep { keep_float: keep.iter().cloned().collect(), accuracy: a });
                q = q2;
                int8 = a;
                if drop(&a) <= budget {
                    break;
                }
            }
        }
    }
    let d = drop(&int8);
    let within = max_drop_points.is_none_or(|b| d <= b);
    Ok((q, GuardReport { float, int8, drop_points: d, max_drop_points, sensitivity, steps, within_budget: within }))
}
